"""Markdown from other applications (incoming webhooks), rendered safely.

CommonMark through markdown-it-py with raw HTML off, so ``<script>`` or ``<img onerror>`` in a
message is shown as text; images off (an image would load from wherever the sender chose: a
tracking pixel for every reader); links only to http, https and mailto, each with
rel="nofollow noopener" (a link to anything else, ``javascript:`` first of all, stays text).
"""

from markdown_it import MarkdownIt
from markupsafe import Markup

LINK_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(LINK_SCHEMES)


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link

    def link_open(self, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "nofollow noopener")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MARKDOWN = _renderer()


def render_markdown(text: str | None) -> Markup:
    """HTML for Markdown written by someone else: every tag in it is escaped, links are checked."""
    return Markup(_MARKDOWN.render(text or ""))


def escape_markdown(text: str) -> str:
    """Text that Markdown shows as it is (a title or field value taken from a payload)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~&" else ch for ch in text)


def register(app) -> None:
    app.add_template_filter(render_markdown, "markdown")

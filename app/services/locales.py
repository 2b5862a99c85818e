"""Which language a person reads Coedit in, and sentences kept until a reader's language is known.

The order: the profile's language, else the browser's Accept-Language, else the site default the
administrator chose. Guests on share links have no profile: their browser decides.
"""

import json
from dataclasses import dataclass
from dataclasses import field

from flask import has_request_context
from flask import request
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import get_translations
from flask_babel import gettext
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from app import context

# The catalogues shipped under app/translations/ (their directory names), English being the
# source language. Chinese is Simplified Chinese, named by script as CLDR does.
SHIPPED_LANGUAGES = ("en", "de", "fr", "es", "ru", "zh_Hans")
SOURCE_LANGUAGE = "en"
# Each language in its own words, for the profile's choices.
LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "ru": "Русский",
    "zh_Hans": "简体中文",
}
# The region a language's documents and editor default to when the browser names none
# (decimal separators and dates in spreadsheets, the page size of blank documents).
DEFAULT_REGIONS = {"en": "US", "de": "DE", "fr": "FR", "es": "ES", "ru": "RU", "zh_Hans": "CN"}
# Chinese written in Traditional characters is not Simplified Chinese: such a browser goes on to
# its next language.
_TRADITIONAL = {"hant", "tw", "hk", "mo"}


def shipped(tag: str | None) -> str | None:
    """The shipped language a language tag (de, de-AT, zh-CN, zh_Hans, fr_FR) falls under, or None."""
    if not tag:
        return None
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    if language == "zh":
        return None if {p.lower() for p in parts[1:]} & _TRADITIONAL else "zh_Hans"
    return language if language in SHIPPED_LANGUAGES else None


def region_of(tag: str | None) -> str | None:
    """The region subtag of a language tag (de-AT: AT; zh-Hans-CN: CN), or None."""
    for part in (tag or "").replace("_", "-").split("-")[1:]:
        if len(part) == 2 and part.isalpha():
            return part.upper()
    return None


def site_default() -> str:
    from app.services import settings

    return shipped(settings.get("default_language")) or SOURCE_LANGUAGE


def browser_tag(accept_languages) -> str | None:
    """The first tag of an Accept-Language (best quality first) that a shipped language serves."""
    for tag, _quality in accept_languages or ():
        if shipped(tag):
            return tag
    return None


def _person(user) -> object | None:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def person_tag(user, accept_languages) -> str:
    """The language tag a person reads in: profile, else browser, else the site default.

    The region comes with the browser's tag when the browser names the same language (de-AT
    for a German profile and an Austrian browser), else from DEFAULT_REGIONS.
    """
    person = _person(user)
    chosen = shipped(getattr(person, "language", None)) if person else None
    browser = browser_tag(accept_languages)
    if chosen is None:
        chosen = shipped(browser) or site_default()
    region = region_of(browser) if shipped(browser) == chosen else None
    return f"{chosen}-{region or DEFAULT_REGIONS[chosen]}"


def select_locale() -> str:
    """Flask-Babel's locale selector: the catalogue this request is rendered with."""
    if not has_request_context():
        return site_default()
    return shipped(person_tag(current_user, request.accept_languages)) or SOURCE_LANGUAGE


def editor_locale(user, accept_languages) -> tuple[str, str]:
    """ONLYOFFICE's editorConfig.lang and editorConfig.region (de, de-DE; zh-CN, zh-CN) for a person
    (profile, else browser) or a guest (browser); no database query: the user row is loaded."""
    tag = person_tag(user, accept_languages)
    language = shipped(tag)
    region = f"{language.split('_')[0]}-{region_of(tag)}"
    # Docs names Simplified Chinese zh-CN (its lang parameter takes region-qualified Chinese only).
    lang = "zh-CN" if language == "zh_Hans" else language
    return lang, region


def editor_language(person) -> dict:
    """editorConfig's lang and region for the person opening an editor (a guest: the browser's)."""
    accept_languages = request.accept_languages if has_request_context() else None
    lang, region = editor_locale(person, accept_languages)
    return {"lang": lang, "region": region}


def document_tag(person) -> str:
    """The locale a person's new blank documents are made for (de-DE, zh-CN): paper, language tag."""
    accept_languages = request.accept_languages if has_request_context() else None
    return editor_locale(person, accept_languages)[1]


def user_language(user) -> str:
    """The language to write to a person in when they are not in front of us (notifications,
    e-mail): their profile's, else the site default."""
    return shipped(getattr(user, "language", None)) or site_default()


def html_lang() -> str:
    """The page's lang attribute (BCP 47: zh-Hans, de)."""
    return str(get_locale() or SOURCE_LANGUAGE).replace("_", "-")


@dataclass(frozen=True)
class Translatable:
    """A sentence stored untranslated (its message id and values) and translated for each reader.

    Stream notices are read by every member, each in their own language; values may themselves
    be Translatable (or lists of them, joined with commas).
    """

    msgid: str
    values: dict = field(default_factory=dict)

    def render(self) -> str:
        return gettext(self.msgid, **{k: _render(v) for k, v in self.values.items()})

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> str:
        return json.dumps({"msgid": self.msgid, "values": _plain(self.values)}, ensure_ascii=False)


def translatable(msgid: str, **values) -> Translatable:
    """Mark a sentence for translation when it is read (pybabel extracts it: ``-k translatable``)."""
    return Translatable(msgid, values)


def _render(value):
    if isinstance(value, Translatable):
        return value.render()
    if isinstance(value, list):
        return ", ".join(str(_render(v)) for v in value)
    return value


def _plain(value):
    if isinstance(value, Translatable):
        return {"msgid": value.msgid, "values": _plain(value.values)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _revive(value):
    if isinstance(value, dict) and set(value) == {"msgid", "values"}:
        return Translatable(value["msgid"], {k: _revive(v) for k, v in value["values"].items()})
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


def stored(value: "str | Translatable") -> str:
    """What a text column keeps: a Translatable as JSON, plain text as it is."""
    return value.to_json() if isinstance(value, Translatable) else value


def shown(text: str) -> str:
    """A stored text in the reader's language (plain text, from before translation, as it is)."""
    if text.startswith('{"msgid"'):
        try:
            return _revive(json.loads(text)).render()
        except (ValueError, KeyError, TypeError):
            return text
    return text


def rendered_for(user, value: "str | Translatable") -> str:
    """A sentence in the language of the person it is for."""
    if not isinstance(value, Translatable):
        return value
    with force_locale(user_language(user)):
        return value.render()


def _site_name() -> str:
    from app.services import settings

    return settings.get("site_name")


def _translations():
    """Flask-Babel's translations for the locale in force, found once per request and locale:
    Flask-Babel looks up its context, domain, locale and cache again on every string, a good
    part of a page's rendering. ``force_locale`` and ``refresh`` put a new Locale in force,
    which finds its own.

    The locale in force is the one Flask-Babel keeps in its per-request namespace once chosen
    (what ``get_locale`` returns): read there, the strings of a page cost no look-up of ``g``.
    """
    ctx = context.current()
    namespace = ctx.g.get("_flask_babel") if ctx is not None else None  # Flask-Babel's, per request
    if namespace is None:
        return get_translations()
    held = getattr(namespace, "coedit_translations", None)
    if held is not None and held[0] is getattr(namespace, "babel_locale", None):
        return held[1]
    held = namespace.coedit_translations = (get_locale(), get_translations())
    return held[1]


# Templates' _(), gettext, ngettext, pgettext and npgettext, through _translations, formatted as
# Jinja's newstyle gettext formats them: escaped when the template autoescapes, and always a
# format string. Jinja's own take the whole template context, which it copies for every string
# said inside a loop, or in a block that sets a variable; these take the evaluation context only.
def _formatted(eval_ctx, text: str, variables: dict):
    return (Markup(text) if eval_ctx.autoescape else text) % variables


@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables):
    return _formatted(eval_ctx, _translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _template_pgettext(eval_ctx, string_context: str, string: str, **variables):
    variables.setdefault("context", string_context)
    return _formatted(eval_ctx, _translations().upgettext(string_context, string), variables)


@pass_eval_context
def _template_npgettext(eval_ctx, string_context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("context", string_context)
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().unpgettext(string_context, singular, plural, num), variables)


TEMPLATE_GETTEXT = {
    "_": _template_gettext,
    "gettext": _template_gettext,
    "ngettext": _template_ngettext,
    "pgettext": _template_pgettext,
    "npgettext": _template_npgettext,
}


def register(app) -> None:
    app.jinja_env.newstyle_gettext = True  # what the i18n extension compiles {% trans %} for
    app.jinja_env.globals.update(TEMPLATE_GETTEXT)
    app.add_template_filter(shown, "shown")
    # Templates build a translated sentence around a marked-up part: Markup("<strong>%s</strong>") % name.
    app.jinja_env.globals["Markup"] = Markup
    app.context_processor(lambda: {"html_lang": html_lang, "js_messages": js_messages, "site_name": _site_name})


# The sentences static/js/*.js shows, translated into the page's language (static/js/i18n.js).
JS_MESSAGES = (
    translatable("The file is larger than the server accepts."),
    translatable("The upload was interrupted: check the connection and try again."),
    translatable("The page has expired: reload it and try again."),
    translatable("The server could not store the file (error %(status)s)."),
    translatable("Upload of %(name)s"),
    translatable("Uploaded."),
    translatable("Waiting for its turn…"),
    translatable("Converting… %(percent)s%%"),
    translatable("Done."),
    translatable("Open %(title)s"),
    translatable("The conversion failed."),
    translatable(
        "The ONLYOFFICE Docs editor could not be loaded. The Document Server may be down or unreachable "
        "from your browser; please try again later or tell an administrator."
    ),
    translatable("The editor reported an error (%(code)s): %(description)s"),
    translatable("unknown error"),
    translatable("Saved a copy as %(title)s."),
    translatable("The copy could not be saved: %(error)s"),
)


# A new document's name when none is given ("Neues Dokument.docx").
BLANK_NAMES = {
    "docx": translatable("New document"),
    "xlsx": translatable("New spreadsheet"),
    "pptx": translatable("New presentation"),
    "pdf": translatable("New PDF form"),
}


def js_messages() -> dict[str, str]:
    """English sentence to its translation, for the scripts; nothing for English pages."""
    if str(get_locale() or SOURCE_LANGUAGE) == SOURCE_LANGUAGE:
        return {}
    return {m.msgid: gettext(m.msgid) for m in JS_MESSAGES}


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in SHIPPED_LANGUAGES]

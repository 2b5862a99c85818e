"""Our URLs in a request, from a template made once per route: what ``url_for`` gives, cheaper.

``url_for`` goes through the URL map on every call: finding the rule, converting each value,
quoting, and joining the adapter's scheme, host and root. The editor config builds three URLs
per opening, and a page tens (a space's file list several per row). For the same endpoint, names
and kinds of values and adapter settings (the request's scheme, host and root) the URL differs
only where the values go, so it is built once with marks in their places and filled in after.

Only values ``url_for`` takes as they are get filled in: ints, and strings of unreserved
characters (with ``/`` only where the rule's converter keeps it, as ``path`` does). Anything
else, and anything a template cannot stand for (``_anchor``, relative endpoints, URL defaults),
goes through ``url_for`` itself.
"""

import re

from flask import Flask
from flask import url_for

from app import context

# Values a URL carries exactly as they are, in a path segment or a query string.
_VERBATIM = re.compile(r"[A-Za-z0-9._~-]+\Z")
# The same with slashes: kept as they are by a path converter only (others quote them).
_VERBATIM_PATH = re.compile(r"[A-Za-z0-9._~/-]+\Z")
_MARK = 987_654_000  # stands for the values while a template is built
_PATH = "path"  # the kind of a string with slashes
# Templates are per host as well, and a request names its own host: a bounded number is kept.
MAX_TEMPLATES = 4096


def register(app: Flask) -> None:
    """Templates' ``url_for`` is ``for_templates``."""
    app.jinja_env.globals["url_for"] = for_templates


def for_templates(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as templates call it (outside a request, its own default of
    absolute URLs holds)."""
    external = values.get("_external", False)
    request_ctx = context.request()
    if type(external) is not bool or request_ctx is None:
        return url_for(endpoint, **values)
    values.pop("_external", None)
    if any(name[:1] == "_" for name in values):  # _anchor, _method, _scheme
        return url_for(endpoint, _external=external, **values)
    return _from_template(request_ctx, endpoint, external, values)


def route_url(endpoint: str, external: bool, values: dict) -> str:
    """``url_for(endpoint, _external=external, **values)`` in a request, from the route's template."""
    request_ctx = context.request()
    if request_ctx is None:
        return url_for(endpoint, _external=external, **values)
    return _from_template(request_ctx, endpoint, external, values)


def _from_template(request_ctx, endpoint: str, external: bool, values: dict) -> str:
    kinds = []
    for value in values.values():
        kind = type(value)
        if kind is int:
            kinds.append(int)
        elif kind is str and _VERBATIM.match(value):
            kinds.append(str)
        elif kind is str and _VERBATIM_PATH.match(value):
            kinds.append(_PATH)
        else:
            return url_for(endpoint, _external=external, **values)
    app, adapter = request_ctx.app, request_ctx.url_adapter
    # A relative endpoint depends on the request's blueprint, and URL defaults may add values
    # from the request: url_for decides both.
    if adapter is None or endpoint[:1] == "." or any(app.url_default_functions.values()):
        return url_for(endpoint, _external=external, **values)
    where = (adapter.url_scheme, adapter.server_name, adapter.subdomain, adapter.script_name)
    key = (endpoint, external, tuple(values), tuple(kinds), where)
    templates = app.extensions.get("coedit_route_templates")
    if templates is None:
        templates = app.extensions["coedit_route_templates"] = {}
    template = templates.get(key)
    if template is None:
        if len(templates) >= MAX_TEMPLATES:
            templates.clear()
        template = templates[key] = _route_template(endpoint, external, values, kinds)
    if not template:
        return url_for(endpoint, _external=external, **values)
    return template.format_map(values)


def _route_template(endpoint: str, external: bool, values: dict, kinds: list) -> str:
    """The URL with "{name}" in place of each value, or "" when it cannot be made one."""
    marks = {}
    for i, (name, kind) in enumerate(zip(values, kinds, strict=True)):
        if kind is int:
            marks[name] = _MARK + i
        elif kind is str:
            marks[name] = f"zq{_MARK + i}"
        else:
            marks[name] = f"zq{_MARK + i}/zq{_MARK + i}"
    try:
        built = url_for(endpoint, _external=external, **marks)
    except Exception:  # a converter refused a mark (a letter-led one in an int's place): url_for decides
        return ""
    if "{" in built or "}" in built:
        return ""
    for name, mark in marks.items():
        if built.count(str(mark)) != 1:  # quoted (a slash outside a path), dropped or repeated
            return ""
        built = built.replace(str(mark), "{" + name + "}")
    return built

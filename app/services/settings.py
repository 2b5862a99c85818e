"""Runtime settings: admin-page values over config defaults, with the environment winning.

A value present in the app config (from ``COEDIT_*`` variables, the instance file or
a test) is fixed: the admin page shows it read-only and cannot change it.
"""

import functools
import ipaddress
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask import g
from flask_babel import gettext

from app import context
from app import transaction
from app.extensions import db
from app.models import Setting
from app.services import audit
from app.services import state


@dataclass(frozen=True)
class Field:
    key: str
    config_key: str | None
    kind: str  # str | bool | int
    default: object


FIELDS = {
    f.key: f
    for f in (
        Field("site_name", "SITE_NAME", "str", "Coedit"),
        Field("docs_url", "DOCS_URL", "str", ""),
        Field("docs_internal_url", "DOCS_INTERNAL_URL", "str", ""),
        Field("app_url_for_docs", "APP_URL_FOR_DOCS", "str", ""),
        Field("jwt_secret", "DOCS_JWT_SECRET", "str", ""),
        Field("jwt_header", "DOCS_JWT_HEADER", "str", "Authorization"),
        Field("verify_tls", "DOCS_VERIFY_TLS", "bool", True),
        Field("forcesave", "DOCS_FORCESAVE", "bool", False),
        # Keep each force-saved version, or fold them into the session's final save.
        Field("keep_intermediate_versions", None, "bool", True),
        Field("chat", None, "bool", True),
        Field("comments", None, "bool", True),
        Field("help", None, "bool", True),
        Field("feedback", None, "bool", False),
        Field("compact_header", None, "bool", False),
        Field("max_file_size_mb", "MAX_FILE_SIZE_MB", "int", 100),
        Field("coediting_mode", None, "str", "fast"),
        Field("coediting_change", None, "bool", True),
        # Groups (ids, space-separated) whose members may open the editors; with editor_users
        # empty too: everyone.
        Field("editor_groups", None, "str", ""),
        # The older way: usernames allowed to open the editors, one per line; still honoured.
        Field("editor_users", None, "str", ""),
        # Convert legacy and OpenDocument uploads to DOCX/XLSX/PPTX at once (a job; the upload stays).
        Field("convert_on_upload", None, "bool", False),
        # Which old versions `flask purge-versions` removes (retention.py): all | last | days.
        Field("retention_mode", None, "str", "all"),
        Field("retention_count", None, "int", 10),
        Field("retention_days", None, "int", 90),
        # Lossy-edit formats (formats.LOSSY_EDITABLE) that open for editing, space-separated; default none.
        Field("lossy_edit_formats", None, "str", ""),
        # A save Docs returns in OOXML for such a file: convert it back to the file's format
        # ("convert"; a new OOXML file beside it if that fails) or keep it as a new OOXML file ("keep").
        Field("lossy_save", None, "str", "convert"),
        # The language of people whose profile and browser name none that Coedit speaks.
        Field("default_language", None, "str", "en"),
        # Outgoing webhooks (services/outbound.py): http besides https, and the hosts or addresses
        # (one per line) they may reach although they are local or private.
        Field("webhooks_allow_http", None, "bool", False),
        Field("webhook_allowed_hosts", None, "str", ""),
        # Watermarks on what readers see and print (services/watermarks.py): off until enabled; the
        # rules say whom they are for, the text is a template of watermarks.PLACEHOLDERS.
        Field("watermark_enabled", None, "bool", False),
        Field("watermark_all_readers", None, "bool", False),
        Field("watermark_no_download", None, "bool", False),
        Field("watermark_view_links", None, "bool", False),
        Field("watermark_groups", None, "str", ""),  # group ids, space-separated
        # People who edit are exempt unless this is on (a missing checkbox keeps them exempt).
        Field("watermark_editors", None, "bool", False),
        Field("watermark_text", None, "str", "{userDisplayName} {email} {date}"),
    )
}

# Their values never leave the settings: the audit log says only that they changed.
SECRET_KEYS = frozenset({"jwt_secret"})


def _decode(field: Field, raw: str):
    if field.kind == "bool":
        return raw in ("1", "true", "True", "yes", "on")
    if field.kind == "int":
        return int(raw)
    return raw


def _encode(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fixed_keys() -> set[str]:
    """Settings given by the environment or config file; they win and are read-only."""
    return {f.key for f in FIELDS.values() if f.config_key and current_app.config.get(f.config_key) not in (None, "")}


_ALL_SETTINGS = sa.select(Setting.key, Setting.value)


def _stored(app=None) -> dict:
    """The stored rows, kept by each process until a save anywhere moves their generation (with
    what ``snapshot`` derives from them)."""
    app = app or context.required().app
    cache = app.extensions.setdefault("coedit_settings_cache", {"generation": None})
    current = state.generation("settings")
    if "rows" not in cache or cache["generation"] != current:
        cache.clear()  # what was derived from the rows being replaced goes with them
        cache.update(rows=dict(db.session.execute(_ALL_SETTINGS).all()), generation=current)
    return cache


def _forget() -> None:
    current_app.extensions.pop("coedit_settings_cache", None)
    g.pop(_SNAPSHOT, None)


_SNAPSHOT = "_coedit_settings"
_CONFIGURABLE = tuple(field for field in FIELDS.values() if field.config_key)


def snapshot() -> Mapping:
    """Every setting's effective value (read-only), worked out once per request (or job) and
    kept on ``g``.

    The stored values behind it are checked against their generation once per request, as
    ``state.generation`` reads it: a save in any process is seen by the next request everywhere,
    and a request reads one consistent set however many settings it asks for. The values with
    the app's configuration laid over them are kept with the stored ones, for as long as neither
    changes.
    """
    ctx = context.required()  # one look-up: this runs for every setting read
    values = ctx.g.get(_SNAPSHOT)
    if values is None:
        cache = _stored(ctx.app)
        config = ctx.app.config
        configured = tuple(config.get(field.config_key) for field in _CONFIGURABLE)
        if cache.get("configured") != configured:  # absent until built for these rows
            rows = cache["rows"]
            effective = {
                key: field.default if rows.get(key) is None else _decode(field, rows[key])
                for key, field in FIELDS.items()
            }
            for field, value in zip(_CONFIGURABLE, configured, strict=True):
                if value not in (None, ""):
                    effective[field.key] = _decode(field, value) if isinstance(value, str) else value
            cache.update(effective=MappingProxyType(effective), configured=configured)
        values = cache["effective"]
        trial = ctx.g.get("_coedit_settings_trial")
        if trial:
            values = MappingProxyType({**values, **trial})
        ctx.g.setdefault(_SNAPSHOT, values)
    return values


def get(key: str):
    """The effective value of one setting."""
    return snapshot()[key]


# The settings the connection test depends on: changing one asks for a passing test (or a
# confirmation) before it is saved.
CONNECTION_KEYS = ("docs_url", "docs_internal_url", "app_url_for_docs", "jwt_secret", "jwt_header")


def connection_changes(values: dict) -> bool:
    """Whether these values (a form's) change how Coedit and Docs reach each other."""
    locked = fixed_keys()
    return any(
        key in values and key not in locked and _encode(get(key)) != _encode(values[key]) for key in CONNECTION_KEYS
    )


@contextmanager
def trial(values: dict):
    """Within this request, read these values as if saved (nothing is stored): the connection
    test runs on what the administrator typed before it replaces what works."""
    locked = fixed_keys()
    previous = g.get("_coedit_settings_trial")
    g._coedit_settings_trial = {k: v for k, v in values.items() if k in FIELDS and k not in locked}
    g.pop(_SNAPSHOT, None)  # the snapshot holds the trial's values while it lasts
    try:
        yield
    finally:
        g._coedit_settings_trial = previous
        g.pop(_SNAPSHOT, None)


def in_trial() -> bool:
    return bool(g.get("_coedit_settings_trial")) if g else False


def all_values() -> dict:
    return dict(snapshot())


def save(values: dict) -> None:
    """Stage new values for the settings that are not fixed; the caller commits."""
    locked = fixed_keys()
    changed: dict = {}
    for key, value in values.items():
        if key in locked or key not in FIELDS:
            continue
        old = get(key)
        if _encode(old) != _encode(value):
            changed[key] = None if key in SECRET_KEYS else [old, value]
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=_encode(value)))
        else:
            row.value = _encode(value)
    if changed:
        audit.record(
            "settings.changed",
            object_type="settings",
            object_name=", ".join(sorted(changed)),
            details={"settings": sorted(changed), "values": {k: v for k, v in changed.items() if v is not None}},
        )
    _forget()
    transaction.after_commit(lambda: state.bump("settings"))  # every process reads them again


def installation_id() -> str:
    """A random id made once per installation and kept in the database.

    Document keys start from it, so two installations sharing one Document Server
    never collide, and keys survive restarts and agree across workers.

    The migrations make it; a database built another way (tests) gets one here, staged in
    the caller's transaction rather than committing half of the caller's work.
    """
    value = _stored()["rows"].get("installation_id")
    if value:
        return value
    row = db.session.get(Setting, "installation_id")
    if row is None:
        row = Setting(key="installation_id", value=secrets.token_hex(16))
        db.session.add(row)
        db.session.flush()
    _forget()
    return row.value


_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


@functools.lru_cache(maxsize=256)  # a pure function of the text; every editor opening asks it twice
def http_origin(url: str | None) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL with a real host name or IP, else None.

    The result goes into the Content-Security-Policy, so nothing but a clean origin passes.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return None
    if not _HOST.match(host):
        try:
            host = f"[{ipaddress.IPv6Address(host)}]"
        except ValueError:
            return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def missing_docs_settings() -> list[str]:
    """What still keeps the editors from opening, in words an administrator acts on."""
    missing = []
    if http_origin(get("docs_url")) is None:
        missing.append(gettext("the Document Server address"))
    if not get("jwt_secret"):
        missing.append(gettext("the JWT secret"))
    if http_origin(get("app_url_for_docs")) is None:
        missing.append(gettext("this site's address as seen by the Document Server"))
    return missing


def docs_configured() -> bool:
    """Editors open only with a sound Docs address, a JWT secret (we never run unsigned) and the
    address Docs reaches us at (never taken from a request's Host header, which anyone can set)."""
    return not missing_docs_settings()


def lossy_formats() -> frozenset[str]:
    """The lossy-edit formats the admin chose to open for editing (Docs warns of possible loss)."""
    from app.services import formats

    return frozenset(get("lossy_edit_formats").split()) & frozenset(formats.LOSSY_EDITABLE)


def max_file_bytes() -> int:
    return int(get("max_file_size_mb")) * 1024 * 1024


def docs_internal_url() -> str:
    """The base URL the app uses to reach Docs (internal if set, else public)."""
    return (get("docs_internal_url") or get("docs_url")).rstrip("/")

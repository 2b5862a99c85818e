"""The editor config as api.js and Docs check it: the client-side checks and fixes before the iframe
is created (ConfigAlert), then the config token (EditorError -20, -21, -23)."""

from __future__ import annotations

import copy
import secrets

from . import formats
from . import tokens
from .config import Options
from .errors import ConfigAlert
from .errors import EditorError


def _strict_equal(a, b) -> bool:
    """Deep equality that, like JavaScript's strict comparison, tells true from 1."""
    if type(a) is not type(b):
        if (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and not isinstance(a, bool)
            and not isinstance(b, bool)
        ):
            return a == b
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _deep_merge(base: dict, over: dict) -> dict:
    """Token values win over page values; objects merge key by key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def normalize_config(page) -> dict:
    """The client-side checks and fixes api.js applies before it creates the iframe.

    Raises ConfigAlert with the alert text when api.js would refuse the config.
    """
    if not isinstance(page, dict) or not isinstance(page.get("document"), dict):
        raise ConfigAlert("One or more required parameter for the config object is not set")
    config = copy.deepcopy(page)
    config.pop("events", None)
    doc = config["document"]
    file_type = doc.get("fileType")
    doc_type = config.get("documentType")
    if not doc.get("url") or (not file_type and not doc_type):
        raise ConfigAlert("One or more required parameter for the config object is not set")
    if doc_type:
        doc_type = formats.DOCUMENT_TYPE_ALIASES.get(doc_type, doc_type)
        if doc_type not in formats.DOCUMENT_TYPES:
            raise ConfigAlert('The "documentType" parameter for the config object is invalid. Please correct it.')
    if file_type:
        if not isinstance(file_type, str) or not formats.is_known_file_type(file_type.lower()):
            raise ConfigAlert('The "document.fileType" parameter for the config object is invalid. Please correct it.')
        file_type = file_type.lower()
    if not doc_type:
        doc_type = formats.document_type_of(file_type)
    if not file_type:
        file_type = formats.DEFAULT_FILE_TYPE[doc_type]
    doc["fileType"], config["documentType"] = file_type, doc_type
    if not doc.get("title"):
        doc["title"] = f"Unnamed.{file_type}"
    if "key" not in doc or doc["key"] in (None, ""):
        # api.js invents a key; such a document can't be co-edited or reused.
        doc["key"] = secrets.token_hex(10)
    elif not isinstance(doc["key"], str):
        raise ConfigAlert('The "document.key" parameter for the config object is invalid. Please correct it.')
    user = config.setdefault("editorConfig", {}).get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), (int, float)) and not isinstance(user.get("id"), bool):
        user["id"] = str(user["id"])
    if config.get("token") and not doc.get("token"):
        doc["token"] = config["token"]
    return config


def verify_config(config: dict, options: Options) -> dict:
    """Check the config token as Docs does; return the effective (merged) config.

    Raises EditorError -20 (missing/invalid token or required field missing),
    -21 (expired), -23 (access denied: permissions differ, or not a config token).
    """
    if not options.jwt_enabled:
        return config
    token = config.get("token") or config["document"].get("token")
    try:
        decoded = tokens.verify(token, options.jwt_secret)
    except tokens.TokenExpired:
        raise EditorError(-21, "config token expired") from None
    except tokens.TokenInvalid as exc:
        raise EditorError(-20, f"config token invalid: {exc}") from None
    payload = tokens.strip_claims(decoded)
    if any(k in payload for k in ("url", "payload", "key")):
        raise EditorError(-23, "the token is not a config token (top-level url/payload/key)")
    tdoc = payload.get("document") if isinstance(payload.get("document"), dict) else {}
    tedit = payload.get("editorConfig") if isinstance(payload.get("editorConfig"), dict) else {}
    page_doc, page_edit = config["document"], config.get("editorConfig") or {}
    missing = [
        name
        for name, present in (
            ("document.key", "key" in tdoc),
            ("document.url", "url" in tdoc),
            ("editorConfig.callbackUrl", "callbackUrl" not in page_edit or "callbackUrl" in tedit),
            # A page that sets an editing mode must have it signed; no mode at all means
            # the token cannot be overridden on this point either.
            ("editorConfig.mode", page_edit.get("mode") in (None, "view") or "mode" in tedit),
            ("document.permissions", "permissions" not in page_doc or "permissions" in tdoc),
        )
        if not present
    ]
    if missing:
        raise EditorError(-20, "required fields missing from the token: " + ", ".join(missing))
    if "permissions" in tdoc and not _strict_equal(tdoc["permissions"], page_doc.get("permissions")):
        raise EditorError(-23, "document.permissions in the token differ from the page config")
    merged = _deep_merge({k: v for k, v in config.items() if k != "token"}, payload)
    merged["document"].pop("token", None)
    return normalize_config(merged)

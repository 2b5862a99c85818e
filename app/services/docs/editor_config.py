"""The DocEditor config for one file, one user and one mode, signed as Docs expects.

Every permission is set explicitly from the user's level on the server; nothing
comes from the request but the wish to view rather than edit.
"""

import re
from dataclasses import dataclass

from flask import current_app
from flask import has_request_context

from app.models import File
from app.models import User
from app.services import audit
from app.services import formats
from app.services import locales
from app.services import rights
from app.services import settings
from app.services import watermarks
from app.services.docs import links
from app.services.docs import tokens
from app.services.exceptions import CoeditError
from app.services.exceptions import NotFoundError
from app.urls import route_url

MOBILE_AGENT = re.compile(r"android|iphone|ipad|ipod|mobile|blackberry|opera mini|iemobile", re.I)


def docs_facing_url(endpoint: str, **values) -> str:
    """An absolute URL of ours as the Document Server must call it."""
    base = settings.get("app_url_for_docs")
    if not base:
        return route_url(endpoint, True, values)
    if not has_request_context():  # a job (conversions, previews): the route's path on that base
        return base.rstrip("/") + current_app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + route_url(endpoint, False, values)


def download_url(file: File, version: int, who: str) -> str:
    """document.url: bound to the file, the version and the person it was made for, who must
    still be allowed to read the file when Docs fetches it."""
    token = links.sign("download", f=file.id, s=file.key_salt, v=version, u=who)
    return docs_facing_url("backend.download", file_id=file.id, token=token)


def reference_data(file: File) -> dict:
    """document.referenceData: our file id and installation, which renames and moves leave alone."""
    return {"fileKey": str(file.id), "instanceId": settings.installation_id()}


def callback_url(file: File) -> str:
    # No expiry: Docs may send the final save long after the page was opened. The token depends
    # on the file alone, so each process signs it once per file (and per secret).
    cache = current_app.extensions.setdefault("coedit_callback_tokens", {})
    key = (file.id, file.key_salt, current_app.config["SECRET_KEY"])
    token = cache.get(key)
    if token is None:
        if len(cache) > 10_000:
            cache.clear()
        token = cache[key] = links.sign("track", f=file.id, s=file.key_salt)
    return docs_facing_url("backend.track", file_id=file.id, token=token)


def permissions(file: File, level: str) -> dict:
    # The formats table decides whether the editor may change the format at all (lossy-edit
    # formats only when the admin chose them); the level decides what this person may do.
    editable = formats.edit_mode_possible(file.ext, settings.lossy_formats())
    may = lambda needed: editable and rights.at_least(level, needed)  # noqa: E731
    downloads = rights.may_download(file, level)
    return {
        "edit": may("edit"),
        "review": may("review"),
        "comment": may("comment"),
        "fillForms": may("fill"),
        "download": downloads,
        "print": downloads,
        "copy": downloads,
        "chat": bool(settings.get("chat")) and may("comment"),
        "protect": may("edit"),
    }


@dataclass(frozen=True)
class Guest:
    """Someone without an account, here through a share link.

    ``accounts`` are the people whose use of the editors this opening counts as: the link's
    creator, and whoever is signed in while opening it.
    """

    docs_id: str
    display_name: str
    accounts: tuple = ()


class EditorUnavailableError(CoeditError):
    """The person may not open this file in an editor; ``http_status`` and a plain reason say why.

    ``reason`` is None when Docs is not set up yet (pages then say what an administrator must do).
    """

    def __init__(self, reason: str | None, http_status: int):
        super().__init__(reason or "The Document Server is not configured.")
        self.reason = reason
        self.http_status = http_status


def open_for(
    file: File,
    person: User | Guest,
    level: str,
    want: str = "edit",
    user_agent: str = "",
    action_link: dict | None = None,
) -> dict:
    """The signed config for this person, the one way into an editor (page, API and share link).

    Decides whether and how: the admin's editor-use restriction, the format, Docs' settings, and
    the person's level (view or edit follows from it; ``want`` may only ask for less). ``file``
    is only read: the File, or the row of its columns ``rights.file_row_or_404`` gives.
    :raise NotFoundError: the level does not even let them read.
    :raise EditorUnavailableError: 403 not allowed to use the editors, 415 a format Docs cannot
      open, 503 Docs not configured.
    """
    if not rights.at_least(level, "read"):
        raise NotFoundError("No such file.")
    accounts = person.accounts if isinstance(person, Guest) else (person,)
    if not all(rights.may_use_editors(account) for account in accounts):
        raise EditorUnavailableError(
            "An administrator has not allowed you to use the editors. You can still download the file.", 403
        )
    if not formats.opens_in_editor(file.ext):
        raise EditorUnavailableError(formats.unopenable_reason(file.ext), 415)
    if not settings.docs_configured():
        raise EditorUnavailableError(None, 503)
    config = build(file, person, level, want, user_agent, action_link)
    details = {"mode": config["editorConfig"]["mode"], "level": level}
    if isinstance(person, Guest):
        details["guest_id"] = person.docs_id
    audit.record_opening(file, person, details)
    return config


def co_editing(guest: bool) -> dict:
    """Fast or strict co-editing as the admin set it; guests always strict and fixed."""
    if guest:
        return {"mode": "strict", "change": False}
    return {"mode": settings.get("coediting_mode"), "change": bool(settings.get("coediting_change"))}


def build(
    file: File,
    user: User | Guest,
    level: str,
    want: str = "edit",
    user_agent: str = "",
    action_link: dict | None = None,
) -> dict:
    """The signed config: a dict ready to hand to DocsAPI.DocEditor."""
    guest = isinstance(user, Guest)
    perms = permissions(file, level)
    can_change = perms["edit"] or perms["review"] or perms["comment"] or perms["fillForms"]
    mode = "edit" if want != "view" and can_change else "view"
    config = {
        "documentType": formats.document_type(file.ext),
        "type": "mobile" if MOBILE_AGENT.search(user_agent or "") else "desktop",
        "document": {
            "fileType": file.ext,
            "key": file.doc_key,
            "title": file.title,
            "url": download_url(file, file.version, user.docs_id),
            "permissions": perms,
        },
        "editorConfig": {
            # Always present, even for viewers: Docs may use any participant's URL.
            "callbackUrl": callback_url(file),
            "mode": mode,
            **locales.editor_language(user),
            "user": {"id": user.docs_id, "name": user.display_name},
            "coEditing": co_editing(guest),
            "customization": {
                "forcesave": bool(settings.get("forcesave")),
                "comments": bool(settings.get("comments")),
                "help": bool(settings.get("help")),
                "feedback": bool(settings.get("feedback")),
                "compactHeader": bool(settings.get("compact_header")),
                "macrosMode": "warn",
            },
        },
    }
    customization = config["editorConfig"]["customization"]
    if guest:
        customization["anonymous"] = {"request": False}  # the share page already asked the name
    else:
        customization["goback"] = {
            "url": route_url("spaces.show", True, {"space_id": file.space_id}),
            "text": "Back to the space",
            "blank": False,
        }
    if action_link:
        config["editorConfig"]["actionLink"] = action_link
    options = watermarks.for_opening(file, user, level, mode)
    if options:
        config["document"]["options"] = options
    if config["documentType"] == "cell":  # lets Docs link cells across files (IMPORTRANGE, paste link)
        config["document"]["referenceData"] = reference_data(file)
    config["token"] = tokens.encode(config, current_app.config["EDITOR_TOKEN_SECONDS"], tokens.BROWSER)
    return config

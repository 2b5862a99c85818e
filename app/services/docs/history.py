"""Version history as the editor shows it: refreshHistory and setHistoryData objects.

Keys: the current version is opened under the file's live key; older versions get a
key of their own, derived from the installation, the file, the number and the content,
so Docs never mixes up two versions (force-saves share their session's live key).
"""

import hashlib
import json

from flask import current_app
from flask_babel import gettext

from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.services import rights
from app.services import settings
from app.services.docs import links
from app.services.docs import tokens
from app.services.docs.editor_config import docs_facing_url


def _versions(file: File) -> list[FileVersion]:
    """The versions that were the file's head at some point (conflict copies stand aside)."""
    return list(
        db.session.scalars(
            file.versions_select().where(FileVersion.is_conflict.is_(False)).order_by(FileVersion.number)
        )
    )


def history_key(file: File, version: FileVersion) -> str:
    if version.number == file.version:
        return file.doc_key
    digest = hashlib.sha256(
        f"{settings.installation_id()}:{file.id}:{version.number}:{version.sha256}".encode()
    ).hexdigest()
    return f"{file.id}-h{version.number}-{digest[:32]}"


def refresh_history(file: File) -> dict:
    """The argument for docEditor.refreshHistory."""
    entries = []
    for version in _versions(file):
        entry = {
            "version": version.number,
            "key": history_key(file, version),
            "created": version.created_at.strftime("%Y-%m-%d %H:%M"),
            "user": {
                "id": str(version.author_id) if version.author_id else "",
                "name": version.author.display_name
                if version.author
                else (f"{version.guest_name} (guest)" if version.guest_name else "Unknown"),
            },
        }
        history = json.loads(version.history_json) if version.history_json else None
        if isinstance(history, dict) and history.get("changes") and history.get("serverVersion"):
            entry["changes"] = history["changes"]
            entry["serverVersion"] = history["serverVersion"]
        entries.append(entry)
    return {"currentVersion": file.version, "history": entries}


def _version_url(file: File, version: FileVersion, who: str) -> str:
    token = links.sign("history", f=file.id, s=file.key_salt, v=version.number, u=who)
    return docs_facing_url("backend.history_version", file_id=file.id, number=version.number, token=token)


def history_data(file: File, number: int, who: str, level: str) -> dict:
    """The argument for docEditor.setHistoryData, signed; an error object for an unknown version.

    ``who`` is the person's Docs id and ``level`` their level: version links serve Docs only and
    are re-checked for that person; the changes zip, which the editor frame may fetch itself, is
    offered only to people who may download the file.
    """
    versions = _versions(file)
    index = next((i for i, v in enumerate(versions) if v.number == number), None)
    if index is None:
        return {"version": number, "error": gettext("There is no version %(number)s.", number=number)}
    version = versions[index]
    data = {
        "version": number,
        "key": history_key(file, version),
        "fileType": file.ext,
        "url": _version_url(file, version, who),
    }
    if index > 0:
        previous = versions[index - 1]
        data["previous"] = {
            "key": history_key(file, previous),
            "fileType": file.ext,
            "url": _version_url(file, previous, who),
        }
        if version.changes_storage_key and rights.may_download(file, level):
            token = links.sign("changes", f=file.id, s=file.key_salt, v=version.number, u=who)
            data["changesUrl"] = docs_facing_url(
                "backend.history_changes", file_id=file.id, number=version.number, token=token
            )
    data["token"] = tokens.encode(data, current_app.config["HISTORY_LINK_SECONDS"], tokens.BROWSER)
    return data

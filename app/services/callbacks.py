"""Apply one callback from the Document Server to a file.

Only the verified JWT claims are acted on. A save answers success only after the
new version is committed; a replay of a save already stored changes nothing; a
save from a session whose file moved on is kept beside the head, not over it.
"""

import json
import logging
import os
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.models import File
from app.models import SaveReceipt
from app.models import User
from app.models.base import utcnow
from app.services import fetch
from app.services import files
from app.services import keys
from app.services import settings
from app.services import stream
from app.services import validation
from app.services.exceptions import BadRequest
from app.services.exceptions import NotFound
from app.services.exceptions import SaveFailed
from app.services.exceptions import SaveRejected

log = logging.getLogger("coedit.callbacks")

FINAL, FORCE = "final", "force"
SAVE_STATUSES = {2: FINAL, 3: FINAL, 6: FORCE, 7: FORCE}


def process(file_id: int, data: dict) -> str:
    """Act on the verified callback body; returns a word for the log.

    :raise BadRequest: malformed body. :raise NotFound: the file is gone.
    :raise SaveRejected: refused for good. :raise SaveFailed: Docs should retry.
    """
    status, key = data.get("status"), data.get("key")
    if not isinstance(status, int) or isinstance(status, bool) or not isinstance(key, str):
        raise BadRequest("status and key are required")
    file = db.session.get(File, file_id)
    if file is None:
        raise NotFound("file no longer exists")
    if not keys.belongs_to(file, key):
        raise SaveRejected("key does not belong to this file", 403)
    if status == 1:
        return _editing(file, key, data)
    if status == 4:
        return _closed(file, key)
    if status in SAVE_STATUSES:
        return _save(file, key, status, data)
    return "ignored"  # 0 and statuses Docs does not send: answered, nothing done


def _user_ids(data: dict) -> list[str]:
    users = data.get("users")
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def _editing(file: File, key: str, data: dict) -> str:
    if key != file.doc_key:
        return "stale session"
    editors = _user_ids(data)
    if editors == file.editors and bool(editors) == (file.editing_since is not None):
        return "editing"  # nothing new: no write (Docs repeats status 1 on every join and reconnect)
    file.editors = editors
    file.editing_since = (file.editing_since or utcnow()) if editors else None
    db.session.commit()
    return "editing"


def _closed(file: File, key: str) -> str:
    if key == file.doc_key:
        file.editors = []
        file.editing_since = None
        db.session.commit()
    return "closed"


def _author(data: dict) -> User | None:
    ids = _user_ids(data)
    if ids and ids[0].isdigit():
        return db.session.get(User, int(ids[0]))
    return None


def _dedupe(kind: str, data: dict) -> str:
    """What makes one save distinct: one final save per key; a force-save by its time."""
    if kind == FINAL:
        return FINAL
    marker = data.get("lastsave")
    if not isinstance(marker, str) or not marker:
        marker = urlsplit(data.get("url") or "").path
    return marker[:255]


def _receipt(file: File, key: str, kind: str, dedupe: str) -> SaveReceipt | None:
    return db.session.scalar(
        sa.select(SaveReceipt).where(
            SaveReceipt.file_id == file.id, SaveReceipt.doc_key == key,
            SaveReceipt.kind == kind, SaveReceipt.dedupe == dedupe,
        )
    )


def _finalised(file: File, key: str) -> bool:
    return _receipt(file, key, FINAL, FINAL) is not None


def _save(file: File, key: str, status: int, data: dict) -> str:
    kind = SAVE_STATUSES[status]
    dedupe = _dedupe(kind, data)
    if _finalised(file, key) or _receipt(file, key, kind, dedupe):
        return "duplicate"  # already stored (a retry, a replay, or a force-save overtaken)
    url = data.get("url")
    if not url:
        if status in (3, 7):
            log.warning("file %s key %s: status %s without a file; nothing to store", file.id, key, status)
            return "nothing to store"
        raise BadRequest("a save without url")
    if status == 2 and data.get("notmodified") is True:
        return _close_unmodified(file, key)
    filetype = data.get("filetype")
    if isinstance(filetype, str) and filetype and filetype.lower() != file.ext:
        # Converting would need the conversion service; refusing keeps Docs' copy intact.
        raise SaveRejected(f"Docs returned .{filetype} for a .{file.ext} file")

    path = fetch.download(url, settings.max_file_bytes())
    try:
        try:
            validation.validate_document(path, file.ext, validation.Limits(max_bytes=settings.max_file_bytes()))
        except validation.InvalidDocument as exc:
            raise SaveRejected(f"invalid document: {exc.reason}") from None
        return _commit_save(file, key, status, kind, dedupe, data, path)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _commit_save(file: File, key: str, status: int, kind: str, dedupe: str, data: dict, path: str) -> str:
    db.session.rollback()  # start clean: the lock must be the transaction's first statement
    files.lock(file)
    if _finalised(file, key) or _receipt(file, key, kind, dedupe):
        db.session.rollback()
        return "duplicate"  # a parallel delivery of the same save won the race
    author = _author(data)
    current = key == file.doc_key
    history = data.get("history")
    version = files.store_version(
        file, path, author, "save" if kind == FINAL else "forcesave",
        rotate_key=kind == FINAL,
        session_key=key,
        history_json=json.dumps(history) if isinstance(history, dict) else None,
        becomes_head=current,
    )
    db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=kind, dedupe=dedupe,
                               version_number=version.number))
    name = author.display_name if author else "someone"
    if current:
        stream.notice(file, f"{file.title} was updated by {name}: version {version.number}", author)
    else:
        stream.notice(file, f"{file.title}: changes by {name} were made to an older version and "
                            f"were kept as version {version.number} (conflict copy)", author)
    if kind == FINAL and current:
        file.editors = []
        file.editing_since = None
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        files.discard_blob(version)
        return "duplicate"
    except Exception:
        db.session.rollback()
        files.discard_blob(version)
        raise SaveFailed("could not record the new version") from None
    log.info("file %s key %s: status %s stored as version %s%s", file.id, key, status,
             version.number, "" if current else " (conflict copy)")
    return "stored"


def _close_unmodified(file: File, key: str) -> str:
    """A final save with nothing new since the last force-save: no version, but a new key."""
    db.session.rollback()
    files.lock(file)
    if _finalised(file, key):
        db.session.rollback()
        return "duplicate"
    db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=FINAL, dedupe=FINAL, version_number=None))
    if key == file.doc_key:
        keys.rotate(file)
        file.editors = []
        file.editing_since = None
    db.session.commit()
    return "unmodified"

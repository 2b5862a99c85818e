"""Receive one callback from the Document Server and apply it to a file.

The save, top to bottom: verify the link and Docs' JWT → the key belongs to the file → the
file's transition lock (services/locks.py) → the file's row lock → a duplicate? → fetch from the
configured Docs only → validate → write the blob under its final name → commit the version and
its receipt (the one commit that decides success) → answer ``{"error": 0}`` → after the commit, in
their own transactions: fold force-saves, the notice in the thread, notifications.

Only the verified JWT claims are acted on. A replay of a save already stored changes nothing;
a save from a session whose file moved on, or naming only people who lost the right to change
the file, is kept beside the head, not over it.

This service owns its transactions (the receipt must be durable before Docs is answered); it
commits through ``transaction.commit`` like a view.
"""

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext

from app import jobs
from app import transaction
from app.extensions import db
from app.models import DeletedFile
from app.models import DocKey
from app.models import File
from app.models import FileRight
from app.models import FileVersion
from app.models import Notification
from app.models import SaveReceipt
from app.models import User
from app.models.base import utcnow
from app.models.file import editors_of
from app.ops import metrics
from app.services import audit
from app.services import files
from app.services import locks
from app.services import notifications
from app.services import posts
from app.services import retention
from app.services import rights
from app.services import settings
from app.services import share_links
from app.services import storage
from app.services import validation
from app.services.docs import fetch
from app.services.docs import keys
from app.services.docs import links
from app.services.docs import lossy_saves
from app.services.docs import tokens
from app.services.exceptions import BadRequestError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.exceptions import SaveFailedError
from app.services.exceptions import SaveRejectedError
from app.services.exceptions import StorageError
from app.services.locales import translatable
from app.services.storage import get_storage
from app.services.storage import remove_leftovers

log = logging.getLogger("coedit.callbacks")

FINAL, FORCE, FORM = "final", "force", "form"
FORM_SUBMIT = 3  # forcesavetype of a PDF form's Complete & Submit
MAX_FORM_DATA = 5 * 1024 * 1024
MAX_BODY_BYTES = 1024 * 1024
SAVE_STATUSES = {2: FINAL, 3: FINAL, 6: FORCE, 7: FORCE}

# What each failure answers, and so what Docs does (it retries final saves on 5xx and keeps a
# forgotten copy otherwise; it never retries status 1, 4 or force-saves).
ANSWERS = (
    (locks.Busy, 503),  # another action moves the file right now: Docs sends the save again
    (ForbiddenError, 403),  # a bad link or JWT: never retried
    (BadRequestError, 400),  # malformed
    (NotFoundError, 404),  # the file is gone: Docs keeps the changes as a forgotten file
    (SaveRejectedError, None),  # refused for good: 403 (not allowed) or 422 (a broken document)
    (SaveFailedError, 503),  # transient, from here on: Docs retries, then keeps a forgotten copy
    (StorageError, 503),
    (OSError, 503),
    (sa.exc.SQLAlchemyError, 503),
)
_ANSWERED = tuple(kind for kind, _ in ANSWERS)


def receive(file_id: int, link_token: str, stream, content_length: int | None, headers) -> tuple[int, str]:
    """Verify and apply one callback; returns the HTTP status to answer (200 only once durable) and
    the callback's status as Docs sent it ("?" when unreadable). ``{"error": 0}`` goes with 200,
    ``{"error": 1}`` with anything else."""
    data: dict = {}
    claims: dict = {}
    try:
        claims = links.verify_for_file("track", link_token, file_id)
        # Read at most one byte past the limit, whatever Content-Length says (or if it is chunked).
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES or (content_length or 0) > MAX_BODY_BYTES:
            raise BadRequestError("body too large")
        try:
            body = json.loads(raw or b"null")
        except (ValueError, RecursionError):
            raise BadRequestError("body is not JSON (or nested too deeply)") from None
        if not isinstance(body, dict):
            raise BadRequestError("body is not a JSON object")
        data = tokens.verified_payload(headers, body)
        outcome = process(file_id, data, claims.get("s", ""))
    except _ANSWERED as exc:
        return _failed(file_id, claims, data, exc), str(data.get("status", "?"))
    # Status 1 comes with every join, leave and reconnect: the request line and the session events'
    # lines already tell it, so its own line is for debugging only.
    level = logging.DEBUG if data.get("status") == 1 else logging.INFO
    log.log(level, "callback for file %s status %s: %s", file_id, data.get("status"), outcome)
    metrics.callback_handled(file_id, data, outcome)
    return 200, str(data.get("status", "?"))


def _failed(file_id: int, claims: dict, data: dict, exc: Exception) -> int:
    """Log a failed callback, tell the people concerned, and choose the answer (ANSWERS)."""
    status = next(code for kind, code in ANSWERS if isinstance(exc, kind)) or exc.http_status
    reason = getattr(exc, "message", "") or exc.__class__.__name__
    db.session.rollback()
    if isinstance(exc, locks.Busy):
        # Not a failure: another action holds the file for a moment, and Docs' retry stores it.
        log.warning("save for file %s waits for another action on it; Docs will retry", file_id)
        return status
    metrics.callback_refused(file_id, data, exc, status)
    audit.save_refused(file_id, data, status, reason, isinstance(exc, SaveRejectedError))
    if status == 503:
        log.error("save for file %s failed, Docs will retry: %s", file_id, reason)
        report_failure(file_id, data, "the server could not store it")
    elif isinstance(exc, SaveRejectedError):
        log.warning("save for file %s refused: %s", file_id, reason)
        if status == 422:  # a broken document, not a forged request: people should know
            report_failure(file_id, data, "the edited file was damaged")
            end_refused_session(file_id, data)
    elif isinstance(exc, NotFoundError):
        log.warning("callback for file %s: %s", file_id, reason)
        report_arrival_after_delete(file_id, claims.get("s", ""), data)
    else:
        log.warning("callback for file %s refused (%s): %s", file_id, status, reason)
    return status


# What a status 1 needs of the file and of the people it says joined, in one statement built
# once: Docs sends status 1 on every join, leave and reconnect of every co-editor, and most change
# nothing, so they are decided from these columns without loading the file; only a change loads
# it to write.
_EDITING_STATE = rights.with_participants(
    sa.select(
        File.id,
        File.key_salt,
        File.doc_key,
        File.editors_json,
        File.editing_since,
        File.space_id,
        File.owner_id,
        File.default_level,
    ).where(File.id == sa.bindparam("file_id"))
)


def process(file_id: int, data: dict, salt: str) -> str:
    """Act on the verified callback body; returns a word for the log.

    The file is the one the signed link names (its id and the random salt it was created with:
    SQLite may give a deleted file's id to a new one); the key must be one it has had.

    :raise BadRequestError: malformed body. :raise NotFoundError: the file is gone.
    :raise SaveRejectedError: refused for good. :raise SaveFailedError: Docs should retry.
    """
    status, key = data.get("status"), data.get("key")
    if not isinstance(status, int) or isinstance(status, bool) or not isinstance(key, str):
        raise BadRequestError("status and key are required")
    if status == 1:
        return _editing(file_id, salt, key, data)
    file = db.session.get(File, file_id)
    _check_file_and_key(file, salt, key)
    if status == 4:
        return _closed(file, key)
    if status in SAVE_STATUSES:
        with locks.transition(file.id, "save"):  # no restore, upload, rename or delete meanwhile
            # Another save may have been stored while this one waited for the lock (a force-save
            # this final save says it holds): read the file as it is now, not as it came in.
            db.session.refresh(file)
            return _save(file, key, status, data)
    return "ignored"  # 0 and statuses Docs does not send: answered, nothing done


def _check_file_and_key(file, salt: str, key: str) -> None:
    if file is None or file.key_salt != salt:
        raise NotFoundError("file no longer exists")
    if not keys.belongs_to(file, key):
        raise SaveRejectedError("key does not belong to this file", 403)


def _user_ids(data: dict) -> list[str]:
    users = data.get("users")
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def _editing(file_id: int, salt: str, key: str, data: dict) -> str:
    """Status 1, decided from the file's editing state and the joiners' levels read outside any
    transaction (_editing_state); the file is loaded, and read again, only to change it."""
    state, levels = _editing_state(file_id, data)
    _check_file_and_key(state, salt, key)
    if key != state.doc_key:
        # A session on a retired key still owes us its save (a conflict copy): keep the file.
        _session_seen(db.session.get(File, state.id), key)
        transaction.commit()
        return "stale session"
    if not get_storage().writable():
        # A non-zero answer makes Docs warn the editors now, before they invest edits we cannot keep.
        raise SaveFailedError("storage is not writable")
    editors, refused, left, unchanged = _editing_changes(state, data, levels)
    if refused:
        # Rights are live, not what a config still held in a browser says: someone who lost the
        # right to change the file (or whose share link was revoked) and opens the editor again
        # with the old config is disconnected at once. Anything they managed to send is caught
        # when the save is stored (_authorised).
        log.warning("file %s: %s joined without the right to change it; dropping them", state.id, refused)
        jobs.enqueue(jobs.drop_from_editor, state.id, key, refused)
    if left:
        # The others stay, so no final save comes yet: store the leaver's work now.
        jobs.enqueue(jobs.forcesave, state.id, key)
    if unchanged:
        # Nothing new: no write (Docs repeats status 1 on every join and reconnect). A commit
        # only sends the jobs above on their way.
        if refused or left:
            transaction.commit()
        return "editing"
    file = db.session.get(File, state.id)
    file.editors = editors
    file.editing_since = (file.editing_since or utcnow()) if editors else None
    _session_seen(file, key)  # the first status 1 opens it; every join or leave keeps it fresh
    transaction.commit()
    return "editing"


def settled_editing(file_id: int, salt: str, data: dict) -> bool:
    """Whether this verified status 1 changes nothing and asks for nothing, as most do: the file
    and its current key, storage writable, the same editors, nobody refused, nobody left.

    Such a callback is answered without a transaction or Flask's dispatch (backend/settled.py);
    any other goes through ``receive``, which decides it again from the start.
    """
    key, status = data.get("key"), data.get("status")
    if type(status) is not int or status != 1 or not isinstance(key, str):  # True == 1 in Python
        return False
    state, levels = _editing_state(file_id, data)
    if state is None or state.key_salt != salt or key != state.doc_key:
        return False
    _, refused, left, unchanged = _editing_changes(state, data, levels)
    return unchanged and not refused and not left and get_storage().writable()


def _editing_state(file_id: int, data: dict) -> tuple:
    """The file's editing state (_EDITING_STATE, None if it is gone) and the levels of the people
    this status 1 says joined, read outside any transaction."""
    with transaction.reading_alone() as read:
        return rights.read_with_participants(_EDITING_STATE, {"file_id": file_id}, _joined(data), read)


def _editing_changes(state, data: dict, levels: dict) -> tuple[list[str], list[str], bool, bool]:
    """What a status 1 says against the file's state: the editors now, the joiners refused for
    lack of the right to change the file, whether someone left while others stay, and whether
    the editors are unchanged."""
    editors = _user_ids(data)
    refused = [user for user in _joined(data) if not rights.may_change(levels[user])]
    left = _someone_left(data, editors)
    unchanged = editors == editors_of(state.editors_json) and bool(editors) == (state.editing_since is not None)
    return editors, refused, left, unchanged


def _session_seen(file: File, key: str) -> None:
    """Stage that Docs runs an editing session under this key (its final save is owed to us)."""
    row = db.session.get(DocKey, key)
    if row is None or row.file_id != file.id:
        return
    now = utcnow()
    row.session_opened_at = row.session_opened_at or now
    row.session_seen_at = now
    row.session_closed_at = None  # Docs reopens a key closed with status 4 when someone reconnects


def _session_closed(file: File, key: str) -> None:
    """Stage that the session under this key is over: nothing more will be saved from it."""
    with db.session.no_autoflush:  # what the caller staged is flushed by its commit, as one step
        row = db.session.get(DocKey, key)
    if row is not None and row.file_id == file.id and row.session_closed_at is None:
        row.session_closed_at = utcnow()


def _joined(data: dict) -> list[str]:
    """The users a status 1 says connected (action type 1)."""
    actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    return [
        a["userid"] for a in actions if isinstance(a, dict) and a.get("type") == 1 and isinstance(a.get("userid"), str)
    ]


def _someone_left(data: dict, editors: list[str]) -> bool:
    actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    return bool(editors) and any(
        isinstance(a, dict) and a.get("type") == 0 and a.get("userid") not in editors for a in actions
    )


def _fold_intermediate(file: File, key: str) -> None:
    """Unless the admin keeps them, drop the force-saved versions the final save now includes.

    Runs after the final save is committed: failing here leaves extra versions, never a lost save.
    """
    if settings.get("keep_intermediate_versions"):
        return
    numbers = db.session.scalars(
        sa.select(SaveReceipt.version_number).where(
            SaveReceipt.file_id == file.id, SaveReceipt.doc_key == key, SaveReceipt.kind == FORCE
        )
    ).all()
    folded = db.session.scalars(file.versions_select().where(FileVersion.number.in_([n for n in numbers if n]))).all()
    retention.remove_held(list(folded))  # the save holds the lock; never the head; blobs after the commit


def _closed(file: File, key: str) -> str:
    if key == file.doc_key:
        file.end_editing()
        # The file's row before its key's, in the order status 1 locks them: the other order
        # deadlocks on PostgreSQL with a leave Docs reports while the session closes.
        db.session.flush()
    _session_closed(file, key)
    transaction.commit()
    return "closed"


def _author(data: dict) -> User | None:
    ids = _user_ids(data)
    if ids and ids[0].isdigit():
        return db.session.get(User, int(ids[0]))
    return None


def _authorised(file: File, data: dict) -> bool:
    """Whether anyone the save names may change the file now.

    Docs names the last person to change the document (``users``) and, on a final save, the last
    to leave (``actions``). Rights are checked when the save arrives, not when the editor was
    opened: a save naming only people who lost that right is kept beside the head (a conflict
    copy), never made the head silently. A save that names nobody is taken as the session's.
    """
    actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    named = set(_user_ids(data)) | {
        a["userid"] for a in actions if isinstance(a, dict) and isinstance(a.get("userid"), str)
    }
    return not named or any(rights.may_change(level) for level in rights.participant_levels(file, named).values())


def _guest(data: dict) -> str | None:
    """The name the guest who made the save gave on the share page, if a guest made it."""
    ids = _user_ids(data)
    return share_links.guest_name(ids[0]) if ids else None


def _author_name(author: User | None, data: dict) -> str:
    """Who to name in the notice: the member, or the guest by the name they gave on the share page."""
    if author is not None:
        return author.display_name
    guest = _guest(data)
    return f"{guest} (guest)" if guest else "someone"


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
            SaveReceipt.file_id == file.id,
            SaveReceipt.doc_key == key,
            SaveReceipt.kind == kind,
            SaveReceipt.dedupe == dedupe,
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
            if status == 3:  # the session's changes could not be assembled: people must know
                audit.save_failed(file, data, "the Document Server reported an error and sent no file")
                _session_closed(file, key)
                transaction.commit()
                report_failure(file.id, data, "the Document Server reported an error and sent no file")
            return "nothing to store"
        raise BadRequestError("a save without url")
    if status == 2 and data.get("notmodified") is True and _forcesave_holds_it(file, key, data):
        return _close_unmodified(file, key)
    if status == 6 and data.get("forcesavetype") == FORM_SUBMIT:
        return _submitted_form(file, key, data)
    filetype = data.get("filetype")
    if isinstance(filetype, str) and filetype and filetype.lower() != file.ext:
        filetype = filetype.lower()
        if not lossy_saves.applies(file, filetype):
            # Refusing keeps Docs' copy intact (a forgotten file an administrator can recover).
            raise SaveRejectedError(
                gettext("Docs returned .%(filetype)s for a .%(ext)s file", filetype=filetype, ext=file.ext),
                reason="file_content",
            )
        try:
            path = lossy_saves.converted(file, url, filetype, key)
        except lossy_saves.NotConverted as exc:
            log.warning("file %s: save in .%s not converted back: %s", file.id, filetype, exc.reason)
            return _kept_beside(file, key, kind, dedupe, data, filetype, exc.reason)
    elif ooxml := lossy_saves.unchecked_kept_as(file):
        try:
            kept = lossy_saves.as_ooxml(file, url, ooxml, key)
        except lossy_saves.NotConverted as exc:
            raise SaveFailedError(f"a .{file.ext} save could not be converted to .{ooxml}: {exc.reason}") from None
        reason = f"Coedit cannot check .{file.ext} files, so the editor's file was converted to .{ooxml}"
        return _kept_beside(file, key, kind, dedupe, data, ooxml, reason, kept)
    else:
        path = fetch.download(url, settings.max_file_bytes())
    changes = None
    try:
        try:
            files.sound_document(path, file.ext)
        except validation.InvalidDocument as exc:
            raise SaveRejectedError(f"invalid document: {exc.reason}", reason=exc.kind) from None
        changes = _fetch_changes(file, data)
        return _commit_save(file, key, status, kind, dedupe, data, path, changes)
    finally:
        remove_leftovers(path, changes)


def _kept_beside(
    file: File, key: str, kind: str, dedupe: str, data: dict, filetype: str, reason: str, path: str | None = None
) -> str:
    """A save that could not become a version in the file's own format (lossy_saves): the file
    Docs sent (or ``path``, its conversion), checked, becomes a new file beside the original,
    which stays as it was, and the owner and the editor are told. Answered as stored: Docs need
    not keep a forgotten copy."""
    if path is None:
        path = fetch.download(data["url"], settings.max_file_bytes())
    try:
        try:
            files.sound_document(path, filetype)
        except validation.InvalidDocument as exc:
            raise SaveRejectedError(f"invalid document: {exc.reason}", reason=exc.kind) from None
        files.lock(file)
        if _finalised(file, key) or _receipt(file, key, kind, dedupe):
            db.session.rollback()
            return "duplicate"
        author = _author(data)
        # The copy is the original's content: its owner, and no one may reach it who may not
        # reach the original (a restricted file's edits must not become readable by every member).
        copy = files.add_file(file, file.owner, f"{file.stem}.{filetype}", path)
        copy.default_level, copy.allow_download = file.default_level, file.allow_download
        for user_id, level in db.session.execute(
            sa.select(FileRight.user_id, FileRight.level).where(FileRight.file_id == file.id)
        ).all():
            db.session.add(FileRight(file_id=copy.id, user_id=user_id, level=level))
        audit.record(
            "file.created",
            actor=author or audit.DOCS_ACTOR,
            file=copy,
            details={"source": "save", "beside": file.id, "reason": reason, "kind": kind},
        )
        db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=kind, dedupe=dedupe, version_number=None))
        if kind == FINAL:
            if key == file.doc_key:
                keys.rotate(file)  # the session is over: the next opener starts from the original
                file.end_editing()
            _session_closed(file, key)
        name = _author_name(author, data)
        text = translatable(
            "Changes to %(title)s by %(name)s could not be stored as .%(ext)s (%(reason)s); "
            "they were kept as a new file, %(title2)s, beside it.",
            title=file.title,
            name=name,
            ext=file.ext,
            reason=reason,
            title2=copy.title,
        )
        recipients = {file.owner_id, author.id if author else None} - {None}
        copy_id = copy.id
        transaction.after_commit(lambda: _tell_kept_beside(file, text, author, recipients, copy_id))
        return _commit_receipt()
    finally:
        remove_leftovers(path)


def _tell_kept_beside(file: File, text: str, author: User | None, recipients: set, copy_id: int) -> None:
    posts.notice(file, text, author)
    for user_id in recipients:
        notifications.notify(user_id, "save-kept-aside", text, f"/files/{copy_id}", file)


def _submitted_form(file: File, key: str, data: dict) -> str:
    """A filled PDF form sent with Complete & Submit: a new file beside the form, with its data.

    The form itself stays as it is, so everyone fills in a blank one.
    """
    dedupe = _dedupe(FORM, data)
    if _receipt(file, key, FORM, dedupe):
        return "duplicate"
    author = _author(data)
    name = _author_name(author, data)
    pdf = fetch.download(data["url"], settings.max_file_bytes())
    form_data = None
    try:
        try:
            files.sound_document(pdf, "pdf")
        except validation.InvalidDocument as exc:
            raise SaveRejectedError(f"invalid submitted form: {exc.reason}", reason=exc.kind) from None
        if isinstance(data.get("formsdataurl"), str):
            form_data = fetch.download(data["formsdataurl"], MAX_FORM_DATA)
            try:
                with open(form_data, encoding="utf-8") as handle:
                    json.load(handle)
            except ValueError:
                raise SaveRejectedError("the submitted form data is not JSON", reason="file_content") from None
        files.lock(file)
        if _receipt(file, key, FORM, dedupe):
            db.session.rollback()
            return "duplicate"
        stamp = utcnow().strftime("%Y-%m-%d %H.%M")
        owner = author if author is not None and files.is_member(file, author) else file.owner
        filled = files.add_file(file, owner, f"{file.stem} - submitted by {name} {stamp}.pdf", pdf)
        if form_data:
            files.add_file(file, owner, f"{file.stem} - submitted by {name} {stamp}.json", form_data)
        db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=FORM, dedupe=dedupe, version_number=None))
        text = translatable(
            "%(name)s submitted the form %(title)s: %(title2)s", name=name, title=file.title, title2=filled.title
        )
        transaction.after_commit(lambda: posts.notice(file, text, author))
        _commit_receipt()
        return "form stored"
    finally:
        remove_leftovers(pdf, form_data)


def _fetch_changes(file: File, data: dict) -> str | None:
    """The session's changes zip (history highlighting); its link expires, so fetch it now.

    Optional: without it the history shows the version unhighlighted, so a failure is logged,
    not fatal.
    """
    url = data.get("changesurl")
    if not isinstance(url, str) or not url:
        return None
    try:
        path = fetch.download(url, settings.max_file_bytes())
        validation.validate_zip(path)
        return path
    except (SaveFailedError, SaveRejectedError, validation.InvalidDocument) as exc:
        log.warning("file %s: changes of this save not kept: %s", file.id, getattr(exc, "message", "") or exc)
        return None


def _commit_save(
    file: File, key: str, status: int, kind: str, dedupe: str, data: dict, path: str, changes: str | None = None
) -> str:
    files.lock(file)
    if _finalised(file, key) or _receipt(file, key, kind, dedupe):
        db.session.rollback()
        return "duplicate"  # a parallel delivery of the same save won the race
    author = _author(data)
    current = key == file.doc_key
    authorised = _authorised(file, data)
    history = data.get("history")
    version = files.store_version(
        file,
        path,
        author,
        "save" if kind == FINAL else "forcesave",
        rotate_key=kind == FINAL,
        session_key=key,
        history_json=json.dumps(history) if isinstance(history, dict) else None,
        becomes_head=current and authorised,
        guest_name=None if author is not None else _guest(data),
        coauthors=_user_ids(data)[:50],  # Docs lists each co-editor once; a bound for a forged list
    )
    if current and not authorised and kind == FINAL:
        keys.rotate(file)  # the session is over: the next opener must not land on its old key
    if changes:
        version.changes_storage_key = storage.store(changes, f"changes/{file.id}")
    db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=kind, dedupe=dedupe, version_number=version.number))
    if kind == FINAL and current:
        file.end_editing()
    if kind == FINAL:
        _session_closed(file, key)
    number = version.number
    transaction.after_commit(lambda: _tell_about_save(file, data, author, number, current, authorised))
    if current and kind == FINAL and authorised:  # an unauthorised save includes nothing to fold into
        transaction.after_commit(lambda: _fold_intermediate(file, key))
    audit.saved(file, version, data, kind)
    outcome = _commit_receipt()
    log.info(
        "file %s key %s: status %s stored as version %s%s",
        file.id,
        key,
        status,
        number,
        "" if current and authorised else " (conflict copy)",
    )
    return outcome


def _commit_receipt() -> str:
    """Commit a save with its receipt: the commit that decides what Docs is answered.

    :raise SaveFailedError: it could not be committed (Docs retries; the blobs are gone again).
    """
    try:
        transaction.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return "duplicate"  # the receipt's unique key: a parallel delivery committed first
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        raise SaveFailedError("could not record the new version") from None
    return "stored"


def _tell_about_save(file: File, data: dict, author: User | None, number: int, current: bool, authorised: bool) -> None:
    """The notice in the thread (and notifications for copies kept aside), once the save is durable."""
    name = _author_name(author, data)
    if current and authorised:
        posts.notice(
            file,
            translatable(
                "%(title)s was updated by %(name)s: version %(number)s", title=file.title, name=name, number=number
            ),
            author,
        )
        return
    if current:
        text = translatable(
            "%(title)s: changes by %(name)s, who may no longer change it, were kept as "
            "version %(number)s beside the current version (conflict copy)",
            title=file.title,
            name=name,
            number=number,
        )
        recipients = {file.owner_id}
    else:
        text = translatable(
            "%(title)s: changes by %(name)s were made to an older version and were kept as "
            "version %(number)s (conflict copy)",
            title=file.title,
            name=name,
            number=number,
        )
        recipients = {file.owner_id, author.id if author else None}
    posts.notice(file, text, author)
    for user_id in recipients - {None}:
        notifications.notify(user_id, "conflict", text, f"/files/{file.id}", file)


def _forcesave_holds_it(file: File, key: str, data: dict) -> bool:
    """Whether "not modified since the last force-save" means we already hold the content.

    Only if that force-save was stored (Docs does not retry force-saves we failed) and, for the
    live session, became the head (one kept aside as a conflict copy still needs the final save).
    That force-save is the one of the final save's ``lastsave`` (nothing changed since): Docs may
    deliver it after the final save, and an earlier force-save does not hold the later edits.
    """
    newest = db.session.scalar(
        sa.select(sa.func.max(SaveReceipt.version_number)).where(
            SaveReceipt.file_id == file.id,
            SaveReceipt.doc_key == key,
            SaveReceipt.kind == FORCE,
            SaveReceipt.dedupe == _dedupe(FORCE, data),
        )
    )
    return newest is not None and (key != file.doc_key or newest == file.version)


def _close_unmodified(file: File, key: str) -> str:
    """A final save with nothing new since the last force-save: no version, but a new key."""
    files.lock(file)
    if _finalised(file, key):
        db.session.rollback()
        return "duplicate"
    db.session.add(SaveReceipt(file_id=file.id, doc_key=key, kind=FINAL, dedupe=FINAL, version_number=None))
    if key == file.doc_key:
        keys.rotate(file)
        file.end_editing()
    _session_closed(file, key)
    return "unmodified" if _commit_receipt() == "stored" else "duplicate"


def report_failure(file_id: int, data: dict, reason: str) -> None:
    """Tell the owner and the last editor that a final save did not land (once per file in a while).

    Docs keeps the changes (it retries, then keeps a forgotten copy), so the message says
    they are not lost and who can recover them.
    """
    if data.get("status") not in (2, 3):
        return
    file = db.session.get(File, file_id)
    if file is None:
        return
    recipients = {file.owner_id}
    editor = _author(data)
    if editor is not None:
        recipients.add(editor.id)
    since = utcnow() - timedelta(minutes=10)
    for user_id in filter(None, recipients):
        already = db.session.scalar(
            sa.select(Notification.id).where(
                Notification.user_id == user_id,
                Notification.file_id == file.id,
                Notification.kind == "save-failed",
                Notification.created_at >= since,
            )
        )
        if already is None:
            notifications.notify(
                user_id,
                "save-failed",
                translatable(
                    "Changes to %(title)s could not be saved yet (%(reason)s). The Document Server "
                    "keeps them; an administrator can recover them.",
                    title=file.title,
                    reason=reason,
                ),
                f"/files/{file.id}",
                file,
            )
    transaction.commit()


def end_refused_session(file_id: int, data: dict) -> None:
    """After we refused a final save for good, Docs keeps it as a forgotten file and sends nothing
    more for its key: the session no longer holds the file back (administrators recover it)."""
    if data.get("status") not in (2, 3) or not isinstance(data.get("key"), str):
        return
    file = db.session.get(File, file_id)
    if file is not None:
        _session_closed(file, data["key"])
        transaction.commit()


def report_arrival_after_delete(file_id: int, salt: str, data: dict) -> None:
    """A final save for a file deleted meanwhile: Docs keeps it (we answer 404); tell its owner and
    whoever deleted it, so the changes can be recovered from Docs' forgotten files."""
    if data.get("status") not in (2, 3) or not data.get("url"):
        return
    gone = db.session.scalar(
        sa.select(DeletedFile)
        .where(DeletedFile.file_id == file_id, DeletedFile.key_salt == salt)
        .order_by(DeletedFile.id.desc())
        .limit(1)
    )
    if gone is None:
        return
    text = translatable(
        "Changes to %(title)s arrived from the editor after it was deleted. The Document "
        "Server keeps them; an administrator can recover them into a space from Forgotten files.",
        title=gone.title,
    )
    for user_id in {gone.owner_id, gone.deleted_by} - {None}:
        notifications.notify(user_id, "save-failed", text)
    transaction.commit()
    log.warning("file %s (deleted) received a final save; Docs keeps it as a forgotten file", file_id)

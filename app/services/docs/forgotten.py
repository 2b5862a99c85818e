"""Forgotten files: what Docs kept after a final save that never reached Coedit.

When Docs cannot deliver a session's final save (status 2) — the app was down for
all four attempts, or refused the save — it keeps the assembled document as a
"forgotten" file under the session's document key (the callback protocol; the command
service's getForgotten). Nothing is
lost, but nothing reaches the file either until someone acts. This module lets an
administrator see those files (``getForgottenList``), take one back as a new
version of its file — or as a new file when the file is gone — and then remove it
from Docs (``deleteForgotten``), or discard it without recovering.

Everything fetched from Docs goes through ``fetch.download`` (configured Docs only)
and ``validation`` (a sound document of the expected type), like a normal save.
"""

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext

from app import transaction
from app.extensions import db
from app.models import DeletedFile
from app.models import DocKey
from app.models import File
from app.models import FileVersion
from app.models import SaveReceipt
from app.models import Space
from app.models import User
from app.services import audit
from app.services import files
from app.services import formats
from app.services import locks
from app.services import posts
from app.services import settings
from app.services import validation
from app.services.docs import client
from app.services.docs import fetch
from app.services.exceptions import BadRequestError
from app.services.exceptions import DocsError
from app.services.exceptions import NotFoundError
from app.services.exceptions import SaveFailedError
from app.services.exceptions import SaveRejectedError
from app.services.locales import Translatable
from app.services.locales import translatable
from app.services.storage import remove_leftovers

log = logging.getLogger("coedit.forgotten")

SOURCE = "recovered"  # FileVersion.source of a version taken back from Docs
RECEIPT = "recover"  # SaveReceipt.kind (and dedupe) of a recovery; callbacks use final and force
# Docs document keys: at most 128 of 0-9 a-z A-Z - . _ = (anything else never reaches Docs).
KEY_PATTERN = re.compile(r"^[0-9A-Za-z._=-]{1,128}$")
_EXT_PATTERN = re.compile(r"^[a-z0-9]{1,16}$")
_IN_CHUNK = 500  # keys per IN (...) query: well under every database's parameter limit


class RecoveryError(BadRequestError):
    """A forgotten file could not be listed, recovered, fetched or discarded; the message says why in plain words."""


@dataclass
class Item:
    """One forgotten file in Docs and what Coedit knows about its key."""

    key: str
    file: File | None  # the file the key belongs to (current or retired key); None: deleted or not ours
    current: bool  # the key is still the file's current key: nothing was saved to the file since
    recovered_as: int | None = None  # already recovered as this version (Docs' copy was not deleted)
    deleted: DeletedFile | None = None  # the deleted file this key belonged to

    @property
    def space(self) -> Space | None:
        if self.file is not None:
            return self.file.space
        return db.session.get(Space, self.deleted.space_id) if self.deleted and self.deleted.space_id else None

    @property
    def title(self) -> str | None:
        if self.file is not None:
            return self.file.title
        return self.deleted.title if self.deleted is not None else None


def _command(c: str, failure: Translatable, **params) -> dict:
    """Run one command-service command, turning Docs failures into a plain sentence (``failure``,
    given Docs' reason as %(message)s)."""
    if not settings.docs_configured():
        raise RecoveryError(gettext("ONLYOFFICE Docs is not configured, so there are no forgotten files to manage."))
    try:
        return client.command(c, **params)
    except DocsError as exc:
        raise RecoveryError(Translatable(failure.msgid, {"message": exc.message}).render()) from None


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_PATTERN.match(key):
        raise RecoveryError(gettext("That is not a document key Docs could have kept a file under."))
    return key


def list_forgotten() -> list[Item]:
    """Every forgotten file Docs holds (``getForgottenList``), each with the file its key belongs to.

    Keys Coedit does not know are listed too: their file was deleted, or they come from
    another program sharing the Document Server.

    :raise RecoveryError: Docs is not configured, unreachable or answered with an error.
    """
    answer = _command("getForgottenList", translatable("Docs could not list its forgotten files: %(message)s."))
    keys = answer.get("keys")
    if not isinstance(keys, list):
        raise RecoveryError(gettext("Docs answered the request for its forgotten files with something unexpected."))
    keys = [k for k in keys if isinstance(k, str)]
    owners = _files_for_keys(keys)
    recovered = _recovered(keys)
    deleted = _deleted_files_for_keys([k for k in keys if k not in owners])
    return [
        Item(
            key=k,
            file=owners.get(k),
            current=k in owners and owners[k].doc_key == k,
            recovered_as=recovered.get(k),
            deleted=deleted.get(k),
        )
        for k in keys
    ]


def _deleted_files_for_keys(keys: list[str]) -> dict[str, DeletedFile]:
    """key → the deleted file that had it (our keys start with the file's id)."""
    ids = {int(k.split("-", 1)[0]) for k in keys if k.split("-", 1)[0].isdigit()}
    found: dict[str, DeletedFile] = {}
    wanted = set(keys)
    id_list = sorted(ids)
    for start in range(0, len(id_list), _IN_CHUNK):
        for gone in db.session.scalars(
            sa.select(DeletedFile).where(DeletedFile.file_id.in_(id_list[start : start + _IN_CHUNK]))
        ):
            for key in set(json.loads(gone.keys_json or "[]")) & wanted:
                found[key] = gone
    return found


def _recovered(keys: list[str]) -> dict[str, int]:
    """key → version number, for the keys already recovered."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        found.update(
            db.session.execute(
                sa.select(SaveReceipt.doc_key, SaveReceipt.version_number).where(
                    SaveReceipt.doc_key.in_(keys[start : start + _IN_CHUNK]), SaveReceipt.kind == RECEIPT
                )
            ).all()
        )
    return found


def _files_for_keys(keys: list[str]) -> dict[str, File]:
    """key → File for the keys that belong to a file of ours (current or retired)."""
    found: dict[str, File] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        for key, file in db.session.execute(
            sa.select(DocKey.key, File).join(File, File.id == DocKey.file_id).where(DocKey.key.in_(chunk))
        ):
            found[key] = file
        # A current key is always in doc_key too, but a file whose key predates that table is not.
        for file in db.session.scalars(sa.select(File).where(File.doc_key.in_(chunk))):
            found.setdefault(file.doc_key, file)
    return found


def file_for_key(key: str) -> File | None:
    """The file this key belongs to, or None."""
    return _files_for_keys([key]).get(key)


def _forgotten_url(key: str) -> str:
    """The signed link Docs gives for the key's forgotten file (``getForgotten``).

    :raise RecoveryError: Docs has no forgotten file under this key, or failed.
    """
    if not settings.docs_configured():
        raise RecoveryError(gettext("ONLYOFFICE Docs is not configured, so there are no forgotten files to manage."))
    try:
        answer = client.command("getForgotten", key=key)
    except DocsError as exc:
        # Error 1 means "no such key"; ask for the list rather than parse the message, so an
        # administrator is told "already gone" only when that is true.
        try:
            listed = client.command("getForgottenList").get("keys") or []
        except DocsError:
            listed = [key]
        if key not in listed:
            raise RecoveryError(
                gettext(
                    "Docs keeps no forgotten file under the key %(key)s; it may have been "
                    "recovered or discarded already.",
                    key=key,
                )
            ) from None
        raise RecoveryError(
            gettext("Docs could not hand over the forgotten file: %(message)s.", message=exc.message)
        ) from None
    url = answer.get("url")
    if not isinstance(url, str) or not url:
        raise RecoveryError(gettext("Docs answered without a link to the forgotten file."))
    return url


def _name_in_url(url: str) -> str:
    """The file name a Docs link carries: its ``filename`` parameter, else its last path segment."""
    parts = urlsplit(url)
    names = parse_qs(parts.query).get("filename")
    name = names[0] if names else unquote(parts.path.rsplit("/", 1)[-1])
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _stem_in_url(url: str, ext: str) -> str:
    """The name Docs gives without its extension; '' when it says nothing to a person."""
    name = _name_in_url(url).strip()
    stem = name[: -(len(ext) + 1)].strip() if ext and name.lower().endswith("." + ext) else name
    # Docs names its assembled output "output.<ext>".
    return "" if stem.lower() == "output" else stem


def _ext_in_url(url: str) -> str:
    ext = formats.extension_of(_name_in_url(url))
    return ext if _EXT_PATTERN.match(ext) else ""


def _download(url: str) -> str:
    """Fetch the forgotten file from the configured Docs only; returns a temporary path."""
    try:
        return fetch.download(url, settings.max_file_bytes())
    except (SaveRejectedError, SaveFailedError) as exc:
        raise RecoveryError(
            gettext("The forgotten file could not be fetched from Docs: %(message)s.", message=exc.message)
        ) from None


def _refuse_if_open(key: str) -> None:
    """Refuse while someone edits under this key again.

    Docs reopens a key that has a forgotten file from that file and tries the save again
    when the session closes; recovering meanwhile would rotate the key under the editors.
    Docs 8.2+ lists the editors in the ``info`` answer; without a list (older Docs, or no
    session at all, which Docs answers with error 1) there is nothing to wait for.
    """
    try:
        answer = client.command("info", key=key)
    except DocsError:
        return
    users = answer.get("users")
    if isinstance(users, list) and users:
        raise RecoveryError(
            gettext(
                "Someone has this document open in Docs right now; its changes will be saved "
                "when they close it. Try again later if the file is still listed."
            )
        )


def recover(key: str, actor: User, space: Space | None = None, warnings: list[str] | None = None) -> FileVersion | File:
    """Take a forgotten file back into Coedit; returns the new version, or the new file.

    If the key belongs to a file, the content becomes that file's new head version
    (source ``recovered``) and the key rotates: the session under the old key is over.
    Otherwise (the file was deleted, or the key is not ours) it becomes a new file in
    ``space``; with no space the recovery is refused, and the administrator can download
    the file instead. Only after the commit is the copy removed from Docs
    (``deleteForgotten``); a failure there is logged and appended to ``warnings``, since
    the recovery itself succeeded.

    :raise RecoveryError: with the reason, in plain words (another action moving the file after
        the wait among them); nothing was stored.
    """
    key = _check_key(key)
    url = _forgotten_url(key)
    file = file_for_key(key)
    if file is None and space is None:
        raise _no_file_error()
    url_ext = _ext_in_url(url)
    if file is not None and url_ext and url_ext != file.ext:
        raise RecoveryError(
            gettext(
                "Docs kept a .%(url_ext)s file for %(title)s; it cannot become a version of "
                "a .%(ext)s file. Download it instead.",
                url_ext=url_ext,
                title=file.title,
                ext=file.ext,
            )
        )
    ext = file.ext if file is not None else url_ext
    if not ext:
        raise RecoveryError(
            gettext("The type of the forgotten file cannot be told from its link. Download it instead.")
        )
    _refuse_if_open(key)
    path = _download(url)
    try:
        try:
            files.sound_document(path, ext)
        except validation.InvalidDocument as exc:
            raise RecoveryError(
                gettext("The forgotten file is not a valid .%(ext)s file: %(reason)s", ext=ext, reason=exc.reason)
            ) from None
        if file is not None:
            result: FileVersion | File = _as_version(file, key, path, actor)
        else:
            result = _as_new_file(space, _new_title(url, ext), ext, path, actor, key)
    finally:
        remove_leftovers(path)  # store_version moved it into storage on success
    problem = _delete_quietly(key)
    if problem and warnings is not None:
        warnings.append(problem)
    return result


def _no_file_error() -> RecoveryError:
    return RecoveryError(
        gettext(
            "Coedit has no file with this key: it was deleted, or the key belongs to another program using the "
            "same Document Server. Choose a space to recover it into as a new file, or download it."
        )
    )


def _as_version(file: File, key: str, path: str, actor: User) -> FileVersion:
    # Its transition lock, then its row lock, as a save takes them: no rename, move, trash,
    # deletion, restore or save of the file comes between this read of it and the commit.
    # Taken once the download is in, so a slow Docs holds up no one.
    try:
        files.hold(file, "recover")
    except locks.Busy as busy:
        raise RecoveryError(busy.message) from None
    except NotFoundError:  # deleted while this waited: the page now offers a new file
        db.session.rollback()
        raise _no_file_error() from None
    files.lock(file)
    # A receipt makes recovery happen once: a double click, or two admins at once, queue on the
    # locks and the second finds the first's receipt (the unique key backs this up).
    done = db.session.scalar(
        sa.select(SaveReceipt.version_number).where(
            SaveReceipt.file_id == file.id,
            SaveReceipt.doc_key == key,
            SaveReceipt.kind == RECEIPT,
            SaveReceipt.dedupe == RECEIPT,
        )
    )
    if done is not None:
        db.session.rollback()
        raise RecoveryError(
            gettext(
                "These changes were already recovered as version %(done)s of %(title)s; "
                "discard Docs' copy if it is still listed.",
                done=done,
                title=file.title,
            )
        )
    was_current = file.doc_key == key
    version = files.store_version(file, path, actor, SOURCE)
    db.session.add(
        SaveReceipt(file_id=file.id, doc_key=key, kind=RECEIPT, dedupe=RECEIPT, version_number=version.number)
    )
    if was_current:
        # The failed final save never told us the session closed: nobody edits under this key now.
        file.end_editing()
    record("admin.forgotten_recovered", key, file, actor=actor, details={"version": version.number})
    text = translatable(
        "%(display_name)s recovered unsaved changes to %(title)s as version %(number)s",
        display_name=actor.display_name,
        title=file.title,
        number=version.number,
    )
    transaction.after_commit(lambda: posts.notice(file, text, actor))
    _commit("These changes were recovered at the same moment by someone else.")
    log.info(
        "file %s: forgotten file of key %s recovered as version %s by %s", file.id, key, version.number, actor.username
    )
    return version


def _new_title(url: str, ext: str) -> str:
    """A title for a file recovered without its original: the name Docs gives, marked as recovered."""
    stem = _stem_in_url(url, ext)
    stem = f"{stem} (recovered)" if stem else "Recovered document"
    try:
        return files.titled(stem, ext)
    except BadRequestError:
        return f"Recovered document.{ext}"


def _as_new_file(space: Space, title: str, ext: str, path: str, actor: User, key: str) -> File:
    title = files.unique_title(space, None, title)
    file = File(space_id=space.id, folder_id=None, title=title, ext=ext, owner=actor)
    db.session.add(file)
    db.session.flush()  # the id names the key and the storage prefix
    files.store_version(file, path, actor, SOURCE)
    record("admin.forgotten_recovered", key, file, actor=actor, details={"version": file.version, "new_file": True})
    transaction.after_commit(
        lambda: posts.notice(
            file,
            translatable(
                "%(display_name)s recovered unsaved changes as a new file, %(title)s",
                display_name=actor.display_name,
                title=title,
            ),
            actor,
        )
    )
    _commit()
    log.info("forgotten file recovered as new file %s (%s) in space %s by %s", file.id, title, space.id, actor.username)
    return file


def _commit(on_conflict: str = "") -> None:
    """Commit the recovery now, before Docs' copy is deleted (its blob goes if this fails); a
    unique-key clash of the receipt is reported as on_conflict."""
    try:
        transaction.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if on_conflict:
            raise RecoveryError(on_conflict) from None
        raise


def _delete_quietly(key: str) -> str:
    """deleteForgotten after a recovery; returns a sentence on failure, '' on success."""
    try:
        client.command("deleteForgotten", key=key)
    except DocsError as exc:
        log.warning("forgotten file of key %s recovered but not deleted from Docs: %s", key, exc.message)
        return gettext(
            "The changes were recovered, but Docs did not delete its copy (%(message)s); "
            "discard it from the list once it is no longer needed.",
            message=exc.message,
        )
    return ""


def record(action: str, key: str, file: File | None = None, name: str = "", **fields) -> None:
    """Stage the audit entry of an administrator's action on the forgotten file of key (the file
    it belongs to, when it is ours)."""
    file = file if file is not None else file_for_key(key)
    audit.record(action, file=file, object_type="forgotten_file", object_id=key, object_name=name, **fields)


def discard(key: str) -> None:
    """Delete a forgotten file from Docs without recovering it (``deleteForgotten``).

    :raise RecoveryError: Docs has no such file, or failed.
    """
    key = _check_key(key)
    _command("deleteForgotten", translatable("Docs could not delete the forgotten file: %(message)s."), key=key)
    log.info("forgotten file of key %s discarded", key)


def fetch_copy(key: str) -> tuple[str, str]:
    """Download a forgotten file for an administrator: (temporary path, download name).

    The caller removes the temporary file. The name comes from the file's title when the
    key is ours, else from the name Docs gives.

    :raise RecoveryError: Docs has no such file, failed, or gave a link off the Document Server.
    """
    key = _check_key(key)
    url = _forgotten_url(key)
    path = _download(url)
    file = file_for_key(key)
    ext = file.ext if file is not None else _ext_in_url(url)
    stem = file.stem if file is not None else (_stem_in_url(url, ext) or "forgotten document")
    try:
        name = files.safe_filename(f"{stem} (unsaved changes)" + (f".{ext}" if ext else ""))
    except BadRequestError:
        name = f"forgotten document.{ext}" if ext else "forgotten document"
    return path, name

"""Co-editing sessions keyed by document.key: the session and participant data, the Docs document
cache, and the registry that opens, joins, polls, edits, leaves, drops and reaps editors."""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timezone

from . import documents
from . import formats
from . import office
from .editor_config import normalize_config
from .editor_config import verify_config
from .errors import ERROR_TEXT
from .errors import ControlError
from .errors import EditorError
from .outbound import DownloadError
from .outbound import now_iso

KEY_RE = re.compile(r"^[0-9-.a-zA-Z_=]*$")
MAX_KEY_LENGTH = 128
MAX_USER_ID_LENGTH = 240

WARNING_NOT_ASSEMBLED = "File not assembled: opened from the forgotten file of this key (-201)."


@dataclass
class Participant:
    """One open editor (a browser iframe or a control-API user)."""

    conn: str
    user_id: str
    name: str
    mode: str  # "edit" or "view"
    callback_url: str | None
    browser: bool
    config: dict
    events: list = field(default_factory=list)
    last_seen: float = field(default_factory=time.monotonic)

    def public(self) -> dict:
        """What the session view shows about this participant."""
        return {"id": self.user_id, "name": self.name, "mode": self.mode, "conn": self.conn, "browser": self.browser}


@dataclass
class Session:
    """One co-editing session, i.e. one document.key in the emulated Docs cache."""

    key: str
    file_type: str  # document.fileType: the format of the integrator's file
    document_type: str
    title: str
    content: bytes
    content_type: str = ""  # the format of ``content``: docx/xlsx/pptx for a lossy-edit file
    changed: bool = False  # changed since open: the final save sends status 2
    dirty: bool = False  # changed since the last (force-)save
    from_forgotten: bool = False
    state: str = "open"  # open -> closing (save timer) -> saving -> closed
    participants: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    last_change: Participant | None = None
    last_leaver: Participant | None = None
    last_editor: Participant | None = None
    lastsave: str | None = None
    rev: int = 0
    cancel_close: threading.Event = field(default_factory=threading.Event)
    _lines: tuple | None = None

    def __post_init__(self):
        self.content_type = self.content_type or self.file_type

    def editors(self) -> list[str]:
        """Ids of users connected in edit mode, each once, in join order."""
        ids: list[str] = []
        for p in self.participants.values():
            if p.mode == "edit" and p.user_id not in ids:
                ids.append(p.user_id)
        return ids

    def lines(self) -> list[str]:
        """Plain-text rendering of the current content (cached per revision: editors poll it)."""
        if self._lines and self._lines[0] is self.content:
            return list(self._lines[1])
        if self.content_type not in formats.RENDERED:
            lines = [f"{self.content_type.upper()} document, {len(self.content)} bytes"]
        else:
            try:
                lines = documents.text_lines(self.content, self.content_type)
            except documents.ContentError as exc:
                lines = [f"(unreadable: {exc})"]
        self._lines = (self.content, lines)
        return list(lines)

    def push(self, event: dict, only: Participant | None = None) -> None:
        """Queue an event for the next poll of every editor (or of ``only``); hold the state lock."""
        for p in [only] if only else self.participants.values():
            p.events.append(event)


class DocumentCache:
    """What Docs remembers of a key once its session ended: the unchanged content (reopened without
    downloading document.url), keys already saved (-102) and files that could not be opened (-82)."""

    def __init__(self, lock, saved_key_ttl: float):
        self.lock = lock
        self.saved_key_ttl = saved_key_ttl
        self._content: dict[str, tuple[bytes, str]] = {}  # key -> (content, its file type)
        self._saved: dict[str, float] = {}  # key -> time of the successful status-2 save
        self._broken: dict[str, str] = {}  # key -> why the file could not be opened

    def reopen(self, key: str) -> tuple[bytes, str] | None:
        """The cached content and its type to open ``key`` with (None: download it); EditorError if Docs
        refuses the key."""
        with self.lock:
            saved = self._saved.get(key)
            if saved is not None and time.time() - saved < self.saved_key_ttl:
                raise EditorError(-102, "this key was already saved (status 2); use a new key")
            self._saved.pop(key, None)
            if key in self._broken:
                raise EditorError(-82, self._broken[key])
            return self._content.get(key)

    def keep(self, key: str, content: bytes, content_type: str) -> None:
        """Cache the content (in the form Docs worked on) of a session that ended without changes."""
        with self.lock:
            self._content[key] = (content, content_type)

    def discard(self, key: str) -> None:
        """Drop the cached content (the final save sent a new version)."""
        with self.lock:
            self._content.pop(key, None)

    def mark_saved(self, key: str) -> None:
        """The status-2 callback succeeded: reopening the key is refused for a while."""
        with self.lock:
            self._content.pop(key, None)
            self._saved[key] = time.time()

    def mark_broken(self, key: str, why: str) -> None:
        """The file of ``key`` could not be opened; Docs remembers the failure for the key."""
        with self.lock:
            self._broken[key] = why

    def clear(self) -> None:
        """Forget everything (control API reset)."""
        with self.lock:
            self._content.clear()
            self._saved.clear()
            self._broken.clear()


class SessionRegistry:
    """Open sessions by key and editors by connection id, from opening to the delayed close.

    Thread-safe with the emulator's one state lock; downloads and callbacks run outside it.
    """

    def __init__(self, options, lock, jobs, downloader, cache, forgotten, saver):
        self.options = options
        self.lock = lock
        self.jobs = jobs
        self.downloader = downloader
        self.cache = cache
        self.forgotten = forgotten
        self.saver = saver
        self._sessions: dict[str, Session] = {}  # key -> open or closing session
        self._saving: dict[str, Session] = {}  # key -> session whose final save is under way
        self._conns: dict[str, tuple[Session, Participant]] = {}
        self._ended: dict[str, dict] = {}  # conn -> why the editor ended (poll answer)
        self._key_locks: dict[str, threading.Lock] = {}
        threading.Thread(target=self._reap_idle, name="reaper", daemon=True).start()

    def clear(self) -> None:
        """Forget every session and connection; pending save timers are cancelled (control API reset)."""
        with self.lock:
            for s in list(self._sessions.values()):
                s.cancel_close.set()
            self._sessions.clear()
            self._saving.clear()
            self._conns.clear()
            self._ended.clear()

    def _key_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self._key_locks.setdefault(key, threading.Lock())

    # --- opening -----------------------------------------------------------

    def open_editor(self, page_config, browser: bool = False) -> dict:
        """Everything that happens when an editor opens: checks, verification, download, join.

        Returns a dict with ``error`` (0 or an editor error code) and, on success, the
        connection id, mode, user, title and content lines. ``threads`` holds the
        status-1 callback job (not JSON) so the control API can wait for it.
        """
        config = normalize_config(page_config)  # may raise ConfigAlert
        key = config["document"]["key"]
        result = {"key": key, "error": 0, "warnings": [], "threads": []}
        try:
            config = verify_config(config, self.options)
            key = config["document"]["key"]
            result["key"] = key
            if not isinstance(key, str) or not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
                raise EditorError(
                    -1, "invalid document.key: only 0-9 a-z A-Z - . _ = and at most 128 characters are allowed"
                )
            user = config.get("editorConfig", {}).get("user") or {}
            user_id = str(user.get("id") or "uid-" + secrets.token_hex(4))
            if len(user_id) > MAX_USER_ID_LENGTH:
                raise EditorError(-1, "User id too long")
            session, participant = self._join(config, user_id, user, browser, result)
        except EditorError as exc:
            result.update(error=exc.code, errorDescription=exc.description, detail=str(exc))
            if exc.code == -102:
                result["refresh"] = True
            return result
        result.update(
            conn=participant.conn,
            mode=participant.mode,
            user={"id": participant.user_id, "name": participant.name},
            title=session.title,
            fileType=session.file_type,
            documentType=session.document_type,
            content=session.lines(),
            config=config,
            pollInterval=self.options.poll_interval,
            contentType=session.content_type,
            canAppend=participant.mode == "edit" and session.content_type in formats.RENDERED,
        )
        return result

    def _join(self, config: dict, user_id: str, user: dict, browser: bool, result: dict) -> tuple[Session, Participant]:
        doc, edit_cfg = config["document"], config.get("editorConfig") or {}
        key = doc["key"]
        permissions = doc.get("permissions") or {}
        file_type = doc["fileType"]
        mode = "edit"
        if (
            edit_cfg.get("mode", "edit") == "view"
            or permissions.get("edit") is False
            or file_type not in formats.EDITABLE
        ):
            mode = "view"
        with self._key_lock(key):
            with self.lock:
                session = self._sessions.get(key)
                if session is None:
                    if key in self._saving:
                        raise EditorError(-102, "the document with this key is being saved")
                    cached = self.cache.reopen(key)
                    forgotten = self.forgotten.get(key)
            if session is None:
                from_forgotten = False
                content_type = file_type
                if forgotten:
                    content = self.forgotten.read(forgotten)
                    content_type = forgotten.file_type
                    if file_type not in formats.LOSSY_EDIT:
                        file_type = content_type
                    from_forgotten = True
                    result["warnings"].append(WARNING_NOT_ASSEMBLED)
                elif cached is not None:
                    content, content_type = cached  # Docs serves its cached copy; document.url is not fetched
                else:
                    content = self._download_source(doc["url"], file_type, key)
                if content_type in formats.LOSSY_EDIT:
                    # Also a forgotten file saved in its own format (lossy_save_format "original").
                    content, content_type = self._open_as_ooxml(content, content_type, key, result)
                session = Session(
                    key=key,
                    file_type=file_type,
                    document_type=config["documentType"],
                    title=doc["title"],
                    content=content,
                    content_type=content_type,
                    changed=from_forgotten,
                    dirty=from_forgotten,
                    from_forgotten=from_forgotten,
                )
            with self.lock:
                existing = self._sessions.get(key)
                if existing is not None:
                    session = existing
                else:
                    self._sessions[key] = session
                if session.state == "closing":
                    session.cancel_close.set()  # a reconnect within the save delay keeps the session
                    session.state = "open"
                participant = Participant(
                    conn=secrets.token_urlsafe(16),
                    user_id=user_id,
                    name=str(user.get("name") or "Anonymous"),
                    mode=mode,
                    callback_url=edit_cfg.get("callbackUrl"),
                    browser=browser,
                    config=config,
                )
                session.participants[participant.conn] = participant
                self._conns[participant.conn] = (session, participant)
                if mode == "edit":
                    session.last_editor = participant
                    body = {
                        "key": key,
                        "status": 1,
                        "users": session.editors(),
                        "actions": [{"type": 1, "userid": user_id}],
                    }
                    if participant.callback_url:
                        result["threads"].append(self.saver.send_status(session, participant.callback_url, body))
                    else:
                        result["warnings"].append("editorConfig.callbackUrl is missing: changes cannot be saved")
                session.push({"type": "users"})
        return session, participant

    def _download_source(self, url: str, file_type: str, key: str) -> bytes:
        try:
            content = self.downloader.fetch(url, "open")
        except DownloadError as exc:
            # Docs shows "Download failed" for size problems too when opening.
            raise EditorError(-4, str(exc)) from None
        if not content:
            # Docs substitutes its blank template for a 0-byte source.
            content = documents.blank(file_type) or b""
        if file_type in formats.RENDERED:
            try:
                documents.check_readable(content, file_type)
            except documents.ContentError as exc:
                self.cache.mark_broken(key, str(exc))
                raise EditorError(-82, str(exc)) from None
        return content

    def _open_as_ooxml(self, content: bytes, file_type: str, key: str, result: dict) -> tuple[bytes, str]:
        """A lossy-edit file as Docs opens it: converted to the OOXML type it edits (docx/xlsx/pptx)."""
        target = formats.OOXML_OF[formats.document_type_of(file_type)]
        try:
            if file_type == "txt":
                converted = documents.txt_to_docx(content)
            elif file_type in ("csv", "tsv"):
                converted = documents.csv_to_xlsx(content, "utf-8", "\t" if file_type == "tsv" else ",")
            else:
                soffice = office.soffice_path(self.options.soffice)
                if not soffice:
                    result["warnings"].append(
                        f"LibreOffice is not installed: the {file_type} file is shown as it is and cannot be edited"
                    )
                    return content, file_type
                converted = office.soffice_convert(soffice, content, file_type, target, self.options.convert_timeout)
            documents.check_readable(converted, target)
        except (office.OfficeError, documents.ContentError) as exc:
            self.cache.mark_broken(key, str(exc))
            raise EditorError(-82, f"cannot open the {file_type} file: {exc}") from None
        return converted, target

    # --- participants --------------------------------------------------------

    def participant(self, conn: str) -> tuple[Session, Participant]:
        """Session and participant of a connection; ControlError if it is gone."""
        with self.lock:
            found = self._conns.get(conn)
        if not found:
            raise ControlError("no such editor connection", 404)
        return found

    def find_conn(self, key: str, user_id: str, mode: str | None = None) -> str:
        """The newest connection of ``user_id`` in the session ``key`` (control API)."""
        with self.lock:
            session = self._sessions.get(key)
            if session is None:
                raise ControlError(f"no open session for key {key!r}")
            for p in reversed(list(session.participants.values())):
                if p.user_id == str(user_id) and (mode is None or p.mode == mode):
                    return p.conn
        raise ControlError(f"user {user_id!r} has no editor open in session {key!r}")

    def poll(self, conn: str) -> dict:
        """State for a browser editor; also proves it is still connected."""
        with self.lock:
            found = self._conns.get(conn)
            if not found:
                return {"ended": True, **self._ended.get(conn, {"reason": "gone"})}
            session, p = found
            p.last_seen = time.monotonic()
            events, p.events = p.events, []
            return {
                "ended": False,
                "title": session.title,
                "rev": session.rev,
                "users": [x.public() for x in session.participants.values()],
                "lines": session.lines(),
                "events": events,
                "mode": p.mode,
            }

    def leave(self, conn: str, reason: dict | None = None) -> list:
        """Disconnect an editor: status 1 for editors, and the save timer after the last one."""
        threads = []
        with self.lock:
            found = self._conns.pop(conn, None)
            if not found:
                return threads
            session, p = found
            self._ended[conn] = reason or {"reason": "closed"}
            session.participants.pop(conn, None)
            if p.mode == "edit":
                session.last_leaver = p
                if p.callback_url:
                    body = {
                        "key": session.key,
                        "status": 1,
                        "users": session.editors(),
                        "actions": [{"type": 0, "userid": p.user_id}],
                    }
                    threads.append(self.saver.send_status(session, p.callback_url, body))
                if not session.editors() and session.state == "open" and self._sessions.get(session.key) is session:
                    session.state = "closing"
                    session.cancel_close = threading.Event()
                    self.jobs.start(self._close_after_delay, session, session.cancel_close, name="save-timer")
            elif (
                not session.participants
                and not session.changed
                and session.state == "open"
                and session.last_leaver is None
                and self._sessions.get(session.key) is session
            ):
                # Only viewers ever opened it: nothing to save, the content stays cached.
                self._sessions.pop(session.key, None)
                self.cache.keep(session.key, session.content, session.content_type)
                session.state = "closed"
            session.push({"type": "users"})
        return threads

    def drop(self, session: Session, users=None) -> None:
        """Disconnect the given users (all editors without a list); their editors show -100."""
        with self.lock:
            conns = [
                c
                for c, p in session.participants.items()
                if (p.user_id in [str(u) for u in users] if users is not None else p.mode == "edit")
            ]
        reason = {"reason": "dropped", "code": -100, "description": ERROR_TEXT[-100]}
        for conn in conns:
            self.leave(conn, reason)

    def _reap_idle(self) -> None:
        # Browser editors that stop polling are treated like a dropped websocket.
        while not self.jobs.stopping.wait(0.25):
            limit = time.monotonic() - self.options.idle_timeout
            with self.lock:
                stale = [c for c, (_, p) in self._conns.items() if p.browser and p.last_seen < limit]
            for conn in stale:
                self.leave(conn, {"reason": "disconnected"})

    def _close_after_delay(self, session: Session, cancel: threading.Event) -> None:
        # Docs assembles and saves the file a while after the last editor left; a reconnect cancels it.
        if not self.jobs.sleep(self.options.save_delay, cancel):
            return
        with self.lock:
            if cancel.is_set() or session.state != "closing":
                return
            session.state = "saving"
            self._sessions.pop(session.key, None)
            self._saving[session.key] = session
        try:
            self.saver.final_save(session)
        finally:
            with self.lock:
                self._saving.pop(session.key, None)
                session.state = "closed"

    # --- editing -----------------------------------------------------------

    def append(self, conn: str, text: str) -> Session:
        """The "Append" button: add text to the document as this user."""
        session, p = self.participant(conn)
        if p.mode != "edit":
            raise ControlError("viewers cannot edit", 403)
        if session.content_type not in formats.RENDERED:
            raise ControlError(f"the emulator cannot edit {session.content_type} files", 409)
        with self.lock:
            session.content = documents.append_text(session.content, session.content_type, str(text))
            session.changed = session.dirty = True
            session.last_change = p
            session.lastsave = now_iso()
            session.rev += 1
            session.changes.append(
                {
                    "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                    "user": {"id": p.user_id, "name": p.name},
                    "text": str(text),
                }
            )
            session.push({"type": "content"})
        return session

    def set_meta(self, session: Session, meta: dict) -> None:
        """The meta command: new title pushed to every open editor (onMetaChange)."""
        with self.lock:
            if isinstance(meta.get("title"), str):
                session.title = meta["title"]
            session.push({"type": "meta", "data": meta})

    # --- looking up ----------------------------------------------------------

    def active(self, key) -> Session | None:
        """The open (or closing) session for a key, if any."""
        if not isinstance(key, str):
            return None
        with self.lock:
            return self._sessions.get(key)

    def states(self) -> dict[str, str]:
        """Key -> state of every session that is open, closing or saving."""
        with self.lock:
            return {k: s.state for k, s in {**self._saving, **self._sessions}.items()}

    def view(self, key: str) -> dict:
        """The control API's picture of one session."""
        with self.lock:
            session = self._sessions.get(key) or self._saving.get(key)
            if session is None:
                raise ControlError(f"no session for key {key!r}")
            return {
                "key": key,
                "state": session.state,
                "title": session.title,
                "fileType": session.file_type,
                "contentType": session.content_type,
                "documentType": session.document_type,
                "users": session.editors(),
                "viewers": sorted({p.user_id for p in session.participants.values() if p.mode == "view"}),
                "participants": [p.public() for p in session.participants.values()],
                "content": session.lines(),
                "changed": session.changed,
                "dirty": session.dirty,
                "fromForgotten": session.from_forgotten,
                "rev": session.rev,
                "changes": list(session.changes),
            }

"""The emulated co-editing core: config verification, sessions keyed by document.key, participants,
edits, force-saves, the delayed final save with retries, forgotten files and the Docs document cache."""

from __future__ import annotations

import copy
import logging
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import documents, formats, tokens
from .config import SERVER_VERSION, Options
from .faults import Faults
from .jobs import Jobs
from .outbound import CallbackSender, Downloader, DownloadError, now_iso
from .storage import FileStore

log = logging.getLogger("docs_emulator.sessions")

KEY_RE = re.compile(r"^[0-9-.a-zA-Z_=]*$")
MAX_KEY_LENGTH = 128
MAX_USER_ID_LENGTH = 240

# Editor error codes (sdkjs common/errorCodes.js) and the text the emulator shows for them.
ERROR_TEXT = {
    -1: "An unknown error has occurred.",
    -4: "Download failed.",
    -20: "The document security token is not correctly formed. "
         "Please contact your Document Server administrator.",
    -21: "The document security token has expired. Please contact your Document Server administrator.",
    -23: "Access denied: the document security token does not grant this. "
         "Please contact your Document Server administrator.",
    -82: "An error has occurred while opening the file.",
    -100: "Your editing session was ended by the document owner (the document was dropped).",
    -102: "The file version has been changed. The document must be reopened with a new key.",
}
WARNING_SUBSCRIPTION = "Error on save server subscription! The document could not be saved."
WARNING_NOT_ASSEMBLED = "File not assembled: opened from the forgotten file of this key (-201)."
WARNING_FORCESAVE = "The document could not be saved (force-save callback failed)."


class EditorError(Exception):
    """Opening failed with an editor error code (shown in the iframe and sent to onError)."""

    def __init__(self, code: int, detail: str = ""):
        super().__init__(detail or ERROR_TEXT.get(code, "error"))
        self.code = code
        self.detail = detail

    @property
    def description(self) -> str:
        """Text for onError's errorDescription."""
        return ERROR_TEXT.get(self.code, self.detail or "error")


class ConfigAlert(Exception):
    """A client-side config check failed: api.js would alert() and create no editor."""


class ControlError(Exception):
    """A control-API request refers to something that does not exist or is not allowed."""

    def __init__(self, message: str, http_status: int = 404):
        super().__init__(message)
        self.http_status = http_status


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
        return {"id": self.user_id, "name": self.name, "mode": self.mode, "conn": self.conn,
                "browser": self.browser}


@dataclass
class Session:
    """One co-editing session, i.e. one document.key in the emulated Docs cache."""

    key: str
    file_type: str
    document_type: str
    title: str
    content: bytes
    changed: bool = False              # changed since open: the final save sends status 2
    dirty: bool = False                # changed since the last (force-)save
    from_forgotten: bool = False
    state: str = "open"                # open -> closing (save timer) -> saving -> closed
    participants: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    last_change: Participant | None = None
    last_leaver: Participant | None = None
    last_editor: Participant | None = None
    lastsave: str | None = None
    rev: int = 0
    cancel_close: threading.Event = field(default_factory=threading.Event)
    _lines: tuple | None = None

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
        if self.file_type not in formats.RENDERED:
            lines = [f"{self.file_type.upper()} document, {len(self.content)} bytes"]
        else:
            try:
                lines = documents.text_lines(self.content, self.file_type)
            except documents.ContentError as exc:
                lines = [f"(unreadable: {exc})"]
        self._lines = (self.content, lines)
        return list(lines)


def _strict_equal(a, b) -> bool:
    """Deep equality that, like JavaScript's strict comparison, tells true from 1."""
    if type(a) is not type(b):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and not isinstance(a, bool) and not isinstance(b, bool):
            return a == b
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
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
            raise ConfigAlert('The "documentType" parameter for the config object is invalid. '
                              'Please correct it.')
    if file_type:
        if not isinstance(file_type, str) or not formats.is_known_file_type(file_type.lower()):
            raise ConfigAlert('The "document.fileType" parameter for the config object is invalid. '
                              'Please correct it.')
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
        raise ConfigAlert('The "document.key" parameter for the config object is invalid. '
                          'Please correct it.')
    user = config.setdefault("editorConfig", {}).get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), (int, float)) \
            and not isinstance(user.get("id"), bool):
        user["id"] = str(user["id"])
    if config.get("token") and not doc.get("token"):
        doc["token"] = config["token"]
    return config


class Emulator:
    """All emulator state. Thread-safe: one lock for state, network I/O outside it."""

    def __init__(self, options: Options):
        self.options = options
        self._tmp = None
        if options.storage_dir:
            root = Path(options.storage_dir)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="docs-emulator-")
            root = Path(self._tmp.name)
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.store = FileStore(root, options.base_url(), options.link_expires)
        self.jobs = Jobs()
        self.faults = Faults()
        self.downloader = Downloader(options)
        self.sender = CallbackSender(options, self.jobs, self.faults)
        self.lock = threading.RLock()
        self.sessions: dict[str, Session] = {}
        self.saving: dict[str, Session] = {}
        self.conns: dict[str, tuple[Session, Participant]] = {}
        self.ended: dict[str, dict] = {}          # conn -> why the editor ended (poll answer)
        self.cache: dict[str, bytes] = {}         # key -> content, reused without download
        self.saved_keys: dict[str, float] = {}    # key -> time of the successful status-2 save
        self.broken_keys: dict[str, str] = {}     # key -> why the file could not be opened
        self.forgotten: dict[str, dict] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._reaper = threading.Thread(target=self._reap_idle, name="reaper", daemon=True)
        self._reaper.start()

    # --- lifecycle ---------------------------------------------------------

    def shutdown(self) -> None:
        """Stop background threads (pending retries are abandoned)."""
        self.jobs.stopping.set()

    def reset(self) -> None:
        """Forget every session, file, log and fault (control API)."""
        self.faults.clear()
        with self.lock:
            for s in list(self.sessions.values()):
                s.cancel_close.set()
            self.sessions.clear()
            self.saving.clear()
            self.conns.clear()
            self.ended.clear()
            self.cache.clear()
            self.saved_keys.clear()
            self.broken_keys.clear()
            self.forgotten.clear()
            self.sender.log.clear()
            self.downloader.log.clear()
        self.store.clear()

    def _key_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self._key_locks.setdefault(key, threading.Lock())

    # --- opening -----------------------------------------------------------

    def verify_config(self, config: dict) -> dict:
        """Check the config token as Docs does; return the effective (merged) config.

        Raises EditorError -20 (missing/invalid token or required field missing),
        -21 (expired), -23 (access denied: permissions differ, or not a config token).
        """
        opts = self.options
        if not opts.jwt_enabled:
            return config
        token = config.get("token") or config["document"].get("token")
        try:
            decoded = tokens.verify(token, opts.jwt_secret)
        except tokens.TokenExpired:
            raise EditorError(-21, "config token expired")
        except tokens.TokenInvalid as exc:
            raise EditorError(-20, f"config token invalid: {exc}")
        payload = tokens.strip_claims(decoded)
        if any(k in payload for k in ("url", "payload", "key")):
            raise EditorError(-23, "the token is not a config token (top-level url/payload/key)")
        tdoc = payload.get("document") if isinstance(payload.get("document"), dict) else {}
        tedit = payload.get("editorConfig") if isinstance(payload.get("editorConfig"), dict) else {}
        page_doc, page_edit = config["document"], config.get("editorConfig") or {}
        missing = [name for name, present in (
            ("document.key", "key" in tdoc),
            ("document.url", "url" in tdoc),
            ("editorConfig.callbackUrl", "callbackUrl" not in page_edit or "callbackUrl" in tedit),
            # A page that sets an editing mode must have it signed; no mode at all means
            # the token cannot be overridden on this point either.
            ("editorConfig.mode", page_edit.get("mode") in (None, "view") or "mode" in tedit),
            ("document.permissions", "permissions" not in page_doc or "permissions" in tdoc),
        ) if not present]
        if missing:
            raise EditorError(-20, "required fields missing from the token: " + ", ".join(missing))
        if "permissions" in tdoc and not _strict_equal(tdoc["permissions"], page_doc.get("permissions")):
            raise EditorError(-23, "document.permissions in the token differ from the page config")
        merged = _deep_merge({k: v for k, v in config.items() if k != "token"}, payload)
        merged["document"].pop("token", None)
        return normalize_config(merged)

    def open_editor(self, page_config, events=(), browser: bool = False) -> dict:
        """Everything that happens when an editor opens: checks, verification, download, join.

        Returns a dict with ``error`` (0 or an editor error code) and, on success, the
        connection id, mode, user, title and content lines. ``threads`` holds the
        status-1 callback job (not JSON) so the control API can wait for it.
        """
        config = normalize_config(page_config)  # may raise ConfigAlert
        key = config["document"]["key"]
        result = {"key": key, "error": 0, "warnings": [], "threads": []}
        try:
            config = self.verify_config(config)
            key = config["document"]["key"]
            result["key"] = key
            if not isinstance(key, str) or not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
                raise EditorError(-1, "invalid document.key: only 0-9 a-z A-Z - . _ = and at most "
                                      "128 characters are allowed")
            user = config.get("editorConfig", {}).get("user") or {}
            user_id = str(user.get("id") or "uid-" + secrets.token_hex(4))
            if len(user_id) > MAX_USER_ID_LENGTH:
                raise EditorError(-1, "User id too long")
            participant = self._join(config, user_id, user, browser, result)
        except EditorError as exc:
            result.update(error=exc.code, errorDescription=exc.description, detail=str(exc))
            if exc.code == -102:
                result["refresh"] = True
            return result
        session = self.conns[participant.conn][0]
        result.update(conn=participant.conn, mode=participant.mode,
                      user={"id": participant.user_id, "name": participant.name},
                      title=session.title, fileType=session.file_type,
                      documentType=session.document_type, content=session.lines(),
                      config=config, pollInterval=self.options.poll_interval,
                      canAppend=participant.mode == "edit" and session.file_type in formats.RENDERED)
        return result

    def _join(self, config: dict, user_id: str, user: dict, browser: bool, result: dict) -> Participant:
        doc, edit_cfg = config["document"], config.get("editorConfig") or {}
        key = doc["key"]
        permissions = doc.get("permissions") or {}
        file_type = doc["fileType"]
        mode = "edit"
        if edit_cfg.get("mode", "edit") == "view" or permissions.get("edit") is False \
                or file_type not in formats.EDITABLE:
            mode = "view"
        with self._key_lock(key):
            with self.lock:
                session = self.sessions.get(key)
                if session is None:
                    if key in self.saving:
                        raise EditorError(-102, "the document with this key is being saved")
                    saved = self.saved_keys.get(key)
                    if saved is not None and time.time() - saved < self.options.saved_key_ttl:
                        raise EditorError(-102, "this key was already saved (status 2); use a new key")
                    self.saved_keys.pop(key, None)
                    if key in self.broken_keys:
                        raise EditorError(-82, self.broken_keys[key])
                    forgotten = self.forgotten.get(key)
                    cached = self.cache.get(key)
            if session is None:
                from_forgotten = False
                if forgotten:
                    content = self.store.read(forgotten["file_id"], forgotten["filename"]) or b""
                    file_type = forgotten["file_type"]
                    from_forgotten = True
                    result["warnings"].append(WARNING_NOT_ASSEMBLED)
                elif cached is not None:
                    content = cached  # Docs serves its cached copy; document.url is not fetched
                else:
                    content = self._download_source(doc["url"], file_type, key)
                session = Session(key=key, file_type=file_type, document_type=config["documentType"],
                                  title=doc["title"], content=content, changed=from_forgotten,
                                  dirty=from_forgotten, from_forgotten=from_forgotten)
            with self.lock:
                existing = self.sessions.get(key)
                if existing is not None:
                    session = existing
                else:
                    self.sessions[key] = session
                if session.state == "closing":
                    session.cancel_close.set()  # a reconnect within the save delay keeps the session
                    session.state = "open"
                participant = Participant(conn=secrets.token_urlsafe(16), user_id=user_id,
                                          name=str(user.get("name") or "Anonymous"), mode=mode,
                                          callback_url=edit_cfg.get("callbackUrl"), browser=browser,
                                          config=config)
                session.participants[participant.conn] = participant
                self.conns[participant.conn] = (session, participant)
                if mode == "edit":
                    session.last_editor = participant
                    body = {"key": key, "status": 1, "users": session.editors(),
                            "actions": [{"type": 1, "userid": user_id}]}
                    if participant.callback_url:
                        result["threads"].append(self._send_status(session, participant.callback_url, body))
                    else:
                        result["warnings"].append("editorConfig.callbackUrl is missing: changes cannot be saved")
                self._broadcast_users(session)
        return participant

    def _download_source(self, url: str, file_type: str, key: str) -> bytes:
        try:
            content = self.downloader.fetch(url, "open")
        except DownloadError as exc:
            # Docs shows "Download failed" for size problems too when opening.
            raise EditorError(-4, str(exc))
        if not content:
            # Docs substitutes its blank template for a 0-byte source.
            content = documents.blank(file_type) or b""
        if file_type in formats.RENDERED:
            try:
                documents.check_readable(content, file_type)
            except documents.ContentError as exc:
                with self.lock:
                    self.broken_keys[key] = str(exc)  # Docs caches the failure for the key
                raise EditorError(-82, str(exc))
        return content

    # --- participants --------------------------------------------------------

    def participant(self, conn: str) -> tuple[Session, Participant]:
        """Session and participant of a connection; ControlError if it is gone."""
        with self.lock:
            found = self.conns.get(conn)
        if not found:
            raise ControlError("no such editor connection", 404)
        return found

    def find_conn(self, key: str, user_id: str, mode: str | None = None) -> str:
        """The newest connection of ``user_id`` in the session ``key`` (control API)."""
        with self.lock:
            session = self.sessions.get(key)
            if session is None:
                raise ControlError(f"no open session for key {key!r}")
            for p in reversed(list(session.participants.values())):
                if p.user_id == str(user_id) and (mode is None or p.mode == mode):
                    return p.conn
        raise ControlError(f"user {user_id!r} has no editor open in session {key!r}")

    def _push(self, session: Session, event: dict, only: Participant | None = None) -> None:
        for p in ([only] if only else session.participants.values()):
            p.events.append(event)

    def _broadcast_users(self, session: Session) -> None:
        self._push(session, {"type": "users"})

    def poll(self, conn: str) -> dict:
        """State for a browser editor; also proves it is still connected."""
        with self.lock:
            found = self.conns.get(conn)
            if not found:
                return {"ended": True, **self.ended.get(conn, {"reason": "gone"})}
            session, p = found
            p.last_seen = time.monotonic()
            events, p.events = p.events, []
            return {"ended": False, "title": session.title, "rev": session.rev,
                    "users": [x.public() for x in session.participants.values()],
                    "lines": session.lines(), "events": events, "mode": p.mode}

    def leave(self, conn: str, reason: dict | None = None) -> list:
        """Disconnect an editor: status 1 for editors, and the save timer after the last one."""
        threads = []
        with self.lock:
            found = self.conns.pop(conn, None)
            if not found:
                return threads
            session, p = found
            self.ended[conn] = reason or {"reason": "closed"}
            session.participants.pop(conn, None)
            if p.mode == "edit":
                session.last_leaver = p
                if p.callback_url:
                    body = {"key": session.key, "status": 1, "users": session.editors(),
                            "actions": [{"type": 0, "userid": p.user_id}]}
                    threads.append(self._send_status(session, p.callback_url, body))
                if not session.editors() and session.state == "open" and self.sessions.get(session.key) is session:
                    session.state = "closing"
                    session.cancel_close = threading.Event()
                    self.jobs.start(self._close_after_delay, session, session.cancel_close, name="save-timer")
            elif not session.participants and not session.changed and session.state == "open" \
                    and session.last_leaver is None and self.sessions.get(session.key) is session:
                # Only viewers ever opened it: nothing to save, the content stays cached.
                self.sessions.pop(session.key, None)
                self.cache[session.key] = session.content
                session.state = "closed"
            self._broadcast_users(session)
        return threads

    def _reap_idle(self) -> None:
        # Browser editors that stop polling are treated like a dropped websocket.
        while not self.jobs.stopping.wait(0.25):
            limit = time.monotonic() - self.options.idle_timeout
            with self.lock:
                stale = [c for c, (_, p) in self.conns.items() if p.browser and p.last_seen < limit]
            for conn in stale:
                self.leave(conn, {"reason": "disconnected"})

    # --- editing -----------------------------------------------------------

    def append(self, conn: str, text: str) -> Session:
        """The "Append" button: add text to the document as this user."""
        session, p = self.participant(conn)
        if p.mode != "edit":
            raise ControlError("viewers cannot edit", 403)
        if session.file_type not in formats.RENDERED:
            raise ControlError(f"the emulator cannot edit {session.file_type} files", 409)
        with self.lock:
            session.content = documents.append_text(session.content, session.file_type, str(text))
            session.changed = session.dirty = True
            session.last_change = p
            session.lastsave = now_iso()
            session.rev += 1
            session.changes.append({
                "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                "user": {"id": p.user_id, "name": p.name}, "text": str(text)})
            self._push(session, {"type": "content"})
        return session

    def _store_output(self, session: Session, prefix: str = "data") -> tuple[str, str, str]:
        ext = session.file_type
        filename = f"output.{ext}"
        file_id = self.store.put(session.content, filename, prefix)
        title = session.title if session.title.lower().endswith("." + ext) else f"{session.title}.{ext}"
        return file_id, filename, self.store.url(file_id, filename, title)

    def content_url(self, session: Session) -> str:
        """A signed link to a snapshot of the session's current content."""
        return self._store_output(session)[2]

    def _changes_url(self, session: Session) -> str:
        file_id = self.store.put(documents.changes_zip(session.changes), "changes.zip", "changes")
        return self.store.url(file_id, "changes.zip")

    def forcesave(self, session: Session, by: Participant | None, userdata=None):
        """Status 6: the Save button (``by`` set, forcesavetype 1) or the command (0).

        Returns the callback thread, or None when there is nothing new to save.
        """
        with self.lock:
            if not session.dirty or session.state != "open":
                return None
            author = by or session.last_change or session.last_editor
            target = author.callback_url if author else None
            if not target:
                return None
            session.dirty = False
            body = {"key": session.key, "status": 6, "url": self._store_output(session)[2],
                    "changesurl": self._changes_url(session), "filetype": session.file_type,
                    "forcesavetype": 1 if by else 0,
                    "users": [by.user_id if by else (session.last_change or author).user_id],
                    "lastsave": session.lastsave or now_iso()}
            if by:
                body["actions"] = [{"type": 2, "userid": by.user_id}]
            if userdata is not None:
                body["userdata"] = userdata
            rev = session.rev

        def run():
            if not self.sender.deliver(target, body, retry=False):
                with self.lock:
                    if session.rev == rev:
                        session.dirty = True
                    self._push(session, {"type": "warning", "text": WARNING_FORCESAVE}, only=by)

        return self.jobs.start(run, name="forcesave")

    # --- callbacks -----------------------------------------------------------

    def _send_status(self, session: Session, url: str, body: dict):
        def run():
            if not self.sender.deliver(url, body, retry=False):
                with self.lock:
                    self._push(session, {"type": "warning", "text": WARNING_SUBSCRIPTION})
        return self.jobs.start(run, name=f"status-{body['status']}")

    def _close_after_delay(self, session: Session, cancel: threading.Event) -> None:
        if not self.jobs.sleep(self.options.save_delay, cancel):
            return
        with self.lock:
            if cancel.is_set() or session.state != "closing":
                return
            session.state = "saving"
            self.sessions.pop(session.key, None)
            self.saving[session.key] = session
        try:
            self._final_save(session)
        finally:
            with self.lock:
                self.saving.pop(session.key, None)
                session.state = "closed"

    def _final_save(self, session: Session) -> None:
        key = session.key
        if not session.changed:
            target = session.last_leaver.callback_url if session.last_leaver else None
            with self.lock:
                self.cache[key] = session.content
            if target:
                self.sender.deliver(target, {"key": key, "status": 4}, retry=False)
            return
        author = session.last_change or session.last_leaver
        file_id, filename, url = self._store_output(session)
        body = {"key": key, "status": 2, "url": url, "changesurl": self._changes_url(session),
                "history": {"serverVersion": SERVER_VERSION,
                            "changes": [{"created": c["created"], "user": c["user"]} for c in session.changes]},
                "users": [author.user_id],
                "actions": [{"type": 0, "userid": (session.last_leaver or author).user_id}],
                "filetype": session.file_type, "lastsave": session.lastsave or now_iso(),
                "notmodified": not session.dirty}
        ok = bool(author.callback_url) and self.sender.deliver(author.callback_url, body, retry=True)
        with self.lock:
            self.cache.pop(key, None)
            if ok:
                self.saved_keys[key] = time.time()
                old = self.forgotten.pop(key, None)
                if old:
                    self.store.delete(old["file_id"])
            else:
                # Docs keeps the assembled file as a "forgotten" file for getForgotten.
                old = self.forgotten.get(key)
                if old:
                    self.store.delete(old["file_id"])
                fid = self.store.put(session.content, filename, "forgotten")
                self.forgotten[key] = {"file_id": fid, "filename": filename, "file_type": session.file_type,
                                       "title": session.title, "time": time.time()}
        log.info("final save of %s: %s", key, "delivered" if ok else "forgotten")

    # --- command service helpers ---------------------------------------------

    def active_session(self, key) -> Session | None:
        """The open (or closing) session for a key, if any."""
        if not isinstance(key, str):
            return None
        with self.lock:
            return self.sessions.get(key)

    def info(self, session: Session, userdata=None, callback: str | None = None) -> list[str]:
        """The info command: report editors and send status 1 (or 4) to the callback."""
        with self.lock:
            editors = session.editors()
            ref = session.last_editor or session.last_leaver
            target = callback or (ref.callback_url if ref else None)
            if editors or session.changed:
                body = {"key": session.key, "status": 1, "users": editors}
            else:
                body = {"key": session.key, "status": 4}
            if userdata is not None:
                body["userdata"] = userdata
        if target:
            self.jobs.start(self.sender.deliver, target, body, False, name="info")
        return editors

    def drop(self, session: Session, users=None) -> None:
        """Disconnect the given users (all editors without a list); their editors show -100."""
        with self.lock:
            conns = [c for c, p in session.participants.items()
                     if (p.user_id in [str(u) for u in users] if users is not None else p.mode == "edit")]
        reason = {"reason": "dropped", "code": -100, "description": ERROR_TEXT[-100]}
        for conn in conns:
            self.leave(conn, reason)

    def set_meta(self, session: Session, meta: dict) -> None:
        """The meta command: new title pushed to every open editor (onMetaChange)."""
        with self.lock:
            if isinstance(meta.get("title"), str):
                session.title = meta["title"]
            self._push(session, {"type": "meta", "data": meta})

    def forgotten_url(self, key: str) -> str | None:
        """A fresh signed link to the forgotten file of ``key``."""
        with self.lock:
            entry = self.forgotten.get(key)
        if not entry:
            return None
        title = entry["title"]
        if not title.lower().endswith("." + entry["file_type"]):
            title += "." + entry["file_type"]
        return self.store.url(entry["file_id"], entry["filename"], title)

    def delete_forgotten(self, key: str) -> bool:
        """Remove a forgotten file; False if there was none."""
        with self.lock:
            entry = self.forgotten.pop(key, None)
        if entry:
            self.store.delete(entry["file_id"])
        return entry is not None

    def session_view(self, key: str) -> dict:
        """The control API's picture of one session."""
        with self.lock:
            session = self.sessions.get(key) or self.saving.get(key)
            if session is None:
                raise ControlError(f"no session for key {key!r}")
            return {"key": key, "state": session.state, "title": session.title,
                    "fileType": session.file_type, "documentType": session.document_type,
                    "users": session.editors(),
                    "viewers": sorted({p.user_id for p in session.participants.values() if p.mode == "view"}),
                    "participants": [p.public() for p in session.participants.values()],
                    "content": session.lines(), "changed": session.changed, "dirty": session.dirty,
                    "fromForgotten": session.from_forgotten, "rev": session.rev,
                    "changes": list(session.changes)}

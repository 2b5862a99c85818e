"""What Docs sends to the callbackUrl: status callbacks (1 and 4, the info command), force-saves
(status 6) and the final save (status 2, retried by the callback sender), with the files a save links
to. A final save whose callback fails leaves a forgotten file."""

from __future__ import annotations

import logging

from . import documents
from . import office
from .config import SERVER_VERSION
from .outbound import now_iso
from .sessions import Participant
from .sessions import Session

log = logging.getLogger("docs_emulator.saving")

WARNING_SUBSCRIPTION = "Error on save server subscription! The document could not be saved."
WARNING_FORCESAVE = "The document could not be saved (force-save callback failed)."


class Saver:
    """Builds and sends the callbacks of sessions; network I/O runs in jobs, outside the state lock."""

    def __init__(self, lock, store, jobs, sender, cache, forgotten, options):
        self.options = options
        self.lock = lock
        self.store = store
        self.jobs = jobs
        self.sender = sender
        self.cache = cache
        self.forgotten = forgotten

    # --- status callbacks -------------------------------------------------------

    def send_status(self, session: Session, url: str, body: dict):
        """Send a status callback in the background; if it fails every editor shows a warning."""

        def run():
            if not self.sender.deliver(url, body, retry=False):
                with self.lock:
                    session.push({"type": "warning", "text": WARNING_SUBSCRIPTION})

        return self.jobs.start(run, name=f"status-{body['status']}")

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

    # --- saves ------------------------------------------------------------------

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
            snapshot = self._snapshot(session)
            body = {
                "key": session.key,
                "status": 6,
                "changesurl": self._changes_url(session),
                "forcesavetype": 1 if by else 0,
                "users": [by.user_id if by else (session.last_change or author).user_id],
                "lastsave": session.lastsave or now_iso(),
            }
            if by:
                body["actions"] = [{"type": 2, "userid": by.user_id}]
            if userdata is not None:
                body["userdata"] = userdata
            rev = session.rev

        def run():
            # Stored here, outside the state lock: converting back to the file's own format takes a while.
            _, body["url"], body["filetype"], _ = self._store_output(*snapshot)
            if not self.sender.deliver(target, body, retry=False):
                with self.lock:
                    if session.rev == rev:
                        session.dirty = True
                    session.push({"type": "warning", "text": WARNING_FORCESAVE}, only=by)

        return self.jobs.start(run, name="forcesave")

    def final_save(self, session: Session) -> None:
        """After the last editor left: status 2 with the file (retried), or status 4 when nothing changed.

        The outcome goes to the document cache (saved key, or the unchanged content to reuse) and,
        when the status-2 callback fails, to the forgotten files.
        """
        key = session.key
        if not session.changed:
            target = session.last_leaver.callback_url if session.last_leaver else None
            self.cache.keep(key, session.content, session.content_type)
            if target:
                self.sender.deliver(target, {"key": key, "status": 4}, retry=False)
            return
        author = session.last_change or session.last_leaver
        filename, url, filetype, data = self._store_output(*self._snapshot(session))
        body = {
            "key": key,
            "status": 2,
            "url": url,
            "changesurl": self._changes_url(session),
            "history": {
                "serverVersion": SERVER_VERSION,
                "changes": [{"created": c["created"], "user": c["user"]} for c in session.changes],
            },
            "users": [author.user_id],
            "actions": [{"type": 0, "userid": (session.last_leaver or author).user_id}],
            "filetype": filetype,
            "lastsave": session.lastsave or now_iso(),
            "notmodified": not session.dirty,
        }
        ok = bool(author.callback_url) and self.sender.deliver(author.callback_url, body, retry=True)
        with self.lock:
            if ok:
                self.cache.mark_saved(key)
                self.forgotten.delete(key)
            else:
                self.cache.discard(key)
                self.forgotten.keep(key, data, filename, filetype, session.title)
        log.info("final save of %s: %s", key, "delivered" if ok else "forgotten")

    # --- files a save links to ----------------------------------------------------

    def content_url(self, session: Session) -> tuple[str, str]:
        """A signed link to a snapshot of the session's current content, and its file type."""
        _, url, ext, _ = self._store_output(*self._snapshot(session))
        return url, ext

    def _snapshot(self, session: Session) -> tuple[bytes, str, str, str]:
        with self.lock:
            return session.content, session.content_type, session.file_type, session.title

    def _store_output(
        self, content: bytes, content_type: str, file_type: str, title: str
    ) -> tuple[str, str, str, bytes]:
        """Store the file a save delivers; return its filename, a signed link named after the title
        (with the delivered extension), its file type and bytes."""
        content, ext = self._deliverable(content, content_type, file_type)
        filename = f"output.{ext}"
        file_id = self.store.put(content, filename, "data")
        stem = title[: -len(file_type) - 1] if title.lower().endswith("." + file_type) else title
        return filename, self.store.url(file_id, filename, f"{stem}.{ext}"), ext, content

    def _deliverable(self, content: bytes, content_type: str, file_type: str) -> tuple[bytes, str]:
        """What a save of a lossy-edit file delivers: Docs' OOXML (its filetype says so), or with
        lossy_save_format "original" the file converted back to its own format."""
        if content_type == file_type or self.options.lossy_save_format != "original":
            return content, content_type
        try:
            if (content_type, file_type) == ("docx", "txt"):
                return documents.docx_to_txt(content), file_type
            if content_type == "xlsx" and file_type in ("csv", "tsv"):
                return documents.xlsx_to_csv(content, "\t" if file_type == "tsv" else ","), file_type
            soffice = office.soffice_path(self.options.soffice)
            if soffice:
                timeout = self.options.convert_timeout
                return office.soffice_convert(soffice, content, content_type, file_type, timeout), file_type
            log.warning("no LibreOffice: the save of a %s file delivers %s", file_type, content_type)
        except Exception:  # the save still happens, in the format Docs edited
            log.exception("converting the save back to %s failed; delivering %s", file_type, content_type)
        return content, content_type

    def _changes_url(self, session: Session) -> str:
        file_id = self.store.put(documents.changes_zip(session.changes), "changes.zip", "changes")
        return self.store.url(file_id, "changes.zip")

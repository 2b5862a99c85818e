"""Forgotten files: when the final save's callback fails, Docs keeps the assembled file under its key.
The command service lists, links and deletes them (getForgottenList, getForgotten, deleteForgotten),
and reopening the key starts from that file instead of document.url."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ForgottenFile:
    """The stored file of one key and what its link is named after."""

    file_id: str
    filename: str
    file_type: str
    title: str


class ForgottenFiles:
    """Forgotten files by key, in the file store; guarded by the emulator's state lock."""

    def __init__(self, store, lock):
        self.store = store
        self.lock = lock
        self._files: dict[str, ForgottenFile] = {}

    def keep(self, key: str, content: bytes, filename: str, file_type: str, title: str) -> None:
        """Keep ``content`` as the forgotten file of ``key``, replacing an older one."""
        with self.lock:
            self.delete(key)
            file_id = self.store.put(content, filename, "forgotten")
            self._files[key] = ForgottenFile(file_id, filename, file_type, title)

    def get(self, key: str) -> ForgottenFile | None:
        """The forgotten file of ``key``, if any."""
        with self.lock:
            return self._files.get(key)

    def read(self, entry: ForgottenFile) -> bytes:
        """Content of a forgotten file (empty if the stored file is gone)."""
        return self.store.read(entry.file_id, entry.filename) or b""

    def keys(self) -> list[str]:
        """Keys with a forgotten file, sorted."""
        with self.lock:
            return sorted(self._files)

    def url(self, key: str) -> str | None:
        """A fresh signed link to the forgotten file of ``key``."""
        entry = self.get(key)
        if not entry:
            return None
        title = entry.title
        if not title.lower().endswith("." + entry.file_type):
            title += "." + entry.file_type
        return self.store.url(entry.file_id, entry.filename, title)

    def delete(self, key: str) -> bool:
        """Remove the forgotten file of ``key``; False if there was none."""
        with self.lock:
            entry = self._files.pop(key, None)
        if entry:
            self.store.delete(entry.file_id)
        return entry is not None

    def clear(self) -> None:
        """Forget every entry (the files go with the store's own reset)."""
        with self.lock:
            self._files.clear()

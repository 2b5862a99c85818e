"""The storage interface: immutable blobs under generated keys.

Blobs are never overwritten: every version gets a new key, so a save that fails
half-way cannot tear a file someone else is reading.
"""

import contextlib
import errno
import os
import socket
import tempfile
import time
import uuid
from typing import BinaryIO

from app.services.exceptions import StorageError

_HOST = socket.gethostname().replace("-", "_")[:40]


def _orphaned(name: str) -> bool:
    """A temporary file written by a process of this host that no longer runs."""
    parts = name.split("-")
    if len(parts) < 4 or parts[0] != "part" or parts[1] != _HOST or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


WRITE_FAILURES = {
    errno.ENOSPC: "the storage is full",
    errno.EDQUOT: "the storage quota is used up",
    errno.EROFS: "the storage is read-only",
    errno.EACCES: "the storage is not writable",
    errno.EPERM: "the storage is not writable",
}


@contextlib.contextmanager
def writing():
    """Turn a failed write (full, read-only, no permission) into a StorageError saying so."""
    try:
        yield
    except OSError as exc:
        raise StorageError(WRITE_FAILURES.get(exc.errno, "the storage could not be written")) from exc


class Storage:
    """Subclasses keep blobs somewhere; temporary files always live on local disk."""

    def __init__(self, temp_dir: str):
        self.temp_dir = temp_dir
        os.makedirs(temp_dir, exist_ok=True)

    @staticmethod
    def new_key(prefix: str) -> str:
        return f"{prefix}/{uuid.uuid4().hex}"

    def temp_file(self) -> tuple[BinaryIO, str]:
        """An open temporary file (binary, write) and its path, on the storage volume.

        The name carries this host and process, so a restart can tell a crashed
        process's leftovers from files another live worker is still writing.
        """
        prefix = f"part-{_HOST}-{os.getpid()}-"
        with writing():
            fd, path = tempfile.mkstemp(prefix=prefix, dir=self.temp_dir)
        return os.fdopen(fd, "wb"), path

    def sweep_temp(self, max_age: float) -> int:
        """Remove temporary files of dead processes on this host, and any older than max_age seconds."""
        removed = 0
        cutoff = time.time() - max_age
        for entry in os.scandir(self.temp_dir):
            try:
                if entry.is_file() and (_orphaned(entry.name) or entry.stat().st_mtime < cutoff):
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def writable(self) -> bool:
        """Whether saves can be written now (temporary files first of all)."""
        return os.path.isdir(self.temp_dir) and os.access(self.temp_dir, os.W_OK)

    # -- what a backend provides ---------------------------------------------------
    def put_file(self, path: str, prefix: str) -> str:
        """Take the finished temporary file at path into storage; returns its key."""
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def local_path(self, key: str) -> str | None:
        """A path for zero-copy sending, when the backend has one."""
        return None

    def put_bytes(self, data: bytes, prefix: str) -> str:
        handle, path = self.temp_file()
        try:
            with handle:
                handle.write(data)
            return self.put_file(path, prefix)
        finally:
            if os.path.exists(path):
                os.unlink(path)

"""The storage interface: immutable blobs under generated keys.

Blobs are never overwritten: every version gets a new key, so a save that fails
half-way cannot tear a file someone else is reading.
"""

import contextlib
import errno
import io
import os
import socket
import tempfile
import time
import uuid
from datetime import datetime
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


def check_key(key: str) -> str:
    """Keys are made by us (prefix/uuid), but check anyway: no key names anything outside the storage."""
    parts = key.split("/")
    if not key or "\x00" in key or "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise StorageError("invalid storage key")
    return key


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
        """Whether saves can be written now: temporary files first of all, then the blobs' place."""
        return os.path.isdir(self.temp_dir) and os.access(self.temp_dir, os.W_OK) and self.reachable()

    def reachable(self) -> bool:
        """Whether the place the blobs are kept answers (remote backends ask it)."""
        return True

    # -- what a backend provides ---------------------------------------------------
    def put_file(self, path: str, prefix: str) -> str:
        """Take the finished temporary file at path into storage; returns its key."""
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the blob, read in bounded pieces (never whole).

        :raise StorageError: the blob is missing or the storage cannot be reached.
        """
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def local_path(self, key: str) -> str | None:
        """A path for zero-copy sending, when the backend has one."""
        return None

    def abort_stale_uploads(self, started_before: datetime) -> int:
        """Abort the unfinished uploads begun before then (their parts are kept, and billed, until
        aborted); returns how many. Only object storage has such uploads: elsewhere nothing to do."""
        return 0

    def put_bytes(self, data: bytes, prefix: str) -> str:
        handle, path = self.temp_file()
        try:
            with handle:
                handle.write(data)
            return self.put_file(path, prefix)
        finally:
            if os.path.exists(path):
                os.unlink(path)


class RemoteReader(io.RawIOBase):
    """A read-only, seekable stream over a remote blob of known size.

    Reads come from a source opened at the current offset; seeking drops the source and the
    next read opens a new one there (an HTTP Range request, an SFTP handle), so a Range request
    of a client costs one remote request, not a read of everything before it.
    """

    def __init__(self, size: int, source=None):
        super().__init__()
        self.size = size
        self._position = 0
        self._source = source

    # -- what a backend provides ---------------------------------------------------
    def _open_at(self, offset: int):
        """A source positioned at offset (closed with close())."""
        raise NotImplementedError

    def _read_from(self, source, limit: int) -> bytes:
        return source.read(limit)

    # -- io.RawIOBase ----------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._position + offset, io.SEEK_END: self.size + offset}[whence]
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_source()
            self._position = target
        return self._position

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("read of a closed blob")
        wanted = min(len(buffer), self.size - self._position)
        if wanted <= 0:
            return 0
        if self._source is None:
            self._source = self._open_at(self._position)
        data = self._read_from(self._source, wanted)
        if not data:
            raise StorageError("the storage ended the blob early")
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._drop_source()
        super().close()

    def _drop_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            with contextlib.suppress(Exception):
                source.close()

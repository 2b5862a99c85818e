"""Blobs in a folder on an SSH server, over SFTP (paramiko).

A blob is written under its final, unique name with O_EXCL (SSH_FXF_EXCL), so nothing is ever
overwritten; the writes are pipelined, flushed with the fsync@openssh.com extension before the
database commit names the blob, and its size is checked. A failed upload removes what it wrote.
The server's host key must be known (known_hosts): an unknown or changed key is refused, never
learnt. Connections are pooled per process, one per concurrent operation.
"""

import contextlib
import errno
import logging
import os
import posixpath
import socket
import threading
from urllib.parse import unquote
from urllib.parse import urlsplit

import paramiko
from paramiko.sftp import CMD_EXTENDED

from app.services.exceptions import StorageError
from app.services.storage.base import WRITE_FAILURES
from app.services.storage.base import RemoteReader
from app.services.storage.base import Storage
from app.services.storage.base import check_key

log = logging.getLogger("coedit.storage")

CHUNK = 1024 * 1024
# Reads ask for this much ahead (paramiko's prefetch, in 32 kB requests) and no more, so a slow
# client downloading a large file never makes us hold more than one window of it.
READ_AHEAD = 4 * 1024 * 1024
IDLE_CONNECTIONS = 4
# What a broken or refused connection raises; SFTP's own answers come as OSError with or without errno.
UNREACHABLE = (
    paramiko.SSHException,
    paramiko.ssh_exception.NoValidConnectionsError,
    EOFError,
    ConnectionError,
    socket.timeout,
    socket.gaierror,
)
FAILURES = (OSError, paramiko.SSHException, EOFError)


def parse_url(url: str) -> dict:
    """sftp://user[:password]@host[:port]/path -> connection arguments and the folder."""
    parts = urlsplit(url)
    if parts.scheme != "sftp" or not parts.hostname or not parts.username or not parts.path.strip("/"):
        raise ValueError("STORAGE_URL must look like sftp://user@host:port/path")
    return {
        "host": parts.hostname,
        "port": parts.port or 22,
        "username": unquote(parts.username),
        "password": unquote(parts.password) if parts.password else None,
        "root": unquote(parts.path).rstrip("/") or "/",
    }


def storage_error(exc: Exception, doing: str) -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, FileNotFoundError) and doing == "read":
        return StorageError("blob missing")
    if isinstance(exc, paramiko.BadHostKeyException | paramiko.AuthenticationException):
        return StorageError(f"the storage server refused us ({exc.__class__.__name__})")
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return StorageError("the storage server's host key is not in known_hosts")
    if isinstance(exc, UNREACHABLE):
        return StorageError("the storage could not be reached")
    if isinstance(exc, OSError) and doing == "written" and exc.errno in WRITE_FAILURES:
        return StorageError(WRITE_FAILURES[exc.errno])
    return StorageError(f"the storage could not be {doing}")


class _Connection:
    def __init__(self, ssh: paramiko.SSHClient, sftp: paramiko.SFTPClient):
        self.ssh = ssh
        self.sftp = sftp

    def alive(self) -> bool:
        transport = self.ssh.get_transport()
        return transport is not None and transport.is_active()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()
        with contextlib.suppress(Exception):
            self.ssh.close()


class SFTPReader(RemoteReader):
    def __init__(self, storage: "SFTPStorage", connection: _Connection, path: str, handle):
        super().__init__(handle.stat().st_size, handle)
        self._storage = storage
        self._connection = connection
        self._path = path
        self._fetched_to = 0  # where the requests asked for so far end

    def _open_at(self, offset: int):
        try:
            handle = self._connection.sftp.open(self._path, "rb")
            handle.seek(offset)
        except FAILURES as exc:
            raise storage_error(exc, "read") from exc
        self._fetched_to = offset
        return handle

    def _read_from(self, handle, limit: int) -> bytes:
        try:
            if self._position >= self._fetched_to:
                # The previous window is read: ask for the next one (all its requests in flight at once).
                self._fetched_to = min(self.size, self._position + READ_AHEAD)
                handle.prefetch(self._fetched_to)
            # paramiko hands prefetched data out in the 32 kB pieces it asked for; larger reads copy more.
            return handle.read(min(limit, 32 * 1024, self._fetched_to - self._position))
        except FAILURES as exc:
            raise storage_error(exc, "read") from exc

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._storage._release(self._connection)


class SFTPStorage(Storage):
    def __init__(self, url: str, temp_dir: str, key_file: str | None = None, known_hosts: str | None = None):
        super().__init__(temp_dir)
        settings = parse_url(url)
        self.root = settings.pop("root")
        self._connect_args = settings
        self.key_file = key_file or None
        self.known_hosts = known_hosts or None
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._pool_pid = os.getpid()
        self._fsync_missing_logged = False

    # -- connections -----------------------------------------------------------------
    def _connect(self) -> _Connection:
        ssh = paramiko.SSHClient()
        if self.known_hosts:
            ssh.load_host_keys(self.known_hosts)
        else:
            ssh.load_system_host_keys()
        ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
        args = self._connect_args
        ssh.connect(
            args["host"],
            port=args["port"],
            username=args["username"],
            password=args["password"],
            key_filename=self.key_file,
            look_for_keys=self.key_file is None,
            allow_agent=self.key_file is None,
            timeout=10,
            banner_timeout=10,
            auth_timeout=10,
        )
        sftp = ssh.open_sftp()
        sftp.get_channel().settimeout(60)
        return _Connection(ssh, sftp)

    def _acquire(self) -> _Connection:
        with self._lock:
            if self._pool_pid != os.getpid():
                self._idle = []  # a forked worker: the parent's connections are not ours to use
                self._pool_pid = os.getpid()
            while self._idle:
                connection = self._idle.pop()
                if connection.alive():
                    return connection
                connection.close()
        return self._connect()

    def _release(self, connection: _Connection) -> None:
        with self._lock:
            if connection.alive() and len(self._idle) < IDLE_CONNECTIONS and self._pool_pid == os.getpid():
                self._idle.append(connection)
                return
        connection.close()

    @contextlib.contextmanager
    def _sftp(self, doing: str):
        """An SFTP client for one operation; failures come out as StorageError in plain words."""
        try:
            connection = self._acquire()
        except FAILURES as exc:
            log.warning("storage server %s does not answer: %s", self._connect_args["host"], exc)
            raise storage_error(exc, doing) from exc
        try:
            yield connection.sftp
        except FAILURES as exc:
            raise storage_error(exc, doing) from exc
        finally:
            self._release(connection)

    def _path(self, key: str) -> str:
        return posixpath.join(self.root, check_key(key))

    # -- the interface ---------------------------------------------------------------
    def put_file(self, path: str, prefix: str) -> str:
        key = self.new_key(prefix)
        target = self._path(key)
        expected = os.path.getsize(path)
        with self._sftp("written") as sftp:
            try:
                with open(path, "rb") as source, self._create(sftp, target) as remote:
                    remote.set_pipelined(True)  # the window of the SSH channel bounds what is in flight
                    while chunk := source.read(CHUNK):
                        remote.write(chunk)
                    self._fsync(sftp, remote)
                if sftp.stat(target).st_size != expected:
                    raise StorageError("the storage did not keep the whole file")
            except BaseException:
                with contextlib.suppress(Exception):
                    sftp.remove(target)
                raise
        os.unlink(path)  # the blob took its place
        return key

    def _create(self, sftp: paramiko.SFTPClient, target: str):
        """Open a new remote file for writing; never an existing one (SSH_FXF_EXCL)."""
        try:
            return sftp.open(target, "wbx")
        except FileNotFoundError:
            self._make_folders(sftp, posixpath.dirname(target))
            return sftp.open(target, "wbx")

    def _make_folders(self, sftp: paramiko.SFTPClient, folder: str) -> None:
        missing = []
        while folder not in ("", "/"):
            try:
                sftp.stat(folder)
                break
            except FileNotFoundError:
                missing.append(folder)
                folder = posixpath.dirname(folder)
        for path in reversed(missing):
            try:
                sftp.mkdir(path)
            except OSError:
                sftp.stat(path)  # made meanwhile by another upload is fine; anything else is not

    def _fsync(self, sftp: paramiko.SFTPClient, remote) -> None:
        """Ask the server to flush the file to its disk (OpenSSH's fsync@openssh.com extension)."""
        try:
            sftp._request(CMD_EXTENDED, "fsync@openssh.com", remote.handle)
        except OSError as exc:
            if exc.errno not in (None, errno.EOPNOTSUPP, errno.ENOSYS) and "unsupported" not in str(exc).lower():
                raise
            if not self._fsync_missing_logged:
                self._fsync_missing_logged = True
                log.warning("the SFTP server cannot fsync; a crash of that server may lose a just-stored version")

    def open(self, key: str) -> SFTPReader:
        path = self._path(key)
        try:
            connection = self._acquire()  # the stream holds a connection of its own until closed
        except FAILURES as exc:
            raise storage_error(exc, "read") from exc
        try:
            return SFTPReader(self, connection, path, connection.sftp.open(path, "rb"))
        except FAILURES as exc:
            self._release(connection)
            raise storage_error(exc, "read") from exc

    def size(self, key: str) -> int:
        with self._sftp("read") as sftp:
            return sftp.stat(self._path(key)).st_size

    def delete(self, key: str) -> None:
        with self._sftp("changed") as sftp:
            try:
                sftp.remove(self._path(key))
            except FileNotFoundError:
                pass

    def reachable(self) -> bool:
        try:
            with self._sftp("reached") as sftp:
                self._make_folders(sftp, self.root)  # a new deployment's folder may not be there yet
            return True
        except StorageError:
            return False

"""Files the emulator produces (edited documents, change archives, conversion results, forgotten files)
and the signed, expiring /cache/files links that serve them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlencode

from werkzeug.security import safe_join


class FileStore:
    """A directory of produced files, addressed as ``<id>/<filename>``."""

    def __init__(self, root: str | Path, base_url: str, link_expires: int):
        self.root = Path(root)
        self.files_dir = self.root / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url.rstrip("/")
        self.link_expires = link_expires
        # A key of our own: links are signed by the "server", never by a shared secret.
        self._key = secrets.token_bytes(32)

    def put(self, data: bytes, filename: str, prefix: str = "data") -> str:
        """Store bytes under a fresh id; return the id."""
        file_id = f"{prefix}-{secrets.token_hex(8)}"
        folder = self.files_dir / file_id
        folder.mkdir(parents=True)
        (folder / filename).write_bytes(data)
        return file_id

    def path(self, file_id: str, filename: str) -> Path | None:
        """Location on disk of a stored file, or None (also for unsafe names)."""
        joined = safe_join(str(self.files_dir), file_id, filename)
        if joined is None or not os.path.isfile(joined):
            return None
        return Path(joined)

    def read(self, file_id: str, filename: str) -> bytes | None:
        """Bytes of a stored file or None."""
        p = self.path(file_id, filename)
        return p.read_bytes() if p else None

    def delete(self, file_id: str) -> None:
        """Remove a stored file and its folder."""
        joined = safe_join(str(self.files_dir), file_id)
        if joined:
            shutil.rmtree(joined, ignore_errors=True)

    def clear(self) -> None:
        """Forget every produced file (control API reset)."""
        shutil.rmtree(self.files_dir, ignore_errors=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def _signature(self, file_id: str, filename: str, expires: int, download_name: str) -> str:
        msg = f"{file_id}/{filename}\n{expires}\n{download_name}".encode()
        digest = hmac.new(self._key, msg, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def url(self, file_id: str, filename: str, download_name: str | None = None) -> str:
        """A signed link valid for ``link_expires`` seconds from now."""
        download_name = download_name or filename
        expires = int(time.time()) + int(self.link_expires)
        query = urlencode(
            {
                "md5": self._signature(file_id, filename, expires, download_name),
                "expires": expires,
                "filename": download_name,
            }
        )
        return f"{self.base_url}/cache/files/{quote(file_id)}/{quote(filename)}?{query}"

    def check(self, file_id: str, filename: str, args) -> int:
        """HTTP status for a link: 200 ok, 403 bad/missing signature, 410 expired."""
        sig, expires, name = args.get("md5"), args.get("expires"), args.get("filename", filename)
        if not sig or not expires or not expires.isdigit():
            return 403
        expected = self._signature(file_id, filename, int(expires), name)
        if not hmac.compare_digest(sig, expected):
            return 403
        if int(expires) < time.time():
            return 410
        return 200

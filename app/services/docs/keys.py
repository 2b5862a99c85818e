"""Document keys: one per file version and session, never reused.

A key is a SHA-256 over the installation id, the file id (with a random per-file salt,
as ids can be reused), the stored version and a per-file serial that grows with every
rotation, so it is the same for every worker and after restarts, unique across
installations sharing one Docs, and a
retired key never comes back.
"""

import base64
import hashlib

from app.extensions import db
from app.models import DocKey
from app.models import File
from app.services import settings


def make_key(installation: str, file_id: int, salt: str, version: int, serial: int) -> str:
    digest = hashlib.sha256(f"{installation}:{file_id}:{salt}:{version}:{serial}".encode()).digest()
    # urlsafe base64 uses only 0-9 A-Z a-z - _, all within the Docs key charset.
    return f"{file_id}-{version}-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def rotate(file: File) -> str:
    """Give the file a fresh key (stored content changed); the caller commits."""
    file.key_serial += 1
    file.doc_key = make_key(settings.installation_id(), file.id, file.key_salt, file.version, file.key_serial)
    db.session.add(DocKey(key=file.doc_key, file_id=file.id, version_number=file.version))
    return file.doc_key


def belongs_to(file: File, key: str) -> bool:
    """Whether the file has ever had this key (current or retired)."""
    if key == file.doc_key:
        return True
    row = db.session.get(DocKey, key)
    return row is not None and row.file_id == file.id

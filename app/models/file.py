"""Folders, files, their versions and rights, and the receipts that make saves idempotent."""

import json
import secrets
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow
from app.models.space import Space
from app.models.user import User

# Rights a person can hold on a file, weakest first.
LEVELS = ("none", "read", "fill", "comment", "review", "edit")


def editors_of(editors_json: str | None) -> list[str]:
    """The Docs user ids in a session, from the stored column (a row of it will do)."""
    return json.loads(editors_json or "[]")


class Folder(Base):
    __tablename__ = "folder"
    __table_args__ = (
        # A folder's subfolders (the space page), and the space's trash.
        sa.Index("ix_folder_space_parent", "space_id", "parent_id"),
        sa.Index("ix_folder_space_trashed", "space_id", "trashed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    parent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("folder.id", ondelete="CASCADE"))
    name: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # In the trash since (None: not); trashed_with names the trashed folder it went with.
    # Plain ids, no foreign keys: the person may be gone and the folder purged meanwhile.
    trashed_at: so.Mapped[Optional[datetime]] = so.mapped_column(index=True)
    trashed_by: so.Mapped[Optional[int]]
    trashed_with: so.Mapped[Optional[int]]

    space: so.Mapped[Space] = so.relationship()
    parent: so.Mapped[Optional["Folder"]] = so.relationship(remote_side=[id])


class File(Base):
    __tablename__ = "file"
    __table_args__ = (
        # A folder's files (the space page, the API's file list), the space's trash, and the
        # files that went to the trash with a folder.
        sa.Index("ix_file_space_folder", "space_id", "folder_id"),
        sa.Index("ix_file_space_trashed", "space_id", "trashed_at"),
        sa.Index("ix_file_trashed_with", "trashed_with"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    folder_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("folder.id", ondelete="CASCADE"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(255))  # name shown, with extension
    ext: so.Mapped[str] = so.mapped_column(sa.String(16))
    owner_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    # Number of the head version (what the file "is" now).
    version: so.Mapped[int] = so.mapped_column(default=0)
    # The one current document key, shared by everyone who opens the file.
    doc_key: so.Mapped[str] = so.mapped_column(sa.String(128), default="", index=True)
    key_serial: so.Mapped[int] = so.mapped_column(default=0)
    # Random per file: SQLite may hand a deleted file's id to a new one, and neither its keys
    # nor the links we gave Docs for the old file may then work for the new file.
    key_salt: so.Mapped[str] = so.mapped_column(sa.String(32), default=lambda: secrets.token_hex(8), server_default="")
    # On SQLite, bumped as the first statement of a save transaction: it takes the write lock.
    save_seq: so.Mapped[int] = so.mapped_column(default=0)

    # Who Docs says is editing (status 1); cleared on status 2/4.
    editors_json: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    editing_since: so.Mapped[Optional[datetime]]

    # Rights of space members without an override, and whether readers may download.
    default_level: so.Mapped[str] = so.mapped_column(sa.String(16), default="read")
    allow_download: so.Mapped[bool] = so.mapped_column(default=True)

    # In the trash since (None: not): invisible everywhere until restored or purged.
    trashed_at: so.Mapped[Optional[datetime]] = so.mapped_column(index=True)
    trashed_by: so.Mapped[Optional[int]]
    trashed_with: so.Mapped[Optional[int]]  # the trashed folder it went with, if any

    space: so.Mapped[Space] = so.relationship()
    folder: so.Mapped[Optional[Folder]] = so.relationship()
    owner: so.Mapped[Optional[User]] = so.relationship()

    @property
    def editors(self) -> list[str]:
        return editors_of(self.editors_json)

    @editors.setter
    def editors(self, value: list[str]) -> None:
        self.editors_json = json.dumps(list(value))

    @property
    def stem(self) -> str:
        return self.title[: -(len(self.ext) + 1)] if self.title.endswith("." + self.ext) else self.title

    def versions_select(self) -> sa.Select:
        """A SELECT of this file's versions; callers add their order and filters."""
        return sa.select(FileVersion).where(FileVersion.file_id == self.id)

    def end_editing(self) -> None:
        """Nobody is in the editor any more (the session closed or its final save arrived)."""
        self.editors = []
        self.editing_since = None


class FileVersion(Base):
    __tablename__ = "file_version"
    __table_args__ = (sa.UniqueConstraint("file_id", "number", name="uq_file_version_file_number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int]
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    author_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # A version Docs saved for a guest of a share link: the name the guest gave (guests have no user row).
    guest_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # create | upload | save | forcesave | restore
    source: so.Mapped[str] = so.mapped_column(sa.String(16))
    # The document key this content was edited under (history needs it).
    doc_key: so.Mapped[str] = so.mapped_column(sa.String(128), default="")
    # Saves from Docs: the callback's history object and the stored changes zip (version history).
    history_json: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    changes_storage_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    # A save from an outdated session, kept beside the head rather than over it.
    is_conflict: so.Mapped[bool] = so.mapped_column(default=False)
    # The first page as a PNG, made by Docs' conversion service after the version was stored
    # (None until then, or when Docs could not make one: the type's icon is shown instead).
    thumbnail_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    # Saves from Docs: everyone whose changes the save holds, as Docs names them (the callback's
    # ``users``: member ids, guest ids), the author first; a JSON list, None for other versions.
    coauthors_json: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Restores: the number of the version whose content this one repeats.
    restored_from: so.Mapped[Optional[int]]

    author: so.Mapped[Optional[User]] = so.relationship(lazy="joined")  # always shown with the version


class FileRight(Base):
    """A per-person override of the file's default level."""

    __tablename__ = "file_right"
    __table_args__ = (sa.UniqueConstraint("file_id", "user_id", name="uq_file_right_file_user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    level: so.Mapped[str] = so.mapped_column(sa.String(16))


class SaveReceipt(Base):
    """One row per save accepted from Docs; its unique key turns a replay into a no-op."""

    __tablename__ = "save_receipt"
    __table_args__ = (sa.UniqueConstraint("file_id", "doc_key", "kind", "dedupe", name="uq_save_receipt_once"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    doc_key: so.Mapped[str] = so.mapped_column(sa.String(128))
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))  # final | force
    dedupe: so.Mapped[str] = so.mapped_column(sa.String(255))
    version_number: so.Mapped[Optional[int]]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class DocKey(Base):
    """Every document key a file has had: tells a late save for an old key from a stranger's.

    It also records the editing session Docs runs under the key: opened with the first status 1,
    closed by the final save (or status 4). An open session owes us a save, so its file is not
    deleted meanwhile.
    """

    __tablename__ = "doc_key"

    key: so.Mapped[str] = so.mapped_column(sa.String(128), primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    version_number: so.Mapped[int]  # the head version when the key was made
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    session_opened_at: so.Mapped[Optional[datetime]]
    session_seen_at: so.Mapped[Optional[datetime]]  # the last join or leave Docs reported
    session_closed_at: so.Mapped[Optional[datetime]]


class DeletedFile(Base):
    """What is left of a deleted file: enough to tell its owner when a late save arrives for it.

    Docs keeps such a save as a forgotten file (we answer 404); administrators recover it from
    there. ``keys`` lists the document keys the file had, so the forgotten-files page can name it.
    """

    __tablename__ = "deleted_file"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(index=True)  # the id it had (SQLite may reuse it)
    key_salt: so.Mapped[str] = so.mapped_column(sa.String(32))
    title: so.Mapped[str] = so.mapped_column(sa.String(255))
    space_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("space.id", ondelete="SET NULL"))
    owner_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    deleted_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    deleted_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    keys_json: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")

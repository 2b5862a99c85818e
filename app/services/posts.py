"""Posts in a space's stream: members' posts, comments in a file's thread, and system notices.

Everything here is staged; the caller commits.
"""

import sqlalchemy as sa

from app.extensions import db
from app.models import File
from app.models import Post
from app.models import User


def notice(file: File, body: str, author: User | None = None) -> Post:
    """A system notice about a file (its thread and the space's stream)."""
    entry = Post(space_id=file.space_id, file_id=file.id, author=author, kind="notice", body=body)
    db.session.add(entry)
    return entry


def space_notice(space_id: int, body: str, author: User | None = None) -> Post:
    """A system notice about the space itself (members, deleted files)."""
    entry = Post(space_id=space_id, author=author, kind="notice", body=body)
    db.session.add(entry)
    return entry


def post(space_id: int, author: User, body: str) -> Post:
    """A member's post in the space's stream."""
    entry = Post(space_id=space_id, author=author, kind="post", body=body)
    db.session.add(entry)
    return entry


def comment(file: File, author: User, body: str) -> Post:
    """A member's comment in a file's thread (seen only by those who may read the file)."""
    entry = Post(space_id=file.space_id, file_id=file.id, author=author, kind="post", body=body)
    db.session.add(entry)
    return entry


def thread(file: File) -> list[Post]:
    """The file's thread, oldest first."""
    return list(db.session.scalars(sa.select(Post).where(Post.file_id == file.id).order_by(Post.created_at, Post.id)))

"""Posts and system notices in a space's stream."""

from app.extensions import db
from app.models import File
from app.models import Post
from app.models import User


def notice(file: File, body: str, author: User | None = None) -> Post:
    """Stage a system notice about a file; the caller commits."""
    post = Post(space_id=file.space_id, file_id=file.id, author=author, kind="notice", body=body)
    db.session.add(post)
    return post


def space_notice(space_id: int, body: str, author: User | None = None) -> Post:
    """Stage a system notice about the space itself (members, deleted files); the caller commits."""
    entry = Post(space_id=space_id, author=author, kind="notice", body=body)
    db.session.add(entry)
    return entry


def post(space_id: int, author: User, body: str) -> Post:
    entry = Post(space_id=space_id, author=author, kind="post", body=body)
    db.session.add(entry)
    return entry

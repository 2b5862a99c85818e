"""Posts in a space's stream: members' posts, comments in a file's thread, and system notices.

Everything here is staged; the caller commits.
"""

import re

import sqlalchemy as sa

from app import pagination
from app.extensions import db
from app.models import File
from app.models import Post
from app.models import Space
from app.models import User
from app.pagination import Page
from app.services import locales
from app.services import webhooks
from app.services.locales import Translatable
from app.services.locales import translatable


def notice(file: File, body: str | Translatable, author: User | None = None) -> Post:
    """A system notice about a file (its thread and the space's stream); a Translatable body is kept
    untranslated and shown in each reader's language."""
    entry = Post(space_id=file.space_id, file_id=file.id, author=author, kind="notice", body=locales.stored(body))
    db.session.add(entry)
    return entry


def space_notice(space_id: int, body: str | Translatable, author: User | None = None) -> Post:
    """A system notice about the space itself (members, deleted files), kept as ``notice`` keeps it."""
    entry = Post(space_id=space_id, author=author, kind="notice", body=locales.stored(body))
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
    webhooks.commented(file, author)
    return entry


def thread(file: File) -> list[Post]:
    """The file's thread, oldest first."""
    return list(db.session.scalars(sa.select(Post).where(Post.file_id == file.id).order_by(Post.created_at, Post.id)))


def thread_page(file: File, number: int, per_page: int) -> Page:
    """One page of the file's thread counted from its end (page 1: the latest), shown oldest first."""
    listed = pagination.of_select(
        sa.select(Post).where(Post.file_id == file.id).order_by(Post.created_at.desc(), Post.id.desc()),
        number,
        per_page,
        count=False,
    )
    listed.items.reverse()
    return listed


MENTION = re.compile(r"(?<![\w@.])@([\w][\w.\-]{0,63})")
MAX_MENTIONS = 20


def mentioned(body: str) -> list[str]:
    """The usernames written as @username in a post, in order, each once."""
    names: list[str] = []
    for name in MENTION.findall(body or ""):
        name = name.rstrip(".-")
        if name and name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


def notify_mentions(entry: Post, author: User) -> list[User]:
    """Stage a notification for each person @mentioned in a post who may see it: members of the
    space for the stream, people who may read the file for its thread. Anyone else is passed over
    without a word, as with mentions in the editor: nobody learns who exists outside their spaces.
    Returns those notified."""
    from flask import url_for

    from app.services import accounts
    from app.services import notifications
    from app.services import rights

    db.session.flush()  # the post's id, for the link
    file = db.session.get(File, entry.file_id) if entry.file_id else None
    if file is not None:
        link = url_for("files.thread", file_id=file.id, _anchor=f"post-{entry.id}")
        where = file.title
    else:
        link = url_for("spaces.show", space_id=entry.space_id, _anchor=f"post-{entry.id}")
        space = db.session.get(Space, entry.space_id)
        where = space.name if space is not None else "the stream"
    excerpt = entry.body if len(entry.body) <= 200 else entry.body[:199] + "…"
    told = []
    for name in mentioned(entry.body):
        user = accounts.find(name)
        if user is None or user.id == author.id or user in told or user.disabled_at is not None:
            continue
        if rights.membership(entry.space_id, user) is None:
            continue
        if file is not None and rights.file_level(file, user) == "none":
            continue
        notifications.notify(
            user,
            "mention",
            translatable(
                "%(display_name)s mentioned you in %(where)s: “%(excerpt)s”",
                display_name=author.display_name,
                where=where,
                excerpt=excerpt,
            ),
            link,
            file,
        )
        told.append(user)
    webhooks.mentioned(entry.space_id, file, author, told)
    return told

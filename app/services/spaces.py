"""Spaces and their members."""

from app.extensions import db
from app.models import Membership
from app.models import Space
from app.models import User
from app.services import rights
from app.services import stream


def create_space(name: str, owner: User, description: str = "") -> Space:
    """A new space owned by owner; committed."""
    space = Space(name=name.strip(), description=description)
    db.session.add(space)
    db.session.add(Membership(space=space, user=owner, role="owner"))
    db.session.commit()
    return space


def add_member(space: Space, user: User, role: str, actor: User) -> tuple[Membership, bool]:
    """Make user a member (with a notice in the stream); returns the membership and whether it is new."""
    existing = rights.membership(space.id, user)
    if existing is not None:
        return existing, False
    member = Membership(space_id=space.id, user_id=user.id, role=role)
    db.session.add(member)
    stream.space_notice(space.id, f"{actor.display_name} added {user.display_name}", actor)
    db.session.commit()
    return member, True

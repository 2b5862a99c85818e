"""People who sign in, their sessions, and their personal API tokens."""

import hashlib
import secrets
import unicodedata
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask import has_app_context
from flask_login import UserMixin
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from app.models.base import Base
from app.models.base import utcnow


def username_key(name: str) -> str:
    """What makes two usernames the same: compatibility-normalised (NFKC), trimmed, case-folded.

    So "Admin", "ａｄｍｉｎ" (full-width) and "admin " are all the account "admin".
    """
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


class User(UserMixin, Base):
    __tablename__ = "user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)  # as typed (NFKC, trimmed)
    username_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)  # username_key(username)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(128))
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    is_admin: so.Mapped[bool] = so.mapped_column(default=False)
    # A bot account is for integrations: no usable password, it never signs in (neither the web
    # form nor the login API) and works only through the API tokens an administrator gives it.
    is_bot: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # IANA zone name for showing times; empty: the browser's own zone.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # Locale code chosen on the profile page (stored for the translations to come); empty: the site's.
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # A disabled account signs in nowhere, its sessions and API tokens stop working, and it holds
    # no rights (Flask-Login's is_authenticated follows is_active).
    disabled_at: so.Mapped[Optional[datetime]]

    # The session this object was loaded for (not a column): Flask-Login keeps get_id() in the
    # session and remember-me cookies, so those cookies name a revocable server-side session.
    session_token = None

    @so.validates("username")
    def _normalise_username(self, _key, name: str) -> str:
        name = unicodedata.normalize("NFKC", name or "").strip()
        self.username_key = username_key(name)
        return name

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str | None:
        return self.session_token

    def set_password(self, password: str) -> None:
        """Hash and set the password (accounts.set_password also ends the other sessions)."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def docs_id(self) -> str:
        """The user id given to the Document Server (editorConfig.user.id)."""
        return str(self.id)

    @property
    def contact(self) -> str:
        """What the editor shows and sends back for @mentions (it calls it an e-mail)."""
        return self.email or f"{self.username}@users.coedit"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(Base):
    """One signed-in browser; only the SHA-256 of its token is stored.

    Deleting the row ends the session everywhere at once, whatever copies of its cookies exist.
    """

    __tablename__ = "user_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    remember: so.Mapped[bool] = so.mapped_column(default=False)
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[Optional[datetime]]

    user: so.Mapped[User] = so.relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["ApiToken", str]:
        """A new token row (staged by the caller) and the plain token, shown once."""
        plain = "cot_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash(plain), name=name), plain

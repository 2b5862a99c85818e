"""People who sign in, and their personal API tokens."""

import hashlib
import secrets
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


class User(UserMixin, Base):
    __tablename__ = "user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(128))
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    is_admin: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
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

"""Sign-in plumbing, safe redirects, admin checks and the Content-Security-Policy."""

from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask import g
from flask_login import current_user

from app.extensions import db
from app.extensions import login_manager
from app.models import ApiToken
from app.models import User
from app.models.base import utcnow

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-src": "'none'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_api_token)
    app.after_request(add_security_headers)


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


_USER_BY_TOKEN = (
    sa.select(User, ApiToken.id, ApiToken.last_used_at)
    .options(so.defer(User.created_at), so.defer(User.password_hash))
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"))
)


def load_user_from_api_token(req) -> User | None:
    """Personal API tokens, accepted on the JSON API only."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    row = db.session.execute(_USER_BY_TOKEN, {"token_hash": ApiToken.hash(header[7:])}).first()
    if row is None:
        return None
    user, token_id, last = row
    now = utcnow()
    if last is None or (now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo))).total_seconds() > 3600:
        # Hourly at most: a write on every API call would serialise readers.
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    g.api_token_auth = True
    return user


def is_safe_next_url(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from flask import current_app

            return current_app.login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def add_security_headers(response):
    policy = dict(BASE_POLICY)
    policy.update(g.get("csp_extra", {}))
    response.headers.setdefault("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in policy.items()))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


def allow_docs_origin(origin: str) -> None:
    """Let this response's page load api.js from Docs and frame its editor."""
    g.csp_extra = {"script-src": f"'self' {origin}", "frame-src": origin, "connect-src": f"'self' {origin}"}

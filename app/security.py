"""Sign-in plumbing, safe redirects, admin checks and the Content-Security-Policy."""

import time
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask import current_app
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


# Who a session or API token belongs to changes rarely but is asked on every request: each
# process remembers it for a few seconds, so an editor open costs one query (the rights).
# A change of name or admin flag therefore shows within USER_CACHE_SECONDS.
_USER_FIELDS = ("id", "username", "display_name", "email", "is_admin")
_CACHE_LIMIT = 10_000


def _cache(name: str) -> dict:
    """This app's cache of users by id or by token hash."""
    return current_app.extensions.setdefault("coedit_user_cache", {"id": {}, "token": {}})[name]


def _remember(cache: dict, key, user: User) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    lifetime = current_app.config.get("USER_CACHE_SECONDS", 30)
    cache[key] = (time.monotonic() + lifetime, {name: getattr(user, name) for name in _USER_FIELDS})


def _recall(cache: dict, key) -> User | None:
    """A cached user, attached to this request's session without a query."""
    entry = cache.get(key)
    if entry is None or entry[0] < time.monotonic():
        return None
    user = User(**entry[1])
    so.make_transient_to_detached(user)  # a known row: no INSERT, no SELECT
    return db.session.merge(user, load=False)


def forget_users() -> None:
    """Drop every cached user (after a change that must show at once in this process)."""
    current_app.extensions.pop("coedit_user_cache", None)


def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = _recall(_cache("id"), int(user_id))
    if user is None:
        user = db.session.get(User, int(user_id))
        if user is not None:
            _remember(_cache("id"), user.id, user)
    return user


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
    token_hash = ApiToken.hash(header[7:])
    user = _recall(_cache("token"), token_hash)
    if user is None:
        row = db.session.execute(_USER_BY_TOKEN, {"token_hash": token_hash}).first()
        if row is None:
            return None
        user, token_id, last = row
        now = utcnow()
        if last is None or (now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo))).total_seconds() > 3600:
            # Hourly at most: a write on every API call would serialise readers.
            db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
            db.session.commit()
        _remember(_cache("token"), token_hash, user)
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

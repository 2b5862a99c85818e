"""Sign-in plumbing, safe redirects, admin checks and the Content-Security-Policy."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask import g
from flask_login import current_user

from app.extensions import login_manager
from app.models import User
from app.services import accounts

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


def load_user(session_token: str) -> User | None:
    """The user of the server-side session a cookie names (Flask-Login keeps get_id() in it)."""
    return accounts.load_session(session_token)


def load_user_from_api_token(req) -> User | None:
    """Personal API tokens, accepted on the JSON API only."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = accounts.user_for_api_token(header[7:])
    if user is not None:
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

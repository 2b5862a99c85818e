"""Sign-in plumbing, safe redirects, admin checks and the Content-Security-Policy."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask import g
from flask.sessions import SecureCookieSessionInterface
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
    app.session_interface = SessionCookies()
    app.after_request(add_security_headers)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signer made once per set of secrets rather than on every
    request (Flask builds a new one each time, for requests that mostly carry no cookie at all)."""

    def __init__(self):
        self._signers = {}

    def get_signing_serializer(self, app):
        secrets = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signer = self._signers.get(secrets)
        if signer is None:
            signer = super().get_signing_serializer(app)
            if len(self._signers) > 8:  # secrets change rarely: keep only the latest few
                self._signers.clear()
            self._signers[secrets] = signer
        return signer


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


def _policy_header(policy: dict) -> str:
    return "; ".join(f"{k} {v}" for k, v in policy.items())


BASE_POLICY_HEADER = _policy_header(BASE_POLICY)  # every response carries it: joined once


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
)
# What a response answered outside Flask's dispatch carries (backend/settled.py).
DEFAULT_HEADERS = (("Content-Security-Policy", BASE_POLICY_HEADER), *SECURITY_HEADERS)


def add_security_headers(response):
    """The CSP and the other security headers, unless the view set its own."""
    extra = g.get("csp_extra")
    policy = _policy_header({**BASE_POLICY, **extra}) if extra else BASE_POLICY_HEADER
    headers = response.headers
    # One pass over the few headers there are: Headers' own look-ups (``in``, setdefault) raise
    # and catch a KeyError for every absent name, which is every one of these on most responses.
    present = {name.lower() for name, _ in headers}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", policy)
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def allow_docs_origin(origin: str) -> None:
    """Let this response's page load api.js from Docs and frame its editor."""
    g.csp_extra = {"script-src": f"'self' {origin}", "frame-src": origin, "connect-src": f"'self' {origin}"}

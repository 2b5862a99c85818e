"""Rate limits on what can be guessed or scraped: passwords, tokens, share links, look-ups.

Flask-Limiter counts in memory by default (one process) and in Redis when ``COEDIT_REDIS_URL``
is set, so the limits hold across workers and instances. The limit strings are settings
(``RATELIMIT_*`` in config.py). Only failures count where success is the normal case: a
person who signs in correctly is never slowed down.
"""

import hashlib
import time

from flask import current_app
from flask import g
from flask import request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage

from app.extensions import limiter
from app.models.user import username_key


def init_app(app) -> None:
    # Docs' routes and the operations endpoints have no limits: machine_routes skips the limiter's
    # hooks on them.
    limiter.init_app(app)


class ProcessMemoryStorage(MemoryStorage):
    """limits' memory storage (one process's counts) without its timer threads.

    The original starts a thread to expire counters every time its last one has finished, which
    under steady load is a thread start every 10 ms, each costing the request that made it about a
    millisecond. Here the requests themselves sweep expired counters, at most once a second (a
    counter read after its expiry is dropped at once anyway: MemoryStorage.get).
    """

    STORAGE_SCHEME = ["coedit-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timer.cancel()  # the one started by the original
        self._swept_at = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the original's private timer start
        now = time.monotonic()
        if now - self._swept_at >= self.SWEEP_SECONDS:
            self._swept_at = now
            self._MemoryStorage__expire_events()


def _setting(name: str):
    return lambda: current_app.config[name]


def _address() -> str:
    return "address:" + (get_remote_address() or "?")


def _account() -> str:
    """The account tried: the web form's username, or the login API's ``login_id``."""
    name = request.form.get("username", "")
    if request.is_json:
        data = request.get_json(silent=True)
        name = data.get("login_id") if isinstance(data, dict) else ""
    return "account:" + username_key(name if isinstance(name, str) else "")[:64]


def _url_secret() -> str:
    """The secret in the route's URL (a share link's, an incoming webhook's), hashed: a counter's
    key never holds the secret itself."""
    secret = (request.view_args or {}).get("secret", "")
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _share_link() -> str:
    return f"link:{_url_secret()}:{_address()}"


def _incoming_hook() -> str:
    return f"hook:{_url_secret()}"


def _not_found(response) -> bool:
    return response.status_code == 404


def _person() -> str:
    """The signed-in person (or API token holder), else the client address."""
    user = current_user._get_current_object()  # one look-up through the proxy, not two
    if user.is_authenticated:
        return f"user:{user.id}"
    return _address()


def _failed_sign_in(_response) -> bool:
    return bool(g.get("sign_in_failed"))


def _wrong_password(response) -> bool:
    return response.status_code == 403


def _unauthenticated(response) -> bool:
    return response.status_code == 401


# Every limit is shared: one count per key and scope across all the routes it is on. Flask-Limiter's
# plain ``limit`` counts each route apart, so guesses spread over the API's routes, or over the
# sign-in form and the login API, would each get the whole allowance.
def _wrap(limits: list):
    def decorate(target):
        for limit in limits:
            wrapped = limit(target)
            target = target if wrapped is None else wrapped  # a blueprint is registered, not wrapped
        return target

    return decorate


# Per account (whatever the address) and per address (whatever the account).
sign_in = _wrap(
    [
        limiter.shared_limit(
            _setting("RATELIMIT_SIGN_IN_PER_ACCOUNT"),
            key_func=_account,
            methods=["POST"],
            deduct_when=_failed_sign_in,
            scope="sign-in-account",
        ),
        limiter.shared_limit(
            _setting("RATELIMIT_SIGN_IN_PER_ADDRESS"),
            key_func=_address,
            methods=["POST"],
            deduct_when=_failed_sign_in,
            scope="sign-in-address",
        ),
    ]
)
share_link_password = _wrap(
    [
        limiter.shared_limit(
            _setting("RATELIMIT_SHARE_PASSWORD"),
            key_func=_share_link,
            methods=["POST"],
            deduct_when=_wrong_password,
            scope="share-password",
        )
    ]
)
# API calls without a valid token per address, and every call per token holder: for the API blueprint.
api = _wrap(
    [
        limiter.shared_limit(
            _setting("RATELIMIT_API_TOKEN_FAILURES"),
            key_func=_address,
            deduct_when=_unauthenticated,
            scope="api-token-failures",
        ),
        limiter.shared_limit(_setting("RATELIMIT_API"), key_func=_person, scope="api"),
    ]
)
# Messages through one incoming webhook (whoever sends them), and unknown secrets per address.
incoming_hook = _wrap(
    [
        limiter.shared_limit(_setting("RATELIMIT_INCOMING_HOOK"), key_func=_incoming_hook, scope="incoming-hook"),
        limiter.shared_limit(
            _setting("RATELIMIT_API_TOKEN_FAILURES"),
            key_func=_address,
            deduct_when=_not_found,
            scope="incoming-hook-unknown",
        ),
    ]
)
# One count for the reader list and the notifications of @mentions together.
mention_lookups = _wrap([limiter.shared_limit(_setting("RATELIMIT_MENTIONS"), key_func=_person, scope="mentions")])
connection_test = _wrap(
    [
        limiter.shared_limit(
            _setting("RATELIMIT_CONNECTION_TEST"), key_func=_person, methods=["POST"], scope="connection-test"
        )
    ]
)
# Each test is an outgoing call: a space admin must not turn the button into a flood.
webhook_test = _wrap([limiter.shared_limit(_setting("RATELIMIT_WEBHOOK_TEST"), key_func=_person, scope="webhook-test")])


def retry_after() -> int:
    """Seconds until the limit just breached lets the next attempt through."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))

"""The JSON API under /api/v1 (personal API tokens or the browser session)."""

from flask import Blueprint

from app import limits

bp = limits.api(Blueprint("api", __name__))

from app.api import links  # noqa
from app.api import views  # noqa: E402,F401
from app.api import users  # noqa: E402,F401
from app.api import manage  # noqa: E402,F401

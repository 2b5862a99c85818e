"""The host site: spaces, their members, folders, uploads and stream."""

from flask import Blueprint

bp = Blueprint("spaces", __name__)

from app.spaces import incoming_hooks  # noqa: E402,F401
from app.spaces import views  # noqa: E402,F401
from app.spaces import webhooks  # noqa: E402,F401

"""The notification centre: the bell, its page, mark as read."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.notifications import views  # noqa: E402,F401

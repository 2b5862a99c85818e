"""Share links as guests meet them: the landing page and the guest's editor."""

from flask import Blueprint

bp = Blueprint("share", __name__)

from app.share import views  # noqa: E402,F401

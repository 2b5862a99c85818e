"""The editor page (View document / Edit document)."""

from flask import Blueprint

bp = Blueprint("open", __name__)

from app.open import views  # noqa: E402,F401

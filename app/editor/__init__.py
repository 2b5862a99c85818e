"""The editor page (View document / Edit document) and the requests its editor makes."""

from flask import Blueprint

bp = Blueprint("editor", __name__)

from app.editor import views  # noqa: E402,F401

"""Create document: a blank Document, Spreadsheet, Presentation or PDF form."""

from flask import Blueprint

bp = Blueprint("create", __name__)

from app.create import views  # noqa: E402,F401

"""A file's page: details, versions, download, rename, delete."""

from flask import Blueprint

bp = Blueprint("files", __name__)

from app.files import views  # noqa: E402,F401

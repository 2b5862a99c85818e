"""Administration: the Document Server settings page and the forgotten files of failed saves."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import views  # noqa: E402,F401
from app.admin import forgotten  # noqa: E402,F401

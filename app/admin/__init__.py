"""Administration: the Document Server settings, the forgotten files of failed saves, people, and
the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import audit  # noqa: E402,F401
from app.admin import forgotten  # noqa: E402,F401
from app.admin import users  # noqa: E402,F401
from app.admin import views  # noqa: E402,F401

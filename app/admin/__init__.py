"""Administration: the Document Server settings, the forgotten files of failed saves, people, the
audit log and the status page."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import audit  # noqa: E402,F401
from app.admin import forgotten  # noqa: E402,F401
from app.admin import status  # noqa: E402,F401
from app.admin import templates  # noqa: E402,F401
from app.admin import users  # noqa: E402,F401
from app.admin import views  # noqa: E402,F401

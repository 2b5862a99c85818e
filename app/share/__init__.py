"""Share links: the guest's landing page and editor, and the file page's link management."""

from flask import Blueprint

bp = Blueprint("share", __name__)

from app.share import views  # noqa: E402,F401
from app.share.views import share_context  # noqa: E402,F401

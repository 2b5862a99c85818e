"""What the Document Server calls: file downloads and save callbacks.

Exempt from sessions and CSRF; every request proves itself with our signed link
token and the Docs JWT instead.
"""

from flask import Blueprint

bp = Blueprint("backend", __name__)

from app.backend import views  # noqa: E402,F401

"""Operations: health, readiness and metrics (no login)."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from app.ops import views  # noqa: E402,F401

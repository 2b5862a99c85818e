"""Incoming webhooks: ``POST /hooks/<secret>`` from another application (no session, no CSRF)."""

from flask import Blueprint

bp = Blueprint("hooks", __name__)

from app.hooks import views  # noqa: E402,F401

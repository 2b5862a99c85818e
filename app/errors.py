"""Error pages for people, JSON for machines; one handler for every domain error."""

from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import gettext
from flask_babel import ngettext
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.exceptions import CoeditError
from app.services.exceptions import StorageError


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/backend/", "/hooks/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None, name: str = ""):
    """A page or JSON for an error; Docs' routes answer ``{"error": 1}`` as the protocol expects."""
    if status >= 500:
        db.session.rollback()
    if request.path.startswith("/backend/"):
        return jsonify(error=1), status
    if wants_json():
        return jsonify(error=message or name, status=status), status
    return render_template("errors/error.html", status=status, name=name, message=message), status


def register_error_handlers(app) -> None:
    @app.errorhandler(429)
    def too_many(error: HTTPException):
        from app.limits import retry_after

        wait = retry_after()
        response = app.make_response(
            error_response(
                429,
                ngettext(
                    "Too many attempts. Please wait %(num)d second and try again.",
                    "Too many attempts. Please wait %(num)d seconds and try again.",
                    wait,
                ),
                error.name,
            )
        )
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = error.description
        if error.code in (403, 404) and message == type(error).description and not wants_json():
            message = None  # Werkzeug's own English words: the page says it in the reader's
        return error_response(error.code, message, error.name)

    @app.errorhandler(CoeditError)
    def domain_error(error: CoeditError):
        if isinstance(error, StorageError):
            app.logger.error("storage failed on %s: %s", request.path, error.message)
            return error_response(
                503,
                gettext(
                    "The storage failed (%(message)s). Nothing was changed; please try again later.",
                    message=error.message,
                ),
                gettext("Service Unavailable"),
            )
        response = app.make_response(error_response(error.http_status, error.message))
        if getattr(error, "retry_after", None):  # a file busy for a moment (services/locks.py)
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(OSError)
    def os_error(error: OSError):
        from app.services.storage.base import WRITE_FAILURES

        if error.errno in WRITE_FAILURES:  # a full or read-only disk wherever it was met
            return domain_error(StorageError(WRITE_FAILURES[error.errno]))
        return unexpected(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/backend/"):
            # A 5xx makes Docs retry a save rather than drop it.
            return jsonify(error=1), 500
        if wants_json():
            return jsonify(error=gettext("Internal error"), status=500), 500
        return render_template("errors/error.html", status=500, name="", message=None), 500

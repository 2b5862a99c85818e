"""Error pages for people, JSON for machines."""

from flask import jsonify
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.exceptions import Forbidden
from app.services.exceptions import NotFound
from app.services.exceptions import StorageError


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/backend/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def register_error_handlers(app) -> None:
    @app.errorhandler(429)
    def too_many(error: HTTPException):
        from app.limits import retry_after

        wait = retry_after()
        message = f"Too many attempts. Please wait {wait} seconds and try again."
        if wants_json():
            response = jsonify(error=message, status=429)
        else:
            response = app.make_response(render_template("errors/error.html", error=error, message=message))
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code >= 500:
            db.session.rollback()
        if request.path.startswith("/backend/"):
            return jsonify(error=1), error.code
        if wants_json():
            return jsonify(error=error.description or error.name, status=error.code), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(StorageError)
    def storage_failed(error: StorageError):
        from werkzeug.exceptions import ServiceUnavailable

        db.session.rollback()
        app.logger.error("storage failed on %s: %s", request.path, error.message)
        return http_error(ServiceUnavailable(f"The storage failed ({error.message}). Nothing was changed; "
                                             "please try again later."))

    @app.errorhandler(OSError)
    def os_error(error: OSError):
        from app.services.storage.base import WRITE_FAILURES

        if error.errno in WRITE_FAILURES:  # a full or read-only disk wherever it was met
            return storage_failed(StorageError(WRITE_FAILURES[error.errno]))
        return unexpected(error)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        from werkzeug.exceptions import NotFound as HTTPNotFound

        return http_error(HTTPNotFound(error.message or None))

    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden):
        from werkzeug.exceptions import Forbidden as HTTPForbidden

        return http_error(HTTPForbidden(error.message or None))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/backend/"):
            # A 5xx makes Docs retry a save rather than drop it.
            return jsonify(error=1), 500
        if wants_json():
            return jsonify(error="Internal error", status=500), 500
        return render_template("errors/error.html", error=None), 500

"""Domain errors: each carries the HTTP status it answers with and a reason safe to show a person.

Services raise them; views let them through (one handler in errors.py renders a page or JSON)
or catch them where a page flashes the reason instead.
"""


class CoeditError(Exception):
    """Base class; ``message`` is safe to show to a person."""

    http_status = 500

    def __init__(self, message: str = "", http_status: int | None = None):
        super().__init__(message)
        self.message = message
        if http_status is not None:
            self.http_status = http_status


class NotFoundError(CoeditError):
    """The thing does not exist, or the person may not know it does."""

    http_status = 404


class ForbiddenError(CoeditError):
    """The person may see the thing but not do this to it."""

    http_status = 403


class BadRequestError(CoeditError):
    """The input is wrong; the message says how."""

    http_status = 400


class ConflictError(CoeditError):
    """The thing is busy (being edited, a save on its way): try again later."""

    http_status = 409


class StorageError(CoeditError):
    """Storage failed; transient."""

    http_status = 503


class DocsError(CoeditError):
    """The Document Server could not be reached or answered with an error."""

    http_status = 502


class DocsUnreachableError(DocsError):
    """The Document Server could not be reached or failed (HTTP 5xx): trying again later may work."""


class SaveRejectedError(CoeditError):
    """A save from Docs is refused for good: Docs keeps its copy as a forgotten file.

    403 for what is not allowed (a foreign key or URL), 422 for a document that fails validation.
    ``reason`` names the validation check that refused it (the metrics' label), if one did.
    """

    http_status = 422

    def __init__(self, message: str = "", http_status: int | None = None, reason: str | None = None):
        super().__init__(message, http_status)
        self.reason = reason


class SaveFailedError(CoeditError):
    """A save from Docs failed for a reason that may pass: Docs should retry."""

    http_status = 503

"""Domain errors the views turn into HTTP answers."""


class CoeditError(Exception):
    """Base class; ``message`` is safe to show to a person."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class NotFound(CoeditError):
    """The thing does not exist, or the person may not know it does."""


class Forbidden(CoeditError):
    """The person may see the thing but not do this to it."""


class Conflict(CoeditError):
    """The thing is busy (being edited, a save on its way): try again later."""


class BadRequest(CoeditError):
    """The input is wrong; the message says how."""


class StorageError(CoeditError):
    """Storage failed; transient."""


class DocsError(CoeditError):
    """The Document Server could not be reached or answered with an error."""


class SaveRejected(CoeditError):
    """A save from Docs is refused for good: Docs keeps its copy as a forgotten file.

    ``http_status`` is 403 for what is not allowed (a foreign key or URL) and 422
    for a document that fails validation.
    """

    def __init__(self, message: str = "", http_status: int = 422):
        super().__init__(message)
        self.http_status = http_status


class SaveFailed(CoeditError):
    """A save from Docs failed for a reason that may pass: Docs should retry."""

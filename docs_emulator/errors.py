"""What goes wrong, as the emulator reports it: editor error codes, api.js config alerts and
control-API refusals."""

from __future__ import annotations

# Editor error codes (sdkjs common/errorCodes.js) and the text the emulator shows for them.
ERROR_TEXT = {
    -1: "An unknown error has occurred.",
    -4: "Download failed.",
    -20: "The document security token is not correctly formed. Please contact your Document Server administrator.",
    -21: "The document security token has expired. Please contact your Document Server administrator.",
    -23: "Access denied: the document security token does not grant this. "
    "Please contact your Document Server administrator.",
    -82: "An error has occurred while opening the file.",
    -100: "Your editing session was ended by the document owner (the document was dropped).",
    -102: "The file version has been changed. The document must be reopened with a new key.",
}


class EditorError(Exception):
    """Opening failed with an editor error code (shown in the iframe and sent to onError)."""

    def __init__(self, code: int, detail: str = ""):
        super().__init__(detail or ERROR_TEXT.get(code, "error"))
        self.code = code
        self.detail = detail

    @property
    def description(self) -> str:
        """Text for onError's errorDescription."""
        return ERROR_TEXT.get(self.code, self.detail or "error")


class ConfigAlert(Exception):
    """A client-side config check failed: api.js would alert() and create no editor."""


class ControlError(Exception):
    """A control-API request refers to something that does not exist or is not allowed."""

    def __init__(self, message: str, http_status: int = 404):
        super().__init__(message)
        self.http_status = http_status

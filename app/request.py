"""The request class: JSON bodies are small and flat enough to parse safely.

Uploads keep MAX_CONTENT_LENGTH; a JSON body is refused with 413 above MAX_JSON_BYTES (also
when sent chunked, without a length), and one nested too deeply for the parser is a 400, not a
crash.
"""

from flask import Request as FlaskRequest
from flask import current_app
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge


class Request(FlaskRequest):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        if getattr(self, "_cached_data", None) is None and (force or self.is_json):
            limit = current_app.config["MAX_JSON_BYTES"]
            if (self.content_length or 0) > limit:
                raise RequestEntityTooLarge(f"A JSON body has at most {limit // 1024} KiB.")
            data = self.stream.read(limit + 1)  # at most one byte more than allowed
            if len(data) > limit:
                raise RequestEntityTooLarge(f"A JSON body has at most {limit // 1024} KiB.")
            self._cached_data = data  # what get_data() hands the JSON parser
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise BadRequest("The JSON body is nested too deeply.") from None

"""gunicorn's access log without secrets: no query strings, share-link secrets masked.

Query strings carry signed download and callback tokens; ``/s/<secret>`` paths are share links
and ``/hooks/<secret>`` incoming webhooks; the Referer and Authorization headers can hold either.
``gunicorn.conf.py`` names this class.
"""

import re

from gunicorn.glogging import Logger

_URL_SECRET = re.compile(r"^(/s/|/hooks/)[^/?#\s]+")
_SENSITIVE_HEADERS = ("referer", "authorization", "authorizationjwt", "cookie")


def redact(path: str) -> str:
    """The path with the secret of a share link or incoming webhook replaced."""
    return _URL_SECRET.sub(r"\1[secret]", path or "")


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(environ.get("PATH_INFO", ""))
        atoms.update(
            {
                "r": f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}",
                "U": path,
                "q": "",
                "f": "-",
            }
        )
        for name in list(atoms):
            if name.startswith("{") and (name[1:-2] in _SENSITIVE_HEADERS or name.endswith("}e")):
                atoms[name] = "-"
        return atoms

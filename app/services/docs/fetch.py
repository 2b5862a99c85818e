"""Download files the Document Server produced, and nothing else.

Docs builds the host of its output links from headers a browser can forge, so a
signed link may still point anywhere. We accept only links on the configured Docs
origins, under its cache paths, and fetch them from the internal Docs address: no
other host, scheme or port is ever contacted, and redirects are not followed.
"""

import os
import posixpath
from urllib.parse import urlsplit

import requests
from flask import current_app

from app.ops import metrics
from app.services import settings
from app.services.exceptions import SaveFailedError
from app.services.exceptions import SaveRejectedError
from app.services.storage import get_storage

DEFAULT_PORTS = {"http": 80, "https": 443}
CHUNK = 256 * 1024


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def rebase(url: str) -> str:
    """The internal URL to fetch for a Docs output link.

    :raise SaveRejectedError: the link is not on the Document Server or not under its cache paths.
    """
    if not isinstance(url, str) or not url:
        raise SaveRejectedError("no url", 403)
    parts = urlsplit(url)
    origin = _origin(url)
    if origin is None or parts.username or parts.password:
        raise SaveRejectedError("url is not an http(s) link to the Document Server", 403)
    path = parts.path
    known = False
    for base in (settings.get("docs_url"), settings.get("docs_internal_url")):
        if base and _origin(base) == origin:
            known = True
            prefix = urlsplit(base).path.rstrip("/")
            if prefix and path.startswith(prefix + "/"):
                path = path[len(prefix) :]
            break
    if not known:
        raise SaveRejectedError("url is not on the configured Document Server", 403)
    lowered = path.lower()
    # Encoded dots, slashes, backslashes or percent signs could climb out of the cache paths
    # once a server decodes them: no real Docs output link needs them.
    if (
        "\\" in path
        or any(code in lowered for code in ("%2e", "%2f", "%5c", "%25"))
        or posixpath.normpath(path) != path
    ):
        raise SaveRejectedError("url path is not canonical", 403)
    if not path.startswith(tuple(current_app.config["SAVE_ALLOWED_PATH_PREFIXES"])):
        raise SaveRejectedError("url is not a Document Server output link", 403)
    return settings.docs_internal_url() + path + (f"?{parts.query}" if parts.query else "")


def download(url: str, limit: int) -> str:
    """Stream a Docs output link into a temporary file; returns its path.

    :raise SaveRejectedError: not a Docs link, or larger than limit (retrying would not help).
    :raise SaveFailedError: network error, non-200 answer, redirect, or a cut-off transfer.
    """
    target = rebase(url)
    handle, path = get_storage().temp_file()
    try:
        with handle, metrics.timed(metrics.DOWNLOAD_DURATION):
            try:
                response = requests.get(
                    target,
                    stream=True,
                    allow_redirects=False,
                    timeout=current_app.config["DOCS_TIMEOUT"],
                    verify=bool(settings.get("verify_tls")),
                )
            except requests.RequestException as exc:
                raise SaveFailedError(f"download failed: {exc.__class__.__name__}") from None
            with response:
                if response.status_code != 200:
                    raise SaveFailedError(f"download answered HTTP {response.status_code}")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise SaveRejectedError("file is over the size limit", reason="size_limit")
                received = 0
                try:
                    for chunk in response.iter_content(CHUNK):
                        received += len(chunk)
                        if received > limit:
                            raise SaveRejectedError("file is over the size limit", reason="size_limit")
                        handle.write(chunk)
                except requests.RequestException as exc:
                    raise SaveFailedError(f"download cut off: {exc.__class__.__name__}") from None
                if declared and declared.isdigit() and received != int(declared):
                    raise SaveFailedError("download cut off")
        return path
    except BaseException:
        os.unlink(path)
        raise

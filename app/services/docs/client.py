"""Requests from the app to the Document Server: command service, conversion, connection test."""

import os
import secrets
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import requests
from flask import current_app

from app.services import settings
from app.services.docs import links
from app.services.docs import tokens
from app.services.exceptions import DocsError
from app.services.exceptions import DocsUnreachableError

COMMAND_ERRORS = {
    1: "the document key is missing or unknown",
    2: "the callback URL is not correct",
    3: "internal server error",
    4: "nothing changed since the last save",
    5: "unknown command",
    6: "invalid token (check the JWT secret)",
    7: "token expired (check the clocks)",
}
CONVERT_ERRORS = {
    -1: "unknown error",
    -2: "conversion timed out",
    -3: "conversion error",
    -4: "Docs could not download the file from the app (check the app address as seen by Docs)",
    -5: "wrong password",
    -6: "conversion database error",
    -7: "input error",
    -8: "invalid token (check the JWT secret and header)",
    -9: "cannot determine the output format",
    -10: "size limit exceeded",
}
CHECK_BUDGET = 15.0  # seconds the whole connection test may take
POLL_SECONDS = 0.5  # between two asks after an asynchronous conversion


def _timeout(deadline: float | None):
    """DOCS_TIMEOUT, shortened so a request ends by the deadline (a time.monotonic() value)."""
    connect, read = current_app.config["DOCS_TIMEOUT"]
    if deadline is None:
        return connect, read
    left = max(deadline - time.monotonic(), 0.1)
    return min(connect, left), min(read, left)


def _post(path: str, params: dict, deadline: float | None = None) -> dict:
    """POST params to Docs, signed both ways Docs reads them (body token and header)."""
    body = dict(params)
    body["token"] = tokens.encode(params)
    try:
        response = requests.post(
            settings.docs_internal_url() + path,
            json=body,
            headers={**tokens.request_headers(params), "Accept": "application/json"},
            timeout=_timeout(deadline),
            verify=bool(settings.get("verify_tls")),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise DocsUnreachableError(f"could not reach the Document Server ({exc.__class__.__name__})") from None
    if response.status_code >= 500:
        raise DocsUnreachableError(f"the Document Server answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise DocsError(f"the Document Server answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise DocsError("the Document Server did not answer with JSON") from None
    if not isinstance(answer, dict):
        raise DocsError("the Document Server answered with something unexpected")
    return answer


def command(c: str, deadline: float | None = None, **params) -> dict:
    """Run a command-service command; returns the answer when error is 0.

    :raise DocsError: unreachable, or a non-zero error (its meaning in the message).
    """
    answer = _post("/command", {"c": c, **params}, deadline)
    error = answer.get("error")
    if error != 0:
        raise DocsError(f"command {c}: {COMMAND_ERRORS.get(error, f'error {error}')}")
    return answer


def convert(
    url: str,
    filetype: str,
    outputtype: str,
    key: str,
    title: str = "",
    budget: float | None = None,
    *,
    password: str | None = None,
    thumbnail: dict | None = None,
    progress: Callable[[int], None] | None = None,
    watermark: dict | None = None,
) -> str:
    """Convert; returns the result's fileUrl.

    With a budget (seconds) the conversion is asked for with ``async: true`` and polled by sending
    the identical request again (the conversion API's way) until it ends or the budget is spent, so
    a Docs whose converter is stuck cannot hold the caller longer than that. Without, Docs answers
    once it has finished (synchronous).
    ``password`` opens a protected source, ``thumbnail`` asks for an image of the first page (the
    conversion API's parameters of those names), and ``progress`` is told each ``percent`` Docs
    reports while polling. ``watermark`` (a watermark_on_draw object) is stamped on pdf and image
    output.
    :raise DocsError: with the meaning of the conversion error code (its ``code`` attribute holds
    the code), or that it did not finish.
    """
    params = {
        "async": budget is not None,
        "url": url,
        "filetype": filetype,
        "outputtype": outputtype,
        "key": key,
        "title": title or f"check.{filetype}",
    }
    if password is not None:
        params["password"] = password
    if thumbnail is not None:
        params["thumbnail"] = thumbnail
    if watermark is not None:
        params["watermark"] = watermark
    deadline = None if budget is None else time.monotonic() + budget
    while True:
        try:
            answer = _post("/converter", params, deadline)
        except DocsUnreachableError:
            if deadline is not None and time.monotonic() >= deadline:
                raise DocsError(f"conversion did not finish within {budget:g} s") from None
            raise
        if "error" in answer and not answer.get("endConvert"):
            code = answer.get("error")
            error = DocsError(f"conversion failed: {CONVERT_ERRORS.get(code, f'error {code}')}")
            error.code = code
            raise error
        if answer.get("endConvert"):
            if not isinstance(answer.get("fileUrl"), str):
                raise DocsError("conversion finished without a result")
            return answer["fileUrl"]
        if progress is not None and isinstance(answer.get("percent"), int):
            progress(max(0, min(99, answer["percent"])))
        if deadline is None:
            raise DocsError("conversion did not finish")
        left = deadline - time.monotonic()
        if left <= 0:
            raise DocsError(f"conversion did not finish within {budget:g} s")
        time.sleep(min(POLL_SECONDS, left))


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


def failed_address(steps: list[Step]) -> str | None:
    """The address the first failed step of a connection test could not use, to name it."""
    failed = next((step for step in steps if not step.ok), None)
    if failed is None or failed.name == "Settings":
        return None
    if failed.name == "Mixed content":
        return settings.get("docs_url")
    if failed.name == "Conversion round trip" and "fetch the converted file" not in failed.detail:
        return settings.get("app_url_for_docs") or None  # Docs fetches from the app there
    return settings.docs_internal_url()


def check_connection(app_scheme: str = "", budget: float | None = None) -> list[Step]:
    """Each step of the connection test, in plain words; stops at the first failure.

    The whole test ends within ``budget`` seconds (CHECK_BUDGET by default), plus a moment for the
    last request to return: every request to Docs is cut to what is left, and the conversion is
    asynchronous and polled.
    """
    from app.services.docs import fetch  # the same guard as saves

    budget = CHECK_BUDGET if budget is None else budget
    deadline = time.monotonic() + budget
    steps: list[Step] = []
    docs_url = settings.get("docs_url")
    if not docs_url:
        return [Step("Settings", False, "The Document Server address is not set.")]
    if not settings.get("jwt_secret"):
        return [Step("Settings", False, "The JWT secret is not set; Coedit never talks to Docs unsigned.")]
    public = urlsplit(docs_url)
    app_url = settings.get("app_url_for_docs") or ""
    scheme = app_scheme or urlsplit(app_url).scheme
    if scheme == "https" and public.scheme == "http":
        steps.append(
            Step("Mixed content", False, "This site uses https but Docs uses http: browsers will block the editor.")
        )
        return steps
    steps.append(Step("Mixed content", True, "The site and Docs use compatible schemes."))

    # One plain answer for every way this can fail (refused, timed out, another service, an
    # unhealthy Docs): the test must not tell an administrator's browser which ports are open.
    try:
        response = requests.get(
            settings.docs_internal_url() + "/healthcheck",
            timeout=_timeout(deadline),
            verify=bool(settings.get("verify_tls")),
            allow_redirects=False,
            stream=True,
        )
        with response:
            healthy = response.status_code == 200 and response.raw.read(16).strip() == b"true"
    except requests.RequestException:
        healthy = False
    if not healthy:
        steps.append(Step("Health check", False, "Could not reach a healthy ONLYOFFICE Docs at this address."))
        return steps
    steps.append(Step("Health check", True, "Docs reports it is healthy."))

    try:
        version = command("version", deadline).get("version", "?")
        steps.append(Step("Command service", True, f"Signed commands work; Docs version {version}."))
    except DocsError as exc:
        steps.append(Step("Command service", False, exc.message))
        return steps

    try:
        from app.services.docs.editor_config import docs_facing_url

        # A test of values not saved yet: Docs signs its fetch with the secret being tried, which
        # the app's other requests do not know; the link (ours, signed, minutes long) marks it.
        token = links.sign("check", n=secrets.token_hex(4), **({"trial": 1} if settings.in_trial() else {}))
        source = docs_facing_url("backend.blank", token=token)
        left = deadline - time.monotonic()
        if left <= 0:
            raise DocsError(f"the connection test did not finish within {budget:g} s")
        key = f"check_{int(time.time())}_{secrets.token_hex(4)}"
        try:
            result = convert(source, "docx", "docx", key, budget=left)
        except DocsError as exc:
            if "did not finish within" in exc.message:
                raise DocsError(f"conversion did not finish within {budget:g} s") from None
            raise
        os.unlink(fetch.download(result, 50 * 1024 * 1024))
        steps.append(
            Step(
                "Conversion round trip",
                True,
                "Docs fetched a blank document from this app, converted it, and the app fetched the result.",
            )
        )
    except DocsError as exc:
        steps.append(Step("Conversion round trip", False, exc.message))
    except Exception as exc:  # a failed fetch of the result is reported, not raised
        steps.append(
            Step(
                "Conversion round trip",
                False,
                "The app could not fetch the converted file from Docs "
                f"({getattr(exc, 'message', '') or exc.__class__.__name__}).",
            )
        )
    return steps

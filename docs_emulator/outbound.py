"""Requests the emulator makes, as Docs makes them: file downloads and signed callbacks with retries."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import datetime
from datetime import timezone

import requests

from . import tokens

log = logging.getLogger("docs_emulator.outbound")

# Docs identifies itself like this in its requests.
USER_AGENT = "Node.js/6.13"
# Docs keeps the header token under this size by dropping history/changesurl from it.
MAX_HEADER_TOKEN = 7168
# Answer bodies kept in the log are cut to this length.
LOG_ANSWER_MAX = 2000


class DownloadError(Exception):
    """Downloading a source file failed; ``code`` is the Docs error (-4 download, -10 size)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def now_iso() -> str:
    """UTC time like Docs' ``lastsave`` ("2026-01-01T10:00:00.000Z")."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class Downloader:
    """GETs integrator files with the outbox JWT header (payload ``{"url": <exact url>}``)."""

    def __init__(self, options):
        self.options = options
        self._lock = threading.Lock()
        self.log: list[dict] = []

    def drain(self) -> list[dict]:
        """The log so far, emptied at once (no attempt lost between reading and clearing)."""
        with self._lock:
            entries, self.log = self.log, []
        return entries

    def fetch(self, url: str, purpose: str) -> bytes:
        """Download ``url``; raise DownloadError(-4 / -10). Every attempt is logged."""
        opts = self.options
        headers = {"User-Agent": USER_AGENT}
        if opts.jwt_enabled:
            token = tokens.sign({"payload": {"url": url}}, opts.jwt_secret, opts.token_expires)
            headers[opts.jwt_header] = opts.jwt_prefix + token
        entry = {
            "time": time.time(),
            "url": url,
            "purpose": purpose,
            "http_status": None,
            "bytes": 0,
            "error": None,
            "signed": opts.jwt_enabled,
        }
        try:
            if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
                raise DownloadError(-4, "not an http(s) url")
            with requests.get(url, headers=headers, timeout=opts.download_timeout, stream=True) as resp:
                entry["http_status"] = resp.status_code
                if resp.status_code != 200:
                    raise DownloadError(-4, f"HTTP {resp.status_code}")
                length = resp.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > opts.max_download_bytes:
                    raise DownloadError(-10, "file too large")
                chunks, size = [], 0
                for chunk in resp.iter_content(65536):
                    size += len(chunk)
                    if size > opts.max_download_bytes:
                        raise DownloadError(-10, "file too large")
                    chunks.append(chunk)
                data = b"".join(chunks)
                entry["bytes"] = len(data)
                return data
        except DownloadError as exc:
            entry["error"] = str(exc)
            raise
        except requests.RequestException as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            raise DownloadError(-4, entry["error"]) from exc
        finally:
            with self._lock:
                self.log.append(entry)


class CallbackSender:
    """POSTs callback bodies to integrators, signed like Docs, with the status-2 retry policy."""

    def __init__(self, options, jobs, faults):
        self.options = options
        self.jobs = jobs
        self.faults = faults
        self._lock = threading.Lock()
        self.log: list[dict] = []

    def drain(self) -> list[dict]:
        """The log so far, emptied at once (no attempt lost between reading and clearing)."""
        with self._lock:
            entries, self.log = self.log, []
        return entries

    def _sign(self, body: dict, secret: str) -> tuple[dict, dict]:
        opts = self.options
        sent = dict(body)
        sent["token"] = tokens.sign(body, secret, opts.token_expires)
        header_body = dict(body)
        header_token = tokens.sign({"payload": header_body}, secret, opts.token_expires)
        if len(header_token) > MAX_HEADER_TOKEN:
            # Docs removes the bulky fields from the header token only.
            header_body.pop("changesurl", None)
            header_body.pop("history", None)
            header_token = tokens.sign({"payload": header_body}, secret, opts.token_expires)
        return sent, {opts.jwt_header: opts.jwt_prefix + header_token}

    def deliver(self, url: str, body: dict, retry: bool) -> bool:
        """Send one callback (blocking, including retries). True on HTTP 200 + ``{"error": 0}``."""
        opts = self.options
        status = body.get("status")
        taken = {
            f["fault"]: f
            for f in self.faults.take(
                {
                    "callback_twice",
                    "callback_wrong_secret",
                    "callback_other_key",
                    "callback_url_override",
                    "callback_unreachable",
                    "callback_body",
                },
                status,
            )
        }
        body = dict(body)
        if "callback_body" in taken:
            body = dict(taken["callback_body"]["body"])
        if "callback_other_key" in taken:
            body["key"] = taken["callback_other_key"]["key"]
        if "callback_url_override" in taken:
            body["url"] = taken["callback_url_override"]["url"]
        secret = opts.jwt_secret
        if "callback_wrong_secret" in taken:
            secret = "wrong-" + secrets.token_hex(8)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        sent = body
        if secret:
            sent, auth = self._sign(body, secret)
            headers.update(auth)
        unreachable = taken.get("callback_unreachable")
        failing_attempts = int(unreachable.get("attempts", 99)) if unreachable else 0
        copies = 2 if "callback_twice" in taken else 1
        delays = [opts.retry_base * f for f in (1, 2, 4)] if retry else []

        attempt = 0
        while True:
            attempt += 1
            ok, retryable = False, False
            for copy in range(copies if attempt == 1 else 1):
                ok, retryable = self._post(
                    url, sent, headers, attempt, sorted(taken), fail=attempt <= failing_attempts, duplicate=copy > 0
                )
            if ok or not retryable or not delays:
                return ok
            if not self.jobs.sleep(delays.pop(0)):
                return False

    def _post(self, url, sent, headers, attempt, fault_names, fail, duplicate) -> tuple[bool, bool]:
        entry = {
            "time": time.time(),
            "key": sent.get("key"),
            "status": sent.get("status"),
            "url": url,
            "attempt": attempt,
            "http_status": None,
            "answer": None,
            "error": None,
            "ok": False,
            "duplicate": duplicate,
            "faults": fault_names,
            "signed": "token" in sent,
            "body": {k: v for k, v in sent.items() if k != "token"},
        }
        ok, retryable = False, False
        try:
            if fail:
                raise requests.ConnectionError("connection refused (callback_unreachable fault)")
            resp = requests.post(
                url,
                data=json.dumps(sent),
                headers=headers,
                timeout=self.options.callback_timeout,
                allow_redirects=False,
            )
            entry["http_status"] = resp.status_code
            entry["answer"] = resp.text[:LOG_ANSWER_MAX]
            answer = None
            try:
                answer = resp.json()
            except ValueError:
                pass
            error = answer.get("error") if isinstance(answer, dict) else None
            # Success needs HTTP 200 and a JSON error of exactly 0 (204 or an empty body is not success).
            ok = resp.status_code == 200 and isinstance(error, int) and not isinstance(error, bool) and error == 0
            retryable = resp.status_code == 429 or 500 <= resp.status_code <= 599
        except requests.RequestException as exc:
            # No HTTP status at all (refused, reset, timeout): Docs retries these.
            entry["error"] = f"{type(exc).__name__}: {exc}"
            retryable = True
        entry["ok"] = ok
        entry["answered"] = time.time()
        with self._lock:
            self.log.append(entry)
        log.info(
            "callback %s status=%s attempt=%s -> %s %s",
            url,
            entry["status"],
            attempt,
            entry["http_status"],
            "ok" if ok else "failed",
        )
        return ok, retryable

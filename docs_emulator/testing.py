"""Run the emulator as a subprocess from other test suites and drive it through its control API.

Example (a pytest fixture in the app's conftest.py)::

    from docs_emulator.testing import start_emulator

    @pytest.fixture(scope="session")
    def docserver():
        with start_emulator(jwt_secret="test-secret", save_delay=0.1, retry_base=0.05) as emu:
            yield emu

    def test_save(docserver, live_app_url):
        config = docserver.sign_config(build_config(...))   # or the app's own signed config
        assert docserver.open_session(config)["error"] == 0
        docserver.append(config["document"]["key"], "u1", "Hello")
        docserver.leave(config["document"]["key"], "u1")
        docserver.wait_idle()
        assert docserver.callbacks(status=2)[-1]["ok"]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
import requests

# Defaults that keep test runs fast; every one can be overridden by keyword.
TEST_DEFAULTS = {"save_delay": 0.1, "retry_base": 0.05, "callback_timeout": 5.0, "download_timeout": 5.0}
_READY_RE = re.compile(r"listening on (http://\S+)")
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call failed."""


class EmulatorProcess:
    """A running ``python -m docs_emulator`` subprocess on a free loopback port.

    Keyword options are the command-line flags with underscores (``jwt_secret``,
    ``jwt_header``, ``jwt_prefix``, ``save_delay``, ``retry_base``, ``public_url``,
    ``storage_dir``, ``link_expires``, ``callback_timeout``, ``idle_timeout``, ``convert_delay``,
    ``convert_timeout``, ``max_unzipped_bytes``, ``lossy_save_format``, ...); ``no_jwt=True`` becomes
    ``--no-jwt``. Some can also change while it runs: see ``set_options``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 20.0, **options):
        merged = {**TEST_DEFAULTS, **options}
        self.secret: str | None = None if merged.get("no_jwt") else merged.get("jwt_secret")
        self.jwt_header: str = merged.get("jwt_header", "Authorization")
        self.jwt_prefix: str = merged.get("jwt_prefix", "Bearer ")
        self._tmp = tempfile.TemporaryDirectory(prefix="docs-emulator-test-")
        if not merged.get("storage_dir"):
            merged["storage_dir"] = os.path.join(self._tmp.name, "storage")
        self.storage_dir = merged["storage_dir"]
        self.log_path = os.path.join(self._tmp.name, "emulator.log")
        args = [sys.executable, "-m", "docs_emulator", "--host", host, "--port", str(port)]
        env = dict(os.environ)
        secret = merged.pop("jwt_secret", None)
        if secret:
            env["DOCS_EMULATOR_JWT_SECRET"] = secret  # never in the process list
        for name, value in merged.items():
            flag = "--" + name.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value is not None and value is not False:  # 0 is a real value
                args += [flag, str(value)]
        env["PYTHONPATH"] = _PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
        )
        self.http = requests.Session()
        try:
            self.url = self._wait_ready(startup_timeout)
        except Exception:
            self.stop()
            raise

    # --- lifecycle ---------------------------------------------------------

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        url = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmulatorError(f"emulator exited with {self.proc.returncode}:\n{self.log_text()}")
            if url is None:
                m = _READY_RE.search(self.log_text())
                url = m.group(1) if m else None
            if url:
                try:
                    if self.http.get(url + "/healthcheck", timeout=1).text == "true":
                        return url
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise EmulatorError(f"emulator not ready after {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        """Everything the emulator printed so far."""
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the subprocess and remove its temporary files."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.http.close()
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- plumbing ------------------------------------------------------------

    def _call(self, method: str, path: str, json=None, ok=(200,), timeout: float = 30) -> dict:
        resp = self.http.request(method, self.url + path, json=json, timeout=timeout)
        if resp.status_code not in ok:
            raise EmulatorError(f"{method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def sign(self, payload: dict, expires: int = 300) -> str:
        """A JWT of ``payload`` with the emulator's secret (iat/exp added)."""
        if not self.secret:
            raise EmulatorError("the emulator runs without JWT")
        now = int(time.time())
        return jwt.encode({**payload, "iat": now, "exp": now + expires}, self.secret, algorithm="HS256")

    def sign_config(self, config: dict) -> dict:
        """Return a copy of an editor config with ``token`` = JWT of the whole config (as the app should)."""
        config = {k: v for k, v in config.items() if k != "token"}
        if self.secret:
            config["token"] = self.sign(config)
        return config

    # --- control API -----------------------------------------------------------

    def open_session(self, config: dict) -> dict:
        """Open an editor server-side: ``{"key", "error", "content", "conn", "mode", ...}``."""
        return self._call("POST", "/_emulator/sessions", {"config": config})

    def append(self, key: str, user_id: str, text: str) -> dict:
        """Append a paragraph/row/slide as ``user_id``; returns the session view."""
        return self._call("POST", f"/_emulator/sessions/{key}/append", {"user_id": user_id, "text": text})

    def forcesave(self, key: str, user_id: str) -> dict:
        """Click Save as ``user_id``: ``{"sent": bool}`` (status 6, forcesavetype 1)."""
        return self._call("POST", f"/_emulator/sessions/{key}/forcesave", {"user_id": user_id})

    def leave(self, key: str, user_id: str) -> dict:
        """Close the newest editor of ``user_id``."""
        return self._call("POST", f"/_emulator/sessions/{key}/leave", {"user_id": user_id})

    def session(self, key: str) -> dict:
        """Users, content lines, changed flag and state of a session."""
        return self._call("GET", f"/_emulator/sessions/{key}")

    def callbacks(self, key: str | None = None, status: int | None = None) -> list[dict]:
        """The callback attempt log, optionally filtered."""
        entries = self._call("GET", "/_emulator/callbacks")["callbacks"]
        return [e for e in entries if (key is None or e["key"] == key) and (status is None or e["status"] == status)]

    def clear_callbacks(self) -> None:
        """Empty the callback log."""
        self._call("DELETE", "/_emulator/callbacks")

    def drain_callbacks(self) -> list[dict]:
        """The callback attempt log so far, which the emulator then forgets (for long runs)."""
        return self._call("POST", "/_emulator/callbacks/drain")["callbacks"]

    def drain_downloads(self) -> list[dict]:
        """The download log so far, which the emulator then forgets (for long runs)."""
        return self._call("POST", "/_emulator/downloads/drain")["downloads"]

    def downloads(self) -> list[dict]:
        """Every download of document.url / conversion source / history file the emulator made."""
        return self._call("GET", "/_emulator/downloads")["downloads"]

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until no delayed save, retry or async conversion is pending (TimeoutError otherwise)."""
        answer = self._call("POST", "/_emulator/wait-idle", {"timeout": timeout}, ok=(200, 408), timeout=timeout + 10)
        if not answer["idle"]:
            raise TimeoutError(f"emulator still busy after {timeout}s ({answer['pending']} pending)")

    def fault(self, name: str, **options) -> dict:
        """Arm a fault (``times=n`` for more than one shot, ``status=`` to target a callback status)."""
        return self._call("POST", "/_emulator/faults", {"fault": name, **options})["armed"]

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._call("DELETE", "/_emulator/faults")

    def forgotten(self) -> dict:
        """``{"keys": [...], "files": {key: signed url}}``."""
        return self._call("GET", "/_emulator/forgotten")

    def put_file(self, content: bytes, filename: str = "output.docx") -> str:
        """Store bytes as Docs' output and return its signed /cache/files link."""
        import base64

        body = {"content": base64.b64encode(content).decode(), "filename": filename}
        return self._call("POST", "/_emulator/files", body)["url"]

    def requested(self, method: str, data: dict) -> dict:
        """What Docs makes of an object handed to an editor method such as insertImage: {ok, files} or {error}."""
        return self._call("POST", "/_emulator/requested", {"method": method, "data": data})

    def reset(self) -> None:
        """Forget all sessions, files, logs, faults and conversion results; restore run-time options."""
        self._call("POST", "/_emulator/reset")

    def set_options(self, **options) -> dict:
        """Change run-time options until the next reset: ``convert_delay`` (seconds each conversion
        takes), ``convert_timeout``, ``max_unzipped_bytes``, ``max_download_bytes`` (-10 beyond),
        ``lossy_save_format`` ("ooxml" or "original"). Returns every run-time option's value."""
        return self._call("POST", "/_emulator/options", options)["options"]

    # --- Docs services, called the way the app calls them -------------------------

    def _signed_request(
        self, path: str, payload: dict, headers: dict | None = None, timeout: float = 30
    ) -> requests.Response:
        headers = dict(headers or {})
        body = dict(payload)
        if self.secret:
            body["token"] = self.sign(payload)
            headers[self.jwt_header] = self.jwt_prefix + self.sign({"payload": payload})
        return self.http.post(self.url + path, json=body, headers=headers, timeout=timeout)

    def command(self, payload: dict) -> dict:
        """POST /command signed like the app (body token + header wrapper token when JWT is on)."""
        return self._signed_request("/command", payload).json()

    def convert(self, payload: dict, legacy: bool = False, accept: str = "application/json"):
        """POST /converter (or /ConvertService.ashx); JSON answers as dict, XML as text."""
        resp = self._signed_request(
            "/ConvertService.ashx" if legacy else "/converter", payload, {"Accept": accept}, timeout=180
        )
        if "json" in resp.headers.get("Content-Type", ""):
            return resp.json()
        return resp.text


def password_protected(data: bytes, password: str) -> bytes:
    """A password-protected copy of a docx/xlsx/pptx, as Office writes it (needs msoffcrypto-tool)."""
    from .office import encrypt_ooxml

    return encrypt_ooxml(data, password)


def start_emulator(**options) -> EmulatorProcess:
    """Start an emulator subprocess (see EmulatorProcess for the options); use as a context manager."""
    return EmulatorProcess(**options)

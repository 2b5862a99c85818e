"""Test helpers: a live server thread, a scriptable stand-in for Docs' file links, signing."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

SECRET = "test-secret-0123456789-abcdefghijklmnop"


# The suite's Redis server; the PostgreSQL pass runs beside the SQLite pass on a second server
# (the Makefile's `test`), since the tests of both empty the same numbered databases.
REDIS_SERVER = os.environ.get("COEDIT_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def redis_url(database: int) -> str:
    """The URL of one numbered database on the suite's Redis server."""
    return f"{REDIS_SERVER}/{database}"


def wait_for(condition, timeout: float = 10.0, what: str = "the condition"):
    """Poll condition until it answers something true, and return that (jobs run beside the
    request that asked for them; servers start beside the test)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class LiveServer:
    """Serve a WSGI app on 127.0.0.1 in a thread, on a free port."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        config = getattr(wsgi_app, "config", None)
        if config is not None and not config.get("APP_URL_FOR_DOCS"):
            config["APP_URL_FOR_DOCS"] = self.url  # where Docs (the emulator) reaches this app
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


class FakeDocsFiles:
    """Serves /cache/files/<name> with whatever a test puts there, and records every request.

    POST /converter is answered by ``converter`` (a function of the verified request's parameters
    returning the conversion service's JSON answer) when a test sets one: ``libreoffice_converter``
    converts for real. ``conversions`` records the parameters of every conversion request.
    """

    def __init__(self):
        self.files: dict[str, tuple[int, bytes, dict]] = {}
        self.requests: list[str] = []
        self.converter = None
        self.conversions: list[dict] = []
        self.server = LiveServer(self)
        self.url = self.server.url

    def put(self, name: str, body: bytes, status: int = 200, headers: dict | None = None) -> str:
        self.files[name] = (status, body, headers or {})
        return f"{self.url}/cache/files/{name}?md5=x&expires=9999999999"

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.full_path)
        if request.path == "/converter" and request.method == "POST" and self.converter is not None:
            return self._convert(request)(environ, start_response)
        name = request.path.removeprefix("/cache/files/")
        if name == "slow":
            time.sleep(3)
        status, body, headers = self.files.get(name, (404, b"not found", {}))
        response = Response(body, status=status, headers=headers)
        if "Content-Length" in headers:
            response.headers["Content-Length"] = headers["Content-Length"]
            response.automatically_set_content_length = False
        return response(environ, start_response)

    def _convert(self, request) -> Response:
        """The conversion service as Docs runs it: the JWT is checked (error -8), then the answer."""
        params = request.get_json(silent=True) or {}
        try:
            jwt.decode(params.get("token", ""), SECRET, algorithms=["HS256"])
        except jwt.PyJWTError:
            return Response(json.dumps({"error": -8}), mimetype="application/json")
        params = {k: v for k, v in params.items() if k != "token"}
        self.conversions.append(params)
        return Response(json.dumps(self.converter(params)), mimetype="application/json")

    def stored(self, url: str) -> bytes:
        """What this server serves at one of its /cache/files/ links."""
        name = url.split("/cache/files/", 1)[1].split("?", 1)[0]
        return self.files[name][1]

    def stop(self):
        self.server.stop()


def libreoffice_converter(docs: FakeDocsFiles):
    """A converter for FakeDocsFiles that converts with LibreOffice, asynchronously as Docs does:
    the first request starts the conversion and answers ``endConvert: false``; the identical
    request asked again gets the result (or ``error: -3``) once it is there."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    jobs: dict[tuple[str, str], dict] = {}
    lock = threading.Lock()

    def run(ident: tuple[str, str], params: dict) -> None:
        source, output = params["filetype"], params["outputtype"]
        with tempfile.TemporaryDirectory(prefix="fake-docs-convert-") as tmp:
            src = os.path.join(tmp, f"input.{source}")
            with open(src, "wb") as handle:
                handle.write(docs.stored(params["url"]))
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--headless",
                    "--convert-to",
                    output,
                    "--outdir",
                    tmp,
                    src,
                ],
                capture_output=True,
                timeout=180,
                env={**os.environ, "HOME": tmp},
            )
            out = os.path.join(tmp, f"input.{output}")
            if not os.path.exists(out):
                answer = {"error": -3}
            else:
                with open(out, "rb") as handle:
                    url = docs.put(f"conv_{params['key']}.{output}", handle.read())
                answer = {"endConvert": True, "fileType": output, "fileUrl": url, "percent": 100}
        with lock:
            jobs[ident] = answer

    def convert(params: dict) -> dict:
        ident = (params["key"], params["outputtype"])
        with lock:
            if ident not in jobs:
                jobs[ident] = {"endConvert": False, "percent": 0}
                threading.Thread(target=run, args=(ident, params), daemon=True).start()
            return jobs[ident]

    return convert


def docs_token(payload: dict, secret: str = SECRET, expires_in: int = 300, **extra) -> str:
    now = int(time.time())
    return jwt.encode({**payload, "iat": now, "exp": now + expires_in, **extra}, secret, algorithm="HS256")


def signed_callback(body: dict, secret: str = SECRET, expires_in: int = 300) -> tuple[dict, dict]:
    """A callback as Docs sends it: token in the body and the wrapper in the header."""
    signed = dict(body)
    signed["token"] = docs_token(body, secret, expires_in)
    headers = {"Authorization": "Bearer " + docs_token({"payload": body}, secret, expires_in)}
    return signed, headers


def post_signed_callback(url: str, body: dict, **options):
    """POST a callback with its token in the body only, as Docs sends it (``options`` to requests)."""
    import requests

    signed, _ = signed_callback(body)
    return requests.post(url, json=signed, timeout=10, **options)


def docx_with(*paragraphs: str) -> bytes:
    """A real docx holding these paragraphs."""
    import io

    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_text(data: bytes) -> list[str]:
    import io

    import docx

    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text]


class AppProcess:
    """The app in its own gunicorn process on a free loopback port, with its own instance folder.

    ``env`` adds COEDIT_* settings; several processes given one database URL and secret behave as
    several workers or instances of one installation.
    """

    def __init__(self, instance_dir, env: dict, workers: int = 1, args: tuple = (), port: int | None = None):
        import os
        import socket
        import sys

        if port is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.env = {**os.environ, "COEDIT_INSTANCE_PATH": str(instance_dir), **env}
        self.log_path = os.path.join(str(instance_dir), "gunicorn.log")
        os.makedirs(str(instance_dir), exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}", *args, "wsgi:app"],
            cwd=root,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers go with it, whatever happens to the master
        )
        self._wait()

    def _wait(self, timeout: float = 60):
        import requests

        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gunicorn did not start:\n" + open(self.log_path, errors="replace").read())
            time.sleep(0.1)

    def stop(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(10)
                break
            except subprocess.TimeoutExpired:
                continue
        self._log.close()


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def write_large_xlsx(path: str, rows: int) -> int:
    """Write a real xlsx whose one sheet has ``rows`` rows of three cells (two numbers and an
    inline string); returns the sheet part's uncompressed size. Written as a stream."""
    import io
    import zipfile

    from app.services.blanks import make_blank

    with zipfile.ZipFile(io.BytesIO(make_blank("xlsx"))) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    head, _, rest = parts.pop(sheet).decode("utf-8").partition("<sheetData>")
    tail = rest.partition("</sheetData>")[2]
    head = head.replace('<dimension ref="A1:A1"/>', f'<dimension ref="A1:C{max(rows, 1)}"/>')
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts.items():
            target.writestr(name, data)
        with target.open(sheet, "w", force_zip64=True) as member:

            def put(text: str) -> None:
                nonlocal written
                data = text.encode("utf-8")
                member.write(data)
                written += len(data)

            put(head + "<sheetData>")
            row = (
                '<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>%d</v></c>'
                '<c r="C%d" t="inlineStr"><is><t>row %d</t></is></c></row>'
            )
            for start in range(1, rows + 1, 10_000):
                put(
                    "".join(
                        [
                            row % (n, n, n, n, n * 7919 % 100_003, n, n)
                            for n in range(start, min(start + 10_000, rows + 1))
                        ]
                    )
                )
            put("</sheetData>" + tail)
    return written


def write_wordy_docx(path: str, paragraphs: int) -> int:
    """Write a real docx of many formatted paragraphs (a large document.xml, as a long report has);
    returns document.xml's uncompressed size."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(docx_with("wordy"))) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    head, _, rest = parts.pop("word/document.xml").decode("utf-8").partition("<w:body>")
    tail = "<w:body>" + rest
    written = 0
    run = (
        '<w:r><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri"/><w:b/><w:sz w:val="24"/></w:rPr>'
        '<w:t xml:space="preserve">{}</w:t></w:r>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts.items():
            target.writestr(name, data)
        with target.open("word/document.xml", "w", force_zip64=True) as member:

            def put(text: str) -> None:
                nonlocal written
                data = text.encode("utf-8")
                member.write(data)
                written += len(data)

            put(head + "<w:body>")
            for start in range(0, paragraphs, 5_000):
                put(
                    "".join(
                        '<w:p><w:pPr><w:spacing w:after="120"/></w:pPr>'
                        + run.format(f"Paragraph {n} of the report, ")
                        + run.format(f"with its own words {n * 7919 % 100_003}.")
                        + "</w:p>"
                        for n in range(start, min(start + 5_000, paragraphs))
                    )
                )
            put(tail.removeprefix("<w:body>"))
    return written


class QueryCounter:
    """Counts the SQL statements an app's engine runs while it is active (``with QueryCounter(app) as q``).

    Listens to SQLAlchemy's ``before_cursor_execute`` on the app's engine; ``statements`` keeps them
    for the assertion message.
    """

    def __init__(self, app):
        self.app = app
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self):
        import sqlalchemy as sa

        from app.extensions import db

        with self.app.app_context():
            self.engine = db.engine
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        import sqlalchemy as sa

        sa.event.remove(self.engine, "before_cursor_execute", self._record)

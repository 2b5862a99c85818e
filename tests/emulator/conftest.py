"""Fixtures for the emulator tests: a fake integrator (file server + callback recorder) on loopback,
emulator subprocesses, and builders for documents and editor configs."""

from __future__ import annotations

import io
import json
import threading
import time

import docx
import openpyxl
import pptx
import pytest
from pptx.util import Inches
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from docs_emulator import office
from docs_emulator.testing import start_emulator

SECRET = "emulator-tests-secret-0123456789abcdef"
SOFFICE = office.soffice_path(None)


def docx_bytes(*paragraphs: str) -> bytes:
    """A docx with the given paragraphs."""
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes(*rows) -> bytes:
    """An xlsx whose first sheet holds the given rows."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def pptx_bytes(*texts: str) -> bytes:
    """A pptx with one text box per slide."""
    deck = pptx.Presentation()
    for text in texts:
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        slide.shapes.add_textbox(0, 0, 100, 100).text_frame.text = text
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def deck(*texts: str) -> bytes:
    """A pptx with one text box per slide, big enough for its text to show on the page."""
    presentation = pptx.Presentation()
    for text in texts:
        slide = presentation.slides.add_slide(presentation.slide_layouts[6])
        slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1)).text_frame.text = text
    buf = io.BytesIO()
    presentation.save(buf)
    return buf.getvalue()


def paragraphs(data: bytes) -> list[str]:
    """The non-empty paragraphs of a docx."""
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text.strip()]


def cells(data: bytes) -> list:
    """The values of the first sheet of an xlsx, row by row."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [v for row in book.worksheets[0].iter_rows(values_only=True) for v in row if v is not None]


def slide_texts(data: bytes) -> list[str]:
    """The text of each slide of a pptx."""
    deck = pptx.Presentation(io.BytesIO(data))
    return [" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame).strip() for slide in deck.slides]


@pytest.fixture(scope="session")
def sources():
    """OOXML files with known text, and office files LibreOffice wrote from them (made once per run)."""
    if not SOFFICE:
        pytest.skip("needs LibreOffice (make libreoffice)")
    originals = {
        "docx": docx_bytes("Hello from the source", "Second paragraph"),
        "xlsx": xlsx_bytes(["Name", "Amount"], ["Widget", 42]),
        "pptx": deck("First slide text", "Second slide text"),
    }
    made = {}
    for ext, base in (("odt", "docx"), ("doc", "docx"), ("rtf", "docx"), ("ods", "xlsx"), ("xls", "xlsx")):
        made[ext] = office.soffice_convert(SOFFICE, originals[base], base, ext, 120)
    for ext in ("odp", "ppt"):
        made[ext] = office.soffice_convert(SOFFICE, originals["pptx"], "pptx", ext, 120)
    return {**originals, **made}


class FakeIntegrator:
    """A tiny document storage service: serves files, records downloads and callbacks.

    ``answer`` switches the callback reply: "ok" (200 {"error":0}), "500", "error1"
    (200 {"error":1}), "404", "empty" (200, no body); ``answers`` is a queue used first.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.file_status: dict[str, int] = {}
        self.downloads: list[dict] = []
        self.callbacks: list[dict] = []
        self.answer = "ok"
        self.answers: list[str] = []
        self.pages: dict[str, tuple[bytes, str, dict]] = {}
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def add(self, name: str, data: bytes) -> str:
        """Serve ``data`` at /files/<name>; returns the URL."""
        self.files[name] = data
        return f"{self.url}/files/{name}"

    @Request.application
    def wsgi(self, request: Request) -> Response:
        if request.path in self.pages:
            body, mimetype, headers = self.pages[request.path]
            return Response(body, mimetype=mimetype, headers=headers)
        if request.path.startswith("/files/"):
            name = request.path[len("/files/") :]
            with self._lock:
                self.downloads.append({"url": request.url, "headers": dict(request.headers), "time": time.time()})
            status = self.file_status.get(name, 200)
            if name not in self.files or status != 200:
                return Response("not here", status=404 if name not in self.files else status)
            return Response(self.files[name], mimetype="application/octet-stream")
        if request.path.startswith("/callback"):
            raw = request.get_data()
            with self._lock:
                answer = self.answers.pop(0) if self.answers else self.answer
                self.callbacks.append(
                    {
                        "url": request.url,
                        "headers": dict(request.headers),
                        "body": json.loads(raw or b"null"),
                        "time": time.time(),
                        "answered": answer,
                    }
                )
            if answer == "ok":
                return Response('{"error":0}', mimetype="application/json")
            if answer == "error1":
                return Response('{"error":1}', mimetype="application/json")
            if answer == "empty":
                return Response("", status=200)
            return Response("failure", status=int(answer))
        return Response("no", status=404)

    def bodies(self, status: int | None = None) -> list[dict]:
        """Recorded callback bodies, optionally only one status."""
        return [c["body"] for c in self.callbacks if status is None or c["body"].get("status") == status]

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def integrator():
    """A fresh fake integrator per test."""
    fake = FakeIntegrator()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def emu_process():
    """One JWT-enabled emulator for the whole run (tests reset it)."""
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.1) as emu:
        yield emu


@pytest.fixture
def emu(emu_process):
    """The shared emulator, reset to a clean state."""
    emu_process.reset()
    yield emu_process
    emu_process.wait_idle(10)


@pytest.fixture(scope="session")
def emu_nojwt():
    """An emulator with JWT off."""
    with start_emulator(no_jwt=True, save_delay=0.1, retry_base=0.05) as emu:
        yield emu


def make_config(
    integrator: FakeIntegrator,
    key: str,
    user_id: str = "u1",
    name: str = "Alice",
    mode: str = "edit",
    filename: str = "doc.docx",
    forcesave: bool = False,
    permissions: dict | None = None,
    callback: str | None = None,
) -> dict:
    """An editor config like the app builds, pointing at the fake integrator (unsigned)."""
    ext = filename.rsplit(".", 1)[-1]
    return {
        "document": {
            "fileType": ext,
            "key": key,
            "title": filename,
            "url": f"{integrator.url}/files/{filename}",
            "permissions": permissions if permissions is not None else {"edit": True, "download": True},
        },
        "editorConfig": {
            "mode": mode,
            "callbackUrl": callback or f"{integrator.url}/callback?file={filename}",
            "user": {"id": user_id, "name": name},
            "lang": "en",
            "customization": {"forcesave": forcesave},
        },
    }


def open_signed(emu, integrator, key, **kw) -> dict:
    """Sign a config with the emulator's secret and open it; assert success."""
    result = emu.open_session(emu.sign_config(make_config(integrator, key, **kw)))
    assert result["error"] == 0, result
    return result

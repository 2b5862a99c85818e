"""Test helpers: a live server thread, a scriptable stand-in for Docs' file links, signing."""

import threading
import time

import jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

SECRET = "test-secret-0123456789-abcdefghijklmnop"


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
    """Serves /cache/files/<name> with whatever a test puts there, and records every request."""

    def __init__(self):
        self.files: dict[str, tuple[int, bytes, dict]] = {}
        self.requests: list[str] = []
        self.server = LiveServer(self)
        self.url = self.server.url

    def put(self, name: str, body: bytes, status: int = 200, headers: dict | None = None) -> str:
        self.files[name] = (status, body, headers or {})
        return f"{self.url}/cache/files/{name}?md5=x&expires=9999999999"

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.full_path)
        name = request.path.removeprefix("/cache/files/")
        if name == "slow":
            time.sleep(3)
        status, body, headers = self.files.get(name, (404, b"not found", {}))
        response = Response(body, status=status, headers=headers)
        if "Content-Length" in headers:
            response.headers["Content-Length"] = headers["Content-Length"]
            response.automatically_set_content_length = False
        return response(environ, start_response)

    def stop(self):
        self.server.stop()


def docs_token(payload: dict, secret: str = SECRET, expires_in: int = 300, **extra) -> str:
    now = int(time.time())
    return jwt.encode({**payload, "iat": now, "exp": now + expires_in, **extra}, secret, algorithm="HS256")


def signed_callback(body: dict, secret: str = SECRET, expires_in: int = 300) -> tuple[dict, dict]:
    """A callback as Docs sends it: token in the body and the wrapper in the header."""
    signed = dict(body)
    signed["token"] = docs_token(body, secret, expires_in)
    headers = {"Authorization": "Bearer " + docs_token({"payload": body}, secret, expires_in)}
    return signed, headers


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

"""How the emulator downloads document.url: the outbox JWT header, failures, the key cache."""

import jwt

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import make_config
from .conftest import open_signed


def test_download_carries_jwt_with_exact_url(emu, integrator):
    """GET document.url with Authorization: Bearer JWT({"payload": {"url": <url>}}) and iat/exp."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-dl")
    (download,) = integrator.downloads
    header = download["headers"]["Authorization"]
    assert header.startswith("Bearer ")
    claims = jwt.decode(header[len("Bearer ") :], SECRET, algorithms=["HS256"])
    assert claims["payload"] == {"url": f"{integrator.url}/files/doc.docx"}
    assert claims["exp"] - claims["iat"] == 300


def test_download_failure_is_error_minus_4(emu, integrator):
    """A 404 from the storage: -4 "Download failed"."""
    config = emu.sign_config(make_config(integrator, "k-404", filename="missing.docx"))
    result = emu.open_session(config)
    assert result["error"] == -4 and result["errorDescription"] == "Download failed."


def test_same_key_is_not_downloaded_again(emu, integrator):
    """A second user with the same key joins the session; the file is fetched once."""
    integrator.add("doc.docx", docx_bytes("shared"))
    open_signed(emu, integrator, "k-same", user_id="u1")
    integrator.files["doc.docx"] = docx_bytes("changed on disk")
    second = open_signed(emu, integrator, "k-same", user_id="u2", name="Bob")
    assert second["content"] == ["shared"]
    assert len(integrator.downloads) == 1
    assert emu.session("k-same")["users"] == ["u1", "u2"]


def test_different_key_downloads_again(emu, integrator):
    """A new key is a new session with a fresh download."""
    integrator.add("doc.docx", docx_bytes("v1"))
    open_signed(emu, integrator, "k-a")
    integrator.files["doc.docx"] = docx_bytes("v2")
    assert open_signed(emu, integrator, "k-b")["content"] == ["v2"]
    assert len(integrator.downloads) == 2


def test_cached_key_after_unchanged_close_is_not_downloaded(emu, integrator):
    """After status 4 the key stays cached: reopening serves the old content."""
    integrator.add("doc.docx", docx_bytes("cached"))
    open_signed(emu, integrator, "k-cache")
    emu.leave("k-cache", "u1")
    emu.wait_idle()
    integrator.files["doc.docx"] = docx_bytes("new on disk")
    assert open_signed(emu, integrator, "k-cache")["content"] == ["cached"]
    assert len(integrator.downloads) == 1


def test_corrupt_file_is_open_error_and_cached(emu, integrator):
    """Garbage as docx: -82, and the failure sticks to the key."""
    integrator.add("doc.docx", b"this is not a zip")
    result = emu.open_session(emu.sign_config(make_config(integrator, "k-corrupt")))
    assert result["error"] == -82
    integrator.files["doc.docx"] = docx_bytes("fixed")
    assert emu.open_session(emu.sign_config(make_config(integrator, "k-corrupt")))["error"] == -82
    assert len(integrator.downloads) == 1


def test_empty_file_becomes_blank_document(emu, integrator):
    """A 0-byte source opens as a new blank document (Docs' template substitution)."""
    integrator.add("doc.docx", b"")
    assert open_signed(emu, integrator, "k-empty")["content"] == []


def test_no_jwt_download_has_no_header(emu_nojwt, integrator):
    """JWT off: no Authorization header."""
    integrator.add("doc.docx", docx_bytes("x"))
    emu_nojwt.open_session(make_config(integrator, "k-nohdr"))
    assert "Authorization" not in integrator.downloads[0]["headers"]
    emu_nojwt.leave("k-nohdr", "u1")

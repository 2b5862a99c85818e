"""Fault injection through the control API: each fault, one-shot and counted."""

import time

import jwt
import pytest
import requests

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import open_signed


@pytest.fixture
def saved_url(emu, integrator):
    """A signed link to a force-saved docx."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-faults", forcesave=True)
    emu.append("k-faults", "u1", "y")
    emu.forcesave("k-faults", "u1")
    return integrator.bodies(6)[-1]["url"]


def _changed_session(emu, integrator, key):
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, key, forcesave=True)
    emu.append(key, "u1", "y")


def test_unknown_fault_is_rejected(emu):
    """Names are checked; required options too."""
    resp = requests.post(emu.url + "/_emulator/faults", json={"fault": "meteor"})
    assert resp.status_code == 400
    resp = requests.post(emu.url + "/_emulator/faults", json={"fault": "download_redirect"})
    assert resp.status_code == 400


def test_download_404_once(emu, saved_url):
    """One 404, then the link works again."""
    emu.fault("download_404")
    assert requests.get(saved_url).status_code == 404
    assert requests.get(saved_url).status_code == 200


def test_download_truncated_drops_connection(emu, saved_url):
    """Content-Length promises more than is sent, then the connection closes."""
    emu.fault("download_truncated")
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(saved_url, timeout=5)
    assert requests.get(saved_url).status_code == 200


def test_download_truncated_half(emu, saved_url):
    """mode half: a consistent response carrying half a zip."""
    full = requests.get(saved_url).content
    emu.fault("download_truncated", mode="half")
    resp = requests.get(saved_url)
    assert resp.status_code == 200 and resp.content == full[: len(full) // 2]


def test_download_garbage(emu, saved_url):
    """200 with random bytes that are not a zip."""
    emu.fault("download_garbage")
    resp = requests.get(saved_url)
    assert resp.status_code == 200 and not resp.content.startswith(b"PK")


def test_download_slow(emu, saved_url):
    """The answer waits the given seconds."""
    emu.fault("download_slow", seconds=0.5)
    start = time.monotonic()
    assert requests.get(saved_url).status_code == 200
    assert time.monotonic() - start >= 0.5


def test_download_redirect(emu, saved_url):
    """302 to the given location."""
    emu.fault("download_redirect", location="http://127.0.0.1:9/elsewhere")
    resp = requests.get(saved_url, allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"] == "http://127.0.0.1:9/elsewhere"


def test_times_counts_uses(emu, saved_url):
    """times=2: two faulty answers, then normal; DELETE clears."""
    emu.fault("download_404", times=2)
    assert [requests.get(saved_url).status_code for _ in range(3)] == [404, 404, 200]
    emu.fault("download_404", times=5)
    emu.clear_faults()
    assert requests.get(saved_url).status_code == 200


def test_callback_twice(emu, integrator):
    """The next callback arrives twice, identical."""
    _changed_session(emu, integrator, "k-twice")
    emu.fault("callback_twice")
    emu.forcesave("k-twice", "u1")
    first, second = integrator.bodies(6)
    assert first == second
    assert [e["duplicate"] for e in emu.callbacks(key="k-twice", status=6)] == [False, True]


def test_callback_wrong_secret(emu, integrator):
    """Signed with another secret: the integrator must reject it."""
    _changed_session(emu, integrator, "k-wrong")
    emu.fault("callback_wrong_secret")
    emu.forcesave("k-wrong", "u1")
    (cb,) = [c for c in integrator.callbacks if c["body"]["status"] == 6]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(cb["body"]["token"], SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(cb["headers"]["Authorization"][7:], SECRET, algorithms=["HS256"])


def test_callback_other_key(emu, integrator):
    """Another key in the (validly signed) body."""
    _changed_session(emu, integrator, "k-mine")
    emu.fault("callback_other_key", key="k-theirs")
    emu.forcesave("k-mine", "u1")
    body = integrator.bodies(6)[0]
    assert body["key"] == "k-theirs"
    assert jwt.decode(body["token"], SECRET, algorithms=["HS256"])["key"] == "k-theirs"


def test_callback_url_override_targets_file_callbacks(emu, integrator):
    """The url of the next status 2/6 callback points elsewhere (SSRF probe); status 1 untouched."""
    emu.fault("callback_url_override", url="http://169.254.169.254/latest/meta-data/")
    _changed_session(emu, integrator, "k-ssrf")
    assert "url" not in integrator.bodies(1)[0]
    emu.forcesave("k-ssrf", "u1")
    body = integrator.bodies(6)[0]
    assert body["url"] == "http://169.254.169.254/latest/meta-data/"
    assert jwt.decode(body["token"], SECRET, algorithms=["HS256"])["url"] == body["url"]


def test_callback_unreachable_triggers_retries(emu, integrator):
    """Connection errors on every attempt: 4 attempts, then a forgotten file."""
    _changed_session(emu, integrator, "k-down")
    emu.fault("callback_unreachable", status=2)
    emu.leave("k-down", "u1")
    emu.wait_idle()
    log = emu.callbacks(key="k-down", status=2)
    assert len(log) == 4 and all(e["http_status"] is None and e["error"] for e in log)
    assert integrator.bodies(2) == []
    assert emu.forgotten()["keys"] == ["k-down"]


def test_callback_unreachable_for_some_attempts(emu, integrator):
    """attempts=2: two failures, then the third attempt is delivered."""
    _changed_session(emu, integrator, "k-flaky")
    emu.fault("callback_unreachable", status=2, attempts=2)
    emu.leave("k-flaky", "u1")
    emu.wait_idle()
    assert [e["ok"] for e in emu.callbacks(key="k-flaky", status=2)] == [False, False, True]
    assert emu.forgotten()["keys"] == []


def test_callback_body(emu, integrator):
    """Exactly this body, signed, as the next callback."""
    _changed_session(emu, integrator, "k-body")
    emu.fault("callback_body", body={"key": "k-body", "status": 3, "url": "http://x/y"})
    emu.forcesave("k-body", "u1")
    (cb,) = [c for c in integrator.callbacks if c["body"]["status"] == 3]
    body = dict(cb["body"])
    claims = jwt.decode(body.pop("token"), SECRET, algorithms=["HS256"])
    assert body == {"key": "k-body", "status": 3, "url": "http://x/y"}
    assert claims["status"] == 3

"""The JSON API the editor iframe uses (/_emu/editor/...), tested without a browser."""

import time

import jwt
import requests

from docs_emulator.testing import start_emulator

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import make_config


def _post(emu, path, body):
    return requests.post(f"{emu.url}/_emu/editor/{path}", json=body).json()


def _open(emu, config, events=()):
    return _post(emu, "open", {"config": config, "events": list(events)})


def test_open_poll_append_leave(emu, integrator):
    """The iframe's calls drive the same session as the control API."""
    integrator.add("doc.docx", docx_bytes("a"))
    opened = _open(emu, emu.sign_config(make_config(integrator, "e-flow")))
    assert opened["error"] == 0 and opened["canAppend"] is True and "token" not in opened["config"]
    conn = opened["conn"]
    assert _post(emu, "append", {"conn": conn, "text": "b"})["lines"] == ["a", "b"]
    poll = requests.get(f"{emu.url}/_emu/editor/poll", params={"conn": conn}).json()
    assert poll["lines"] == ["a", "b"] and poll["users"][0]["id"] == "u1" and not poll["ended"]
    assert _post(emu, "forcesave", {"conn": conn}) == {"ok": True, "sent": True}
    url = _post(emu, "download-url", {"conn": conn})["url"]
    assert requests.get(url).status_code == 200
    # sendBeacon posts text/plain; the leave endpoint must still understand it.
    requests.post(f"{emu.url}/_emu/editor/leave", data=f'{{"conn": "{conn}"}}', headers={"Content-Type": "text/plain"})
    emu.wait_idle()
    assert integrator.bodies(2)[0]["users"] == ["u1"]
    assert requests.get(f"{emu.url}/_emu/editor/poll", params={"conn": conn}).json()["ended"] is True


def test_viewer_cannot_append(emu, integrator):
    """A viewer's append is refused."""
    integrator.add("doc.docx", docx_bytes("a"))
    opened = _open(emu, emu.sign_config(make_config(integrator, "e-view", mode="view")))
    resp = requests.post(f"{emu.url}/_emu/editor/append", json={"conn": opened["conn"], "text": "x"})
    assert resp.status_code == 403


def test_history_data_token(emu, integrator):
    """setHistoryData: token required and checked; the version's file is fetched with the outbox JWT."""
    integrator.add("doc.docx", docx_bytes("now"))
    conn = _open(emu, emu.sign_config(make_config(integrator, "e-hist")))["conn"]
    old_url = integrator.add("old.docx", docx_bytes("then"))
    changes_url = integrator.add("diff.zip", b"PK\x03\x04fake")
    data = {"version": 1, "key": "v1", "url": old_url, "fileType": "docx", "changesUrl": changes_url}
    assert "History loading failed" in _post(emu, "history-data", {"conn": conn, "data": data})["error"]
    bad = {**data, "token": jwt.encode(data, "wrong-secret-wrong-secret-wrong!", algorithm="HS256")}
    assert "invalid history token" in _post(emu, "history-data", {"conn": conn, "data": bad})["error"]
    good = {**data, "token": jwt.encode(data, SECRET, algorithm="HS256")}
    answer = _post(emu, "history-data", {"conn": conn, "data": good})
    assert answer["lines"] == ["then"] and answer["info"] == ["changesUrl: 8 bytes (zip)"]
    header = integrator.downloads[-1]["headers"]["Authorization"]
    assert jwt.decode(header[7:], SECRET, algorithms=["HS256"])["payload"]["url"] == changes_url


def test_history_error_object(emu, integrator):
    """{"version", "error"} is shown as a failure."""
    integrator.add("doc.docx", docx_bytes("now"))
    conn = _open(emu, emu.sign_config(make_config(integrator, "e-herr")))["conn"]
    assert _post(emu, "history-data", {"conn": conn, "data": {"version": 1, "error": "gone"}}) == {"error": "gone"}


def test_idle_browser_editor_is_disconnected(integrator):
    """An iframe that stops polling counts as a dropped connection: status 1 leave, then the save."""
    integrator.add("doc.docx", docx_bytes("a"))
    with start_emulator(jwt_secret=SECRET, idle_timeout=0.5, save_delay=0.1) as emu:
        opened = _open(emu, emu.sign_config(make_config(integrator, "e-idle")))
        _post(emu, "append", {"conn": opened["conn"], "text": "b"})
        deadline = time.monotonic() + 5
        while not integrator.bodies(2) and time.monotonic() < deadline:
            time.sleep(0.1)
        emu.wait_idle()
        assert [b["actions"][0]["type"] for b in integrator.bodies(1)] == [1, 0]
        assert integrator.bodies(2)[0]["users"] == ["u1"]

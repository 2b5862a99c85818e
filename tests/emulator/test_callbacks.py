"""Callbacks: signing, status 1/2/4/6, the retry schedule, forgotten files and key reuse."""

import io
import re
import zipfile

import docx
import jwt
import requests

from docs_emulator.testing import start_emulator

from .conftest import SECRET
from .conftest import FakeIntegrator
from .conftest import docx_bytes
from .conftest import make_config
from .conftest import open_signed


def _decode(token, secret=SECRET):
    return jwt.decode(token, secret, algorithms=["HS256"])


def test_callbacks_are_signed_like_docs(emu, integrator):
    """Body token = JWT of the body itself; header = Bearer JWT of {"payload": body}; both with iat/exp."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-sign")
    (cb,) = integrator.callbacks
    assert cb["headers"]["Content-Type"] == "application/json"
    body = dict(cb["body"])
    body_claims = _decode(body.pop("token"))
    assert {k: v for k, v in body_claims.items() if k not in ("iat", "exp")} == body
    assert body_claims["exp"] > body_claims["iat"]
    header_claims = _decode(cb["headers"]["Authorization"][len("Bearer ") :])
    assert header_claims["payload"] == body and "exp" in header_claims


def test_custom_header_and_prefix(integrator):
    """--jwt-header/--jwt-prefix change the callback and download header."""
    integrator.add("doc.docx", docx_bytes("x"))
    with start_emulator(jwt_secret=SECRET, jwt_header="AuthorizationJwt", jwt_prefix="Token ") as emu:
        open_signed(emu, integrator, "k-hdr")
        for request in (integrator.downloads[0], integrator.callbacks[0]):
            assert "Authorization" not in request["headers"]
            value = request["headers"]["Authorizationjwt"]
            assert value.startswith("Token ")
            _decode(value[len("Token ") :])


def test_no_jwt_callbacks_carry_no_token(emu_nojwt, integrator):
    """JWT off: plain JSON body, no header."""
    integrator.add("doc.docx", docx_bytes("x"))
    emu_nojwt.open_session(make_config(integrator, "k-plain"))
    emu_nojwt.leave("k-plain", "u1")
    emu_nojwt.wait_idle()
    assert all("token" not in c["body"] and "Authorization" not in c["headers"] for c in integrator.callbacks)


def test_status_1_on_join_and_leave(emu, integrator):
    """Each editor join/leave sends status 1 with current editors to that user's callbackUrl."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-s1", user_id="u1", callback=integrator.url + "/callback/a")
    open_signed(emu, integrator, "k-s1", user_id="u2", name="Bob", callback=integrator.url + "/callback/b")
    open_signed(emu, integrator, "k-s1", user_id="v1", mode="view")  # viewers: no callback
    emu.leave("k-s1", "u1")
    bodies = [{k: v for k, v in c["body"].items() if k != "token"} for c in integrator.callbacks]
    assert bodies == [
        {"key": "k-s1", "status": 1, "users": ["u1"], "actions": [{"type": 1, "userid": "u1"}]},
        {"key": "k-s1", "status": 1, "users": ["u1", "u2"], "actions": [{"type": 1, "userid": "u2"}]},
        {"key": "k-s1", "status": 1, "users": ["u2"], "actions": [{"type": 0, "userid": "u1"}]},
    ]
    assert [c["url"].rsplit("/", 1)[-1] for c in integrator.callbacks] == ["a", "b", "a"]


def test_forcesave_button_sends_status_6(emu, integrator):
    """Save → status 6, forcesavetype 1, url of the current content, to the clicking user."""
    integrator.add("doc.docx", docx_bytes("one"))
    open_signed(emu, integrator, "k-fs", forcesave=True)
    assert emu.forcesave("k-fs", "u1") == {"sent": False}  # nothing changed yet
    emu.append("k-fs", "u1", "two")
    assert emu.forcesave("k-fs", "u1") == {"sent": True}
    (body,) = integrator.bodies(6)
    assert body["forcesavetype"] == 1
    assert body["users"] == ["u1"] and body["actions"] == [{"type": 2, "userid": "u1"}]
    assert body["filetype"] == "docx" and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["lastsave"])
    saved = docx.Document(io.BytesIO(requests.get(body["url"]).content))
    assert [p.text for p in saved.paragraphs] == ["one", "two"]
    assert emu.session("k-fs")["state"] == "open"


def test_last_leave_with_changes_sends_status_2(emu, integrator):
    """After the save delay: status 2 with url, changesurl, history, users, actions, filetype, lastsave."""
    integrator.add("doc.docx", docx_bytes("start"))
    open_signed(emu, integrator, "k-s2", user_id="u1", callback=integrator.url + "/callback/u1")
    open_signed(emu, integrator, "k-s2", user_id="u2", name="Bob", callback=integrator.url + "/callback/u2")
    emu.append("k-s2", "u1", "from alice")
    emu.append("k-s2", "u2", "from bob")
    emu.leave("k-s2", "u2")
    emu.leave("k-s2", "u1")
    emu.wait_idle()
    (cb,) = [c for c in integrator.callbacks if c["body"]["status"] == 2]
    body = cb["body"]
    assert cb["url"].endswith("/callback/u2")  # the last user who changed the document
    assert body["key"] == "k-s2" and body["users"] == ["u2"]
    assert body["actions"] == [{"type": 0, "userid": "u1"}]
    assert body["filetype"] == "docx" and body["notmodified"] is False and body["lastsave"]
    assert body["history"]["serverVersion"] == "9.0.0"
    changes = body["history"]["changes"]
    assert [c["user"] for c in changes] == [{"id": "u1", "name": "Alice"}, {"id": "u2", "name": "Bob"}]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", changes[0]["created"])
    saved = docx.Document(io.BytesIO(requests.get(body["url"]).content))
    assert [p.text for p in saved.paragraphs] == ["start", "from alice", "from bob"]
    with zipfile.ZipFile(io.BytesIO(requests.get(body["changesurl"]).content)) as zf:
        assert zf.namelist()
    assert body["url"].startswith(emu.url + "/cache/files/")


def test_last_leave_without_changes_sends_status_4(emu, integrator):
    """Nobody changed anything: {"key", "status": 4} only."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-s4")
    emu.leave("k-s4", "u1")
    emu.wait_idle()
    body = dict(integrator.bodies()[-1])
    body.pop("token")
    assert body == {"key": "k-s4", "status": 4}


def test_notmodified_after_forcesave(emu, integrator):
    """Everything already force-saved: status 2 says notmodified true."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-nm", forcesave=True)
    emu.append("k-nm", "u1", "y")
    emu.forcesave("k-nm", "u1")
    emu.leave("k-nm", "u1")
    emu.wait_idle()
    assert integrator.bodies(2)[0]["notmodified"] is True


def test_rejoin_within_save_delay_keeps_session(integrator):
    """A reconnect before the save delay ends cancels the save."""
    integrator.add("doc.docx", docx_bytes("x"))
    with start_emulator(jwt_secret=SECRET, save_delay=2) as emu:
        open_signed(emu, integrator, "k-rj")
        emu.append("k-rj", "u1", "y")
        emu.leave("k-rj", "u1")
        assert emu.session("k-rj")["state"] == "closing"
        again = open_signed(emu, integrator, "k-rj")
        assert again["content"] == ["x", "y"]
        assert emu.session("k-rj")["state"] == "open"
        emu.wait_idle(5)
        assert integrator.bodies(2) == []


def test_retry_schedule_then_forgotten(emu, integrator):
    """500 answers: 3 retries at base*1, *2, *4 seconds, then a forgotten file."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-retry")
    emu.append("k-retry", "u1", "lost?")
    integrator.answer = "500"
    emu.leave("k-retry", "u1")
    emu.wait_idle()
    times = [c["time"] for c in integrator.callbacks if c["body"]["status"] == 2]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    for gap, expected in zip(gaps, (0.1, 0.2, 0.4), strict=True):  # retry_base 0.1 in the shared emulator
        assert expected * 0.9 <= gap < expected + 0.5, gaps
    log = emu.callbacks(key="k-retry", status=2)
    assert [e["attempt"] for e in log] == [1, 2, 3, 4] and [e["http_status"] for e in log] == [500] * 4
    forgotten = emu.forgotten()
    assert forgotten["keys"] == ["k-retry"]
    content = requests.get(forgotten["files"]["k-retry"]).content
    assert [p.text for p in docx.Document(io.BytesIO(content)).paragraphs] == ["x", "lost?"]
    answer = emu.command({"c": "getForgotten", "key": "k-retry"})
    assert answer["error"] == 0 and answer["url"].startswith(emu.url + "/cache/files/")


def test_retry_then_success(emu, integrator):
    """A transient 503 then ok: two attempts, no forgotten file, key now saved (-102 on reuse)."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-503")
    emu.append("k-503", "u1", "y")
    integrator.answers = ["200", "503"]  # the status-1 leave gets "200" (no JSON: a warning only)
    emu.leave("k-503", "u1")
    emu.wait_idle()
    assert [e["http_status"] for e in emu.callbacks(key="k-503", status=2)] == [503, 200]
    assert emu.forgotten()["keys"] == []
    reopened = emu.open_session(emu.sign_config(make_config(integrator, "k-503")))
    assert reopened["error"] == -102


def test_no_retry_on_error_answer(emu, integrator):
    """HTTP 200 {"error": 1} (or a 404): one attempt, then forgotten."""
    integrator.add("doc.docx", docx_bytes("x"))
    for key, answer in (("k-e1", "error1"), ("k-e404", "404"), ("k-empty", "empty")):
        integrator.answer = "ok"
        open_signed(emu, integrator, key)
        emu.append(key, "u1", "y")
        integrator.answer = answer
        emu.leave(key, "u1")
        emu.wait_idle()
        assert len(emu.callbacks(key=key, status=2)) == 1, key
    assert emu.forgotten()["keys"] == ["k-e1", "k-e404", "k-empty"]


def test_reopen_from_forgotten_and_save_again(emu, integrator):
    """Same key after a failed save: opens the forgotten content; closing tries status 2 again."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-again")
    emu.append("k-again", "u1", "kept")
    integrator.answer = "error1"
    emu.leave("k-again", "u1")
    emu.wait_idle()
    integrator.answer = "ok"
    reopened = open_signed(emu, integrator, "k-again")
    assert reopened["content"] == ["x", "kept"] and reopened["warnings"]
    emu.leave("k-again", "u1")
    emu.wait_idle()
    assert emu.callbacks(key="k-again", status=2)[-1]["ok"]
    assert emu.forgotten()["keys"] == []


def test_forgotten_commands(emu, integrator):
    """getForgottenList, getForgotten and deleteForgotten over the command service."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-fg")
    emu.append("k-fg", "u1", "y")
    integrator.answer = "error1"
    emu.leave("k-fg", "u1")
    emu.wait_idle()
    assert emu.command({"c": "getForgottenList"}) == {"error": 0, "keys": ["k-fg"]}
    assert emu.command({"c": "getForgotten", "key": "nope"}) == {"key": "nope", "error": 1}
    assert emu.command({"c": "deleteForgotten", "key": "k-fg"}) == {"key": "k-fg", "error": 0}
    assert emu.command({"c": "deleteForgotten", "key": "k-fg"}) == {"key": "k-fg", "error": 1}
    assert emu.command({"c": "getForgottenList"})["keys"] == []


def test_callback_log_records_answers(emu, integrator):
    """The control log has time, status, url, attempt, http status and answer."""
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-log")
    (entry,) = emu.callbacks(key="k-log")
    assert entry["status"] == 1 and entry["attempt"] == 1 and entry["http_status"] == 200
    assert entry["answer"] == '{"error":0}' and entry["ok"] is True and entry["url"].startswith(integrator.url)


def test_unreachable_status_1_warns_editors(emu):
    """A callbackUrl nobody listens on: the editor still opens; the session gets a warning."""
    fake = FakeIntegrator()
    fake.add("doc.docx", docx_bytes("x"))
    config = make_config(fake, "k-down", callback="http://127.0.0.1:9/callback")
    result = emu.open_session(emu.sign_config(config))
    fake.stop()
    assert result["error"] == 0
    (entry,) = emu.callbacks(key="k-down")
    assert entry["http_status"] is None and entry["error"] and not entry["ok"]

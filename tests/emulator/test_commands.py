"""The command service: every command, its error codes, and the inbox token rules."""

import time

import jwt
import requests

from tests.helpers import wait_for

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import open_signed


def test_version(emu):
    """version needs no key."""
    assert emu.command({"c": "version"}) == {"error": 0, "version": "9.0.0.1"}


def test_legacy_address(emu):
    """/coauthoring/CommandService.ashx answers the same."""
    token = emu.sign({"c": "version"})
    resp = requests.post(emu.url + "/coauthoring/CommandService.ashx", json={"token": token})
    assert resp.status_code == 200 and resp.json()["version"] == "9.0.0.1"


def test_token_errors(emu):
    """No token or a bad one: 6; expired: 7; always HTTP 200."""
    resp = requests.post(emu.url + "/command", json={"c": "version"})
    assert resp.status_code == 200 and resp.json() == {"error": 6}
    bad = jwt.encode({"c": "version"}, "wrong-secret-wrong-secret-wrong!", algorithm="HS256")
    assert requests.post(emu.url + "/command", json={"token": bad}).json() == {"error": 6}
    old = jwt.encode({"c": "version", "exp": int(time.time()) - 120}, SECRET, algorithm="HS256")
    assert requests.post(emu.url + "/command", json={"token": old}).json() == {"error": 7}


def test_header_token_only(emu):
    """A header token with the payload wrapper is enough; without the prefix it is invalid."""
    token = jwt.encode({"payload": {"c": "version"}}, SECRET, algorithm="HS256")
    ok = requests.post(emu.url + "/command", json={"c": "version"}, headers={"Authorization": "Bearer " + token})
    assert ok.json()["error"] == 0
    bare = requests.post(emu.url + "/command", json={"c": "version"}, headers={"Authorization": token})
    assert bare.json() == {"error": 6}


def test_token_params_win_over_body(emu):
    """With a valid token only the token's data counts."""
    token = jwt.encode({"c": "version"}, SECRET, algorithm="HS256")
    answer = requests.post(emu.url + "/command", json={"c": "drop", "key": "x", "token": token}).json()
    assert answer["version"] == "9.0.0.1"


def test_unknown_command(emu):
    """Unknown c: error 5."""
    assert emu.command({"c": "explode", "key": "k"}) == {"key": "k", "error": 5}
    assert emu.command({"c": "explode"}) == {"error": 5}


def test_info(emu, integrator):
    """info: error 1 for unknown keys; users and a status-1 callback with userdata otherwise."""
    assert emu.command({"c": "info", "key": "nope"}) == {"key": "nope", "error": 1}
    assert emu.command({"c": "info", "key": 42}) == {"key": 42, "error": 1}
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-info")
    assert emu.command({"c": "info", "key": "k-info", "userdata": "hello"}) == {
        "key": "k-info",
        "error": 0,
        "users": ["u1"],
    }
    emu.wait_idle()
    body = integrator.bodies(1)[-1]
    assert body["userdata"] == "hello" and body["users"] == ["u1"] and "actions" not in body


def test_drop(emu, integrator):
    """drop disconnects the listed users (their editors get -100)."""
    integrator.add("doc.docx", docx_bytes("x"))
    first = open_signed(emu, integrator, "k-drop", user_id="u1")
    open_signed(emu, integrator, "k-drop", user_id="u2", name="Bob")
    assert emu.command({"c": "drop", "key": "k-drop", "users": ["u1"]}) == {"key": "k-drop", "error": 0}
    assert emu.session("k-drop")["users"] == ["u2"]
    poll = requests.get(emu.url + "/_emu/editor/poll", params={"conn": first["conn"]}).json()
    assert poll["ended"] and poll["code"] == -100
    # The leave is reported by a callback of its own, sent after the command is answered.
    wait_for(lambda: integrator.bodies(1)[-1]["actions"] == [{"type": 0, "userid": "u1"}], 10, "the leave callback")
    assert emu.command({"c": "drop", "key": "nope"})["error"] == 1


def test_forcesave_command(emu, integrator):
    """forcesave: 1 unknown key, 4 without changes, else status 6 with forcesavetype 0 and userdata."""
    assert emu.command({"c": "forcesave", "key": "nope"})["error"] == 1
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, "k-fsc")
    assert emu.command({"c": "forcesave", "key": "k-fsc"}) == {"key": "k-fsc", "error": 4}
    emu.append("k-fsc", "u1", "y")
    assert emu.command({"c": "forcesave", "key": "k-fsc", "userdata": "ud"}) == {"key": "k-fsc", "error": 0}
    emu.wait_idle()
    (body,) = integrator.bodies(6)
    assert body["forcesavetype"] == 0 and body["userdata"] == "ud" and body["users"] == ["u1"]
    assert "actions" not in body
    assert emu.command({"c": "forcesave", "key": "k-fsc"})["error"] == 4


def test_meta(emu, integrator):
    """meta: 5 without meta, 1 unknown key; the title reaches the open editors."""
    integrator.add("doc.docx", docx_bytes("x"))
    opened = open_signed(emu, integrator, "k-meta")
    assert emu.command({"c": "meta", "key": "k-meta"})["error"] == 5
    assert emu.command({"c": "meta", "key": "nope", "meta": {"title": "a.docx"}})["error"] == 1
    assert emu.command({"c": "meta", "key": "k-meta", "meta": {"title": "New.docx"}})["error"] == 0
    assert emu.session("k-meta")["title"] == "New.docx"
    poll = requests.get(emu.url + "/_emu/editor/poll", params={"conn": opened["conn"]}).json()
    assert {"type": "meta", "data": {"title": "New.docx"}} in poll["events"]


def test_license(emu):
    """license: a plausible open-source answer."""
    answer = emu.command({"c": "license"})
    assert answer["error"] == 0
    assert answer["server"]["resultType"] == 3 and answer["server"]["packageType"] == 0

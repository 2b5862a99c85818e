"""The smaller findings of the outside audit, one test each, over real HTTP where it matters."""

import errno
import io
import os
import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa

from docs_emulator.testing import start_emulator
from tests.helpers import SECRET
from tests.helpers import AppProcess
from tests.helpers import docx_with
from tests.test_share_links import join
from tests.test_share_links import make_link
from tests.test_share_links import path_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def restrict_editors(world, *usernames):
    from app.extensions import db
    from app.services import settings

    def apply():
        settings.save({"editor_users": "\n".join(usernames)})
        db.session.commit()

    world.query(apply)


# --- one rule for who may use the editors ----------------------------------------------------


def test_the_editor_restriction_holds_on_share_links(world):
    doc = world.create_document("bob", "Bob's own")  # bob owns it, so he may share it
    link = make_link(world, doc["id"], "edit", user="bob")
    restrict_editors(world, "alice")
    # bob, signed in, opening his own edit link: refused like on the editor page.
    bob = world.client("bob")
    assert bob.get(f"/files/{doc['id']}/open").status_code == 403
    join(world, link, "Bob", client=bob)
    assert bob.get(path_of(link) + "/open").status_code == 403
    # Signed out, the link still carries his use of the editors: refused too.
    anonymous = join(world, link, "Not Bob")
    assert anonymous.get(path_of(link) + "/open").status_code == 403
    # A link of someone allowed works for guests.
    allowed = make_link(world, doc["id"], "edit", user="alice")
    assert join(world, allowed, "Guest").get(path_of(allowed) + "/open").status_code == 200
    api = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob"))
    assert api.status_code == 403


# --- @mentions name only colleagues ------------------------------------------------------------


def test_mentions_never_reveal_accounts_outside_the_askers_spaces(world):
    from app.extensions import db
    from app.models import User

    def emails():
        for name in ("alice", "bob", "carol"):
            db.session.get(User, world.user_ids[name]).email = f"{name}@example.test"
        db.session.commit()

    world.query(emails)
    doc = world.create_document("alice", "Plan")
    bob = world.client("bob")
    answer = bob.post(
        f"/files/{doc['id']}/mentions", json={"emails": ["carol@example.test", "alice@example.test"], "message": "hi"}
    ).get_json()
    # carol shares no space with bob: she is neither notified nor named.
    assert answer["notified"] == ["Alice Archer"] and answer["no_access"] == []
    # Once carol shares a space with bob (another one), she may be named as someone without access.
    space = world.client().post("/api/v1/spaces", json={"name": "Elsewhere"}, headers=world.api("carol")).get_json()
    assert (
        world.client()
        .post(f"/api/v1/spaces/{space['id']}/members", json={"username": "bob"}, headers=world.api("carol"))
        .status_code
        == 201
    )
    answer = bob.post(f"/files/{doc['id']}/mentions", json={"emails": ["carol@example.test"]}).get_json()
    assert answer["no_access"] == [{"username": "carol", "name": "Carol Cook"}]


# --- JSON bodies ---------------------------------------------------------------------------------


def test_json_bodies_are_small_and_flat(world):
    doc = world.create_document("alice", "Json")
    deep = "[" * 100_000 + "]" * 100_000
    big = '{"title": "' + "x" * (1024 * 1024 + 10) + '"}'
    api, alice = world.api("alice"), world.client("alice")
    targets = [
        ("post", f"{world.url}/api/v1/spaces/{world.space_id}/documents", api),
        ("put", f"{world.url}/api/v1/files/{doc['id']}/rights", api),
    ]
    for method, url, headers in targets:
        for body, status in ((deep, 400), (big, 413)):
            answer = getattr(requests, method)(
                url, data=body, timeout=30, headers={**headers, "Content-Type": "application/json"}
            )
            assert answer.status_code == status, (url, status, answer.text[:200])
            assert answer.json()["status"] == status
    for body, status in ((deep, 400), (big, 413)):
        answer = alice.post(f"/files/{doc['id']}/mentions", data=body, content_type="application/json")
        assert answer.status_code == status
    # Chunked, without a length: still refused past the limit.
    chunks = (b"x" * 65536 for _ in range(20))
    answer = requests.put(
        f"{world.url}/api/v1/files/{doc['id']}/rights",
        data=chunks,
        timeout=30,
        headers={**api, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413


# --- full or read-only storage ----------------------------------------------------------------


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS])
def test_uploads_and_restores_on_broken_storage_answer_503(world, monkeypatch, failure):
    from app.services.storage.base import Storage
    from app.services.storage.local import LocalStorage

    doc = world.create_document("alice", "Stored")
    world.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("two")), "v.docx")},
    )

    def broken(*args, **kwargs):
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(LocalStorage, "put_file", broken)
    api = world.api("alice")
    upload = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files", headers=api, data={"file": (io.BytesIO(docx_with("new")), "new.docx")}
    )
    restore = world.client().post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=api)
    page = world.client("alice").post(
        f"/spaces/{world.space_id}/upload", data={"file": (io.BytesIO(docx_with("new")), "new.docx")}
    )
    monkeypatch.setattr(Storage, "temp_file", broken)
    version = world.client().post(
        f"/api/v1/files/{doc['id']}/versions", headers=api, data={"file": (io.BytesIO(docx_with("three")), "v.docx")}
    )
    monkeypatch.undo()
    words = "full" if failure == errno.ENOSPC else "read-only"
    for answer in (upload, restore, version):
        assert answer.status_code == 503 and words in answer.get_json()["error"]
    assert page.status_code == 503 and words in page.get_data(as_text=True)
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]  # nothing half-made
    tmp = os.path.join(world.app.config["STORAGE_DIR"], "tmp")
    assert os.listdir(tmp) == []


# --- access logs ---------------------------------------------------------------------------------


def test_access_logs_hold_no_tokens_or_share_secrets(tmp_path, fresh_database_url):
    env = {"COEDIT_DATABASE_URL": fresh_database_url, "COEDIT_SECRET_KEY": "log-test"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "COEDIT_INSTANCE_PATH": str(tmp_path / "cli"), **env},
        capture_output=True,
    )
    log = tmp_path / "access.log"
    server = AppProcess(tmp_path / "instance", env, args=("--access-logfile", str(log)))
    secret = "S3cretShareLinkSecretThatMustNotBeLogged123"
    try:
        requests.get(f"{server.url}/backend/files/1/download?token=TokenThatMustNotBeLogged", timeout=10)
        requests.get(f"{server.url}/s/{secret}", timeout=10)
        requests.post(f"{server.url}/hooks/HookSecretThatMustNotBeLogged", json={"text": "x"}, timeout=10)
        requests.get(f"{server.url}/auth/login", headers={"Referer": f"{server.url}/s/{secret}/open"}, timeout=10)
        requests.get(
            f"{server.url}/api/v1/notifications", headers={"Authorization": "Bearer cot_TokenNotLogged"}, timeout=10
        )
    finally:
        server.stop()
    text = log.read_text()
    assert "/backend/files/1/download" in text and "/s/[secret]" in text and "/auth/login" in text
    assert "/hooks/[secret]" in text
    for leak in ("TokenThatMustNotBeLogged", secret, "cot_TokenNotLogged", "HookSecretThatMustNotBeLogged"):
        assert leak not in text


# --- usernames --------------------------------------------------------------------------------


def test_usernames_are_unique_however_they_are_spelled(world, tmp_path):
    from app.extensions import db
    from app.models import User

    for twin in ("Alice", "ａｌｉｃｅ", " alice ", "ALICE"):

        def add(name=twin):
            db.session.add(User(username=name, display_name="Twin", password_hash="x"))
            try:
                db.session.commit()
            except sa.exc.IntegrityError:
                db.session.rollback()
                return False
            return True

        assert not world.query(add), twin
    # Signing in and naming people accept any spelling of the same account.
    client = world.app.test_client()
    assert client.post("/auth/login", data={"username": "ＡＬＩＣＥ ", "password": "pw-alice"}).status_code == 302
    doc = world.create_document("alice", "Named")
    changed = world.client().put(
        f"/api/v1/files/{doc['id']}/rights", json={"users": {"BOB": "edit"}}, headers=world.api("alice")
    )
    assert changed.status_code == 200 and changed.get_json()["users"] == {"bob": "edit"}


def test_a_username_is_refused_when_its_folded_form_outgrows_the_column():
    from app.services.accounts import clean_username
    from app.services.exceptions import BadRequestError

    assert clean_username("ß" * 32) == "ß" * 32  # its folded form, "ss" * 32, just fits
    with pytest.raises(BadRequestError):
        clean_username("ß" * 33)


def test_the_cli_does_not_create_a_twin_account(tmp_path, fresh_database_url):
    env = {
        **os.environ,
        "COEDIT_INSTANCE_PATH": str(tmp_path / "instance"),
        "COEDIT_DATABASE_URL": fresh_database_url,
        "COEDIT_SECRET_KEY": "cli",
    }

    def flask(*args):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert flask("db", "upgrade").returncode == 0
    assert flask("create-user", "admin", "--password", "first-password").returncode == 0
    again = flask("create-user", "Ａdmin ", "--password", "second-password")
    assert again.returncode == 0 and "user admin ready" in again.stdout  # the same account, password reset
    from app.models import User

    engine = sa.create_engine(fresh_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    finally:
        engine.dispose()


# --- the connection test is no port scanner ---------------------------------------------------


def test_the_connection_test_tells_nothing_about_what_answers(open_world, fake_docs):
    import socket

    from tests.test_admin import form

    client = open_world.client("alice")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    fake_docs.put("healthcheck", b"<html>an intranet page</html>")
    answers = []
    for address in (f"http://127.0.0.1:{closed}", fake_docs.url, open_world.url):
        html = client.post("/admin/settings", data=form(docs_url=address, jwt_secret="z" * 40)).get_data(as_text=True)
        start = html.index('id="connection-test"')
        answers.append(html[start : html.index("</div>", start)].replace(address, "ADDRESS"))
    assert answers[0] == answers[1] == answers[2]
    assert "Could not reach a healthy ONLYOFFICE Docs at this address." in answers[0]


# --- the emulator's secret ----------------------------------------------------------------------


def test_the_emulators_secret_is_not_in_the_process_list():
    with start_emulator(jwt_secret=SECRET) as emulator:
        with open(f"/proc/{emulator.proc.pid}/cmdline", "rb") as handle:
            assert SECRET.encode() not in handle.read()
        signed = emulator.command({"c": "version"})
        assert signed.get("error") == 0  # it does use the secret


# --- inert types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,body",
    [
        ("page.html", b"<script>alert(1)</script>"),
        ("icon.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("feed.xml", b"<?xml version='1.0'?><x/>"),
        ("tool.js", b"alert(1)"),
    ],
)
def test_uploaded_active_content_is_served_as_inert_attachments(world, name, body):
    made = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files", headers=world.api("alice"), data={"file": (io.BytesIO(body), name)}
    )
    assert made.status_code == 201
    file_id = made.get_json()["id"]
    for answer in (
        world.client("bob").get(f"/files/{file_id}/download"),
        world.client().get(f"/api/v1/files/{file_id}/content", headers=world.api("bob")),
        world.client().get(f"/api/v1/files/{file_id}/versions/1/content", headers=world.api("bob")),
    ):
        assert answer.status_code == 200 and answer.data == body
        assert answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.headers["Content-Disposition"].startswith("attachment")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"

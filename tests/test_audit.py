"""The audit log: each security-relevant action leaves exactly one entry, with the right actor and
object, driven through the real routes; failures are kept although their work is rolled back;
no secret is ever in it; the admin page, its CSV export and the command's, and its retention."""

import csv
import io
import json
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import requests
import sqlalchemy as sa

from tests.helpers import SECRET
from tests.helpers import docs_token
from tests.helpers import docx_with
from tests.helpers import signed_callback


def entries(world, action: str | None = None) -> list[dict]:
    """The log's entries (of one action), oldest first, as plain dicts."""
    from app.extensions import db
    from app.models import AuditEvent
    from app.ops import audit_writer

    def read():
        audit_writer.flush(world.app)  # the openings this process handed to its writer
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [
            {
                "id": e.id,
                "at": e.at,
                "action": e.action,
                "actor_id": e.actor_id,
                "actor_name": e.actor_name,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "object_name": e.object_name,
                "file_id": e.file_id,
                "space_id": e.space_id,
                "ip": e.ip,
                "details": e.details,
                "details_json": e.details_json,
            }
            for e in db.session.scalars(query)
        ]

    return world.query(read)


def one(world, action: str) -> dict:
    found = entries(world, action)
    assert len(found) == 1, found
    return found[0]


def add_entries(world, *rows) -> None:
    """Entries written directly (times in the past, many of them)."""
    from app.extensions import db
    from app.models import AuditEvent

    def write():
        for row in rows:
            db.session.add(AuditEvent(**{"actor_name": "", "details_json": "{}", **row}))
        db.session.commit()

    world.query(write)


def send(url, body):
    signed, wrapper = signed_callback(body, SECRET)
    return requests.post(url, json=signed, headers=wrapper, timeout=10)


@pytest.fixture
def doc(world):
    """A docx alice owns and bob edits, with bob's editor config (which opens it: one entry)."""
    file = world.create_document("alice", "Report")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    return {
        "id": file["id"],
        "key": config["document"]["key"],
        "callback": config["editorConfig"]["callbackUrl"],
        "url": config["document"]["url"],
    }


def save_body(world, fake_docs, doc, content=None, status=2, user="bob", name="out.docx"):
    fake_docs.put(name, content if content is not None else docx_with("edited by bob"))
    return {
        "key": doc["key"],
        "status": status,
        "url": f"{fake_docs.url}/cache/files/{name}?md5=x&expires=9999999999",
        "filetype": "docx",
        "users": [str(world.user_ids[user])],
    }


# --- accounts ------------------------------------------------------------------------------


def test_sign_in_and_sign_out_are_recorded(world):
    client = world.client("bob")
    signed_in = one(world, "auth.signed_in")
    assert (signed_in["actor_id"], signed_in["actor_name"]) == (world.user_ids["bob"], "bob")
    assert signed_in["ip"] == "127.0.0.1"
    assert client.post("/auth/logout").status_code == 302
    signed_out = one(world, "auth.signed_out")
    assert (signed_out["actor_id"], signed_out["actor_name"]) == (world.user_ids["bob"], "bob")


def test_a_failed_sign_in_is_recorded_though_the_request_fails_and_never_the_password(world):
    client = world.app.test_client()
    refused = client.post("/auth/login", data={"username": "Bob", "password": "wrong-horse-battery"})
    assert refused.status_code == 200 and "wrong password" in refused.get_data(as_text=True)
    client.post("/auth/login", data={"username": "nobody", "password": "wrong-horse-battery"})
    failed = entries(world, "auth.sign_in_failed")
    assert len(failed) == 2
    assert failed[0]["actor_id"] is None and failed[0]["actor_name"] == "Bob"
    assert failed[0]["details"] == {"username": "Bob"}
    assert (failed[0]["object_type"], failed[0]["object_id"]) == ("user", str(world.user_ids["bob"]))
    assert failed[1]["actor_name"] == "nobody" and failed[1]["object_type"] == ""
    assert not entries(world, "auth.signed_in")
    assert all("wrong-horse-battery" not in str(e) for e in entries(world))


def test_admin_actions_on_people_are_recorded(world):
    admin = world.client("alice")
    bob = world.user_ids["bob"]
    assert admin.post(f"/admin/users/{bob}/sign-out").status_code == 302
    assert admin.post(f"/admin/users/{bob}/disable").status_code == 302
    assert admin.post(f"/admin/users/{bob}/disable").status_code == 302  # enabled again
    for action in ("admin.sessions_ended", "admin.user_disabled", "admin.user_enabled"):
        entry = one(world, action)
        assert (entry["actor_name"], entry["object_type"], entry["object_id"], entry["object_name"]) == (
            "alice",
            "user",
            str(bob),
            "bob",
        )


def test_account_commands_are_recorded_as_the_command_line(world):
    runner = world.app.test_cli_runner()
    for args in (
        ["create-user", "dora", "--password", "pw-dora-123"],
        ["create-user", "dora", "--password", "pw-dora-456"],
        ["create-token", "dora"],
        ["disable-user", "dora"],
        ["sign-out", "bob"],
    ):
        assert runner.invoke(args=args).exit_code == 0, args
    for action, name in (
        ("admin.user_created", "dora"),
        ("admin.password_reset", "dora"),
        ("admin.api_token_created", "dora"),
        ("admin.user_disabled", "dora"),
        ("admin.sessions_ended", "bob"),
    ):
        entry = one(world, action)
        assert (entry["actor_id"], entry["actor_name"], entry["object_name"]) == (None, "command line", name)
    assert all("pw-dora" not in e["details_json"] for e in entries(world))


# --- files -----------------------------------------------------------------------------------


def test_opening_the_editor_is_recorded_with_its_mode(world, doc):
    opened = one(world, "editor.opened")  # bob's config, by the fixture
    assert (opened["actor_name"], opened["file_id"], opened["object_name"]) == ("bob", doc["id"], "Report.docx")
    assert opened["details"]["mode"] == "edit" and opened["space_id"] == world.space_id
    page = world.client("carol")  # an outsider opens nothing
    assert page.get(f"/files/{doc['id']}/open").status_code == 404
    assert world.client("bob").get(f"/files/{doc['id']}/open?mode=view").status_code == 200
    viewed = entries(world, "editor.opened")[-1]
    assert (viewed["actor_name"], viewed["details"]["mode"]) == ("bob", "view")
    assert len(entries(world, "editor.opened")) == 2


def test_downloads_by_people_are_recorded_and_docs_fetches_are_not(world, doc):
    assert world.client("bob").get(f"/files/{doc['id']}/download").status_code == 200
    downloaded = one(world, "file.downloaded")
    assert (downloaded["actor_name"], downloaded["file_id"]) == ("bob", doc["id"])
    assert downloaded["details"] == {"version": 1, "purpose": "download"}
    api = world.client().get(f"/api/v1/files/{doc['id']}/versions/1/content", headers=world.api("alice"))
    assert api.status_code == 200
    assert entries(world, "file.downloaded")[-1]["details"] == {"version": 1, "purpose": "api-version"}
    # Docs fetches the document to open it in the editor: not a person's download.
    header = {"Authorization": "Bearer " + docs_token({"payload": {"url": doc["url"]}})}
    assert requests.get(doc["url"], headers=header, timeout=10).status_code == 200
    assert len(entries(world, "file.downloaded")) == 2


def test_a_stored_save_is_recorded_once_with_its_author_and_version(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    assert send(doc["callback"], body).json() == {"error": 0}
    assert send(doc["callback"], body).json() == {"error": 0}  # Docs' retry: acknowledged, not stored again
    saved = one(world, "file.saved")
    assert (saved["actor_id"], saved["actor_name"], saved["file_id"]) == (world.user_ids["bob"], "bob", doc["id"])
    assert saved["details"] == {"version": 2, "kind": "final", "authors": ["bob"], "conflict": False}
    assert saved["ip"] == "127.0.0.1"


def test_a_rejected_save_is_recorded_though_it_is_rolled_back(world, fake_docs, doc):
    response = send(doc["callback"], save_body(world, fake_docs, doc, content=b"<html>Login required</html>"))
    assert response.status_code == 422
    rejected = one(world, "file.save_rejected")
    assert rejected["actor_name"] == "bob" and rejected["file_id"] == doc["id"]
    assert rejected["details"]["reason"].startswith("invalid document") and rejected["details"]["answer"] == 422
    assert not entries(world, "file.saved") and not entries(world, "file.save_failed")


def test_a_failed_save_is_recorded_with_its_reason(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    body["url"] = fake_docs.url + "/cache/files/missing.docx"
    assert send(doc["callback"], body).status_code == 503
    failed = one(world, "file.save_failed")
    assert failed["file_id"] == doc["id"] and failed["details"]["answer"] == 503 and failed["details"]["reason"]
    assert not entries(world, "file.saved") and not entries(world, "file.save_rejected")
    # Docs reporting that it could not assemble the session's changes (status 3, no file).
    assert send(doc["callback"], {"key": doc["key"], "status": 3, "users": [str(world.user_ids["bob"])]}).json() == {
        "error": 0
    }
    assert len(entries(world, "file.save_failed")) == 2
    # Callbacks that are not saves leave nothing.
    send(doc["callback"], {"key": doc["key"], "status": 4})
    assert len(entries(world, "file.save_failed")) == 2


def test_rights_rename_restore_and_delete_are_recorded_with_old_and_new(world, doc):
    alice = world.client("alice")
    api = world.client()
    rights = api.put(f"/api/v1/files/{doc['id']}/rights", json={"users": {"carol": None}}, headers=world.api("alice"))
    assert rights.status_code == 400  # carol is no member: refused, and no entry
    assert not entries(world, "file.rights_changed")
    changed = api.put(
        f"/api/v1/files/{doc['id']}/rights",
        json={"default": "comment", "users": {"bob": "read"}},
        headers=world.api("alice"),
    )
    assert changed.status_code == 200
    entry = one(world, "file.rights_changed")
    assert entry["actor_name"] == "alice" and entry["file_id"] == doc["id"]
    assert entry["details"] == {"users": {"bob": ["edit", "read"]}, "default": ["read", "comment"]}

    world.create_document("alice", "Taken")
    alice.post(f"/files/{doc['id']}/rename", data={"title": "Taken"})  # refused: no entry
    assert not entries(world, "file.renamed")
    assert alice.post(f"/files/{doc['id']}/rename", data={"title": "Budget"}).status_code == 302
    renamed = one(world, "file.renamed")
    assert (
        renamed["details"] == {"old": "Report.docx", "new": "Budget.docx"} and renamed["object_name"] == "Budget.docx"
    )

    world.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("v2")), "v2.docx")},
    )
    assert one(world, "file.version_uploaded")["details"] == {"version": 2}
    restored = world.client().post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("alice"))
    assert restored.status_code == 201
    assert one(world, "file.restored")["details"] == {"from": 1, "version": 3}

    assert alice.post(f"/files/{doc['id']}/delete").status_code == 302
    deleted = one(world, "file.deleted")
    assert (deleted["actor_name"], deleted["file_id"], deleted["object_name"]) == ("alice", doc["id"], "Budget.docx")
    assert not entries(world, "admin.file_force_deleted")
    # The entries outlive the file they name.
    assert len([e for e in entries(world) if e["file_id"] == doc["id"]]) >= 6


def test_a_forced_delete_is_an_admin_action(world, doc):
    bob = str(world.user_ids["bob"])
    send(doc["callback"], {"key": doc["key"], "status": 1, "users": [bob], "actions": [{"type": 1, "userid": bob}]})
    assert world.client("alice").post(f"/files/{doc['id']}/delete", data={"force": "1"}).status_code == 302
    forced = one(world, "admin.file_force_deleted")
    assert forced["actor_name"] == "alice" and forced["file_id"] == doc["id"]
    assert not entries(world, "file.deleted")


# --- share links -----------------------------------------------------------------------------


def test_share_links_created_used_and_revoked_without_their_secrets(world, doc):
    made = (
        world.client()
        .post(
            f"/api/v1/files/{doc['id']}/links",
            json={"mode": "edit", "password": "link-pass-123"},
            headers=world.api("alice"),
        )
        .get_json()
    )
    created = one(world, "share_link.created")
    assert (created["actor_name"], created["object_type"], created["object_id"]) == (
        "alice",
        "share_link",
        str(made["id"]),
    )
    assert created["details"]["mode"] == "edit" and created["details"]["password"] is True
    secret = made["url"].rsplit("/", 1)[1]

    guest = world.app.test_client()
    joined = guest.post(f"/s/{secret}", data={"name": "Gus", "password": "link-pass-123"})
    assert joined.status_code == 302
    used = one(world, "share_link.used")
    assert used["actor_id"] is None and used["actor_name"] == "Gus (guest)" and used["file_id"] == doc["id"]
    assert guest.get(f"/s/{secret}/open").status_code == 200
    opened = entries(world, "editor.opened")[-1]
    assert opened["actor_name"] == "Gus (guest)" and opened["details"]["guest_id"].startswith("guest:")

    revoke = world.client().delete(f"/api/v1/files/{doc['id']}/links/{made['id']}", headers=world.api("alice"))
    assert revoke.status_code in (200, 204)
    assert one(world, "share_link.revoked")["object_id"] == str(made["id"])
    everything = json.dumps(entries(world), default=str)
    assert secret not in everything and "link-pass-123" not in everything


# --- settings --------------------------------------------------------------------------------


def test_settings_changes_name_the_settings_never_a_secret_value(open_world, fake_docs):
    secret = "audited-secret-" + "x" * 40
    form = {"jwt_header": "Authorization", "max_file_size_mb": "100", "docs_url": fake_docs.url, "jwt_secret": secret}
    form["save_anyway"] = "y"  # fake_docs is no Document Server: its connection test fails
    client = open_world.client("alice")
    assert client.post("/admin/settings", data=form).status_code == 200
    changed = one(open_world, "settings.changed")
    assert changed["actor_name"] == "alice" and changed["object_type"] == "settings"
    assert {"docs_url", "jwt_secret"} <= set(changed["details"]["settings"])
    assert changed["details"]["values"]["docs_url"] == ["", fake_docs.url]
    assert "jwt_secret" not in changed["details"]["values"]
    client.post("/admin/settings", data={**form, "jwt_secret": ""})  # nothing changed: no entry
    assert len(entries(open_world, "settings.changed")) == 1
    assert all(secret not in str(e) for e in entries(open_world))


# --- the page, the export, the command, retention -----------------------------------------------


def test_only_admins_see_the_log(world):
    assert world.client("bob").get("/admin/audit").status_code == 403
    assert world.client("bob").get("/admin/audit.csv").status_code == 403
    assert world.client().get("/admin/audit").status_code == 302  # anonymous: sign in first
    admin = world.client("alice")
    assert 'id="audit-link"' in admin.get("/admin/settings").get_data(as_text=True)
    assert admin.get("/admin/audit").status_code == 200


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-id="(\d+)" data-action="([^"]+)"', html)


def test_the_page_filters_and_pages(world):
    now = datetime.now(timezone.utc)
    add_entries(
        world,
        *(
            {
                "action": "file.downloaded",
                "at": now - timedelta(minutes=n),
                "actor_id": world.user_ids["bob"],
                "actor_name": "bob",
                "file_id": 7,
                "object_name": "Plan.docx",
                "object_type": "file",
            }
            for n in range(1, 121)
        ),
        {"action": "auth.sign_in_failed", "at": now - timedelta(days=3), "actor_name": "mallory"},
    )
    admin = world.client("alice")  # one auth.signed_in by alice
    html = admin.get("/admin/audit").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 50 and rows[0][1] == "auth.signed_in"  # newest first
    assert "122 entries, page 1 of 3" in html
    last = _rows(admin.get("/admin/audit?page=3").get_data(as_text=True))
    assert len(last) == 22 and last[-1][1] == "auth.sign_in_failed"
    by_bob = admin.get("/admin/audit?user=bob&page=3").get_data(as_text=True)
    assert "120 entries" in by_bob and len(_rows(by_bob)) == 20
    assert {a for _, a in _rows(admin.get("/admin/audit?action=auth.*").get_data(as_text=True))} == {
        "auth.signed_in",
        "auth.sign_in_failed",
    }
    assert len(_rows(admin.get("/admin/audit?user=mallory").get_data(as_text=True))) == 1
    assert "120 entries" in admin.get("/admin/audit?file=7").get_data(as_text=True)
    assert "120 entries" in admin.get("/admin/audit?file=plan").get_data(as_text=True)
    since = (now - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    window = _rows(admin.get(f"/admin/audit?since={since}&until={until}").get_data(as_text=True))
    assert [a for _, a in window] == ["auth.sign_in_failed"]
    bad = admin.get("/admin/audit?since=yesterday").get_data(as_text=True)
    assert "is not a date" in bad and "122 entries" in bad  # ignored, said so


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def as_csv_fields(entry: dict) -> dict:
    blank = lambda v: "" if v is None else str(v)  # noqa: E731
    return {
        "id": str(entry["id"]),
        "time": entry["at"].isoformat(),
        "action": entry["action"],
        "actor_id": blank(entry["actor_id"]),
        "actor_name": entry["actor_name"],
        "object_type": entry["object_type"],
        "object_id": entry["object_id"],
        "object_name": entry["object_name"],
        "file_id": blank(entry["file_id"]),
        "space_id": blank(entry["space_id"]),
        "ip": entry["ip"],
        "details": entry["details_json"],
    }


def test_the_csv_export_round_trips_and_honours_the_filters(world, doc):
    admin = world.client("alice")
    admin.get(f"/files/{doc['id']}/download")
    add_entries(
        world,
        {"action": "auth.sign_in_failed", "at": datetime.now(timezone.utc), "actor_name": '=cmd|" /C calc"!A0, "x"'},
    )
    response = admin.get("/admin/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    exported = parse(response.get_data(as_text=True))
    stored = sorted(entries(world), key=lambda e: (e["at"], e["id"]), reverse=True)
    assert len(exported) == len(stored) >= 4
    for row, entry in zip(exported, stored, strict=True):
        expected = as_csv_fields(entry)
        if expected["actor_name"].startswith("="):  # a formula is shown as text in spreadsheets
            assert row["actor_name"] == "'" + expected["actor_name"]
            row["actor_name"] = expected["actor_name"]
        assert row == expected
    opened = parse(admin.get(f"/admin/audit.csv?action=editor.opened&file={doc['id']}").get_data(as_text=True))
    assert [r["id"] for r in opened] == [str(e["id"]) for e in entries(world, "editor.opened")]


def test_the_cli_export_writes_the_same_csv(world, doc, tmp_path):
    world.client("bob").get(f"/files/{doc['id']}/download")
    output = tmp_path / "audit.csv"
    runner = world.app.test_cli_runner()
    result = runner.invoke(args=["audit-export", "--since", "2020-01-01", "--output", str(output)])
    assert result.exit_code == 0, result.output
    exported = parse(output.read_text(encoding="utf-8"))
    stored = sorted(entries(world), key=lambda e: (e["at"], e["id"]), reverse=True)
    assert exported == [as_csv_fields(e) for e in stored]
    today = date.today().isoformat()
    only = runner.invoke(args=["audit-export", "--since", today, "--until", today, "--action", "file.downloaded"])
    assert only.exit_code == 0
    assert [r["action"] for r in parse(only.output)] == ["file.downloaded"]
    future = runner.invoke(args=["audit-export", "--since", "2999-01-01"])
    assert parse(future.output) == []
    assert runner.invoke(args=["audit-export", "--since", "soon"]).exit_code != 0


def test_retention_prunes_old_entries(world):
    now = datetime.now(timezone.utc)
    add_entries(
        world,
        {"action": "auth.signed_in", "at": now - timedelta(days=400)},
        {"action": "auth.signed_in", "at": now - timedelta(days=300)},
    )
    from app import jobs

    world.app.config["AUDIT_RETENTION_DAYS"] = 0  # keep forever
    world.query(jobs.apply_retention)
    assert len(entries(world)) == 2
    world.app.config["AUDIT_RETENTION_DAYS"] = 365
    world.query(jobs.apply_retention)
    assert [e["at"].date() for e in entries(world)] == [(now - timedelta(days=300)).date()]
    world.app.config["AUDIT_RETENTION_DAYS"] = 30
    result = world.app.test_cli_runner().invoke(args=["purge-versions", "--apply"])
    assert result.exit_code == 0 and "Removed 1 audit log entries" in result.output
    assert entries(world) == []


def test_daily_counts_chart_seven_days_of_saves(world):
    from app.services import audit

    now = datetime.now(timezone.utc)
    add_entries(
        world,
        {"action": "file.saved", "at": now},
        {"action": "file.saved", "at": now},
        {"action": "file.save_failed", "at": now - timedelta(days=2)},
        {"action": "file.save_rejected", "at": now - timedelta(days=8)},  # outside the week
    )
    counts = world.query(lambda: audit.daily_counts(audit.SAVE_ACTIONS, days=7))
    today = now.date()
    assert set(counts) == set(audit.SAVE_ACTIONS)
    assert [day for day, _ in counts["file.saved"]] == [today - timedelta(days=n) for n in range(6, -1, -1)]
    assert counts["file.saved"][-1] == (today, 2) and sum(c for _, c in counts["file.saved"]) == 2
    assert dict(counts["file.save_failed"])[today - timedelta(days=2)] == 1
    assert sum(c for _, c in counts["file.save_rejected"]) == 0


# --- forgotten files (against the Docs emulator) ---------------------------------------------


def test_forgotten_file_actions_are_admin_actions(tmp_path):
    from docs_emulator.testing import start_emulator
    from tests.test_forgotten import _live
    from tests.test_forgotten import forget_a_session

    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emulator:
        live = _live(tmp_path, emulator)
        try:
            doc, key = forget_a_session(live, emulator)
            alice = live.client("alice")
            assert alice.get(f"/admin/forgotten/download?key={key}").status_code == 200
            downloaded = one(live, "admin.forgotten_downloaded")
            assert (downloaded["actor_name"], downloaded["object_type"], downloaded["object_id"]) == (
                "alice",
                "forgotten_file",
                key,
            )
            assert downloaded["file_id"] == doc["id"]
            assert alice.post("/admin/forgotten/recover", data={"key": key}).status_code == 302
            recovered = one(live, "admin.forgotten_recovered")
            assert recovered["file_id"] == doc["id"] and recovered["details"] == {"version": 2}

            _, other = forget_a_session(live, emulator, title="Other")
            assert alice.post("/admin/forgotten/delete", data={"key": other}).status_code == 302
            assert one(live, "admin.forgotten_discarded")["object_id"] == other
            # Docs never reached the app with those saves: nothing failed here, nothing is recorded.
            assert not entries(live, "file.save_failed")
        finally:
            live.server.stop()

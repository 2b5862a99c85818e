"""Share links (security cases SL-1 to SL-6): managers create and revoke view and edit
links; a guest opens one without an account, under a name they give, in strict co-editing."""

import hashlib
import json
import re
import secrets
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import jwt
import pytest
import sqlalchemy as sa

from docs_emulator.testing import start_emulator
from tests.databases import every_stored_value
from tests.databases import hand_out_id_again
from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.helpers import wait_for

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


# --- helpers -------------------------------------------------------------------------------


def make_link(world, file_id, mode="view", user="alice", **extra) -> dict:
    response = world.client().post(
        f"/api/v1/files/{file_id}/links", json={"mode": mode, **extra}, headers=world.api(user)
    )
    assert response.status_code == 201, response.data
    return response.get_json()


def path_of(link: dict) -> str:
    match = re.fullmatch(r"http://[^/]+(/s/[^/?#]+)", link["url"])
    assert match, link["url"]
    return match.group(1)


def secret_of(link: dict) -> str:
    return path_of(link).removeprefix("/s/")


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="docs-config">(.*?)</script>', html, re.S)
    assert match, "no editor config in the page"
    return json.loads(match.group(1))


def join(world, link: dict, name="Gina Guest", password=None, client=None):
    """A guest (a fresh browser unless given) passes the landing page; returns the client."""
    client = client or world.app.test_client()
    data = {"name": name}
    if password is not None:
        data["password"] = password
    response = client.post(path_of(link), data=data)
    assert response.status_code == 302 and response.location == path_of(link) + "/open", response.data
    return client


def guest_config(world, link: dict, client, query="") -> dict:
    response = client.get(path_of(link) + "/open" + query)
    assert response.status_code == 200, response.data
    return page_config(response.get_data(as_text=True))


def rows(world, model):
    from app.extensions import db

    def fetch():
        items = list(db.session.scalars(sa.select(model).order_by(model.id)))
        for item in items:
            db.session.expunge(item)
        return items

    return world.query(fetch)


def set_link(world, link_id, **values):
    from app.extensions import db
    from app.models import ShareLink

    def apply():
        db.session.execute(sa.update(ShareLink).where(ShareLink.id == link_id).values(**values))
        db.session.commit()

    world.query(apply)


def set_role(world, username, role):
    from app.extensions import db
    from app.models import Membership

    def apply():
        db.session.execute(
            sa.update(Membership)
            .where(Membership.space_id == world.space_id, Membership.user_id == world.user_ids[username])
            .values(role=role)
        )
        db.session.commit()

    world.query(apply)


# --- who may create, list and revoke ---------------------------------------------------------


def test_managers_create_view_and_edit_links_members_get_403_outsiders_404(world):
    doc = world.create_document("alice", "Shared")
    client = world.client()
    for mode in ("view", "edit"):
        link = make_link(world, doc["id"], mode)
        assert set(link) >= {"id", "mode", "url", "expires_at", "has_password", "created_at"}
        assert link["mode"] == mode and link["has_password"] is False and link["expires_at"] is None
        assert link["created_by"] == "alice" and link["active"] is True and link["uses"] == 0
        assert datetime.fromisoformat(link["created_at"]).tzinfo is not None
    link_id = link["id"]
    for user, status in (("bob", 403), ("carol", 404)):
        create = client.post(f"/api/v1/files/{doc['id']}/links", json={"mode": "view"}, headers=world.api(user))
        assert create.status_code == status and create.is_json, user
        assert client.get(f"/api/v1/files/{doc['id']}/links", headers=world.api(user)).status_code == status
        assert (
            client.delete(f"/api/v1/files/{doc['id']}/links/{link_id}", headers=world.api(user)).status_code == status
        )
    assert client.get(f"/api/v1/files/{doc['id']}/links", headers={}).status_code == 401
    # A space admin manages any file; a member manages the files they own.
    set_role(world, "bob", "admin")
    assert (
        client.post(f"/api/v1/files/{doc['id']}/links", json={"mode": "edit"}, headers=world.api("bob")).status_code
        == 201
    )
    set_role(world, "bob", "member")
    own = world.create_document("bob", "Bob's own")
    assert make_link(world, own["id"], "edit", user="bob")["created_by"] == "bob"
    listed = client.get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice")).get_json()["links"]
    assert [entry["mode"] for entry in listed] == ["edit", "edit", "view"]  # newest first


def test_secret_has_256_random_bits_and_only_its_hash_is_stored(world):
    from app.models import ShareLink

    doc = world.create_document("alice", "Secret")
    links = [make_link(world, doc["id"], "edit") for _ in range(3)]
    found = [secret_of(link) for link in links]
    for secret in found:
        assert URL_SAFE.fullmatch(secret) and len(secret) >= 43  # 32 random bytes; 22 would be 128 bits
    assert len(set(found)) == 3
    stored = {row.id: row for row in rows(world, ShareLink)}
    for link, secret in zip(links, found, strict=True):
        row = stored[link["id"]]
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr([getattr(row, c.key) for c in ShareLink.__table__.columns])
    # The list never shows a secret again.
    listing = world.client().get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice"))
    assert all("url" not in entry for entry in listing.get_json()["links"])
    assert not any(secret in listing.get_data(as_text=True) for secret in found)
    # Nothing stored in the database holds a secret.
    dump = repr(every_stored_value(world.app.config["SQLALCHEMY_DATABASE_URI"]))
    assert all(row.token_hash in dump for row in stored.values())  # the links' rows were read
    assert not any(secret in dump for secret in found)


def test_unknown_or_malformed_secret_is_404(world):
    doc = world.create_document("alice", "Guarded")
    link = make_link(world, doc["id"])
    client = world.app.test_client()
    real = secret_of(link)
    for secret in (
        secrets.token_urlsafe(32),
        real[:-1] + ("A" if real[-1] != "A" else "B"),
        "short",
        real + "x",
        "%2e%2e",
    ):
        assert client.get(f"/s/{secret}").status_code == 404, secret
        assert client.post(f"/s/{secret}", data={"name": "X"}).status_code == 404, secret
        assert client.get(f"/s/{secret}/open").status_code == 404, secret
    assert client.get(f"/s/{real}").status_code == 200


# --- the landing page ------------------------------------------------------------------------


def test_landing_page_asks_the_name_and_the_password(world):
    doc = world.create_document("alice", "Protected")
    link = make_link(world, doc["id"], "edit", password="open sesame")
    assert link["has_password"] is True
    client = world.app.test_client()
    page = client.get(path_of(link))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'name="name"' in html and 'name="password"' in html and "Protected.docx" in html
    assert "Alice Archer shared this document" in html and "<strong>edit</strong>" in html

    wrong = client.post(path_of(link), data={"name": "Gina", "password": "guess"})
    assert wrong.status_code == 403 and "Wrong password" in wrong.get_data(as_text=True)
    assert client.post(path_of(link), data={"name": "Gina"}).status_code == 200  # no password: form again
    # Without having passed the landing page, the editor sends the guest back to it.
    opened = client.get(path_of(link) + "/open")
    assert opened.status_code == 302 and opened.location == path_of(link)
    join(world, link, "Gina", password="open sesame", client=client)
    assert guest_config(world, link, client)["editorConfig"]["user"]["name"] == "Gina"

    plain = make_link(world, doc["id"], "view")
    html = world.app.test_client().get(path_of(plain)).get_data(as_text=True)
    assert 'name="name"' in html and 'name="password"' not in html and "<strong>view</strong>" in html


def test_a_guest_session_is_bound_to_the_links_secret_not_its_row_id(world):
    from app.models import ShareLink

    doc = world.create_document("alice", "Gone soon")
    old = make_link(world, doc["id"], "edit")
    guest = join(world, old)
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302  # the link goes with it
    assert guest.get(path_of(old) + "/open").status_code == 404
    other = world.create_document("alice", "Locked")
    world.query(lambda: hand_out_id_again(ShareLink, old["id"]))
    new = make_link(world, other["id"], "edit", password="new secret")
    assert new["id"] == old["id"]  # the row id is handed out again
    opened = guest.get(path_of(new) + "/open")
    assert opened.status_code == 302 and opened.location == path_of(new)  # the password is still asked


def test_guest_name_is_required_and_cleaned(world):
    doc = world.create_document("alice", "Names")
    link = make_link(world, doc["id"], "edit")
    client = world.app.test_client()
    for bad in ("", "   ", "\u202e\u200b\x07", "x" * 65):
        response = client.post(path_of(link), data={"name": bad})
        assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True), repr(bad)
    join(world, link, "  \u202eEvil\x00  Eve\u200f ", client=client)
    assert guest_config(world, link, client)["editorConfig"]["user"]["name"] == "Evil Eve"


def test_signed_in_member_is_a_guest_with_their_name_prefilled(world):
    doc = world.create_document("alice", "Members too")
    link = make_link(world, doc["id"], "view")
    bob = world.client("bob")
    html = bob.get(path_of(link)).get_data(as_text=True)
    assert re.search(r'name="name"[^>]*value="Bob Baker"|value="Bob Baker"[^>]*name="name"', html)
    join(world, link, "Bob Baker", client=bob)
    user = guest_config(world, link, bob)["editorConfig"]["user"]
    assert user["id"].startswith("guest:") and user["id"] != str(world.user_ids["bob"])


# --- what the editor gets ---------------------------------------------------------------------


def test_view_link_opens_the_viewer_as_a_namespaced_guest_in_strict_mode(world):
    doc = world.create_document("alice", "Viewable")
    link = make_link(world, doc["id"], "view")
    client = join(world, link, "Gina Guest")
    for query in ("", "?mode=edit"):  # SL-2: the URL cannot ask for more
        config = guest_config(world, link, client, query)
        assert config["editorConfig"]["mode"] == "view"
        assert config["document"]["permissions"]["edit"] is False
        assert config["document"]["permissions"]["review"] is False
        assert config["document"]["key"] == doc["key"]
        user = config["editorConfig"]["user"]
        assert user["name"] == "Gina Guest"
        assert re.fullmatch(r"guest:[A-Za-z0-9_-]{16}", user["id"])  # SL-5
        assert config["editorConfig"]["coEditing"] == {"mode": "strict", "change": False}
        assert "goback" not in config["editorConfig"]["customization"]
        signed = jwt.decode(config["token"], SECRET, algorithms=["HS256"])
        assert signed["editorConfig"]["mode"] == "view" and signed["editorConfig"]["user"] == user
    # A member's own config keeps the site's co-editing mode: strict is the guests' alone.
    alice = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    assert alice["editorConfig"]["coEditing"]["mode"] == "fast"


def test_edit_link_opens_the_editor_and_each_guest_gets_an_own_id(world):
    doc = world.create_document("alice", "Editable")
    link = make_link(world, doc["id"], "edit")
    first = join(world, link, "Gina")
    second = join(world, link, "Hugo")
    one, two = guest_config(world, link, first), guest_config(world, link, second)
    assert one["editorConfig"]["mode"] == two["editorConfig"]["mode"] == "edit"
    assert one["document"]["permissions"]["edit"] is True
    assert one["editorConfig"]["coEditing"] == {"mode": "strict", "change": False}
    assert one["editorConfig"]["user"]["id"] != two["editorConfig"]["user"]["id"]
    assert {one["editorConfig"]["user"]["name"], two["editorConfig"]["user"]["name"]} == {"Gina", "Hugo"}
    # The same browser coming back keeps its guest id.
    again = join(world, link, "Gina G.", client=first)
    assert guest_config(world, link, again)["editorConfig"]["user"] == {
        "id": one["editorConfig"]["user"]["id"],
        "name": "Gina G.",
    }
    # A session for one link opens no other link.
    other = make_link(world, doc["id"], "edit")
    assert first.get(path_of(other) + "/open").status_code == 302


def test_docs_not_configured_shows_a_page_not_an_editor(world):
    from app.extensions import db
    from app.services import settings

    doc = world.create_document("alice", "Nowhere")
    link = make_link(world, doc["id"], "view")
    client = join(world, link)

    def unconfigure():
        world.app.config["DOCS_URL"] = ""
        settings.save({"docs_url": ""})
        db.session.commit()

    world.query(unconfigure)
    response = client.get(path_of(link) + "/open")
    assert response.status_code == 503 and "docs-config" not in response.get_data(as_text=True)
    assert "ONLYOFFICE Docs is not configured" in response.get_data(as_text=True)


# --- when a link stops working --------------------------------------------------------------


def test_revoked_link_is_404_at_once_even_for_a_guest_holding_a_session(world):
    doc = world.create_document("alice", "Revocable")
    link = make_link(world, doc["id"], "edit")
    client = join(world, link)
    assert client.get(path_of(link) + "/open").status_code == 200
    api = world.client()
    url = f"/api/v1/files/{doc['id']}/links/{link['id']}"
    assert api.delete(url, headers=world.api("alice")).status_code == 204
    assert client.get(path_of(link) + "/open").status_code == 404
    assert client.get(path_of(link)).status_code == 404
    assert world.app.test_client().post(path_of(link), data={"name": "Late"}).status_code == 404
    assert api.delete(url, headers=world.api("alice")).status_code == 204  # again: still revoked
    listed = api.get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice")).get_json()["links"]
    assert listed[0]["revoked_at"] is not None and listed[0]["active"] is False


def test_expired_link_is_410(world):
    doc = world.create_document("alice", "Fleeting")
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    link = make_link(world, doc["id"], "edit", expires_at=soon)
    assert datetime.fromisoformat(link["expires_at"]) == datetime.fromisoformat(soon)
    client = join(world, link)
    assert client.get(path_of(link) + "/open").status_code == 200
    set_link(world, link["id"], expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    for response in (
        client.get(path_of(link) + "/open"),
        client.get(path_of(link)),
        world.app.test_client().post(path_of(link), data={"name": "Late"}),
    ):
        assert response.status_code == 410
        assert "This link has expired" in response.get_data(as_text=True)
    listed = world.client().get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice")).get_json()["links"]
    assert listed[0]["active"] is False


def test_link_dies_with_its_creators_right(world):
    set_role(world, "bob", "admin")
    doc = world.create_document("alice", "Borrowed")
    edit = make_link(world, doc["id"], "edit", user="bob")
    view = make_link(world, doc["id"], "view", user="bob")
    client = world.app.test_client()
    assert client.get(path_of(edit)).status_code == 200 and client.get(path_of(view)).status_code == 200
    # Bob is no longer an admin and may only read: his edit link dies, his view link lives.
    set_role(world, "bob", "member")
    world.set_level(doc["id"], "bob", "read")
    assert client.get(path_of(edit)).status_code == 404
    assert client.get(path_of(view)).status_code == 200
    # Bob loses the file altogether: both die.
    world.set_level(doc["id"], "bob", "none")
    assert client.get(path_of(view)).status_code == 404
    # ...as they do when the creator's account is gone.
    alice_link = make_link(world, doc["id"], "view")
    assert client.get(path_of(alice_link)).status_code == 200

    def delete_alice():
        from app.extensions import db
        from app.models import User

        db.session.delete(db.session.get(User, world.user_ids["alice"]))
        db.session.commit()

    world.query(delete_alice)
    assert client.get(path_of(alice_link)).status_code == 404


# --- the use log ----------------------------------------------------------------------------


def test_uses_are_logged_and_guest_names_are_found(world):
    from app.models import ShareLinkUse
    from app.services import share_links

    doc = world.create_document("alice", "Logged")
    link = make_link(world, doc["id"], "edit")
    gina = join(world, link, "Gina")
    join(world, link, "Hugo")
    uses = rows(world, ShareLinkUse)
    assert [(u.link_id, u.guest_name, u.ip) for u in uses] == [
        (link["id"], "Gina", "127.0.0.1"),
        (link["id"], "Hugo", "127.0.0.1"),
    ]
    assert all(u.guest_id.startswith("guest:") for u in uses) and uses[0].guest_id != uses[1].guest_id
    assert uses[0].guest_id == guest_config(world, link, gina)["editorConfig"]["user"]["id"]
    listed = world.client().get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice")).get_json()["links"]
    assert listed[0]["uses"] == 2
    assert world.query(lambda: share_links.guest_name(uses[1].guest_id)) == "Hugo"
    assert world.query(lambda: share_links.guest_name(str(world.user_ids["bob"]))) is None
    assert world.query(lambda: share_links.guest_name("guest:unknown")) is None


# --- the API's input errors -------------------------------------------------------------------


def test_api_refuses_bad_input(world):
    doc = world.create_document("alice", "Strict")
    other = world.create_document("alice", "Other")
    client, alice = world.client(), world.api("alice")
    url = f"/api/v1/files/{doc['id']}/links"
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    for body, word in (
        ({"mode": "admin"}, "mode"),
        ({}, "mode"),
        ({"mode": "view", "expires_at": "soon"}, "expires_at"),
        ({"mode": "view", "expires_at": past}, "future"),
        ({"mode": "view", "expires_at": 5}, "expires_at"),
        ({"mode": "view", "password": ""}, "password"),
        ({"mode": "view", "password": 42}, "password"),
        ({"mode": "view", "password": "x" * 129}, "password"),
    ):
        response = client.post(url, json=body, headers=alice)
        assert response.status_code == 400 and word in response.get_json()["error"], body
    assert client.post(url, data="nope", headers=alice).status_code == 400
    assert client.post("/api/v1/files/9999/links", json={"mode": "view"}, headers=alice).status_code == 404
    link = make_link(world, doc["id"])
    assert client.delete(f"/api/v1/files/{other['id']}/links/{link['id']}", headers=alice).status_code == 404
    assert client.delete(f"{url}/9999", headers=alice).status_code == 404
    assert client.get(f"/api/v1/files/{doc['id']}/links", headers=alice).get_json()["links"][0]["active"] is True
    naive = make_link(world, doc["id"], expires_at="2999-01-02T03:04:05")  # no offset: UTC
    assert naive["expires_at"] == "2999-01-02T03:04:05+00:00"


# --- the file page's routes and partial ---------------------------------------------------------


def test_file_page_creates_and_revokes_links(world):
    from app.models import ShareLink

    doc = world.create_document("alice", "Paged")
    other = world.create_document("alice", "Elsewhere")
    alice = world.client("alice")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    response = alice.post(
        f"/files/{doc['id']}/links",
        data={"mode": "edit", "expires_on": tomorrow.isoformat(), "link_password": "letmein"},
    )
    assert response.status_code == 302 and response.location == f"/files/{doc['id']}#share-links"
    with alice.session_transaction() as session:
        new = session["share_new_link"]
        assert "Edit link created" in str(session["_flashes"])
    assert new["file_id"] == doc["id"] and "/s/" in new["url"]
    link = {"url": new["url"], "id": new["link_id"]}
    stored = rows(world, ShareLink)[-1]
    assert stored.mode == "edit" and stored.password_hash and stored.password_hash != "letmein"
    assert stored.expires_at.replace(tzinfo=timezone.utc) == datetime.combine(
        tomorrow, datetime.max.time(), tzinfo=timezone.utc
    ).replace(microsecond=0)
    guest = join(world, link, "Gina", password="letmein")
    assert guest_config(world, link, guest)["editorConfig"]["mode"] == "edit"

    # Refused input makes no link.
    yesterday = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()
    for data in ({"mode": "edit", "expires_on": yesterday}, {"mode": "owner"}, {"mode": "view", "link_password": "ab"}):
        assert alice.post(f"/files/{doc['id']}/links", data=data).status_code == 302
    assert len(rows(world, ShareLink)) == 1
    # Only managers: a member 403, an outsider 404.
    assert world.client("bob").post(f"/files/{doc['id']}/links", data={"mode": "view"}).status_code == 403
    assert world.client("carol").post(f"/files/{doc['id']}/links", data={"mode": "view"}).status_code == 404
    revoke = f"/files/{doc['id']}/links/{link['id']}/revoke"
    assert world.client("bob").post(revoke).status_code == 403
    assert world.client("carol").post(revoke).status_code == 404
    assert alice.post(f"/files/{other['id']}/links/{link['id']}/revoke").status_code == 404
    assert world.app.test_client().post(revoke).status_code == 302  # to the sign-in page
    assert rows(world, ShareLink)[-1].revoked_at is None

    assert alice.post(revoke).status_code == 302
    assert rows(world, ShareLink)[-1].revoked_at is not None
    assert guest.get(path_of(link) + "/open").status_code == 404


def test_partial_lists_links_and_shows_a_new_url_once(world):
    from flask import render_template
    from flask import session
    from flask_login import login_user

    from app.extensions import db
    from app.files.views import share_links_context
    from app.models import File
    from app.models import User

    doc = world.create_document("alice", "Listed")
    view = make_link(world, doc["id"], "view", password="pw-1234")
    edit = make_link(world, doc["id"], "edit", expires_at="2999-05-06T07:08:09+00:00")
    join(world, edit, "Gina")
    world.client().delete(f"/api/v1/files/{doc['id']}/links/{view['id']}", headers=world.api("alice"))

    def render(username, new_link=None):
        with world.app.test_request_context(f"/files/{doc['id']}"):
            login_user(db.session.get(User, world.user_ids[username]))
            if new_link:
                session["share_new_link"] = new_link
            file = db.session.get(File, doc["id"])
            first = render_template("files/_share_links.html", file=file, **share_links_context(file))
            second = share_links_context(file)
            return first, second

    html, again = render("alice", {"file_id": doc["id"], "link_id": edit["id"], "url": edit["url"]})
    assert f'readonly value="{edit["url"]}"' in html.replace('type="text" ', "")
    assert again["new_link"] is None  # handed out once
    assert secret_of(view) not in html
    table = re.search(r'<table[^>]*id="share-link-list".*?</table>', html, re.S).group(0)
    row_view = re.search(rf'<tr data-link-id="{view["id"]}" data-state="revoked".*?</tr>', table, re.S).group(0)
    row_edit = re.search(rf'<tr data-link-id="{edit["id"]}" data-state="active".*?</tr>', table, re.S).group(0)
    assert (
        "Can view" in row_view
        and '<td data-label="Password">yes</td>' in row_view
        and "Revoke</button>" not in row_view
    )
    assert (
        "Can edit" in row_edit
        and '<td data-label="Password">no</td>' in row_edit
        and '<td data-label="Uses">1</td>' in row_edit
    )
    assert "2999-05-06" in row_edit and "Alice Archer" in row_edit
    assert f'action="/files/{doc["id"]}/links/{edit["id"]}/revoke"' in row_edit and "csrf_token" in row_edit
    assert f'action="/files/{doc["id"]}/links"' in html and 'name="mode"' in html and 'type="date"' in html
    assert "<script>" not in html and " style=" not in html
    # A link for another file's page is not shown here.
    html, _ = render("alice", {"file_id": doc["id"] + 1, "link_id": 1, "url": "http://x/s/other"})
    assert "new-share-link-url" not in html
    # Not a manager: nothing at all.
    html, context = render("bob")
    assert html.strip() == "" and context["link_form"] is None and context["links"] == []


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_forms_need_the_csrf_token(csrf_world):
    world = csrf_world
    doc = world.create_document("alice", "Forged")
    link = make_link(world, doc["id"], "edit")  # token-authenticated API: no CSRF needed

    guest = world.app.test_client()
    token = csrf_token(guest.get(path_of(link)).get_data(as_text=True))
    assert guest.post(path_of(link), data={"name": "Mallory"}).status_code == 400
    assert guest.post(path_of(link), data={"name": "Gina", "csrf_token": token}).status_code == 302

    alice = world.app.test_client()
    login_token = csrf_token(alice.get("/auth/login").get_data(as_text=True))
    assert (
        alice.post(
            "/auth/login", data={"username": "alice", "password": "pw-alice", "csrf_token": login_token}
        ).status_code
        == 302
    )
    assert alice.post(f"/files/{doc['id']}/links", data={"mode": "edit"}).status_code == 400
    assert alice.post(f"/files/{doc['id']}/links/{link['id']}/revoke").status_code == 400
    assert alice.post(f"/api/v1/files/{doc['id']}/links", json={"mode": "view"}).status_code == 400
    assert alice.delete(f"/api/v1/files/{doc['id']}/links/{link['id']}").status_code == 400
    assert (
        len(world.client().get(f"/api/v1/files/{doc['id']}/links", headers=world.api("alice")).get_json()["links"]) == 1
    )
    assert guest.get(path_of(link) + "/open").status_code == 200  # nothing was revoked
    assert alice.post(f"/files/{doc['id']}/links", data={"mode": "edit", "csrf_token": login_token}).status_code == 302
    assert (
        alice.delete(f"/api/v1/files/{doc['id']}/links/{link['id']}", headers={"X-CSRFToken": login_token}).status_code
        == 204
    )
    assert guest.get(path_of(link) + "/open").status_code == 404


# --- through the Document Server emulator ------------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emu:
        yield emu


@pytest.fixture
def live(make_world, emulator):
    emulator.clear_faults()
    return make_world(DOCS_URL=emulator.url)


def test_guest_edit_through_docs_stores_version_two(live, emulator):
    from app.services import share_links

    doc = live.create_document("alice", "Guest work")
    link = make_link(live, doc["id"], "edit")
    client = join(live, link, "Gina Guest")
    config = guest_config(live, link, client)
    key, guest = config["document"]["key"], config["editorConfig"]["user"]["id"]

    opened = emulator.open_session(config)
    assert opened["error"] == 0 and opened["mode"] == "edit"
    assert live.file(doc["id"]).editors == [guest]
    emulator.append(key, guest, "Written by a guest")
    emulator.leave(key, guest)
    emulator.wait_idle()

    assert emulator.callbacks(key=key, status=2)[-1]["ok"]
    file = live.file(doc["id"])
    assert file.version == 2 and file.editors == []
    assert live.versions(doc["id"])[1].author_id is None  # a guest is no user
    assert live.versions(doc["id"])[1].guest_name == "Gina Guest"  # ...but the version names them
    assert "Written by a guest" in docx_text(live.head_bytes(doc["id"]))
    assert live.query(lambda: share_links.guest_name(guest)) == "Gina Guest"
    page = live.client("alice").get(f"/files/{doc['id']}").get_data(as_text=True)
    versions = page[page.index('id="versions"') :]
    assert "Gina Guest" in versions and "(guest)" in versions
    listed = live.client().get(f"/api/v1/files/{doc['id']}/versions", headers=live.api("alice")).get_json()
    assert [(v["author"], v["guest_name"]) for v in listed["versions"]] == [("alice", None), (None, "Gina Guest")]


def test_view_guest_sends_no_callbacks(live, emulator):
    doc = live.create_document("alice", "Look only")
    link = make_link(live, doc["id"], "view")
    config = guest_config(live, link, join(live, link))
    emulator.clear_callbacks()
    opened = emulator.open_session(config)
    assert opened["error"] == 0 and opened["mode"] == "view"
    assert emulator.callbacks(key=config["document"]["key"]) == []
    assert live.file(doc["id"]).editors == []


def test_revoking_drops_an_editing_guest_and_keeps_their_edits(live, emulator):
    doc = live.create_document("alice", "Cut off")
    link = make_link(live, doc["id"], "edit")
    client = join(live, link, "Gina")
    config = guest_config(live, link, client)
    key, guest = config["document"]["key"], config["editorConfig"]["user"]["id"]
    alice_config = live.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=live.api("alice")).get_json()
    alice = str(live.user_ids["alice"])
    assert emulator.open_session(config)["error"] == 0
    assert emulator.open_session(alice_config)["error"] == 0
    emulator.append(key, guest, "Before the cut")
    assert sorted(live.file(doc["id"]).editors) == sorted([guest, alice])

    assert (
        live.client().delete(f"/api/v1/files/{doc['id']}/links/{link['id']}", headers=live.api("alice")).status_code
        == 204
    )
    # The guest is dropped by a job that runs once the revocation is committed.
    wait_for(lambda: emulator.session(key)["users"] == [alice], what="the guest to be dropped")
    assert client.get(path_of(link) + "/open").status_code == 404
    deadline = time.monotonic() + 10
    while not emulator.callbacks(key=key, status=6):  # the force-save asked for when the guest left
        assert time.monotonic() < deadline
        time.sleep(0.05)
    emulator.wait_idle()
    emulator.leave(key, alice)
    emulator.wait_idle()
    # The force-save made when the guest left names only the guest, who may no longer edit: it is
    # kept aside. Alice stayed and closed the session: its final save names her and becomes the head.
    versions = live.versions(doc["id"])
    assert [v.is_conflict for v in versions] == [False, True, False]
    assert live.file(doc["id"]).version == 3
    assert "Before the cut" in docx_text(live.head_bytes(doc["id"]))


def test_revoking_drops_a_guest_whose_join_has_not_reached_us_yet(live, emulator):
    """The join (status 1) may still be on its way when the link is revoked: Docs knows the guest."""
    from app.extensions import db
    from app.models import File

    doc = live.create_document("alice", "In flight")
    link = make_link(live, doc["id"], "edit")
    config = guest_config(live, link, join(live, link, "Gina"))
    key = config["document"]["key"]
    assert emulator.open_session(config)["error"] == 0

    def forget_the_join():
        db.session.get(File, doc["id"]).editors = []
        db.session.commit()

    live.query(forget_the_join)  # as if the status 1 had not been stored yet
    response = live.client().delete(f"/api/v1/files/{doc['id']}/links/{link['id']}", headers=live.api("alice"))
    assert response.status_code == 204
    wait_for(lambda: emulator.session(key)["users"] == [], what="the guest to be dropped")

"""Accounts in the web UI: the administrator's people page (accounts, passwords, administrators,
groups), groups for the editors and for spaces, and one's own profile and API tokens.

Forms are posted as a browser does, with CSRF on (csrf_world)."""

import re

import pytest
import sqlalchemy as sa

from tests.helpers import csrf_token
from tests.test_admin import form as settings_form


def login(world, name, password=None):
    client = world.app.test_client()
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login", data={"username": name, "password": password or "pw-" + name, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = token  # the session keeps it
    return client


def post(client, path, **data):
    return client.post(path, data={**data, "csrf_token": client.csrf})


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(world, action):
    from app.extensions import db
    from app.models import AuditEvent

    return world.query(
        lambda: [
            (e.actor_name, e.object_name, e.details_json)
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        ]
    )


def user_row(world, name):
    from app.services import accounts

    return world.query(
        lambda: (
            lambda u: (
                None
                if u is None
                else {c: getattr(u, c) for c in ("id", "display_name", "email", "is_admin", "language", "timezone")}
            )
        )(accounts.find(name))
    )


def group_id(world, name):
    from app.extensions import db
    from app.models import Group

    return world.query(lambda: db.session.scalar(sa.select(Group.id).where(Group.name == name)))


# --- the people page -----------------------------------------------------------------------


def test_admin_creates_an_account_with_a_generated_password_shown_once(csrf_world):
    admin = login(csrf_world, "alice")
    assert admin.post("/admin/users/new", data={"username": "erin"}).status_code == 400  # no CSRF token
    response = post(admin, "/admin/users/new", username="erin", display_name="Erin Eve", email="erin@example.org")
    assert response.status_code == 200
    password = re.search(r'id="secret-value">([^<]+)<', text(response)).group(1)
    assert len(password) >= 12 and response.headers["Cache-Control"] == "no-store"
    assert password not in text(admin.get("/admin/users"))  # shown once only
    assert user_row(csrf_world, "erin")["email"] == "erin@example.org"
    login(csrf_world, "erin", password)
    entries = audit_actions(csrf_world, "admin.user_created")
    assert entries and entries[-1][:2] == ("alice", "erin") and password not in entries[-1][2]


def test_admin_creates_an_account_with_a_chosen_password_and_refuses_bad_ones(csrf_world):
    admin = login(csrf_world, "alice")
    response = post(admin, "/admin/users/new", username="frank", password="frank-password", admin="y")
    assert response.status_code == 302
    assert user_row(csrf_world, "frank")["is_admin"] is True
    login(csrf_world, "frank", "frank-password")
    for data, message in (
        ({"username": "FRANK", "password": "another-pass"}, "is taken"),
        ({"username": "gil", "email": "not-an-address"}, "e-mail address"),
        ({"username": "gil", "password": "short"}, "at least 8"),
        ({"username": "g i l"}, "no spaces"),
    ):
        assert message in text(post(admin, "/admin/users/new", **data)), data
    assert user_row(csrf_world, "gil") is None


def test_reset_password_ends_every_session_of_the_account(csrf_world):
    admin, bob = login(csrf_world, "alice"), login(csrf_world, "bob")
    assert bob.get("/auth/account").status_code == 200
    response = post(admin, f"/admin/users/{csrf_world.user_ids['bob']}/password", password="brand-new-password")
    assert response.status_code == 302
    assert bob.get("/auth/account").status_code == 302  # the old session ended
    login(csrf_world, "bob", "brand-new-password")
    # Left empty: one is generated and shown once.
    response = post(admin, f"/admin/users/{csrf_world.user_ids['bob']}/password", password="")
    generated = re.search(r'id="secret-value">([^<]+)<', text(response)).group(1)
    login(csrf_world, "bob", generated)
    assert [e[1] for e in audit_actions(csrf_world, "admin.password_reset")] == ["bob", "bob"]
    assert admin.get("/admin/users").status_code == 200  # the admin's own session goes on


def test_disable_and_enable(csrf_world):
    admin, bob = login(csrf_world, "alice"), login(csrf_world, "bob")
    post(admin, f"/admin/users/{csrf_world.user_ids['bob']}/disable")
    assert bob.get("/auth/account").status_code == 302
    post(admin, f"/admin/users/{csrf_world.user_ids['bob']}/disable")
    login(csrf_world, "bob")
    assert [e[1] for e in audit_actions(csrf_world, "admin.user_disabled")] == ["bob"]
    assert [e[1] for e in audit_actions(csrf_world, "admin.user_enabled")] == ["bob"]


def test_admin_flag_never_leaves_the_site_without_an_admin(csrf_world):
    from app.services import accounts
    from app.services.exceptions import BadRequestError

    admin = login(csrf_world, "alice")
    ids = csrf_world.user_ids
    response = post(admin, f"/admin/users/{ids['alice']}/admin", admin="0")
    assert response.status_code == 302 and user_row(csrf_world, "alice")["is_admin"] is True  # not oneself
    post(admin, f"/admin/users/{ids['bob']}/admin", admin="1")
    assert user_row(csrf_world, "bob")["is_admin"] is True
    bob = login(csrf_world, "bob")
    assert bob.get("/admin/users").status_code == 200
    post(bob, f"/admin/users/{ids['alice']}/admin", admin="0")
    assert user_row(csrf_world, "alice")["is_admin"] is False
    assert "cannot take administration from yourself" in text(
        bob.get(post(bob, f"/admin/users/{ids['bob']}/admin", admin="0").location)
    )
    assert user_row(csrf_world, "bob")["is_admin"] is True

    def last_admin():
        bob_user, carol = accounts.find("bob"), accounts.find("carol")
        with pytest.raises(BadRequestError, match="last administrator"):
            accounts.set_admin(bob_user, False, actor=carol)

    csrf_world.query(last_admin)
    assert [e[1] for e in audit_actions(csrf_world, "admin.admin_granted")] == ["bob"]
    assert [e[1] for e in audit_actions(csrf_world, "admin.admin_revoked")] == ["alice"]


def test_groups_are_made_renamed_filled_emptied_and_deleted(csrf_world):
    admin = login(csrf_world, "alice")
    assert post(admin, "/admin/groups", name="Editors").status_code == 302
    assert "already" in text(post(admin, "/admin/groups", name="editors"))
    gid = group_id(csrf_world, "Editors")
    post(admin, f"/admin/groups/{gid}/rename", name="Writers")
    assert group_id(csrf_world, "Writers") == gid
    post(admin, f"/admin/groups/{gid}/members", username="Bob")
    post(admin, f"/admin/groups/{gid}/members", username="carol")
    page = text(admin.get("/admin/users"))
    assert 'data-group="Writers"' in page and "2 members" in page
    assert "There is no user" in text(
        admin.get(post(admin, f"/admin/groups/{gid}/members", username="nobody").location)
    )
    post(admin, f"/admin/groups/{gid}/members/{csrf_world.user_ids['carol']}/remove")
    assert "1 member<" in text(admin.get("/admin/users"))
    assert post(admin, f"/admin/groups/{gid}/members/{csrf_world.user_ids['carol']}/remove").status_code == 404
    post(admin, f"/admin/groups/{gid}/delete")
    assert group_id(csrf_world, "Writers") is None
    for action, count in (
        ("admin.group_created", 1),
        ("admin.group_renamed", 1),
        ("admin.group_member_added", 2),
        ("admin.group_member_removed", 1),
        ("admin.group_deleted", 1),
    ):
        assert len(audit_actions(csrf_world, action)) == count, action


def test_non_admins_get_403_on_every_people_action(csrf_world):
    admin = login(csrf_world, "alice")
    post(admin, "/admin/groups", name="Crew")
    gid = group_id(csrf_world, "Crew")
    bob, carol_id = login(csrf_world, "bob"), csrf_world.user_ids["carol"]
    assert bob.get("/admin/users").status_code == 403
    for path, data in (
        ("/admin/users/new", {"username": "mallory"}),
        (f"/admin/users/{carol_id}/password", {"password": "taken-over-1"}),
        (f"/admin/users/{carol_id}/admin", {"admin": "1"}),
        (f"/admin/users/{carol_id}/disable", {}),
        (f"/admin/users/{carol_id}/sign-out", {}),
        ("/admin/groups", {"name": "Mine"}),
        (f"/admin/groups/{gid}/rename", {"name": "Mine"}),
        (f"/admin/groups/{gid}/members", {"username": "bob"}),
        (f"/admin/groups/{gid}/members/{carol_id}/remove", {}),
        (f"/admin/groups/{gid}/delete", {}),
    ):
        assert post(bob, path, **data).status_code == 403, path
    assert user_row(csrf_world, "mallory") is None and group_id(csrf_world, "Crew") == gid


# --- groups for the editors and for spaces ---------------------------------------------------


def test_only_members_of_the_chosen_groups_open_the_editors(csrf_world):
    doc = csrf_world.create_document("alice", "Plan")
    csrf_world.set_level(doc["id"], "bob", "edit")
    admin, bob = login(csrf_world, "alice"), login(csrf_world, "bob")
    post(admin, "/admin/groups", name="Writers")
    gid = group_id(csrf_world, "Writers")
    post(admin, f"/admin/groups/{gid}/members", username="alice")
    assert f'value="{gid}"' in text(admin.get("/admin/settings"))
    assert post(admin, "/admin/settings", **settings_form(editor_groups=str(gid))).status_code == 200

    assert bob.get(f"/files/{doc['id']}/open").status_code == 403
    api = csrf_world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=csrf_world.api("bob"))
    assert api.status_code == 403
    assert admin.get(f"/files/{doc['id']}/open").status_code == 200
    assert bob.get(f"/files/{doc['id']}/download").status_code == 200  # reading still works

    post(admin, f"/admin/groups/{gid}/members", username="bob")
    assert bob.get(f"/files/{doc['id']}/open").status_code == 200
    # A chosen group cannot be deleted: that would lock its members out, or open the editors to all.
    assert "settings page first" in text(admin.get(post(admin, f"/admin/groups/{gid}/delete").location))
    assert group_id(csrf_world, "Writers") == gid


def test_the_older_username_list_still_restricts_beside_the_groups(world):
    from app.extensions import db
    from app.models import Group
    from app.models import GroupMember
    from app.services import accounts
    from app.services import rights
    from app.services import settings

    def check():
        group = Group(name="Writers")
        db.session.add(group)
        db.session.flush()
        db.session.add(GroupMember(group_id=group.id, user_id=accounts.find("alice").id))
        alice, bob, carol = (accounts.find(n) for n in ("alice", "bob", "carol"))
        assert all(rights.may_use_editors(u) for u in (alice, bob, carol))  # nothing chosen: everyone
        settings.save({"editor_users": "bob\n"})
        assert [rights.may_use_editors(u) for u in (alice, bob, carol)] == [False, True, False]
        settings.save({"editor_groups": str(group.id)})
        assert [rights.may_use_editors(u) for u in (alice, bob, carol)] == [True, True, False]
        assert rights.may_use_editors(None) is False
        db.session.rollback()

    world.query(check)


def test_a_space_manager_adds_a_whole_group(csrf_world):
    from app.extensions import db
    from app.models import Membership

    admin = login(csrf_world, "alice")
    post(admin, "/admin/groups", name="Crew")
    gid = group_id(csrf_world, "Crew")
    for name in ("bob", "carol"):
        post(admin, f"/admin/groups/{gid}/members", username=name)
    space = csrf_world.space_id
    assert 'id="add-group"' in text(admin.get(f"/spaces/{space}"))
    bob = login(csrf_world, "bob")  # a plain member: not theirs to do
    assert post(bob, f"/spaces/{space}/members/group", group=str(gid), role="member").status_code == 403
    response = post(admin, f"/spaces/{space}/members/group", group=str(gid), role="admin")
    assert response.status_code == 302
    assert "1 member of Crew joined" in text(admin.get(response.location))
    roles = csrf_world.query(
        lambda: dict(
            db.session.execute(sa.select(Membership.user_id, Membership.role).where(Membership.space_id == space)).all()
        )
    )
    ids = csrf_world.user_ids
    assert roles == {ids["alice"]: "owner", ids["bob"]: "member", ids["carol"]: "admin"}  # bob keeps his role
    assert login(csrf_world, "carol").get(f"/spaces/{space}").status_code == 200
    assert "added the group Crew: Carol Cook" in text(admin.get(f"/spaces/{space}"))
    assert audit_actions(csrf_world, "space.group_added")[0][1] == "Crew"
    assert post(admin, f"/spaces/{space}/members/group", group="9999", role="member").status_code == 302


# --- one's own profile and tokens ---------------------------------------------------------------


def test_profile_updates_and_refusals(csrf_world):
    bob = login(csrf_world, "bob")
    page = text(bob.get("/auth/account"))
    assert 'id="profile-timezone"' in page and "Europe/Berlin" in page
    response = post(
        bob,
        "/auth/account/profile",
        display_name="Robert Baker",
        email="bob@example.org",
        language="de",
        timezone="Europe/Berlin",
    )
    assert response.status_code == 302
    row = user_row(csrf_world, "bob")
    assert (row["display_name"], row["email"], row["language"], row["timezone"]) == (
        "Robert Baker",
        "bob@example.org",
        "de",
        "Europe/Berlin",
    )
    # Back to the site's language (English), in which the refusals below are read.
    post(bob, "/auth/account/profile", display_name="Robert Baker", email="", language="", timezone="Europe/Berlin")
    for data, message in (
        ({"email": "bob@"}, "e-mail address"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"language": "xx"}, "languages offered"),
        ({"display_name": ""}, "correct the marked"),
    ):
        base = {"display_name": "Robert Baker", "email": "", "language": "", "timezone": ""}
        assert message in text(post(bob, "/auth/account/profile", **{**base, **data})), data
    assert user_row(csrf_world, "bob")["timezone"] == "Europe/Berlin"  # nothing of a refused form is kept
    # Emptying them is fine: no address, the site's language, the browser's zone.
    post(bob, "/auth/account/profile", display_name="Bob", email="", language="", timezone="")
    row = user_row(csrf_world, "bob")
    assert (row["email"], row["language"], row["timezone"]) == (None, "", "")
    assert audit_actions(csrf_world, "auth.profile_changed")[0][0] == "bob"


def test_password_change_needs_the_current_password(csrf_world):
    bob = login(csrf_world, "bob")
    wrong = post(bob, "/auth/account", current="not-it", new="fresh-password", repeat="fresh-password")
    assert "current password is not right" in text(wrong)
    login(csrf_world, "bob")  # unchanged
    right = post(bob, "/auth/account", current="pw-bob", new="fresh-password", repeat="fresh-password")
    assert right.status_code == 302
    login(csrf_world, "bob", "fresh-password")


def test_tokens_are_made_listed_and_revoked(csrf_world):
    doc = csrf_world.create_document("alice", "Plan")
    csrf_world.set_level(doc["id"], "bob", "read")
    bob = login(csrf_world, "bob")
    response = post(bob, "/auth/account/tokens", name="nightly backup")
    assert response.status_code == 200
    plain = re.search(r'id="new-token-value">([^<]+)<', text(response)).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    page = text(bob.get("/auth/account"))
    assert "nightly backup" in page and plain not in page and "never" in page
    headers = {"Authorization": "Bearer " + plain}
    assert csrf_world.client().get(f"/api/v1/files/{doc['id']}", headers=headers).status_code == 200
    used = re.search(r"nightly backup</td>(.*?)</tr>", text(bob.get("/auth/account")), re.S).group(1)
    assert used.count("<time") == 2 and "never" not in used  # its last use is shown
    token_id = re.search(r'data-token="(\d+)">\s*<td class="text-break">nightly backup', page).group(1)
    # Nobody revokes another's token.
    carol = login(csrf_world, "carol")
    assert post(carol, f"/auth/account/tokens/{token_id}/revoke").status_code == 404
    assert post(bob, f"/auth/account/tokens/{token_id}/revoke").status_code == 302
    assert csrf_world.client().get(f"/api/v1/files/{doc['id']}", headers=headers).status_code == 401
    assert "nightly backup" not in text(bob.get("/auth/account"))
    before = text(bob.get("/auth/account")).count("data-token=")
    post(bob, "/auth/account/tokens", name="  ")
    assert text(bob.get("/auth/account")).count("data-token=") == before  # a token needs a name
    entries = audit_actions(csrf_world, "auth.api_token_created") + audit_actions(csrf_world, "auth.api_token_revoked")
    assert [e[:2] for e in entries] == [("bob", "nightly backup"), ("bob", "nightly backup")]
    assert all(plain not in e[2] for e in entries)

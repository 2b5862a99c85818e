"""Bot accounts (no password, tokens given by an administrator, marked wherever they appear) and
the Mattermost-style login API (a token in the ``Token`` header, ``/users/me``)."""

import html
import re

import sqlalchemy as sa

LOGIN = "/api/v1/users/login"


def login(world, login_id, password):
    return world.client().post(LOGIN, json={"login_id": login_id, "password": password})


def test_the_login_flow_returns_a_token_that_works_on_me(world):
    response = login(world, " BOB ", "pw-bob")
    assert response.status_code == 200
    user = response.get_json()
    assert user["username"] == "bob" and user["display_name"] == "Bob Baker"
    assert user["is_bot"] is False and user["is_admin"] is False
    assert "password" not in str(user) and response.headers["Cache-Control"] == "no-store"
    token = response.headers["Token"]
    me = world.client().get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json() == user
    assert world.client().get("/api/v1/users/me").status_code == 401
    assert world.client().get("/api/v1/users/me", headers={"Authorization": "Bearer cot_wrong"}).status_code == 401
    # The token is one of bob's personal tokens: listed on his account page, revocable there.
    account = world.client("bob").get("/auth/account").get_data(as_text=True)
    token_id = re.search(r'data-token="(\d+)">\s*<td[^>]*>Signed in through the API \d{4}-', account).group(1)
    assert world.client("bob").post(f"/auth/account/tokens/{token_id}/revoke").status_code == 302
    assert world.client().get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_wrong_credentials_get_one_generic_401(world):
    from app.extensions import db
    from app.models import AuditEvent
    from app.models import User

    wrong = login(world, "bob", "nope")
    unknown = login(world, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()  # nothing tells which accounts exist
    assert "Token" not in wrong.headers
    assert world.client().post(LOGIN, json={"login_id": 5, "password": None}).status_code == 401
    assert world.client().post(LOGIN, data="x", content_type="text/plain").status_code == 400

    def disable_carol():
        db.session.scalar(sa.select(User).where(User.username == "carol")).disabled_at = sa.func.now()
        db.session.commit()

    world.query(disable_carol)
    assert login(world, "carol", "pw-carol").status_code == 401
    tried = world.query(
        lambda: [
            e.actor_name
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed"))
        ]
    )
    assert tried == ["bob", "nobody", "", "carol"]


def test_failed_api_sign_ins_are_rate_limited(make_world, fake_docs):
    world = make_world(DOCS_URL=fake_docs.url, RATELIMIT_SIGN_IN_PER_ACCOUNT="3 per minute")
    assert [login(world, "bob", "nope").status_code for _ in range(3)] == [401, 401, 401]
    limited = login(world, "bob", "pw-bob")  # even the right password waits now
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert login(world, "alice", "pw-alice").status_code == 200  # other accounts are not held up


def make_bot(world, username="ci-bot", display_name="CI Bot"):
    """Created by the administrator alice; returns its id."""
    from app.extensions import db
    from app.models import User

    response = world.client("alice").post(
        "/admin/users/bots", data={"username": username, "display_name": display_name}
    )
    assert response.status_code == 302, response.status_code
    return world.query(lambda: db.session.scalar(sa.select(User.id).where(User.username == username)))


def bot_token(world, bot_id, name="deploys"):
    page = world.client("alice").post(f"/admin/users/{bot_id}/tokens", data={"name": name})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    return html.unescape(re.search(r'id="new-bot-token-value">([^<]+)<', page.get_data(as_text=True)).group(1))


def test_a_bot_never_signs_in_and_works_with_the_token_it_is_given(world):
    from app.extensions import db
    from app.models import User

    bot_id = make_bot(world)
    assert world.query(lambda: db.session.get(User, bot_id).is_bot) is True

    def known_password():  # even with a password somebody knew, a bot does not sign in
        db.session.get(User, bot_id).set_password("pw-ci-bot")
        db.session.commit()

    world.query(known_password)
    form = world.app.test_client().post("/auth/login", data={"username": "ci-bot", "password": "pw-ci-bot"})
    assert form.status_code == 200 and "Unknown username or wrong password" in form.get_data(as_text=True)
    assert login(world, "ci-bot", "pw-ci-bot").status_code == 401

    token = bot_token(world, bot_id)
    headers = {"Authorization": f"Bearer {token}"}
    me = world.client().get("/api/v1/users/me", headers=headers).get_json()
    assert me["username"] == "ci-bot" and me["is_bot"] is True
    # Spaces as anyone: a member once added, and it may then create documents there.
    assert world.client().get(f"/api/v1/spaces/{world.space_id}/files", headers=headers).status_code == 404
    added = world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "ci-bot"}, headers=world.api("alice")
    )
    assert added.status_code == 201
    created = world.client().post(
        f"/api/v1/spaces/{world.space_id}/documents", json={"title": "Nightly", "type": "docx"}, headers=headers
    )
    assert created.status_code == 201

    # An administrator revokes the token; a bot has no password to reset and is never an admin.
    admin = world.client("alice")
    users_page = admin.get("/admin/users").get_data(as_text=True)
    token_id = re.search(r'data-token="(\d+)"', users_page).group(1)
    assert admin.post(f"/admin/users/{bot_id}/password", data={"password": "long-enough-1"}).status_code == 302
    assert admin.post(f"/admin/users/{bot_id}/admin", data={"admin": "1"}).status_code == 302
    assert world.query(lambda: db.session.get(User, bot_id).is_admin) is False
    assert login(world, "ci-bot", "long-enough-1").status_code == 401
    assert admin.post(f"/admin/users/{bot_id}/tokens/{token_id}/revoke").status_code == 302
    assert world.client().get("/api/v1/users/me", headers=headers).status_code == 401
    # Tokens are given to bots only, and only by administrators.
    assert admin.post(f"/admin/users/{world.user_ids['bob']}/tokens", data={"name": "x"}).status_code == 404
    assert world.client("bob").post(f"/admin/users/{bot_id}/tokens", data={"name": "x"}).status_code == 403


def test_bots_are_marked_where_people_appear(world):
    bot_id = make_bot(world)
    world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "ci-bot"}, headers=world.api("alice")
    )
    doc = world.create_document("alice", "Plan")

    def bot_posts():
        from app.extensions import db
        from app.models import User
        from app.services import posts

        posts.post(world.space_id, db.session.get(User, bot_id), "Nightly build done")
        db.session.commit()

    world.query(bot_posts)

    def badge_near(page: str, name: str) -> bool:
        pattern = re.escape(name) + r"(</strong>)?\s*<span class=\"badge[^\"]*bot-badge\">bot</span>"
        return re.search(pattern, page) is not None

    space = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert len(re.findall(r"CI Bot(</strong>)?\s*<span class=\"badge[^\"]*bot-badge\">bot</span>", space)) == 2
    assert not badge_near(space, "Bob Baker") and not badge_near(space, "Alice Archer")  # stream and members
    settings = world.client("alice").get(f"/spaces/{world.space_id}/settings").get_data(as_text=True)
    assert badge_near(settings, "CI Bot")
    people = world.client("alice").get("/admin/users").get_data(as_text=True)
    assert badge_near(people, "CI Bot") and not badge_near(people, "Alice Archer")
    rights = world.client("alice").get(f"/files/{doc['id']}").get_data(as_text=True)
    assert badge_near(rights, "CI Bot")  # the rights dialog
    mentions = world.client("alice").get(f"/files/{doc['id']}/mention-users").get_json()
    assert "CI Bot (bot)" in [user["name"] for user in mentions["users"]]

"""The rights matrix: every role against every surface, and every route accounted for.

Roles: owner, space admin, members with each level, a member with an override, a member with
no access, a non-member, guests with a view or an edit link, revoked and expired links.
Surfaces: file page, editor page, editor-config API, content download, Docs' download URL,
rights changes. A route added without a rule here fails ``test_every_route_has_a_rule``.
"""

import pytest
import requests

from tests.conftest import EXPECTED_MODE
from tests.conftest import MEMBERS
from tests.helpers import docs_token
from tests.test_editor_page import page_config


def docs_fetch(url):
    return requests.get(url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10)


@pytest.mark.parametrize("person", list(MEMBERS) + ["carol"])
def test_members_and_outsiders(world, matrix, person):
    doc_id = matrix["doc"]["id"]
    client = world.client(person)
    api = world.api(person)
    readable = person in EXPECTED_MODE
    manages = person in ("alice", "dave")
    downloads = readable  # readers may download by default

    page = client.get(f"/files/{doc_id}")
    assert page.status_code == (200 if readable else 404)

    editor = client.get(f"/files/{doc_id}/open")
    assert editor.status_code == (200 if readable else 404)
    config = world.client().get(f"/api/v1/files/{doc_id}/editor-config?mode=edit", headers=api)
    assert config.status_code == (200 if readable else 404)
    if readable:
        assert page_config(editor.get_data(as_text=True))["editorConfig"]["mode"] == EXPECTED_MODE[person]
        cfg = config.get_json()
        assert cfg["editorConfig"]["mode"] == EXPECTED_MODE[person]
        assert cfg["document"]["permissions"]["edit"] is (person in ("alice", "dave", "bob"))
        # Docs can download with the URL this person's config carries; the person alone cannot.
        assert docs_fetch(cfg["document"]["url"]).status_code == 200
        assert requests.get(cfg["document"]["url"], timeout=10).status_code == 403

    content = world.client().get(f"/api/v1/files/{doc_id}/content", headers=api)
    assert content.status_code == (200 if downloads else 404)
    assert client.get(f"/files/{doc_id}/download").status_code == (200 if downloads else 404)

    change = world.client().put(f"/api/v1/files/{doc_id}/rights", json={"default": "read"}, headers=api)
    assert change.status_code == (200 if manages else 403 if readable else 404)
    dialog = client.post(f"/files/{doc_id}/rights", data={"default": "read"})
    assert dialog.status_code == (302 if manages else 403 if readable else 404)


@pytest.mark.parametrize(
    "state,expected",
    [("view", ("view", 200)), ("edit", ("edit", 200)), ("revoked", (None, 404)), ("expired", (None, 410))],
)
def test_guests(world, matrix, state, expected):
    mode, status = expected
    link = matrix["links"][state]
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    guest = world.app.test_client()
    landing = guest.post(path, data={"name": "Gus Guest"})
    if mode is None:
        assert landing.status_code == status
        assert guest.get(path + "/open").status_code == status
        return
    assert landing.status_code == 302
    html = guest.get(path + "/open?mode=edit").get_data(as_text=True)
    config = page_config(html)
    assert config["editorConfig"]["mode"] == mode
    assert config["editorConfig"]["user"]["id"].startswith("guest:")
    assert config["document"]["permissions"]["edit"] is (mode == "edit")
    assert docs_fetch(config["document"]["url"]).status_code == 200
    # A guest is nobody to the rest of the site.
    doc_id = matrix["doc"]["id"]
    for path in (f"/files/{doc_id}", f"/files/{doc_id}/open", f"/files/{doc_id}/download"):
        response = guest.get(path)
        assert response.status_code == 302 and "/auth/login" in response.location
    assert guest.get(f"/api/v1/files/{doc_id}").status_code == 401


# Every route: who may reach it. "file:<level>" and "space" routes are probed below.
RULES = {
    "static": "public",
    "bootstrap.static": "public",
    "auth.login": "public",
    "ops.healthz": "public",
    "ops.readyz": "public",
    "ops.metrics": "public",  # loopback or the metrics token: tests/test_ops_access_logs.py
    "ops.onlyoffice_health": "public",
    "backend.download": "docs",
    "backend.track": "docs",
    "backend.blank": "docs",
    "backend.history_version": "docs",
    "backend.history_changes": "docs",
    "backend.convert_source": "docs",
    "backend.template_source": "docs",  # tests/test_template_previews.py
    "backend.insert_source": "docs",
    "share.landing": "secret",
    "share.open_link": "secret",
    "hooks.incoming": "secret",  # the incoming webhook's URL: tests/test_incoming_hooks.py
    "api.login": "public",  # credentials in the body: tests/test_bots_and_login_api.py
    "api.me": "self",
    "admin.settings_page": "admin",
    "admin.forgotten_page": "admin",
    "admin.forgotten_recover": "admin",
    "admin.forgotten_delete": "admin",
    "admin.forgotten_download": "admin",
    "admin.run_job_again": "admin",
    "admin.dismiss_job": "admin",
    "admin.users_page": "admin",
    "admin.disable_user": "admin",
    "admin.sign_out_user": "admin",
    "admin.create_user": "admin",
    "admin.reset_password": "admin",
    "admin.set_admin": "admin",
    "admin.create_bot": "admin",
    "admin.create_bot_token": "admin",
    "admin.revoke_bot_token": "admin",
    "admin.create_group": "admin",
    "admin.rename_group": "admin",
    "admin.delete_group": "admin",
    "admin.add_group_member": "admin",
    "admin.remove_group_member": "admin",
    "admin.audit_page": "admin",
    "admin.audit_export": "admin",
    "admin.status_page": "admin",
    "admin.upload_template": "admin",
    "admin.delete_template": "admin",
    "auth.logout": "self",
    "auth.account": "self",
    "auth.sign_out_everywhere": "self",
    "auth.end_session": "self",
    "auth.update_profile": "self",
    "auth.create_token": "self",
    "auth.revoke_token": "self",
    "spaces.index": "self",
    "spaces.search": "self",
    "api.search": "self",
    "spaces.create_space": "self",
    "api.create_space": "self",
    "api.list_spaces": "self",
    "notifications.index": "self",
    "notifications.mark_read": "self",
    "api.list_notifications": "self",
    "api.list_formats": "self",
    "api.list_favourites": "self",
    "api.list_recent": "self",
    "spaces.show": "space",
    "spaces.add_post": "space",
    "spaces.add_folder": "space",
    "spaces.upload": "space",
    "spaces.add_member": "space",
    "spaces.add_group": "space",
    "spaces.set_default_level": "space",
    "spaces.create_document": "space",
    # Space settings, members, folders and the trash: members (owners and admins for settings,
    # members and folders: tests/test_spaces_trash.py).
    "spaces.settings_page": "space",
    "spaces.change_role": "space",
    "spaces.remove_member": "space",
    "spaces.delete_space": "space",
    "spaces.create_incoming_hook": "space",
    "spaces.revoke_incoming_hook": "space",
    "spaces.rename_folder": "space",
    "spaces.delete_folder": "space",
    "spaces.trash": "space",
    "spaces.restore_file": "space",
    "spaces.restore_folder": "space",
    "spaces.delete_trashed_file": "space",
    "spaces.delete_trashed_folder": "space",
    "spaces.add_webhook": "space",
    "spaces.set_webhook_enabled": "space",
    "spaces.delete_webhook": "space",
    "spaces.test_webhook": "space",
    "spaces.upload_template": "space",  # owners and admins: tests/test_templates.py
    "spaces.delete_template": "space",
    "spaces.template_preview": "space",  # members: tests/test_template_previews.py
    "spaces.deleted_spaces": "admin",
    "spaces.restore_space": "admin",
    "api.add_member": "space",
    "api.upload": "space",
    "api.list_files": "space",
    "api.create_document": "space",
    "files.show": "file:read",
    "files.download": "file:download",
    "files.thread": "file:read",
    "files.favourite": "file:read",
    "files.rename": "file:manage",
    "files.delete": "file:manage",
    "files.trash": "file:manage",
    "files.place": "file:download",  # copy: may download; move: may manage (tests/test_spaces_trash.py)
    "files.change_rights": "file:manage",
    "files.upload_version": "file:edit",
    "files.restore_version": "file:edit",
    "editor.page": "file:read",
    "editor.mention_users": "file:read",
    "editor.mentions": "file:read",
    "editor.grant_read": "file:manage",
    "editor.history_list": "file:read",
    "editor.history_version": "file:read",
    "editor.rename_from_editor": "file:manage",
    "editor.save_as": "file:download",
    # The editor's requests for other files: the file open in it, to change (fill or more), or to
    # read for linked data's updates; the picked file's own rights: tests/test_editor_picker.py.
    "editor.picker": "file:fill",
    "editor.picked": "file:fill",
    "editor.reference_data": "file:read",
    "editor.reference_source": "file:fill",
    "files.create_link": "file:manage",
    "files.revoke_link": "file:manage",
    "api.get_file": "file:read",
    "api.content": "file:download",
    "api.versions": "file:read",
    "api.version_content": "file:download",
    "api.get_editor_config": "file:read",
    "api.get_rights": "file:read",
    "api.favourite": "file:read",
    "api.put_rights": "file:manage",
    "api.restore_version": "file:edit",
    "api.upload_version": "file:edit",
    "api.create_link": "file:manage",
    "api.list_links": "file:manage",
    "api.revoke_link": "file:manage",
    "files.convert": "file:edit",
    "api.convert": "file:edit",
    "api.job_status": "self",  # the job's owner only, else 404: tests/test_conversions.py
    "api.thumbnail": "file:download",
    # Managing files and folders: as the UI's actions (tests/test_api_files.py).
    "api.rename_file": "file:manage",
    "api.trash_file": "file:manage",
    "api.move_file": "file:manage",
    "api.copy_file": "file:download",
    "api.list_trash": "space",
    "api.restore_trashed_file": "space",
    "api.restore_trashed_folder": "space",
    "api.delete_trashed_file": "space",
    "api.delete_trashed_folder": "space",
    "api.list_folders": "space",
    "api.create_folder": "space",
    "api.rename_folder": "space",
    "api.delete_folder": "space",
}


def test_every_route_has_a_rule(world):
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
    assert endpoints - set(RULES) == set(), "new routes need a rule in this matrix"
    assert set(RULES) - endpoints == set(), "rules for routes that no longer exist"


def _probe(world, client, rule, doc_id, headers=None):
    values = {
        "file_id": doc_id,
        "space_id": world.space_id,
        "number": 1,
        "link_id": 1,
        "user_id": 1,
        "session_id": 1,
        "token_id": 1,
        "group_id": 1,
        "job_id": 1,
        "membership_id": 1,
        "folder_id": 1,
        "hook_id": 1,
        "template_id": 1,
    }
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<int:{name}>", str(value))
    assert "<" not in url, f"give the probe a value for {url}"
    method = next(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
    kwargs = {"headers": headers} if headers else {}
    if method in ("POST", "PUT", "PATCH") and rule.rule.startswith("/api/"):
        kwargs["json"] = {}
    return getattr(client, method.lower())(url, **kwargs)


def test_outsiders_and_no_access_members_get_404_on_every_file_and_space_route(world, matrix):
    doc_id = matrix["doc"]["id"]
    for rule in world.app.url_map.iter_rules():
        kind = RULES[rule.endpoint]
        if not kind.startswith(("file:", "space")):
            continue
        is_api = rule.rule.startswith("/api/")
        for person in ("carol", "ivy"):
            if person == "ivy" and kind == "space":
                continue  # ivy is a member: she may use the space, just not this file
            client = world.client() if is_api else world.client(person)
            response = _probe(world, client, rule, doc_id, world.api(person) if is_api else None)
            assert response.status_code == 404, (person, rule.rule, response.status_code)


def test_anonymous_is_sent_to_sign_in_on_every_private_route(world, matrix):
    doc_id = matrix["doc"]["id"]
    # More refused API calls from one address than its limit allows (one count for the whole API,
    # tests/test_rate_limits.py): each must still say 401, not 429.
    world.app.config["RATELIMIT_API_TOKEN_FAILURES"] = "1000 per minute"
    for rule in world.app.url_map.iter_rules():
        if RULES[rule.endpoint] in ("public", "docs", "secret"):
            continue
        response = _probe(world, world.app.test_client(), rule, doc_id)
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302 and "/auth/login" in response.location, rule.rule


def test_readers_are_refused_edit_and_manage_routes(world, matrix):
    doc_id = matrix["doc"]["id"]
    world.client().put(f"/api/v1/files/{doc_id}/rights", json={"allow_download": False}, headers=world.api("alice"))
    for rule in world.app.url_map.iter_rules():
        kind = RULES[rule.endpoint]
        if kind not in ("file:edit", "file:manage", "file:download"):
            continue
        is_api = rule.rule.startswith("/api/")
        for person in ("hank",) + (("bob",) if kind == "file:manage" else ()):
            client = world.client() if is_api else world.client(person)
            response = _probe(world, client, rule, doc_id, world.api(person) if is_api else None)
            assert response.status_code == 403, (person, rule.rule, response.status_code)


def test_docs_routes_refuse_anyone_without_a_signed_link(world, matrix):
    doc_id = matrix["doc"]["id"]
    alice = world.client("alice")
    for rule in world.app.url_map.iter_rules():
        if RULES[rule.endpoint] != "docs":
            continue
        response = _probe(world, alice, rule, doc_id)
        assert response.status_code == 403, rule.rule


def test_admin_routes_refuse_non_admins(world, matrix):
    for rule in world.app.url_map.iter_rules():
        if RULES[rule.endpoint] == "admin":
            assert _probe(world, world.client("bob"), rule, matrix["doc"]["id"]).status_code == 403, rule.rule


# --- the reader download switch on versions, history and changes ---------------------------------


@pytest.fixture
def saved_matrix(world, matrix, fake_docs):
    """The matrix file with a version 2 saved from the editor, with its changes zip."""
    from tests.test_callbacks import save_body
    from tests.test_callbacks import send
    from tests.test_download_switch import changes_zip

    doc_id = matrix["doc"]["id"]
    config = world.client().get(f"/api/v1/files/{doc_id}/editor-config", headers=world.api("alice")).get_json()
    doc = {"id": doc_id, "key": config["document"]["key"]}
    fake_docs.put("changes.zip", changes_zip())
    body = save_body(
        world,
        fake_docs,
        doc,
        user="alice",
        changesurl=f"{fake_docs.url}/cache/files/changes.zip?md5=x&expires=9999999999",
    )
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    contents = {}
    for number in (1, 2):
        response = world.client().get(f"/api/v1/files/{doc_id}/versions/{number}/content", headers=world.api("alice"))
        contents[f"version {number}"] = response.data
    contents["changes"] = changes_zip()
    return {**matrix, "contents": contents}


def _switch_downloads(world, doc_id, allowed):
    response = world.client().put(
        f"/api/v1/files/{doc_id}/rights", json={"allow_download": allowed}, headers=world.api("alice")
    )
    assert response.status_code == 200


@pytest.mark.parametrize("allowed", [True, False], ids=["downloads-on", "downloads-off"])
@pytest.mark.parametrize("person", list(EXPECTED_MODE))
def test_versions_history_and_changes_follow_the_download_switch(world, saved_matrix, person, allowed):
    doc_id = saved_matrix["doc"]["id"]
    _switch_downloads(world, doc_id, allowed)
    may_download = allowed or person in ("alice", "dave", "bob")
    client, api = world.client(person), world.api(person)
    assert world.client().get(f"/api/v1/files/{doc_id}/versions/1/content", headers=api).status_code == (
        200 if may_download else 403
    )
    assert client.get(f"/files/{doc_id}/download?version=1").status_code == (200 if may_download else 403)
    assert client.get(f"/files/{doc_id}/history").status_code == 200  # the list holds no content
    data = client.get(f"/files/{doc_id}/history/2").get_json()
    assert ("changesUrl" in data) is may_download
    for url in (data["url"], data["previous"]["url"]):
        assert requests.get(url, headers={"Authorization": "Bearer " + data["token"]}, timeout=10).status_code == 403
        assert docs_fetch(url).status_code == 200  # what Docs shows in the history viewer
    if may_download:
        changes = requests.get(data["changesUrl"], timeout=10)
        assert changes.status_code == 200 and changes.content == saved_matrix["contents"]["changes"]


def _urls_and_tokens(text: str) -> tuple[set[str], set[str]]:
    import re

    urls = {u.replace("\\u0026", "&").replace("&amp;", "&") for u in re.findall(r"https?://[^\s\"'<>]+", text)}
    tokens = set(re.findall(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", text))
    return urls, tokens


def test_no_route_hands_a_reader_any_bytes_when_downloads_are_off(world, saved_matrix):
    """Every route a reader may call, with every link and token its answers contain: none yields the
    content of any version or of the changes zip. A new byte-serving route without the download
    rule fails here."""
    doc_id = saved_matrix["doc"]["id"]
    _switch_downloads(world, doc_id, False)
    contents = saved_matrix["contents"]
    client, api = world.client("hank"), world.api("hank")
    bodies = []
    for rule in world.app.url_map.iter_rules():
        kind = RULES[rule.endpoint]
        if not kind.startswith(("file:", "space")):
            continue
        for number in (1, 2):
            is_api = rule.rule.startswith("/api/")
            values = {
                "file_id": doc_id,
                "space_id": world.space_id,
                "number": number,
                "link_id": 1,
                "user_id": 1,
                "session_id": 1,
                "token_id": 1,
                "group_id": 1,
                "template_id": 1,
            }
            url = rule.rule
            for name, value in values.items():
                url = url.replace(f"<int:{name}>", str(value))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                kwargs = {"headers": api} if is_api else {}
                if method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {}
                response = getattr(world.client() if is_api else client, method.lower())(url, **kwargs)
                bodies.append((f"{method} {url}", response.data))
    found_urls, found_tokens = set(), set()
    for where, body in bodies:
        for name, content in contents.items():
            assert content not in body, f"{where} answered the bytes of {name}"
        urls, tokens = _urls_and_tokens(body.decode("utf-8", "replace"))
        found_urls |= urls
        found_tokens |= tokens
    assert any("/backend/" in url for url in found_urls)  # the probe did see the editor's links
    for url in found_urls:
        if not url.startswith(world.url):
            continue
        for headers in [{}] + [{"Authorization": "Bearer " + token} for token in found_tokens]:
            body = requests.get(url, headers=headers, timeout=10).content
            for name, content in contents.items():
                assert content not in body, f"{url} answered the bytes of {name}"

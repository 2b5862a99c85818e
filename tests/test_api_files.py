"""The JSON API's file and folder management: rename, trash and restore, folders, move and copy,
each with the web UI's rights (outsiders 404, readers 403) and its audit entries."""

import sqlalchemy as sa


def _actions(world) -> list[str]:
    from app.extensions import db
    from app.models import AuditEvent

    return world.query(lambda: list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id))))


def _call(world, person, method, path, **kwargs):
    return getattr(world.client(), method)(f"/api/v1{path}", headers=world.api(person), **kwargs)


def _other_space(world, owner="carol", name="Other") -> int:
    response = _call(world, owner, "post", "/spaces", json={"name": name})
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def _folder(world, name, person="alice", space_id=None, parent_id=None) -> dict:
    body = {"name": name} if parent_id is None else {"name": name, "parent_id": parent_id}
    response = _call(world, person, "post", f"/spaces/{space_id or world.space_id}/folders", json=body)
    assert response.status_code == 201, response.data
    return response.get_json()


def test_rename_for_owner_and_admins_only(world):
    doc = world.create_document("alice", "Draft")
    path = f"/files/{doc['id']}"
    assert _call(world, "carol", "patch", path, json={"title": "Mine"}).status_code == 404
    refused = _call(world, "bob", "patch", path, json={"title": "Mine"})
    assert refused.status_code == 403 and refused.get_json()["error"]
    for bad in ({"title": 5}, {"title": "   "}, {}, ["Mine"]):
        response = _call(world, "alice", "patch", path, json=bad)
        assert response.status_code == 400 and response.get_json()["error"], bad
    assert world.file(doc["id"]).title == "Draft.docx"
    renamed = _call(world, "alice", "patch", path, json={"title": "Final"})
    assert renamed.status_code == 200
    assert renamed.get_json()["title"] == "Final.docx" and renamed.get_json()["name_changed"] is None
    assert world.file(doc["id"]).title == "Final.docx"
    other = world.create_document("alice", "Taken")
    assert _call(world, "alice", "patch", f"/files/{other['id']}", json={"title": "Final"}).status_code == 400
    assert _actions(world).count("file.renamed") == 1


def test_delete_goes_to_the_trash_and_restore_brings_it_back_with_its_versions(world):
    doc = world.create_document("alice", "Binned")
    world.client().post(f"/api/v1/files/{doc['id']}/versions", data={}, headers=world.api("alice"))
    versions = [v.sha256 for v in world.versions(doc["id"])]
    assert _call(world, "carol", "delete", f"/files/{doc['id']}").status_code == 404
    assert _call(world, "bob", "delete", f"/files/{doc['id']}").status_code == 403
    deleted = _call(world, "alice", "delete", f"/files/{doc['id']}")
    assert deleted.status_code == 200
    state = deleted.get_json()
    assert state["trashed"] is True and state["id"] == doc["id"] and state["purge_on"] > state["trashed_at"]
    assert _call(world, "alice", "get", f"/files/{doc['id']}").status_code == 404
    assert world.file(doc["id"]) is not None  # only marked: never a permanent delete

    assert _call(world, "carol", "get", f"/spaces/{world.space_id}/trash").status_code == 404
    listed = _call(world, "bob", "get", f"/spaces/{world.space_id}/trash").get_json()
    assert [(item["type"], item["id"], item["can_restore"]) for item in listed["items"]] == [("file", doc["id"], False)]
    assert {"page", "per_page", "total", "pages", "next"} <= set(listed)

    restore = f"/spaces/{world.space_id}/trash/files/{doc['id']}/restore"
    assert _call(world, "carol", "post", restore).status_code == 404
    assert _call(world, "bob", "post", restore).status_code == 403
    restored = _call(world, "alice", "post", restore)
    assert restored.status_code == 200 and restored.get_json()["title"] == "Binned.docx"
    assert [v.sha256 for v in world.versions(doc["id"])] == versions
    assert _call(world, "alice", "get", f"/files/{doc['id']}").status_code == 200
    assert _call(world, "alice", "post", restore).status_code == 404  # no longer in the trash
    assert {"file.trashed", "file.untrashed"} <= set(_actions(world))


def test_the_trash_list_pages(world):
    for title in ("One", "Two", "Three"):
        doc = world.create_document("alice", title)
        assert _call(world, "alice", "delete", f"/files/{doc['id']}").status_code == 200
    first = _call(world, "alice", "get", f"/spaces/{world.space_id}/trash?per_page=2").get_json()
    assert [item["name"] for item in first["items"]] == ["Three.docx", "Two.docx"]
    assert first["page"] == 1 and first["per_page"] == 2 and first["next"]
    second = world.client().get(first["next"], headers=world.api("alice")).get_json()
    assert [item["name"] for item in second["items"]] == ["One.docx"] and second["next"] is None


def test_folders_are_created_listed_renamed_trashed_and_restored(world):
    space = f"/spaces/{world.space_id}/folders"
    assert _call(world, "carol", "post", space, json={"name": "Nope"}).status_code == 404
    assert _call(world, "carol", "get", space).status_code == 404
    top = _folder(world, "Plans", person="bob")  # any member adds folders, as on the space page
    sub = _folder(world, "Q1", parent_id=top["id"])
    assert sub["parent"] == top["id"] and sub["space"] == world.space_id
    elsewhere = _folder(world, "Theirs", person="carol", space_id=_other_space(world))
    for bad in (
        {"name": ""},
        {"name": 3},
        {"name": "X", "parent_id": "1"},
        {"name": "X", "parent_id": elsewhere["id"]},
    ):
        response = _call(world, "alice", "post", space, json=bad)
        assert response.status_code == 400 and response.get_json()["error"], bad

    listed = _call(world, "bob", "get", f"{space}?per_page=1").get_json()
    assert [f["name"] for f in listed["folders"]] == ["Plans"]
    assert (listed["total"], listed["pages"], listed["per_page"]) == (2, 2, 1) and listed["next"]

    folder = f"/folders/{top['id']}"
    assert _call(world, "carol", "patch", folder, json={"name": "Mine"}).status_code == 404
    assert _call(world, "bob", "patch", folder, json={"name": "Mine"}).status_code == 403
    assert _call(world, "alice", "patch", folder, json={"name": "  "}).status_code == 400
    renamed = _call(world, "alice", "patch", folder, json={"name": "Roadmap"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Roadmap"

    doc = world.create_document("alice", "Inside")
    assert _call(world, "alice", "post", f"/files/{doc['id']}/move", json={"folder_id": sub["id"]}).status_code == 200
    assert _call(world, "carol", "delete", folder).status_code == 404
    assert _call(world, "bob", "delete", folder).status_code == 403
    trashed = _call(world, "alice", "delete", folder)
    assert trashed.status_code == 200 and trashed.get_json()["files"] == 1 and trashed.get_json()["purge_on"]
    assert _call(world, "alice", "get", f"/files/{doc['id']}").status_code == 404
    assert _call(world, "alice", "patch", folder, json={"name": "Gone"}).status_code == 404
    items = _call(world, "alice", "get", f"/spaces/{world.space_id}/trash").get_json()["items"]
    assert [(item["type"], item["id"], item["files"]) for item in items] == [("folder", top["id"], 1)]

    restore = f"/spaces/{world.space_id}/trash/folders/{top['id']}/restore"
    assert _call(world, "carol", "post", restore).status_code == 404
    assert _call(world, "bob", "post", restore).status_code == 403
    assert _call(world, "alice", "post", restore).status_code == 200
    back = _call(world, "alice", "get", f"/files/{doc['id']}").get_json()
    assert back["folder"] == sub["id"]
    actions = _actions(world)
    assert {"folder.renamed", "folder.trashed", "folder.untrashed"} <= set(actions)


def test_move_within_and_across_spaces_only_where_allowed(world):
    doc = world.create_document("alice", "Traveller")
    versions = [v.sha256 for v in world.versions(doc["id"])]
    move = f"/files/{doc['id']}/move"
    other = _other_space(world)
    theirs = _folder(world, "Theirs", person="carol", space_id=other)
    assert _call(world, "carol", "post", move, json={"folder_id": None}).status_code == 404
    assert _call(world, "bob", "post", move, json={"folder_id": None}).status_code == 403
    for bad in (
        {},  # folder_id (or null) is required
        {"folder_id": "top"},
        {"folder_id": None, "space_id": "x"},
        {"folder_id": theirs["id"]},  # a folder of another space
        {"folder_id": None, "space_id": other},  # alice may not add files there
    ):
        response = _call(world, "alice", "post", move, json=bad)
        assert response.status_code == 400 and response.get_json()["error"], bad
    assert world.file(doc["id"]).space_id == world.space_id

    mine = _folder(world, "Mine")
    within = _call(world, "alice", "post", move, json={"folder_id": mine["id"]})
    assert within.status_code == 200 and within.get_json()["folder"] == mine["id"]

    _call(world, "carol", "post", f"/spaces/{other}/members", json={"username": "alice"})
    across = _call(world, "alice", "post", move, json={"folder_id": theirs["id"], "space_id": other})
    assert across.status_code == 200
    assert (across.get_json()["space"], across.get_json()["folder"]) == (other, theirs["id"])
    assert [v.sha256 for v in world.versions(doc["id"])] == versions
    assert _call(world, "bob", "get", f"/files/{doc['id']}").status_code == 404
    assert _actions(world).count("file.moved") == 2


def test_copy_needs_download_and_a_space_of_the_copier(world):
    doc = world.create_document("alice", "Original")
    copy = f"/files/{doc['id']}/copy"
    other = _other_space(world)
    assert _call(world, "carol", "post", copy, json={"folder_id": None}).status_code == 404
    _call(world, "alice", "put", f"/files/{doc['id']}/rights", json={"allow_download": False})
    assert _call(world, "bob", "post", copy, json={"folder_id": None}).status_code == 403
    _call(world, "alice", "put", f"/files/{doc['id']}/rights", json={"allow_download": True})
    for bad in ({"folder_id": None, "space_id": other}, {"folder_id": None, "title": ""}, {"folder_id": 10**6}):
        response = _call(world, "bob", "post", copy, json=bad)
        assert response.status_code == 400 and response.get_json()["error"], bad

    copied = _call(world, "bob", "post", copy, json={"folder_id": None, "title": "Bob's copy"})
    assert copied.status_code == 201
    body = copied.get_json()
    assert body["title"] == "Bob's copy.docx" and body["space"] == world.space_id and body["id"] != doc["id"]
    assert world.file(body["id"]).owner_id == world.user_ids["bob"]
    assert world.head_bytes(body["id"]) == world.head_bytes(doc["id"])
    same_name = _call(world, "bob", "post", copy, json={"folder_id": None}).get_json()
    assert same_name["title"] == "Original (2).docx"

    _call(world, "carol", "post", f"/spaces/{other}/members", json={"username": "alice"})
    across = _call(world, "alice", "post", copy, json={"folder_id": None, "space_id": other})
    assert across.status_code == 201 and across.get_json()["space"] == other
    assert world.file(doc["id"]).space_id == world.space_id  # the original stays
    assert _actions(world).count("file.copied") == 3

"""Space settings (name, description, members, deleting the space), moving and copying files,
folders, and the trash with its purge."""

import re
from datetime import timedelta

import sqlalchemy as sa

from tests.test_callbacks import send


def _q(world, fn):
    return world.query(fn)


def _actions(world) -> list[str]:
    from app.extensions import db
    from app.models import AuditEvent

    return _q(world, lambda: list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id))))


def _membership_id(world, space_id, name) -> int:
    from app.extensions import db
    from app.models import Membership

    return _q(
        world,
        lambda: db.session.scalar(
            sa.select(Membership.id).where(Membership.space_id == space_id, Membership.user_id == world.user_ids[name])
        ),
    )


def _role(world, space_id, name):
    from app.extensions import db
    from app.models import Membership

    return _q(
        world,
        lambda: db.session.scalar(
            sa.select(Membership.role).where(
                Membership.space_id == space_id, Membership.user_id == world.user_ids[name]
            )
        ),
    )


def _other_space(world, owner="carol", name="Other") -> int:
    response = world.client().post("/api/v1/spaces", json={"name": name}, headers=world.api(owner))
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def _folder(world, name, space_id=None, parent=""):
    from app.extensions import db
    from app.models import Folder

    space_id = space_id or world.space_id
    assert (
        world.client("alice").post(f"/spaces/{space_id}/folders", data={"name": name, "folder": parent}).status_code
        == 302
    )
    return _q(world, lambda: db.session.scalar(sa.select(Folder.id).where(Folder.name == name)))


def _doc_in(world, folder_id, title):
    from app.extensions import db
    from app.models import File

    world.client("alice").post(
        f"/spaces/{world.space_id}/documents", data={"name": title, "kind": "docx", "folder": folder_id}
    )
    return _q(world, lambda: db.session.scalar(sa.select(File.id).where(File.title == title + ".docx")))


def _open_session(world, file_id):
    """Docs reports someone joined then left: the final save is now owed."""
    config = world.client().get(f"/api/v1/files/{file_id}/editor-config", headers=world.api("alice")).get_json()
    key, alice, callback = (
        config["document"]["key"],
        str(world.user_ids["alice"]),
        config["editorConfig"]["callbackUrl"],
    )
    send(callback, {"key": key, "status": 1, "users": [alice], "actions": [{"type": 1, "userid": alice}]})
    send(callback, {"key": key, "status": 1, "users": [], "actions": [{"type": 0, "userid": alice}]})


# --- space settings ----------------------------------------------------------------------------


def test_rename_description_and_duplicate_names_refused(world):
    alice = world.client("alice")
    settings = f"/spaces/{world.space_id}/settings"
    assert world.client("bob").get(settings).status_code == 403  # members are not its admins
    assert alice.get(settings).status_code == 200
    saved = alice.post(settings, data={"name": "  Design  ", "description": "Where we draw"})
    assert saved.status_code == 302
    page = alice.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Design" in page and "Where we draw" in page

    # Another space may not take the name, in any case or spacing, on the page or through the API.
    refused = world.client("carol").post("/spaces", data={"name": " dESIGN "}, follow_redirects=True)
    assert "A space named dESIGN already exists" in refused.get_data(as_text=True)
    api = world.client().post("/api/v1/spaces", json={"name": "design"}, headers=world.api("carol"))
    assert api.status_code == 400
    other = _other_space(world, "alice", "Other")
    clash = alice.post(f"/spaces/{other}/settings", data={"name": "DESIGN", "description": ""})
    assert clash.status_code == 400 and "already exists" in clash.get_data(as_text=True)
    actions = _actions(world)
    assert "space.renamed" in actions and "space.description_changed" in actions


def test_roles_change_and_members_leave_but_never_the_last_owner(world):
    alice, space = world.client("alice"), world.space_id
    alice_m, bob_m = _membership_id(world, space, "alice"), _membership_id(world, space, "bob")

    refused = alice.post(f"/spaces/{space}/members/{alice_m}/role", data={"role": "member"}, follow_redirects=True)
    assert "The space needs an owner" in refused.get_data(as_text=True)
    assert _role(world, space, "alice") == "owner"
    assert alice.post(f"/spaces/{space}/members/{alice_m}/remove").status_code == 302
    assert _role(world, space, "alice") == "owner"

    assert alice.post(f"/spaces/{space}/members/{bob_m}/role", data={"role": "admin"}).status_code == 302
    assert _role(world, space, "bob") == "admin"
    # An admin makes no owners, and removes none.
    assert world.client("bob").post(f"/spaces/{space}/members/{bob_m}/role", data={"role": "owner"}).status_code == 403
    assert world.client("bob").post(f"/spaces/{space}/members/{alice_m}/remove").status_code == 403
    # Two owners: the first may step down.
    assert alice.post(f"/spaces/{space}/members/{bob_m}/role", data={"role": "owner"}).status_code == 302
    assert alice.post(f"/spaces/{space}/members/{alice_m}/role", data={"role": "admin"}).status_code == 302
    assert _role(world, space, "alice") == "admin"
    assert world.client("bob").post(f"/spaces/{space}/members/{alice_m}/remove").status_code == 302
    assert _role(world, space, "alice") is None
    assert world.client("alice").get(f"/spaces/{space}").status_code == 404
    actions = _actions(world)
    assert actions.count("space.role_changed") == 3 and "space.member_removed" in actions


def test_deleting_a_space_hides_it_until_a_site_admin_restores_it(world):
    doc = world.create_document("alice", "Inside")
    alice = world.client("alice")
    assert world.client("bob").post(f"/spaces/{world.space_id}/delete").status_code == 403
    assert alice.post(f"/spaces/{world.space_id}/delete").status_code == 302
    assert alice.get(f"/spaces/{world.space_id}").status_code == 404
    assert "Team" not in alice.get("/").get_data(as_text=True)
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("alice")).status_code == 404
    assert world.client("bob").get("/spaces/deleted").status_code == 403
    assert "Team" in alice.get("/spaces/deleted").get_data(as_text=True)
    assert alice.post(f"/spaces/{world.space_id}/restore").status_code == 302
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("bob")).status_code == 200
    assert {"space.deleted", "space.restored"} <= set(_actions(world))


# --- move and copy ----------------------------------------------------------------------------


def test_move_needs_rights_on_both_sides_and_keeps_history(world):
    doc = world.create_document("alice", "Traveller")
    world.client().post(f"/api/v1/files/{doc['id']}/versions", data={}, headers=world.api("alice"))
    before = [v.sha256 for v in world.versions(doc["id"])]
    other = _other_space(world)
    place = f"/files/{doc['id']}/place"
    # alice is not a member of carol's space: she may not put anything there.
    assert world.client("alice").post(place, data={"target": str(other), "move": "Move"}).status_code == 404
    # bob reads the file but does not manage it: no move.
    assert world.client("bob").post(place, data={"target": str(world.space_id), "move": "Move"}).status_code == 403
    world.client().post(f"/api/v1/spaces/{other}/members", json={"username": "alice"}, headers=world.api("carol"))
    assert world.client("alice").post(place, data={"target": str(other), "move": "Move"}).status_code == 302
    moved = world.file(doc["id"])
    assert moved.space_id == other and moved.owner_id == world.user_ids["alice"]
    assert [v.sha256 for v in world.versions(doc["id"])] == before
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("carol")).status_code == 200
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("bob")).status_code == 404
    assert "file.moved" in _actions(world)


def test_copy_needs_download_and_makes_the_copier_owner_of_the_same_bytes(world):
    from app.extensions import db
    from app.models import File

    doc = world.create_document("alice", "Original")
    world.client().put(f"/api/v1/files/{doc['id']}/rights", json={"allow_download": False}, headers=world.api("alice"))
    target = {"target": str(world.space_id), "copy": "Copy"}
    assert world.client("bob").post(f"/files/{doc['id']}/place", data=target).status_code == 403
    world.client().put(f"/api/v1/files/{doc['id']}/rights", json={"allow_download": True}, headers=world.api("alice"))
    assert world.client("bob").post(f"/files/{doc['id']}/place", data=target).status_code == 302
    copy_id = _q(world, lambda: db.session.scalar(sa.select(File.id).where(File.title == "Original (2).docx")))
    assert copy_id and world.file(copy_id).owner_id == world.user_ids["bob"]
    assert world.head_bytes(copy_id) == world.head_bytes(doc["id"])
    assert len(world.versions(copy_id)) == 1 and "file.copied" in _actions(world)


def test_a_file_owed_a_save_is_not_trashed_nor_moved_to_another_space(world):
    doc = world.create_document("alice", "In flight")
    _open_session(world, doc["id"])
    alice = world.client("alice")
    refused = alice.post(f"/files/{doc['id']}/trash", follow_redirects=True)
    assert "The last changes to In flight.docx are still on their way from the editor" in refused.get_data(as_text=True)
    assert world.file(doc["id"]).trashed_at is None
    other = _other_space(world, "alice")
    moved = alice.post(f"/files/{doc['id']}/place", data={"target": str(other), "move": "Move"}, follow_redirects=True)
    assert "still on their way" in moved.get_data(as_text=True)
    assert world.file(doc["id"]).space_id == world.space_id


# --- folders and the trash --------------------------------------------------------------------


def test_trashed_files_are_invisible_and_come_back_with_rights_versions_and_links(world):
    doc = world.create_document("alice", "Secretive")
    fid = doc["id"]
    world.set_level(fid, "bob", "edit")
    link = (
        world.client().post(f"/api/v1/files/{fid}/links", json={"mode": "view"}, headers=world.api("alice")).get_json()
    )
    secret_path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    versions = [v.sha256 for v in world.versions(fid)]
    assert world.client("bob").post(f"/files/{fid}/trash").status_code == 403  # bob edits, he does not manage
    assert world.client("alice").post(f"/files/{fid}/trash").status_code == 302

    bob = world.client("bob")
    assert "Secretive" not in bob.get(f"/spaces/{world.space_id}").get_data(as_text=True).split('id="stream"')[0]
    assert world.client().get(f"/api/v1/files/{fid}", headers=world.api("bob")).status_code == 404
    assert world.client().get(f"/api/v1/files/{fid}/editor-config", headers=world.api("alice")).status_code == 404
    assert world.client("alice").get(f"/files/{fid}/open").status_code == 404
    assert world.app.test_client().post(secret_path, data={"name": "Gus"}).status_code == 404
    trash = bob.get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    assert "Secretive.docx" in trash
    assert bob.post(f"/spaces/{world.space_id}/trash/files/{fid}/restore").status_code == 403
    assert world.client("carol").get(f"/spaces/{world.space_id}/trash").status_code == 404

    assert world.client("alice").post(f"/spaces/{world.space_id}/trash/files/{fid}/restore").status_code == 302
    assert world.client().get(f"/api/v1/files/{fid}/rights", headers=world.api("alice")).get_json()
    cfg = world.client().get(f"/api/v1/files/{fid}/editor-config?mode=edit", headers=world.api("bob")).get_json()
    assert cfg["editorConfig"]["mode"] == "edit"  # bob's edit right came back with it
    assert [v.sha256 for v in world.versions(fid)] == versions
    assert world.app.test_client().post(secret_path, data={"name": "Gus"}).status_code == 302
    assert {"file.trashed", "file.untrashed"} <= set(_actions(world))


def test_folders_are_renamed_and_trashed_with_their_content(world):
    from app.extensions import db
    from app.models import Folder

    plans = _folder(world, "Plans")
    inner = _doc_in(world, plans, "Plan A")
    alice = world.client("alice")
    assert (
        world.client("bob").post(f"/spaces/{world.space_id}/folders/{plans}/rename", data={"name": "X"}).status_code
        == 403
    )
    assert alice.post(f"/spaces/{world.space_id}/folders/{plans}/rename", data={"name": "Roadmap"}).status_code == 302
    assert _q(world, lambda: db.session.get(Folder, plans).name) == "Roadmap"
    assert alice.post(f"/spaces/{world.space_id}/folders/{plans}/delete").status_code == 302
    assert f"folder={plans}" not in alice.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert alice.get(f"/spaces/{world.space_id}?folder={plans}").status_code == 404
    assert world.client().get(f"/api/v1/files/{inner}", headers=world.api("alice")).status_code == 404
    trash = alice.get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    assert "Roadmap" in trash and "1 file" in trash
    assert alice.post(f"/spaces/{world.space_id}/trash/folders/{plans}/restore").status_code == 302
    assert world.file(inner).folder_id == plans and world.file(inner).trashed_at is None
    assert {"folder.renamed", "folder.trashed", "folder.untrashed"} <= set(_actions(world))


def test_a_file_restored_after_its_folder_went_lands_at_the_top_with_a_free_name(world):
    folder = _folder(world, "Gone")
    inner = _doc_in(world, folder, "Twin")
    world.create_document("alice", "Twin")  # the same name at the top level
    alice = world.client("alice")
    assert alice.post(f"/files/{inner}/trash").status_code == 302
    assert alice.post(f"/spaces/{world.space_id}/folders/{folder}/delete").status_code == 302
    assert alice.post(f"/spaces/{world.space_id}/trash/files/{inner}/restore").status_code == 302
    restored = world.file(inner)
    assert restored.folder_id is None and restored.title == "Twin (2).docx"


def test_the_purge_removes_what_stayed_longer_than_trash_days(world):
    from app import jobs
    from app.extensions import db
    from app.models import DeletedFile
    from app.models import File
    from app.models import Space

    old = world.create_document("alice", "Old")
    recent = world.create_document("alice", "Recent")
    for doc in (old, recent):
        assert world.client("alice").post(f"/files/{doc['id']}/trash").status_code == 302
    keys = [v.storage_key for v in world.versions(old["id"])]
    other = _other_space(world, "alice", "Doomed")
    doomed = world.create_document("alice", "In doomed")  # moved there below
    world.client("alice").post(f"/files/{doomed['id']}/place", data={"target": str(other), "move": "Move"})
    assert world.client("alice").post(f"/spaces/{other}/delete").status_code == 302

    def age():
        days = world.app.config["TRASH_DAYS"]
        db.session.get(File, old["id"]).trashed_at -= timedelta(days=days + 1)
        db.session.get(Space, other).deleted_at -= timedelta(days=days + 1)
        db.session.commit()

    world.query(age)
    world.query(jobs.purge_trash)
    assert world.file(old["id"]) is None and world.file(doomed["id"]) is None
    assert world.file(recent["id"]) is not None
    assert world.query(lambda: db.session.get(Space, other)) is None
    tombstones = world.query(lambda: list(db.session.scalars(sa.select(DeletedFile.file_id))))
    assert old["id"] in tombstones and doomed["id"] in tombstones
    assert not set(keys) & set(world.blob_keys())
    assert {"file.purged", "space.purged"} <= set(_actions(world))


def test_the_trash_shows_members_only_what_they_could_see(world):
    hidden = world.create_document("alice", "Salaries")
    world.client().put(f"/api/v1/files/{hidden['id']}/rights", json={"default": "none"}, headers=world.api("alice"))
    shown = world.create_document("alice", "Menu")
    for doc in (hidden, shown):
        assert world.client("alice").post(f"/files/{doc['id']}/trash").status_code == 302
    bob_page = world.client("bob").get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    bob_trash = bob_page.split("<main", 1)[1]  # the bell above may name the file: Bob was told he lost it
    assert "Menu.docx" in bob_trash and "Salaries" not in bob_trash
    assert "Salaries.docx" in world.client("alice").get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    assert world.client("bob").post(f"/spaces/{world.space_id}/trash/files/{hidden['id']}/restore").status_code == 404


def test_the_trash_pages_files_and_folders_together_newest_first(world):
    """A long trash: each page holds the next newest entries, files and folders interleaved."""
    from app.extensions import db
    from app.models import File
    from app.models import Folder
    from app.models.base import utcnow

    def seed():
        now = utcnow()
        space, alice = world.space_id, world.user_ids["alice"]
        folders = [
            {
                "space_id": space,
                "name": f"Old folder {i}",
                "trashed_at": now - timedelta(minutes=10 * i + 4, seconds=30),
            }
            for i in range(3)
        ]
        files = [
            {
                "space_id": space,
                "title": f"Gone {i}.docx",
                "ext": "docx",
                "owner_id": alice,
                "version": 1,
                "doc_key": f"trash-paging-{i}",
                "trashed_at": now - timedelta(minutes=i),
                "trashed_by": alice,
            }
            for i in range(52)
        ]
        db.session.execute(sa.insert(Folder), folders)
        db.session.execute(sa.insert(File), files)
        db.session.commit()

    _q(world, seed)
    client = world.client("alice")
    names = []
    for number, expected in ((1, 50), (2, 5)):
        html = client.get(f"/spaces/{world.space_id}/trash?page={number}").get_data(as_text=True)
        page = re.findall(r'<div class="fw-semibold">(?:📁 )?([^<]+)</div>', html)
        assert len(page) == expected, (number, page)
        assert ('rel="next"' in html) is (number == 1)
        names += page
    # Newest first over both kinds: folder i was trashed between files 10i+4 and 10i+5.
    assert names[:7] == [
        "Gone 0.docx",
        "Gone 1.docx",
        "Gone 2.docx",
        "Gone 3.docx",
        "Gone 4.docx",
        "Old folder 0",
        "Gone 5.docx",
    ]
    assert names.index("Old folder 2") == 27 and len(set(names)) == 55


def test_a_trashed_file_is_deleted_for_good_before_the_purge_by_whoever_may_restore_it(world):
    """A file shared by mistake need not wait TRASH_DAYS: its owner deletes it from the trash now;
    a member who only reads it may not, an outsider does not even find it."""
    from app.extensions import db
    from app.models import DeletedFile

    doc = world.create_document("alice", "Mistake")
    fid = doc["id"]
    keys = [v.storage_key for v in world.versions(fid)]
    assert world.client("alice").post(f"/files/{fid}/trash").status_code == 302
    page = world.client("alice").get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    assert f"/spaces/{world.space_id}/trash/files/{fid}/delete" in page and "Delete permanently" in page
    assert f"/trash/files/{fid}/delete" not in world.client("bob").get(f"/spaces/{world.space_id}/trash").get_data(
        as_text=True
    )

    assert world.client("bob").post(f"/spaces/{world.space_id}/trash/files/{fid}/delete").status_code == 403
    assert world.client("carol").post(f"/spaces/{world.space_id}/trash/files/{fid}/delete").status_code == 404
    assert world.file(fid) is not None and set(keys) <= set(world.blob_keys())

    response = world.client("alice").post(f"/spaces/{world.space_id}/trash/files/{fid}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/spaces/{world.space_id}/trash")
    assert world.file(fid) is None
    assert not set(keys) & set(world.blob_keys())
    assert fid in world.query(lambda: list(db.session.scalars(sa.select(DeletedFile.file_id))))
    assert "Mistake" not in world.client("alice").get(f"/spaces/{world.space_id}/trash").get_data(as_text=True)
    assert "file.deleted" in _actions(world)
    # Only from the trash: a live file is not deleted through it.
    live = world.create_document("alice", "Live")
    assert world.client("alice").post(f"/spaces/{world.space_id}/trash/files/{live['id']}/delete").status_code == 404
    assert world.file(live["id"]) is not None


def test_a_trashed_folder_is_deleted_for_good_with_what_went_with_it_only(world):
    """The files and subfolders trashed with the folder go; a file trashed on its own before it
    stays in the trash and comes back at the top level. Only the space's admins delete folders."""
    from app.extensions import db
    from app.models import Folder

    folder = _folder(world, "Old plans")
    sub = _folder(world, "Drafts", parent=str(folder))
    inner, deeper = _doc_in(world, folder, "Plan A"), _doc_in(world, sub, "Draft B")
    alone = _doc_in(world, folder, "Alone")
    keys = [v.storage_key for fid in (inner, deeper) for v in world.versions(fid)]
    alice = world.client("alice")
    assert alice.post(f"/files/{alone}/trash").status_code == 302
    assert alice.post(f"/spaces/{world.space_id}/folders/{folder}/delete").status_code == 302

    assert world.client("bob").post(f"/spaces/{world.space_id}/trash/folders/{folder}/delete").status_code == 403
    assert alice.post(f"/spaces/{world.space_id}/trash/folders/{folder}/delete").status_code == 302
    assert world.file(inner) is None and world.file(deeper) is None
    assert _q(world, lambda: db.session.scalars(sa.select(Folder.id).where(Folder.id.in_([folder, sub]))).all()) == []
    assert not set(keys) & set(world.blob_keys())
    kept = world.file(alone)
    assert kept is not None and kept.trashed_at is not None and kept.folder_id is None
    assert alice.post(f"/spaces/{world.space_id}/trash/files/{alone}/restore").status_code == 302
    assert world.file(alone).trashed_at is None
    actions = _actions(world)
    assert "folder.deleted" in actions and actions.count("file.deleted") == 2


def test_a_folder_with_a_file_being_saved_is_not_deleted_at_all(world, monkeypatch):
    """A file a save is moving right now: the deletion is refused with a clear message and nothing
    of the folder goes; once the save is through, it goes whole."""
    from app.services import locks

    folder = _folder(world, "Crowded")
    first, second = _doc_in(world, folder, "One"), _doc_in(world, folder, "Two")
    alice = world.client("alice")
    assert alice.post(f"/spaces/{world.space_id}/folders/{folder}/delete").status_code == 302
    monkeypatch.setitem(world.app.config, "TRANSITION_LOCK_WAIT", 0.2)
    with world.app.app_context():
        held = locks.acquire(second, "save", wait=0)
    try:
        response = alice.post(f"/spaces/{world.space_id}/trash/folders/{folder}/delete", follow_redirects=True)
    finally:
        with world.app.app_context():
            held.release()
    assert response.status_code == 200
    assert world.file(first) is not None and world.file(second) is not None
    assert "being saved, try again" in response.get_data(as_text=True)
    assert alice.post(f"/spaces/{world.space_id}/trash/folders/{folder}/delete").status_code == 302
    assert world.file(first) is None and world.file(second) is None


def test_the_api_deletes_trashed_files_and_folders_for_good(world):
    headers = world.api("alice")
    client = world.client()
    doc = world.create_document("alice", "Api mistake")
    folder = _folder(world, "Api folder")
    inner = _doc_in(world, folder, "Api inner")
    assert client.delete(f"/api/v1/files/{doc['id']}", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/folders/{folder}", headers=headers).status_code == 200

    path = f"/api/v1/spaces/{world.space_id}/trash"
    assert client.delete(f"{path}/files/{doc['id']}", headers=world.api("bob")).status_code == 403
    assert client.delete(f"{path}/folders/{folder}", headers=world.api("bob")).status_code == 403
    assert client.delete(f"{path}/files/{inner}", headers=headers).status_code == 404  # it went with its folder
    assert client.delete(f"{path}/files/{doc['id']}", headers=headers).get_json() == {"id": doc["id"], "deleted": True}
    assert client.delete(f"{path}/folders/{folder}", headers=headers).get_json() == {
        "id": folder,
        "deleted": True,
        "files": 1,
    }
    assert world.file(doc["id"]) is None and world.file(inner) is None
    assert client.get(path, headers=headers).get_json()["items"] == []
    assert client.delete(f"{path}/files/{doc['id']}", headers=headers).status_code == 404


def test_a_folder_too_large_to_delete_at_once_is_left_whole_to_the_purge(world, monkeypatch):
    from app.services import trash

    monkeypatch.setattr(trash, "FOLDER_DELETE_MAX", 1)
    folder = _folder(world, "Archive")
    files = [_doc_in(world, folder, "First"), _doc_in(world, folder, "Second")]
    assert world.client().delete(f"/api/v1/folders/{folder}", headers=world.api("alice")).status_code == 200
    response = world.client().delete(
        f"/api/v1/spaces/{world.space_id}/trash/folders/{folder}", headers=world.api("alice")
    )
    assert response.status_code == 400 and "the purge removes it" in response.get_json()["error"]
    assert all(world.file(fid) is not None for fid in files)


def test_the_purge_leaves_a_busy_file_for_the_next_run_and_purges_the_rest(world, monkeypatch):
    from app import jobs
    from app.extensions import db
    from app.models import File
    from app.services import locks

    busy, free = world.create_document("alice", "Busy old"), world.create_document("alice", "Free old")
    for doc in (busy, free):
        assert world.client("alice").post(f"/files/{doc['id']}/trash").status_code == 302

    def age():
        for doc in (busy, free):
            db.session.get(File, doc["id"]).trashed_at -= timedelta(days=world.app.config["TRASH_DAYS"] + 1)
        db.session.commit()

    world.query(age)
    monkeypatch.setitem(world.app.config, "TRANSITION_LOCK_WAIT", 0.2)
    with world.app.app_context():
        saving = locks.acquire(busy["id"], "save", wait=0)
    try:
        world.query(jobs.purge_trash)
    finally:
        with world.app.app_context():
            saving.release()
    assert world.file(busy["id"]) is not None and world.file(free["id"]) is None
    world.query(jobs.purge_trash)
    assert world.file(busy["id"]) is None

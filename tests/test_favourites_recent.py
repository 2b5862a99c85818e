"""Favourites and recently opened files: starring through the page's form and the API, and the home
page's two lists, which show only what the person may still read, in a fixed number of queries."""

import re

import sqlalchemy as sa

from tests.helpers import QueryCounter
from tests.helpers import csrf_token
from tests.test_accounts_admin import login


def home_ids(world, client, section: str) -> list[int]:
    """The file ids the home page lists in one section (favourite-files or recent-files), in order."""
    html = client.get("/").get_data(as_text=True)
    match = re.search(rf'<ul[^>]*id="{section}">(.*?)</ul>', html, re.S)
    return [int(i) for i in re.findall(r'data-file-id="(\d+)"', match.group(1))] if match else []


def api_ids(world, name: str, path: str, key: str) -> list[int]:
    answer = world.client().get(path, headers=world.api(name))
    assert answer.status_code == 200
    return [item["id"] for item in answer.get_json()[key]]


def open_editor(world, client, file_id: int) -> None:
    assert client.get(f"/files/{file_id}/open").status_code == 200


def flush_openings(world) -> None:
    from app.ops import audit_writer

    audit_writer.flush(world.app)  # the editor's openings are written off the request, in batches


def test_star_and_unstar_with_the_file_pages_form(csrf_world):
    world = csrf_world
    doc = world.create_document("alice", "Plan")
    bob = login(world, "bob")
    page = bob.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert 'id="favourite-toggle"' in page and "Add to favourites" in page
    token = csrf_token(page)
    refused = bob.post(f"/files/{doc['id']}/favourite", data={"star": "1"})  # no CSRF token: nothing changes
    assert refused.status_code in (302, 400)
    assert home_ids(world, bob, "favourite-files") == []

    starred = bob.post(
        f"/files/{doc['id']}/favourite", data={"csrf_token": token, "star": "1", "next": f"/spaces/{world.space_id}"}
    )
    assert starred.status_code == 302 and starred.location.endswith(f"/spaces/{world.space_id}")
    assert home_ids(world, bob, "favourite-files") == [doc["id"]]
    assert "Remove from favourites" in bob.get(f"/files/{doc['id']}").get_data(as_text=True)
    # The space's list marks the row, and its button unstars.
    row = re.search(rf'<tr data-file-id="{doc["id"]}">.*?</tr>', bob.get(f"/spaces/{world.space_id}").text, re.S)
    assert "Remove Plan.docx from favourites" in row.group(0)

    again = bob.post(f"/files/{doc['id']}/favourite", data={"csrf_token": token, "star": "1"})
    assert again.status_code == 302 and again.location.endswith(f"/files/{doc['id']}")  # no next: the file
    assert home_ids(world, bob, "favourite-files") == [doc["id"]]  # starred once

    elsewhere = bob.post(
        f"/files/{doc['id']}/favourite", data={"csrf_token": token, "star": "0", "next": "https://elsewhere.example/"}
    )
    assert elsewhere.location.endswith(f"/files/{doc['id']}")  # never sent off the site
    assert home_ids(world, bob, "favourite-files") == []
    assert home_ids(world, login(world, "alice"), "favourite-files") == []  # alice starred nothing


def test_star_and_unstar_through_the_api(world):
    first = world.create_document("alice", "One")
    second = world.create_document("alice", "Two")
    for doc in (first, second, first):  # starring again changes nothing
        answer = world.client().put(f"/api/v1/files/{doc['id']}/favourite", headers=world.api("bob"))
        assert answer.status_code == 200 and answer.get_json() == {"file": doc["id"], "favourite": True}
    assert api_ids(world, "bob", "/api/v1/favourites", "favourites") == [second["id"], first["id"]]
    assert api_ids(world, "alice", "/api/v1/favourites", "favourites") == []
    for _ in range(2):
        answer = world.client().delete(f"/api/v1/files/{second['id']}/favourite", headers=world.api("bob"))
        assert answer.status_code == 200 and answer.get_json() == {"file": second["id"], "favourite": False}
    assert api_ids(world, "bob", "/api/v1/favourites", "favourites") == [first["id"]]
    assert home_ids(world, world.client("bob"), "favourite-files") == [first["id"]]


def test_a_file_you_cannot_read_cannot_be_starred(world):
    doc = world.create_document("alice", "Secret")
    world.set_level(doc["id"], "bob", "none")
    for name in ("bob", "carol"):  # a member without access, and an outsider
        assert world.client().put(f"/api/v1/files/{doc['id']}/favourite", headers=world.api(name)).status_code == 404
        assert world.client(name).post(f"/files/{doc['id']}/favourite", data={"star": "1"}).status_code == 404

    from app.extensions import db
    from app.models import Favourite

    assert world.query(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Favourite))) == 0


def test_lost_read_access_and_the_trash_take_files_off_both_lists(world):
    kept, hidden, trashed = (world.create_document("alice", title) for title in ("Kept", "Hidden", "Trashed"))
    bob = world.client("bob")
    for doc in (kept, hidden, trashed):
        assert world.client().put(f"/api/v1/files/{doc['id']}/favourite", headers=world.api("bob")).status_code == 200
        open_editor(world, bob, doc["id"])
    flush_openings(world)
    everything = [trashed["id"], hidden["id"], kept["id"]]
    assert home_ids(world, bob, "favourite-files") == everything
    assert home_ids(world, bob, "recent-files") == everything

    world.set_level(hidden["id"], "bob", "none")
    assert world.client("alice").post(f"/files/{trashed['id']}/trash").status_code == 302
    assert home_ids(world, bob, "favourite-files") == [kept["id"]]
    assert home_ids(world, bob, "recent-files") == [kept["id"]]
    assert api_ids(world, "bob", "/api/v1/favourites", "favourites") == [kept["id"]]
    assert api_ids(world, "bob", "/api/v1/recent", "recent") == [kept["id"]]

    # Read access back: the star was kept, and the file shows again.
    world.set_level(hidden["id"], "bob", "read")
    assert home_ids(world, bob, "favourite-files") == [hidden["id"], kept["id"]]

    # Out of the space: nothing of it is listed.
    from app.extensions import db
    from app.models import Membership

    def leave():
        db.session.execute(
            sa.delete(Membership).where(
                Membership.user_id == world.user_ids["bob"], Membership.space_id == world.space_id
            )
        )
        db.session.commit()

    world.query(leave)
    assert home_ids(world, bob, "favourite-files") == []
    assert home_ids(world, bob, "recent-files") == []


def test_a_deleted_space_takes_its_files_off_both_lists(world):
    doc = world.create_document("alice", "Team file")
    alice = world.client("alice")
    world.client().put(f"/api/v1/files/{doc['id']}/favourite", headers=world.api("alice"))
    open_editor(world, alice, doc["id"])
    flush_openings(world)
    assert home_ids(world, alice, "recent-files") == [doc["id"]]

    from app.extensions import db
    from app.models import Space
    from app.models.base import utcnow

    def delete_space():
        db.session.get(Space, world.space_id).deleted_at = utcnow()
        db.session.commit()

    world.query(delete_space)
    assert home_ids(world, alice, "favourite-files") == []
    assert home_ids(world, alice, "recent-files") == []


def test_recently_opened_lists_each_file_once_newest_first(world):
    first, second, third = (world.create_document("alice", title) for title in ("First", "Second", "Third"))
    bob = world.client("bob")
    for doc in (first, second, third, first, second):
        open_editor(world, bob, doc["id"])
    assert world.client().get(f"/api/v1/files/{third['id']}/editor-config", headers=world.api("bob")).status_code == 200
    flush_openings(world)
    assert home_ids(world, bob, "recent-files") == [third["id"], second["id"], first["id"]]
    assert api_ids(world, "bob", "/api/v1/recent", "recent") == [third["id"], second["id"], first["id"]]
    assert home_ids(world, world.client("carol"), "recent-files") == []  # someone else's openings are theirs
    # Only what was opened: creating the files is not opening them.
    assert home_ids(world, world.client("alice"), "recent-files") == []


def test_the_home_page_runs_as_many_queries_for_many_favourites_and_openings_as_for_a_few(world):
    """Each list rechecks rights in its own single query, whatever its length."""
    from app.extensions import db
    from app.models import AuditEvent
    from app.models import Favourite
    from app.models import File
    from app.models.base import utcnow

    bob = world.client("bob")

    def grow(n: int) -> None:
        def add():
            now = utcnow()
            db.session.execute(
                sa.insert(File),
                [
                    {"space_id": world.space_id, "title": f"Bulk {n}-{i}.docx", "ext": "docx", "doc_key": f"b{n}-{i}"}
                    for i in range(n)
                ],
            )
            ids = db.session.scalars(sa.select(File.id).where(File.doc_key.like(f"b{n}-%"))).all()
            bob_id = world.user_ids["bob"]
            db.session.execute(sa.insert(Favourite), [{"user_id": bob_id, "file_id": fid} for fid in ids])
            db.session.execute(
                sa.insert(AuditEvent),
                [
                    {"at": now, "action": "editor.opened", "actor_id": bob_id, "file_id": fid, "object_type": "file"}
                    for fid in ids
                ],
            )
            db.session.commit()

        world.query(add)

    def statements() -> int:
        bob.get("/")
        with QueryCounter(world.app) as counter:
            assert bob.get("/").status_code == 200
        return counter.count

    grow(2)
    few = statements()
    assert len(home_ids(world, bob, "favourite-files")) == 2
    grow(40)
    assert statements() == few
    assert len(home_ids(world, bob, "favourite-files")) == 10  # a page of them
    assert len(home_ids(world, bob, "recent-files")) == 10

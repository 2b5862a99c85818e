"""Lists stay flat as content grows: every page and API list runs the same number of SQL
statements for a space of a few rows as for one of many (a query counter on the engine), and
shows one page of them at a time."""

import itertools
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from app.models import Favourite
from app.models import File
from app.models import FileRight
from app.models import FileVersion
from app.models import Folder
from app.models import Membership
from app.models import Notification
from app.models import Post
from app.models import User
from app.models.base import utcnow
from app.services import search
from tests.helpers import QueryCounter

SMALL, LARGE = 3, 60  # LARGE is more than a page (50) of everything
_serial = itertools.count(1)


class Seeded:
    """The world's space grown in bulk, straight through the models (no uploads, no blobs)."""

    def __init__(self, world):
        self.world = world
        self.space_id = world.space_id
        alice, bob = world.user_ids["alice"], world.user_ids["bob"]
        self.alice, self.bob = alice, bob

        def start():
            folder = Folder(space_id=self.space_id, name="Big folder")
            db.session.add(folder)
            db.session.flush()
            file = File(space_id=self.space_id, title="Long history.docx", ext="docx", owner_id=alice, version=0)
            db.session.add(file)
            db.session.flush()
            db.session.commit()
            return folder.id, file.id

        self.folder_id, self.history_file_id = world.query(start)

    def grow(self, n: int) -> int:
        """n more of everything: top-level folders and files, files in the big folder, members,
        versions of one file, notifications for alice and bob, posts, trashed files and folders.
        Returns the tag in the new rows' names."""
        tag = next(_serial)

        def add():
            now = utcnow()
            space = self.space_id
            alice_id, bob_id = self.alice, self.bob
            db.session.execute(
                sa.insert(Folder),
                [{"space_id": space, "name": f"Folder {tag}-{i}"} for i in range(max(1, n // 3))]
                + [
                    {"space_id": space, "name": f"Old folder {tag}-{i}", "trashed_at": now, "trashed_by": self.alice}
                    for i in range(n)
                ],
            )
            files = []
            for folder_id, trashed in ((None, False), (self.folder_id, False), (None, True)):
                for i in range(n):
                    files.append(
                        {
                            "space_id": space,
                            "folder_id": folder_id,
                            "title": f"{'Gone' if trashed else 'Report'} {tag}-{i} {folder_id}.docx",
                            "ext": "docx",
                            "owner_id": self.alice if i % 2 else self.bob,
                            "version": 1,
                            "doc_key": f"k{tag}-{i}-{folder_id}-{trashed}",
                            "updated_at": now - timedelta(minutes=i),
                            "trashed_at": now if trashed else None,
                            "trashed_by": self.alice if trashed else None,
                            "default_level": "none" if i % 7 == 0 else "read",
                        }
                    )
            db.session.execute(sa.insert(File), files)
            new_files = db.session.scalars(
                sa.select(File.id).where(File.doc_key.like(f"k{tag}-%")).order_by(File.id)
            ).all()
            db.session.execute(
                sa.insert(FileVersion),
                [
                    {
                        "file_id": fid,
                        "number": 1,
                        "storage_key": f"blob-{fid}",
                        "size": 1000 + fid,
                        "sha256": "0" * 64,
                        "source": "upload",
                        "author_id": self.alice,
                        "coauthors_json": f'["{self.bob}"]',
                    }
                    for fid in new_files
                ],
            )
            db.session.execute(
                sa.insert(FileRight), [{"file_id": fid, "user_id": self.bob, "level": "edit"} for fid in new_files[::5]]
            )
            # The home page's favourites and recently opened files (some hidden from bob, some trashed).
            db.session.execute(
                sa.insert(Favourite),
                [{"user_id": user, "file_id": fid} for user in (alice_id, bob_id) for fid in new_files],
            )
            db.session.execute(
                sa.insert(AuditEvent),
                [
                    {
                        "at": now - timedelta(seconds=i),
                        "action": "editor.opened",
                        "actor_id": user,
                        "file_id": fid,
                        "object_type": "file",
                    }
                    for user in (alice_id, bob_id)
                    for i, fid in enumerate(new_files)
                ],
            )
            for fid in new_files[:n]:
                search._store(fid, 1, f"quarterly figures {tag}")
            db.session.execute(
                sa.insert(User),
                [
                    {
                        "username": f"person{tag}-{i}",
                        "username_key": f"person{tag}-{i}",
                        "display_name": f"Person {tag}-{i}",
                        "password_hash": "x",
                    }
                    for i in range(n)
                ],
            )
            people = db.session.scalars(sa.select(User.id).where(User.username.like(f"person{tag}-%"))).all()
            db.session.execute(
                sa.insert(Membership), [{"space_id": space, "user_id": uid, "role": "member"} for uid in people]
            )
            history = db.session.get(File, self.history_file_id)
            first = history.version + 1
            db.session.execute(
                sa.insert(FileVersion),
                [
                    {
                        "file_id": history.id,
                        "number": number,
                        "storage_key": f"history-{number}",
                        "size": number,
                        "sha256": "0" * 64,
                        "source": "save",
                        "author_id": people[number % len(people)],
                        "coauthors_json": f'["{self.bob}", "{people[0]}"]',
                    }
                    for number in range(first, first + n)
                ],
            )
            history.version = first + n - 1
            db.session.execute(
                sa.insert(Notification),
                [
                    {
                        "user_id": user,
                        "kind": "mention",
                        "text": f"Note {tag}-{i}",
                        "link": f"/files/{fid}",
                        "file_id": fid,
                        "created_at": now - timedelta(seconds=i),
                    }
                    for user in (self.alice, self.bob)
                    for i, fid in enumerate(new_files[:n])
                ],
            )
            db.session.execute(
                sa.insert(Post),
                [
                    {
                        "space_id": space,
                        "author_id": people[i],
                        "file_id": fid if i % 2 else None,
                        "kind": "post",
                        "body": f"Post {tag}-{i}",
                        "created_at": now - timedelta(seconds=i),
                    }
                    for i, fid in enumerate(new_files[:n])
                ]
                + [  # comments in the long history's thread
                    {
                        "space_id": space,
                        "author_id": people[i],
                        "file_id": self.history_file_id,
                        "kind": "post",
                        "body": f"Comment {tag}-{i}",
                        "created_at": now - timedelta(seconds=i),
                    }
                    for i in range(n)
                ],
            )
            db.session.commit()

        self.world.query(add)
        return tag


def pages(seeded: Seeded, manager: bool) -> dict[str, str]:
    """Every page and API list that grows with the content, as one person opens it."""
    space, folder, file = seeded.space_id, seeded.folder_id, seeded.history_file_id
    listed = {
        "home": "/",
        "space": f"/spaces/{space}",
        "space by size, descending": f"/spaces/{space}?sort=size&order=desc",
        "space by date, page 2": f"/spaces/{space}?sort=date&page=2",
        "space, older stream and members": f"/spaces/{space}?stream_page=2&members_page=2",
        "folder": f"/spaces/{space}?folder={folder}",
        "trash": f"/spaces/{space}/trash",
        "search": "/search?q=quarterly",
        "file": f"/files/{file}",
        "file, older versions": f"/files/{file}?page=2",
        "thread": f"/files/{file}/thread",
        "thread, earlier comments": f"/files/{file}/thread?page=2",
        "notifications": "/notifications",
        "notifications page 2": "/notifications?page=2",
        "api spaces": "/api/v1/spaces",
        "api files": f"/api/v1/spaces/{space}/files",
        "api files of a folder by type": f"/api/v1/spaces/{space}/files?folder={folder}&sort=type",
        "api versions": f"/api/v1/files/{file}/versions",
        "api versions page 2": f"/api/v1/files/{file}/versions?page=2",
        "api notifications": "/api/v1/notifications",
        "api search": "/api/v1/search?q=quarterly",
        "api favourites": "/api/v1/favourites",
        "api recent": "/api/v1/recent",
    }
    if manager:
        listed |= {
            "settings": f"/spaces/{space}/settings",
            "settings, members page 2": f"/spaces/{space}/settings?page=2",
            "admin people": "/admin/users",
            "admin people page 2": "/admin/users?page=2",
        }
    return listed


def statements(world, client, path: str) -> list[str]:
    """The SQL statements one request for path runs (after a first request filled the caches)."""
    client.get(path)
    with QueryCounter(world.app) as counter:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return counter.statements


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_every_list_runs_as_many_queries_for_many_rows_as_for_a_few(world, who):
    """alice owns the space (sees everything, manages it); bob is a member some files are hidden from."""
    seeded = Seeded(world)
    seeded.grow(SMALL)
    client = world.client(who)
    listed = pages(seeded, manager=who == "alice")
    small = {name: statements(world, client, path) for name, path in listed.items()}
    seeded.grow(LARGE)
    large = {name: statements(world, client, path) for name, path in listed.items()}
    grew = {
        name: (len(small[name]), len(large[name]), large[name])
        for name in listed
        if len(large[name]) != len(small[name])
    }
    assert not grew, "\n".join(
        f"{name}: {a} -> {b} statements:\n  " + "\n  ".join(s) for name, (a, b, s) in grew.items()
    )


def _all_pages(client, path: str, headers: dict, key: str) -> list:
    items, url, pages_seen = [], path, 0
    while url:
        answer = client.get(url, headers=headers).get_json()
        items += answer[key]
        url = answer["next"]
        pages_seen += 1
        assert pages_seen <= 10
    return items


def test_the_api_pages_cover_every_row_once_and_only_what_the_person_may_see(world):
    seeded = Seeded(world)
    seeded.grow(LARGE)
    client = world.client()
    bob = world.api("bob")
    first = client.get(f"/api/v1/spaces/{seeded.space_id}/files?per_page=25", headers=bob).get_json()
    assert len(first["items"]) == 25 and first["page"] == 1 and first["per_page"] == 25
    assert "per_page=25" in first["next"] and "page=2" in first["next"]
    items = _all_pages(client, f"/api/v1/spaces/{seeded.space_id}/files?per_page=25", bob, "items")
    assert len(items) == first["total"]

    def expected():
        from app.services import rights

        user = db.session.get(User, seeded.bob)
        files = db.session.scalars(
            sa.select(File).where(File.space_id == seeded.space_id, File.folder_id.is_(None), File.trashed_at.is_(None))
        ).all()
        folders = db.session.scalars(
            sa.select(Folder.id).where(
                Folder.space_id == seeded.space_id, Folder.parent_id.is_(None), Folder.trashed_at.is_(None)
            )
        ).all()
        seen = {f.id for f in files if rights.file_level(f, user) != "none"}
        return seen, set(folders), len(files)

    visible, folders, every_file = world.query(expected)
    assert {i["id"] for i in items if i["type"] == "file"} == visible
    assert len(visible) < every_file  # some are hidden from bob, and stay hidden
    assert [i["id"] for i in items if i["type"] == "folder"] == [i["id"] for i in items[: len(folders)]]
    assert {i["id"] for i in items if i["type"] == "folder"} == folders

    versions = _all_pages(client, f"/api/v1/files/{seeded.history_file_id}/versions", bob, "versions")
    assert [v["number"] for v in versions] == list(range(1, LARGE + 1))
    notes = _all_pages(client, "/api/v1/notifications?per_page=40", bob, "notifications")
    assert len(notes) == LARGE and len({n["id"] for n in notes}) == LARGE
    assert client.get("/api/v1/notifications?limit=8", headers=bob).get_json()["per_page"] == 8
    assert client.get("/api/v1/spaces", headers=bob).get_json()["spaces"] == [
        {"id": seeded.space_id, "name": "Team", "role": "member"}
    ]


def test_pages_show_fifty_rows_and_links_that_keep_the_order(world):
    seeded = Seeded(world)
    tag = seeded.grow(LARGE)
    alice = world.client("alice")
    html = alice.get(f"/spaces/{seeded.space_id}?folder={seeded.folder_id}&sort=size&order=desc").get_data(as_text=True)
    assert html.count("data-file-id=") == 50
    assert "Page 1 of 2" in html
    assert f"/spaces/{seeded.space_id}?folder={seeded.folder_id}&amp;sort=size&amp;order=desc&amp;page=2" in html
    second = alice.get(f"/spaces/{seeded.space_id}?folder={seeded.folder_id}&sort=size&order=desc&page=2")
    assert second.get_data(as_text=True).count("data-file-id=") == LARGE - 50
    ids = [
        int(n)
        for n in re.findall(
            r'data-file-id="(\d+)"',
            html + second.get_data(as_text=True),
        )
    ]
    assert len(set(ids)) == LARGE  # every file once over the two pages
    file_page = alice.get(f"/files/{seeded.history_file_id}").get_data(as_text=True)
    assert file_page.count("data-version=") == 50 and f'data-version="{LARGE}"' in file_page
    assert alice.get("/notifications").get_data(as_text=True).count('data-kind="mention"') == 50
    thread = alice.get(f"/files/{seeded.history_file_id}/thread").get_data(as_text=True)
    bodies = re.findall(r'class="post-body">([^<]+)<', thread)
    assert len(bodies) == 50 and "Earlier comments" in thread
    assert bodies[-1] == f"Comment {tag}-0" and bodies[0] == f"Comment {tag}-49"  # the latest, oldest first
    assert alice.get(f"/spaces/{seeded.space_id}/trash").get_data(as_text=True).count("trash-entry") == 50
    assert alice.get(f"/spaces/{seeded.space_id}/settings").get_data(as_text=True).count("member-row") == 50


def test_the_rights_dialog_of_a_large_space_lists_who_has_a_level_and_takes_anyone_by_name(world, monkeypatch):
    import app.files.views

    monkeypatch.setattr(app.files.views, "RIGHTS_LISTED", 10)
    seeded = Seeded(world)
    seeded.grow(SMALL)
    alice = world.client("alice")
    file_id = seeded.history_file_id
    small = alice.get(f"/files/{file_id}").get_data(as_text=True)
    assert 'id="rights-someone-else"' not in small and small.count('<tr data-username="person') == SMALL
    tag = seeded.grow(LARGE)
    world.set_level(file_id, "bob", "comment")
    page = alice.get(f"/files/{file_id}").get_data(as_text=True)
    assert 'id="rights-someone-else"' in page and '<tr data-username="person' not in page
    assert 'value="bob"' in page  # bob has a level of his own: listed
    someone = re.search(r'id="(people-\d+)-username" name="people-\d+-username" maxlength', page).group(1)
    answer = alice.post(
        f"/files/{file_id}/rights",
        data={
            "default": "read",
            "people-0-username": "bob",
            "people-0-level": "comment",
            f"{someone}-username": f"PERSON{tag}-5",
            f"{someone}-level": "edit",
            "allow_download": "y",
        },
    )
    assert answer.status_code == 302
    described = world.client().get(f"/api/v1/files/{file_id}/rights", headers=world.api("alice")).get_json()
    assert described["users"][f"person{tag}-5"] == "edit" and described["users"]["bob"] == "comment"

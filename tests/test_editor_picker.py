"""The editor's requests for other files: the picker's list, the signed answers for insertImage,
setRequestedDocument, setRequestedSpreadsheet, setReferenceData and setReferenceSource, their
audit entries, and the links Docs fetches.

Answers are checked by the Docs emulator as Docs' editor would (token, then a fetch with its JWT).
"""

import io
import json
import struct
import zlib

import jwt
import pytest
import requests
import sqlalchemy as sa

from app.extensions import db
from app.services import audit
from app.services import rights
from app.services import search
from app.services.docs import picks
from docs_emulator.testing import start_emulator
from tests.conftest import MEMBERS
from tests.helpers import SECRET
from tests.helpers import QueryCounter
from tests.helpers import docs_token


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG: a red-to-blue gradient."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((255 - 255 * x // width, 80, 255 * x // width)) for x in range(width))
        for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png_bytes()


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emu:
        yield emu


@pytest.fixture
def live(make_world, emulator):
    return make_world(DOCS_URL=emulator.url)


def upload(world, name: str, content: bytes, space_id=None, who="alice") -> int:
    response = world.client().post(
        f"/api/v1/spaces/{space_id or world.space_id}/files",
        headers=world.api(who),
        data={"file": (io.BytesIO(content), name)},
    )
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def other_space(world, with_bob=True) -> int:
    space = world.client().post("/api/v1/spaces", json={"name": "Other"}, headers=world.api("alice")).get_json()
    if with_bob:
        added = world.client().post(
            f"/api/v1/spaces/{space['id']}/members", json={"username": "bob"}, headers=world.api("alice")
        )
        assert added.status_code == 201
    return space["id"]


def downloads_off(world, file_id):
    response = world.client().put(
        f"/api/v1/files/{file_id}/rights", json={"allow_download": False}, headers=world.api("alice")
    )
    assert response.status_code == 200


def docs_get(url):
    """A GET as Docs makes it: with its own JWT naming the URL."""
    return requests.get(url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10)


def pick(client, editing_id, kind, c, file_id):
    return client.post(f"/files/{editing_id}/picked", json={"kind": kind, "c": c, "file_id": file_id})


def test_picker_lists_only_files_of_the_kind_the_person_may_read_and_download(world):
    doc = world.create_document("alice", "Letter")
    world.set_level(doc["id"], "bob", "edit")
    shared = upload(world, "logo.png", PNG)
    locked = upload(world, "locked.png", PNG)
    downloads_off(world, locked)
    hidden = upload(world, "hidden.png", PNG)
    world.set_level(hidden, "bob", "none")
    elsewhere = upload(world, "away.png", PNG, other_space(world, with_bob=False))
    bob = world.client("bob")

    listed = bob.get(f"/files/{doc['id']}/picker?kind=image").get_json()["files"]
    assert [f["id"] for f in listed] == [shared]
    assert listed[0] == {"id": shared, "title": "logo.png", "fileType": "png", "space": "Team"}
    alice_sees = {
        f["id"] for f in world.client("alice").get(f"/files/{doc['id']}/picker?kind=image").get_json()["files"]
    }
    assert alice_sees == {shared, locked, hidden, elsewhere}  # the owner may download her own
    assert bob.get(f"/files/{doc['id']}/picker?kind=image&q=nothing").get_json()["files"] == []
    assert [f["id"] for f in bob.get(f"/files/{doc['id']}/picker?kind=document").get_json()["files"]] == [doc["id"]]
    assert bob.get(f"/files/{doc['id']}/picker?kind=spreadsheet").get_json()["files"] == []
    assert bob.get(f"/files/{doc['id']}/picker?kind=bogus").status_code == 400
    assert world.client("carol").get(f"/files/{doc['id']}/picker?kind=image").status_code == 404
    world.set_level(doc["id"], "bob", "read")  # a reader's viewer asks for nothing
    assert bob.get(f"/files/{doc['id']}/picker?kind=image").status_code == 403
    assert pick(bob, doc["id"], "image", "add", shared).status_code == 403


def test_editor_page_wires_the_picker_for_editors_and_linked_data_for_spreadsheets(world):
    doc = world.create_document("alice", "Letter")
    sheet = world.create_document("alice", "Data", kind="xlsx")
    page = world.client("alice").get(f"/files/{doc['id']}/open").get_data(as_text=True)
    assert 'id="picker"' in page and "data-picked=" in page and "js/picker.js" in page
    viewer = world.client("bob").get(f"/files/{doc['id']}/open").get_data(as_text=True)
    assert 'id="picker"' not in viewer and "data-picked=" not in viewer
    config = world.client().get(f"/api/v1/files/{sheet['id']}/editor-config", headers=world.api("bob")).get_json()
    reference = config["document"]["referenceData"]
    assert reference["fileKey"] == str(sheet["id"]) and len(reference["instanceId"]) == 32
    signed = jwt.decode(config["token"], SECRET, algorithms=["HS256"])
    assert signed["document"]["referenceData"] == reference
    text = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob")).get_json()
    assert "referenceData" not in text["document"]


def test_each_request_answers_a_signed_link_docs_can_fetch_and_nobody_else(live, emulator):
    doc = live.create_document("alice", "Letter")
    live.set_level(doc["id"], "bob", "edit")
    image = upload(live, "photo.png", PNG, other_space(live))  # another space bob belongs to
    other = live.create_document("alice", "Draft")
    sheet = live.create_document("alice", "Recipients", kind="xlsx")
    bob = live.client("bob")

    answer = pick(bob, doc["id"], "image", "add", image).get_json()
    assert answer["c"] == "add" and answer["images"][0]["fileType"] == "png"
    signed = jwt.decode(answer["token"], SECRET, algorithms=["HS256"])
    assert {k: signed[k] for k in ("c", "images")} == {"c": "add", "images": answer["images"]}
    assert signed["exp"] - signed["iat"] == 300
    checked = emulator.requested("insertImage", answer)
    assert checked["ok"] and checked["files"][0]["bytes"] == len(PNG)

    url = answer["images"][0]["url"]
    assert requests.get(url, timeout=10).status_code == 403  # a browser, without Docs' JWT
    assert docs_get(url).content == PNG
    forged = dict(answer, token=jwt.encode({"c": "add", "images": answer["images"]}, "w" * 32, algorithm="HS256"))
    assert "invalid token" in emulator.requested("insertImage", forged)["error"]

    compare = pick(bob, doc["id"], "document", "compare", other["id"]).get_json()
    assert compare["c"] == "compare" and compare["fileType"] == "docx"
    assert emulator.requested("setRequestedDocument", compare)["ok"]
    merge = pick(bob, doc["id"], "spreadsheet", "mailmerge", sheet["id"]).get_json()
    assert merge["fileType"] == "xlsx" and emulator.requested("setRequestedSpreadsheet", merge)["ok"]
    assert pick(bob, doc["id"], "image", "add", other["id"]).status_code == 404  # not an image
    assert pick(bob, doc["id"], "image", "compare", image).status_code == 400

    # The person lost the right to download it: the links they were given stop working.
    downloads_off(live, other["id"])
    assert docs_get(compare["url"]).status_code == 403
    assert "HTTP 403" in emulator.requested("setRequestedDocument", compare)["error"]
    assert pick(bob, doc["id"], "document", "compare", other["id"]).status_code == 404
    # Links expire.
    live.app.config["INSERT_LINK_SECONDS"] = -1
    assert docs_get(url).status_code == 403
    assert "HTTP 403" in emulator.requested("insertImage", answer)["error"]


def test_a_reader_of_a_never_receives_a_url_to_b(world):
    sheet = world.create_document("alice", "Mine", kind="xlsx")
    secret = world.create_document("alice", "Secret", kind="xlsx")
    secret_png = upload(world, "secret.png", PNG)
    for file_id in (secret["id"], secret_png):
        world.set_level(file_id, "bob", "none")
    world.set_level(sheet["id"], "bob", "edit")
    locked = world.create_document("alice", "Locked", kind="xlsx")
    downloads_off(world, locked["id"])
    config = world.client().get(f"/api/v1/files/{sheet['id']}/editor-config", headers=world.api("bob")).get_json()
    instance = config["document"]["referenceData"]["instanceId"]
    bob = world.client("bob")
    answers = [
        pick(bob, sheet["id"], "spreadsheet", "mailmerge", secret["id"]),
        pick(bob, sheet["id"], "spreadsheet", "mailmerge", locked["id"]),
        pick(bob, sheet["id"], "image", "add", secret_png),
        pick(bob, sheet["id"], "image", "add", str(secret_png)),
    ]
    for target in (secret["id"], locked["id"]):
        for data in (
            {"referenceData": {"fileKey": str(target), "instanceId": instance}},
            {"link": f"http://localhost/files/{target}/open"},  # our host, as the test client calls it
        ):
            answers.append(bob.post(f"/files/{sheet['id']}/reference-data", json=data))
    answers.append(bob.post(f"/files/{sheet['id']}/reference-data", json={"path": "Secret.xlsx"}))
    for answer in answers:
        assert answer.status_code == 404, answer.data
        assert b"insert-source" not in answer.data and b"eyJ" not in answer.data  # no link, no token
    assert world.client("carol").post(f"/files/{sheet['id']}/reference-data", json={}).status_code == 404


def test_linked_data_follows_the_file_through_renames_until_access_is_lost(live, emulator):
    source = live.create_document("alice", "Prices", kind="xlsx")
    target = live.create_document("alice", "Totals", kind="xlsx")
    live.set_level(target["id"], "bob", "edit")
    config = live.client().get(f"/api/v1/files/{source['id']}/editor-config", headers=live.api("alice")).get_json()
    reference = config["document"]["referenceData"]
    bob = live.client("bob")
    renamed = live.client("alice").post(f"/files/{source['id']}/rename-from-editor", json={"title": "Prices 2027"})
    assert renamed.status_code == 200

    answer = bob.post(f"/files/{target['id']}/reference-data", json={"referenceData": reference, "path": "Prices.xlsx"})
    data = answer.get_json()
    assert answer.status_code == 200 and data["path"] == "Prices 2027.xlsx" and data["referenceData"] == reference
    assert data["fileType"] == "xlsx" and data["key"] == live.file(source["id"]).doc_key
    checked = emulator.requested("setReferenceData", data)
    assert checked["ok"] and checked["referenceData"] == reference and checked["path"] == "Prices 2027.xlsx"
    by_path = bob.post(f"/files/{target['id']}/reference-data", json={"path": "Prices 2027.xlsx"}).get_json()
    assert by_path["referenceData"] == reference
    by_link = bob.post(
        f"/files/{target['id']}/reference-data", json={"link": f"http://localhost/files/{source['id']}/open"}
    )
    assert by_link.get_json()["referenceData"] == reference
    foreign = bob.post(
        f"/files/{target['id']}/reference-data", json={"link": f"http://elsewhere.example/files/{source['id']}"}
    )
    assert foreign.status_code == 404

    live.set_level(source["id"], "bob", "none")
    lost = bob.post(f"/files/{target['id']}/reference-data", json={"referenceData": reference})
    assert lost.status_code == 404 and set(lost.get_json()) == {"error"}
    assert "HTTP 403" in emulator.requested("setReferenceData", data)["error"]  # the old link is dead too
    assert emulator.requested("setReferenceData", lost.get_json())["error"]


def test_change_source_answers_set_reference_source_for_the_picked_spreadsheet_only(live, emulator):
    target = live.create_document("alice", "Totals", kind="xlsx")
    source = live.create_document("alice", "Prices", kind="xlsx")
    hidden = live.create_document("alice", "Salaries", kind="xlsx")
    locked = live.create_document("alice", "Locked", kind="xlsx")
    letter = live.create_document("alice", "Letter")
    live.set_level(target["id"], "bob", "edit")
    live.set_level(hidden["id"], "bob", "none")
    downloads_off(live, locked["id"])
    bob = live.client("bob")
    page = bob.get(f"/files/{target['id']}/open").get_data(as_text=True)
    assert f'data-reference-source="/files/{target["id"]}/reference-source"' in page

    response = bob.post(f"/files/{target['id']}/reference-source", json={"file_id": source["id"]})
    answer = response.get_json()
    assert response.status_code == 200
    # The same object as setReferenceData's for that file.
    linked = bob.post(f"/files/{target['id']}/reference-data", json={"path": "Prices.xlsx"}).get_json()
    assert {k: answer[k] for k in ("fileType", "key", "path", "referenceData")} == {
        k: linked[k] for k in ("fileType", "key", "path", "referenceData")
    }
    assert answer["referenceData"]["fileKey"] == str(source["id"]) and answer["path"] == "Prices.xlsx"
    signed = jwt.decode(answer["token"], SECRET, algorithms=["HS256"])
    assert signed["url"] == answer["url"] and signed["referenceData"] == answer["referenceData"]
    checked = emulator.requested("setReferenceSource", answer)
    assert checked["ok"] and checked["referenceData"] == answer["referenceData"] and checked["path"] == "Prices.xlsx"

    for refused in (hidden["id"], locked["id"], letter["id"], str(source["id"]), 10**9):
        response = bob.post(f"/files/{target['id']}/reference-source", json={"file_id": refused})
        assert response.status_code == 404 and set(response.get_json()) == {"error"}, refused
        assert b"insert-source" not in response.data and b"eyJ" not in response.data
    live.set_level(target["id"], "bob", "read")  # a viewer changes no link
    assert bob.post(f"/files/{target['id']}/reference-source", json={"file_id": source["id"]}).status_code == 403
    outsider = live.client("carol").post(f"/files/{target['id']}/reference-source", json={"file_id": source["id"]})
    assert outsider.status_code == 404


def picked_entries(world):
    from app.models import AuditEvent

    def read():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "file.picked_for_editor").order_by(AuditEvent.id)
        )
        return [(e.actor_name, e.file_id, e.object_name, json.loads(e.details_json)) for e in rows]

    return world.query(read)


def test_each_answer_is_audited_with_the_picked_file_and_the_file_being_edited(world):
    doc = world.create_document("alice", "Letter")
    sheet = world.create_document("alice", "Totals", kind="xlsx")
    prices = world.create_document("alice", "Prices", kind="xlsx")
    image = upload(world, "logo.png", PNG)
    locked = upload(world, "locked.png", PNG)
    downloads_off(world, locked)
    for file_id in (doc["id"], sheet["id"]):
        world.set_level(file_id, "bob", "edit")
    bob = world.client("bob")

    assert pick(bob, doc["id"], "image", "add", image).status_code == 200
    assert pick(bob, doc["id"], "image", "add", locked).status_code == 404  # refused: no entry
    assert bob.post(f"/files/{sheet['id']}/reference-data", json={"path": "Prices.xlsx"}).status_code == 200
    assert bob.post(f"/files/{sheet['id']}/reference-source", json={"file_id": prices["id"]}).status_code == 200
    assert bob.post(f"/files/{sheet['id']}/reference-source", json={"file_id": locked}).status_code == 404
    assert picked_entries(world) == [
        ("bob", image, "logo.png", {"kind": "image", "command": "add", "into": doc["id"]}),
        ("bob", prices["id"], "Prices.xlsx", {"kind": "spreadsheet", "command": "reference-data", "into": sheet["id"]}),
        (
            "bob",
            prices["id"],
            "Prices.xlsx",
            {"kind": "spreadsheet", "command": "reference-source", "into": sheet["id"]},
        ),
    ]
    assert "file.picked_for_editor" in audit.ACTIONS


def test_the_download_condition_of_lists_agrees_with_may_download(world, matrix):
    """rights.downloadable (through search.downloadable_files) against may_download, for every kind
    of person, on files with downloads on and off, owned by an admin or by a member, hidden or not."""
    from app.models import File
    from app.models import User

    files = []
    for owner, allowed, default in (
        ("alice", True, "read"),
        ("alice", False, "read"),
        ("hank", True, "read"),
        ("hank", False, "read"),
        ("alice", True, "none"),
        ("alice", False, "edit"),
    ):
        files.append(upload(world, f"{owner}-{allowed}-{default}.png", PNG, who=owner))
        changed = world.client().put(
            f"/api/v1/files/{files[-1]}/rights",
            json={"allow_download": allowed, "default": default},
            headers=world.api(owner),
        )
        assert changed.status_code == 200
        for name, (level, _) in MEMBERS.items():
            if level and name != owner:
                world.set_level(files[-1], name, level)

    def compare():
        seen = set()
        for name in list(MEMBERS) + ["carol"]:
            user = db.session.get(User, world.user_ids[name])
            listed = set(
                db.session.scalars(sa.select(File.id).where(File.id.in_(files), search.downloadable_files(user)))
            )
            one_by_one = {
                f.id
                for f in db.session.scalars(sa.select(File).where(File.id.in_(files)))
                if rights.may_download(f, rights.file_level(f, user))
            }
            assert listed == one_by_one, name
            seen.add(len(listed))
        return seen

    assert len(world.query(compare)) > 2  # the people differ: the comparison is not of empty sets


def test_the_picker_lists_up_to_50_downloadable_files_from_one_query(world):
    from app.models import File
    from app.models import User

    doc = world.create_document("alice", "Letter")
    world.set_level(doc["id"], "bob", "edit")

    def add_files():
        for n in range(60):
            db.session.add(
                File(
                    space_id=world.space_id,
                    title=f"image-{n:02}.png",
                    ext="png",
                    owner_id=world.user_ids["alice"],
                    allow_download=n % 12 == 0,  # 5 of 60
                )
            )
        db.session.commit()

    world.query(add_files)
    listed = world.client("bob").get(f"/files/{doc['id']}/picker?kind=image").get_json()["files"]
    assert sorted(f["title"] for f in listed) == [f"image-{n:02}.png" for n in range(0, 60, 12)]
    assert len(world.client("alice").get(f"/files/{doc['id']}/picker?kind=image").get_json()["files"]) == 50

    def choose_as_bob():
        bob = db.session.get(User, world.user_ids["bob"])
        with QueryCounter(world.app) as counter:
            found = picks.choices(bob, "image", limit=3)
        return [f.title for f in found], counter.count

    assert world.query(choose_as_bob) == (["image-48.png", "image-36.png", "image-24.png"], 1)

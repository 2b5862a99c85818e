"""The versions table names everyone whose work a version holds, and what a restore restored."""

import io

from tests.helpers import docx_with
from tests.test_callbacks import doc  # noqa: F401  (fixture)
from tests.test_callbacks import save_body
from tests.test_callbacks import send


def versions_table(world, file_id):
    page = world.client("alice").get(f"/files/{file_id}").get_data(as_text=True)
    return page[page.index('id="versions"') :]


def test_a_save_by_several_co_editors_names_them_all(world, fake_docs, doc):  # noqa: F811
    world.set_level(doc["id"], "alice", "edit")
    body = save_body(world, fake_docs, doc)
    body["users"] = [str(world.user_ids["bob"]), str(world.user_ids["alice"]), "not-a-person"]
    assert send(doc["callback"], body).json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert versions[-1].number == 2 and versions[-1].author_id == world.user_ids["bob"]
    table = versions_table(world, doc["id"])
    row = table[table.index('data-version="2"') :]
    row = row[: row.index("</tr>")]
    assert "Bob Baker, Alice Archer" in row


def test_the_restored_version_says_which_version_it_restored(world):
    story = world.create_document("alice", "Story")
    world.client().post(
        f"/api/v1/files/{story['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("two")), "x.docx")},
    )
    response = world.client("alice").post(f"/files/{story['id']}/versions/1/restore")
    assert response.status_code == 302
    versions = world.versions(story["id"])
    assert versions[-1].number == 3 and versions[-1].restored_from == 1
    table = versions_table(world, story["id"])
    row = table[table.index('data-version="3"') :]
    assert "restored from version 1" in row[: row.index("</tr>")]

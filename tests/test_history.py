"""History inside the editor, rename and save-as from the editor."""

import io

import jwt
import requests

from tests.helpers import SECRET
from tests.helpers import docs_token
from tests.helpers import docx_text
from tests.helpers import docx_with


def make_versions(world, texts=("two", "three")):
    doc = world.create_document("alice", "Story")
    for text in texts:
        world.client().post(
            f"/api/v1/files/{doc['id']}/versions",
            headers=world.api("alice"),
            data={"file": (io.BytesIO(docx_with(text)), "x.docx")},
        )
    return doc


def test_history_lists_versions_with_distinct_keys(world):
    doc = make_versions(world)
    history = world.client("bob").get(f"/files/{doc['id']}/history").get_json()
    assert history["currentVersion"] == 3
    assert [h["version"] for h in history["history"]] == [1, 2, 3]
    keys = [h["key"] for h in history["history"]]
    assert len(set(keys)) == 3 and keys[-1] == world.file(doc["id"]).doc_key
    assert history["history"][0]["user"]["name"] == "Alice Archer"
    assert world.client("carol").get(f"/files/{doc['id']}/history").status_code == 404


def test_history_data_is_signed_and_its_links_work_only_for_docs(world):
    doc = make_versions(world)
    data = world.client("bob").get(f"/files/{doc['id']}/history/2").get_json()
    assert data["version"] == 2 and data["fileType"] == "docx" and data["previous"]["url"]
    signed = jwt.decode(data["token"], SECRET, algorithms=["HS256"])
    assert {k: v for k, v in signed.items() if k not in ("iat", "exp", "coedit_aud")} == {
        k: v for k, v in data.items() if k != "token"
    }
    url = data["url"]
    as_docs = requests.get(
        url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10
    )
    assert as_docs.status_code == 200 and docx_text(as_docs.content) == ["two"]
    assert requests.get(url, timeout=10).status_code == 403  # a reader's browser cannot take a copy with it
    other = data["previous"]["url"]
    assert (
        requests.get(
            other, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10
        ).status_code
        == 403
    )  # the JWT names another URL
    world.app.config["HISTORY_LINK_SECONDS"] = -1
    assert (
        requests.get(
            url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10
        ).status_code
        == 403
    )
    assert world.client("bob").get(f"/files/{doc['id']}/history/9").get_json()["error"]


def test_rename_from_the_editor(world):
    doc = world.create_document("alice", "Draft")
    assert world.client("bob").post(f"/files/{doc['id']}/rename-from-editor", json={"title": "Mine"}).status_code == 403
    answer = world.client("alice").post(f"/files/{doc['id']}/rename-from-editor", json={"title": "Final"})
    assert answer.status_code == 200 and answer.get_json() == {"title": "Final.docx", "name_changed": None}
    assert world.file(doc["id"]).title == "Final.docx"


def test_save_as_takes_only_docs_links(world, fake_docs):
    doc = world.create_document("alice", "Base")
    good = fake_docs.put("copy.docx", docx_with("a copy"))
    answer = world.client("bob").post(
        f"/files/{doc['id']}/save-as", json={"url": good, "title": "Copy", "fileType": "docx"}
    )
    assert answer.status_code == 201
    copy = answer.get_json()
    assert copy["title"] == "Copy.docx"
    assert docx_text(world.head_bytes(copy["id"])) == ["a copy"]
    evil = fake_docs.url.replace("127.0.0.1", "localhost") + "/cache/files/copy.docx"
    refused = world.client("bob").post(
        f"/files/{doc['id']}/save-as", json={"url": evil, "title": "Evil", "fileType": "docx"}
    )
    assert refused.status_code == 400
    assert fake_docs.requests == ["/cache/files/copy.docx?md5=x&expires=9999999999"]


def test_no_copy_for_readers_when_downloads_are_off(world, fake_docs):
    doc = world.create_document("alice", "Secret")
    world.client().put(f"/api/v1/files/{doc['id']}/rights", json={"allow_download": False}, headers=world.api("alice"))
    good = fake_docs.put("copy.docx", docx_with("a copy"))
    answer = world.client("bob").post(
        f"/files/{doc['id']}/save-as", json={"url": good, "title": "C", "fileType": "docx"}
    )
    assert answer.status_code == 403 and fake_docs.requests == []

"""The reader download switch holds on every way to a file's bytes, and tokens keep to their audience.

A reader of a file whose downloads are off may view it in the editor (Docs fetches it with its own
JWT), but no link, token or route hands the reader the bytes of any version or of a changes zip.
Tokens Coedit signs for browsers are never accepted where Docs' own JWT is required.
"""

import io
import time
import zipfile

import pytest
import requests

from tests.helpers import docs_token
from tests.helpers import docx_with
from tests.test_callbacks import save_body
from tests.test_callbacks import send

CHANGES = b"changes of version 2"


def changes_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("changes.json", (2026, 1, 1, 0, 0, 0)), CHANGES)  # same bytes each time
    return buffer.getvalue()


@pytest.fixture
def saved(world, fake_docs):
    """A docx of alice's with a version 2 saved from the editor by bob (with its changes zip); bob then reads."""
    file = world.create_document("alice", "Secret plan")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    doc = {"id": file["id"], "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}
    fake_docs.put("changes.zip", changes_zip())
    body = save_body(
        world,
        fake_docs,
        doc,
        content=docx_with("version two"),
        changesurl=f"{fake_docs.url}/cache/files/changes.zip?md5=x&expires=9999999999",
    )
    assert send(doc["callback"], body).json() == {"error": 0}
    world.set_level(file["id"], "bob", "read")
    doc["bytes"] = {1: _version_bytes(world, file["id"], 1), 2: _version_bytes(world, file["id"], 2)}
    return doc


def _version_bytes(world, file_id, number) -> bytes:
    response = world.client().get(f"/api/v1/files/{file_id}/versions/{number}/content", headers=world.api("alice"))
    assert response.status_code == 200
    return response.data


def downloads(world, file_id, allowed: bool) -> None:
    response = world.client().put(
        f"/api/v1/files/{file_id}/rights", json={"allow_download": allowed}, headers=world.api("alice")
    )
    assert response.status_code == 200


def test_history_gives_a_reader_no_bytes_when_downloads_are_off(world, saved):
    downloads(world, saved["id"], False)
    data = world.client("bob").get(f"/files/{saved['id']}/history/2").get_json()
    assert data["version"] == 2 and data["url"] and data["previous"]["url"]
    assert "changesUrl" not in data  # the editor frame would fetch it without Docs' JWT
    for url in (data["url"], data["previous"]["url"]):
        # The audit's exploit: the history token presented as if it were Docs' JWT.
        assert requests.get(url, headers={"Authorization": "Bearer " + data["token"]}, timeout=10).status_code == 403
        assert requests.get(url, timeout=10).status_code == 403
    # Docs itself still fetches the version to show it to bob: viewing is reading.
    shown = requests.get(
        data["url"], headers={"Authorization": "Bearer " + docs_token({"payload": {"url": data["url"]}})}, timeout=10
    )
    assert shown.status_code == 200 and shown.content == saved["bytes"][2]


def test_changes_links_go_only_to_those_who_may_download_and_are_checked_when_used(world, saved, fake_docs):
    data = world.client("bob").get(f"/files/{saved['id']}/history/2").get_json()
    changes = requests.get(data["changesUrl"], timeout=10)
    assert changes.status_code == 200
    with zipfile.ZipFile(io.BytesIO(changes.content)) as archive:
        assert archive.read("changes.json") == CHANGES
    # Only the editor frame on Docs' origin may read it from a browser, not any site.
    assert changes.headers["Access-Control-Allow-Origin"] == fake_docs.url
    downloads(world, saved["id"], False)
    assert requests.get(data["changesUrl"], timeout=10).status_code == 403
    downloads(world, saved["id"], True)
    world.set_level(saved["id"], "bob", "none")
    assert requests.get(data["changesUrl"], timeout=10).status_code == 403


def test_tokens_made_for_browsers_are_never_docs_tokens(world, saved):
    config = world.client().get(f"/api/v1/files/{saved['id']}/editor-config", headers=world.api("bob")).get_json()
    url = config["document"]["url"]
    for token in (config["token"], world.client("bob").get(f"/files/{saved['id']}/history/2").get_json()["token"]):
        assert requests.get(url, headers={"Authorization": "Bearer " + token}, timeout=10).status_code == 403
        answer = requests.post(
            config["editorConfig"]["callbackUrl"],
            json={"token": token},
            headers={"Authorization": "Bearer " + token},
            timeout=10,
        )
        assert answer.status_code == 403 and answer.json() == {"error": 1}


def test_docs_tokens_must_be_short_lived(world, saved):
    config = world.client().get(f"/api/v1/files/{saved['id']}/editor-config", headers=world.api("bob")).get_json()
    url = config["document"]["url"]

    def fetch(**claims):
        return requests.get(
            url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}}, **claims)}, timeout=10
        )

    assert fetch().status_code == 200
    assert fetch(exp=int(time.time()) + 10 * 365 * 86400).status_code == 403  # a token minted for ever
    assert fetch(iat=None).status_code == 403  # no issue time: its age cannot be known
    body = {"key": saved["key"], "status": 1, "users": [str(world.user_ids["alice"])]}
    callback = config["editorConfig"]["callbackUrl"]
    assert send(callback, body).json() == {"error": 0}
    forever = requests.post(callback, json={**body, "token": docs_token(body, expires_in=10 * 365 * 86400)}, timeout=10)
    assert forever.status_code == 403

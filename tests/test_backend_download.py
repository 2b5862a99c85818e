"""The download endpoint Docs fetches document.url from: our link token plus Docs' JWT."""

import pytest
import requests

from tests.helpers import docs_token
from tests.helpers import docx_text


@pytest.fixture
def doc(world):
    file = world.create_document("alice", "Plan")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("alice")).get_json()
    return {"id": file["id"], "url": config["document"]["url"], "callback": config["editorConfig"]["callbackUrl"]}


def fetch(url, token_url=None, header="Authorization", **token_args):
    headers = {header: "Bearer " + docs_token({"payload": {"url": token_url or url}}, **token_args)}
    return requests.get(url, headers=headers, timeout=10)


def test_docs_downloads_the_file_with_its_jwt(world, doc):
    response = fetch(doc["url"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert int(response.headers["Content-Length"]) == len(response.content) > 0
    assert response.content == world.head_bytes(doc["id"])
    assert docx_text(response.content) == []


def test_url_host_in_the_jwt_may_differ_behind_a_proxy(world, doc):
    proxied = doc["url"].replace("http://127.0.0.1", "https://app.example.test")
    assert fetch(doc["url"], token_url=proxied).status_code == 200


def test_no_jwt_is_refused_even_for_the_browser(world, doc):
    """A person who reads document.url from the page cannot download with it."""
    assert requests.get(doc["url"], timeout=10).status_code == 403
    cookies_client = world.client("alice")
    assert cookies_client.get(doc["url"].removeprefix(world.url)).status_code == 403


def test_jwt_with_the_wrong_secret_is_refused(world, doc):
    assert fetch(doc["url"], secret="not-the-secret-but-32-characters!").status_code == 403


def test_expired_jwt_is_refused(world, doc):
    assert fetch(doc["url"], expires_in=-300).status_code == 403


def test_jwt_for_another_url_is_refused(world, doc):
    other = world.create_document("alice", "Other")
    other_url = (
        world.client()
        .get(f"/api/v1/files/{other['id']}/editor-config", headers=world.api("alice"))
        .get_json()["document"]["url"]
    )
    assert fetch(doc["url"], token_url=other_url).status_code == 403


def test_tampered_link_token_is_refused(world, doc):
    assert fetch(doc["url"][:-2] + "xx").status_code == 403


def test_link_of_another_file_is_refused(world, doc):
    other = world.create_document("alice", "Other")
    url = doc["url"].replace(f"/files/{doc['id']}/", f"/files/{other['id']}/")
    assert fetch(url).status_code == 403


def test_callback_token_is_no_download_token(world, doc):
    token = doc["callback"].split("token=")[1]
    url = doc["url"].split("token=")[0] + "token=" + token
    assert fetch(url).status_code == 403


def test_expired_link_is_refused(world, doc):
    world.app.config["DOWNLOAD_LINK_SECONDS"] = -1
    assert fetch(doc["url"]).status_code == 403


def test_deleted_file_is_gone(world, doc):
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    assert fetch(doc["url"]).status_code == 404


def test_custom_jwt_header(world, doc):
    world.app.config["DOCS_JWT_HEADER"] = "AuthorizationJwt"
    assert fetch(doc["url"], header="AuthorizationJwt").status_code == 200
    assert fetch(doc["url"], header="Authorization").status_code == 403

"""The editor page: the signed config in a JSON script tag, a strict CSP, clear messages."""

import json
import re

import jwt
import pytest

from tests.helpers import SECRET


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="docs-config">(.*?)</script>', html, re.S)
    assert match, "config script tag missing"
    return json.loads(match.group(1))


def test_editor_page_renders_the_signed_config(world):
    file = world.create_document("alice", "Budget", "xlsx")
    world.set_level(file["id"], "bob", "edit")
    response = world.client("bob").get(f"/files/{file['id']}/open?mode=edit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    config = page_config(html)
    assert config["documentType"] == "cell" and config["type"] == "desktop"
    document = config["document"]
    assert document["fileType"] == "xlsx" and document["title"] == "Budget.xlsx"
    assert document["key"] == file["key"] and document["url"].startswith(world.url + "/backend/files/")
    editor = config["editorConfig"]
    assert editor["mode"] == "edit" and editor["lang"] == "en"
    assert editor["callbackUrl"].startswith(world.url + "/backend/files/")
    assert editor["user"] == {"id": str(world.user_ids["bob"]), "name": "Bob Baker"}
    assert editor["customization"]["goback"]["url"].endswith(f"/spaces/{world.space_id}")
    assert editor["customization"]["forcesave"] is False
    signed = jwt.decode(config["token"], SECRET, algorithms=["HS256"])
    unsigned = {k: v for k, v in config.items() if k != "token"}
    assert {k: v for k, v in signed.items() if k not in ("iat", "exp", "coedit_aud")} == unsigned
    assert signed["exp"] - signed["iat"] == 120
    assert signed["coedit_aud"] == "browser"  # never taken for a token from Docs


def test_editor_page_loads_api_js_and_has_no_inline_script(world, fake_docs):
    file = world.create_document("alice", "Budget")
    response = world.client("alice").get(f"/files/{file['id']}/open")
    html = response.get_data(as_text=True)
    assert f'<script src="{fake_docs.url}/web-apps/apps/api/documents/api.js"></script>' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " on" not in "".join(re.findall(r"<[^>]+ on[a-z]+=", html))
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {fake_docs.url}" in csp and f"frame-src {fake_docs.url}" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp


def test_api_config_is_the_page_config(world):
    file = world.create_document("alice", "Budget")
    page = page_config(world.client("bob").get(f"/files/{file['id']}/open").get_data(as_text=True))
    api = world.client().get(f"/api/v1/files/{file['id']}/editor-config?mode=edit", headers=world.api("bob")).get_json()

    def timeless(config):
        """The config without what depends on the second it was made (token timestamps)."""
        text = json.dumps({k: v for k, v in config.items() if k != "token"}, sort_keys=True)
        return re.sub(r"token=[^\"&]+", "token=T", text)

    assert timeless(page) == timeless(api)
    for config in (page, api):
        signed = jwt.decode(config["token"], SECRET, algorithms=["HS256"])
        assert {k: v for k, v in signed.items() if k not in ("iat", "exp", "coedit_aud")} == {
            k: v for k, v in config.items() if k != "token"
        }


def test_view_mode_on_request(world):
    file = world.create_document("alice", "Budget")
    config = page_config(world.client("alice").get(f"/files/{file['id']}/open?mode=view").get_data(as_text=True))
    assert config["editorConfig"]["mode"] == "view"
    assert "callbackUrl" in config["editorConfig"]  # viewers too: Docs may use any participant's URL


def test_mobile_browsers_get_the_mobile_editor(world):
    file = world.create_document("alice", "Budget")
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    html = world.client("alice").get(f"/files/{file['id']}/open", headers={"User-Agent": ua}).get_data(as_text=True)
    assert page_config(html)["type"] == "mobile"


def test_hostile_title_is_inert(world):
    import io

    name = "</script><img src=x onerror=alert(1)>\u2028.docx"
    from tests.helpers import docx_with

    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("x")), name)},
    )
    assert response.status_code == 201
    file_id = response.get_json()["id"]
    html = world.client("alice").get(f"/files/{file_id}/open").get_data(as_text=True)
    assert "<img src=x" not in html
    config = page_config(html)
    assert "<img src=x onerror=alert(1)>" in config["document"]["title"]


def test_unconfigured_docs_says_so(world):
    world.app.config["DOCS_URL"] = None
    file = world.create_document("alice", "Budget")
    response = world.client("alice").get(f"/files/{file['id']}/open")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "ONLYOFFICE Docs is not configured" in html and "docs-config" not in html
    assert "Configure the Document Server" in html  # alice is an admin
    assert "Ask an administrator to configure it" in world.client("bob").get(f"/spaces/{world.space_id}").get_data(
        as_text=True
    )
    api = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("alice"))
    assert api.status_code == 503


@pytest.mark.parametrize("kind,document_type", [("docx", "word"), ("xlsx", "cell"), ("pptx", "slide"), ("pdf", "pdf")])
def test_each_created_type_opens_in_its_editor(world, kind, document_type):
    file = world.create_document("alice", "New", kind)
    config = page_config(world.client("alice").get(f"/files/{file['id']}/open").get_data(as_text=True))
    assert config["documentType"] == document_type and config["document"]["fileType"] == kind
    assert config["editorConfig"]["mode"] == "edit"


def test_admins_are_told_what_is_missing(world):
    world.app.config["APP_URL_FOR_DOCS"] = None
    file = world.create_document("alice", "Budget")
    html = world.client("alice").get(f"/files/{file['id']}/open").get_data(as_text=True)
    assert "Missing: this site&#39;s address as seen by the Document Server." in html
    assert "Missing:" not in world.client("bob").get(f"/files/{file['id']}/open").get_data(as_text=True)

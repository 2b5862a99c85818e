"""Names are kept as typed: stored and shown as typed (escaped), carried by the download header;
only what a file name cannot hold is replaced, and the person is told."""

import re
import urllib.parse

import pytest
from markupsafe import escape

TYPED = [
    ("Q1-Q2 plan: 50% done?", "Q1-Q2 plan: 50% done?.docx"),
    ("<img src=x onerror=alert(1)> & \"quotes\" 'too'", "<img src=x onerror=alert(1)> & \"quotes\" 'too'.docx"),
    ("Überblick — 2027 ✓", "Überblick — 2027 ✓.docx"),
]


@pytest.mark.parametrize("typed,stored", TYPED)
def test_a_typed_name_is_stored_shown_escaped_and_downloaded_as_typed(world, typed, stored):
    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/documents", json={"title": typed, "type": "docx"}, headers=world.api("alice")
    )
    assert response.status_code == 201
    assert response.get_json()["title"] == stored and response.get_json()["name_changed"] is None
    file_id = response.get_json()["id"]
    assert world.file(file_id).title == stored
    alice = world.client("alice")
    for page in (alice.get(f"/files/{file_id}"), alice.get(f"/spaces/{world.space_id}")):
        text = page.get_data(as_text=True)
        assert str(escape(stored)) in text
        assert "<img src=x" not in text  # never as markup
    disposition = alice.get(f"/files/{file_id}/download").headers["Content-Disposition"]
    if stored.isascii():
        plain = re.search(r'filename=("(?:[^"\\]|\\.)*"|[^;\s]+)', disposition).group(1)
        assert plain.strip('"').replace('\\"', '"') == stored
    else:
        encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition).group(1)
        assert urllib.parse.unquote(encoded) == stored


def test_a_slash_is_replaced_and_the_person_told(world):
    alice = world.client("alice")
    response = alice.post(f"/spaces/{world.space_id}/documents", data={"name": "Q1/Q2 plan: 50% done?", "kind": "docx"})
    assert response.status_code == 302
    page = alice.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Q1-Q2 plan: 50% done?.docx" in page
    assert "Saved as “Q1-Q2 plan: 50% done?.docx”: a file name cannot hold / or \\, so they became -." in page
    api = world.client().post(
        f"/api/v1/spaces/{world.space_id}/documents",
        json={"title": "<b>Draft</b>", "type": "docx"},
        headers=world.api("alice"),
    )
    body = api.get_json()
    assert body["title"] == "<b>Draft<-b>.docx" and "became -" in body["name_changed"]
    shown = alice.get(f"/files/{body['id']}").get_data(as_text=True)
    assert "&lt;b&gt;Draft&lt;-b&gt;.docx" in shown and "<b>Draft" not in shown


def test_rename_keeps_the_typed_name_and_tells_what_changed(world):
    doc = world.create_document("alice", "Plan")
    alice = world.client("alice")
    alice.post(f"/files/{doc['id']}/rename", data={"title": "Q1/Q2 plan: 50% done?"})
    assert world.file(doc["id"]).title == "Q1-Q2 plan: 50% done?.docx"
    page = alice.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert "Saved as “Q1-Q2 plan: 50% done?.docx”" in page
    alice.post(f"/files/{doc['id']}/rename", data={"title": "Notes: a & b"})
    page = alice.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert "Renamed to Notes: a &amp; b.docx." in page
    assert 'maxlength="200"' in page and "At most 200 characters" in page


def test_a_bidi_override_still_goes_and_the_person_is_told(world):
    body = (
        world.client()
        .post(
            f"/api/v1/spaces/{world.space_id}/documents",
            json={"title": "invoice\u202efdp.exe", "type": "docx"},
            headers=world.api("alice"),
        )
        .get_json()
    )
    assert body["title"] == "invoicefdp.exe.docx" and "direction characters were removed" in body["name_changed"]


def test_a_typed_folder_name_keeps_its_slash_as_a_dash(world):
    alice = world.client("alice")
    alice.post(f"/spaces/{world.space_id}/folders", data={"name": "2026/27"})
    page = alice.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "2026-27" in page and "a folder name cannot hold" in page

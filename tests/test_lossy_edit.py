"""The formats table in the editors: every documentType opens in its editor and mode, lossy-edit
formats edit only when the admin chose them, plain files are download only with a reason, and a save
Docs returns in OOXML for an .odt is converted back (LibreOffice answers the conversion request) or,
when that fails, kept as a new file beside the original."""

import io
import re
import shutil
import zipfile

import pytest
import sqlalchemy as sa

from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import libreoffice_converter
from tests.test_callbacks import send
from tests.test_editor_page import page_config

HAS_LIBREOFFICE = bool(shutil.which("soffice") or shutil.which("libreoffice"))
ODT_MIME = "application/vnd.oasis.opendocument.text"


def odt_with(text: str) -> bytes:
    """A small OpenDocument text file holding one paragraph."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as odt:
        odt.writestr(zipfile.ZipInfo("mimetype"), ODT_MIME)  # first and stored, as ODF requires
        odt.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            f"<office:body><office:text><text:p>{text}</text:p></office:text></office:body>"
            "</office:document-content>",
        )
        odt.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODT_MIME}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def upload(world, name: str, body: bytes, who: str = "alice") -> dict:
    made = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files", headers=world.api(who), data={"file": (io.BytesIO(body), name)}
    )
    assert made.status_code == 201, made.data
    return made.get_json()


def choose_lossy(world, *exts: str, lossy_save: str = "convert") -> None:
    """Choose lossy formats as an administrator does: on the settings page."""
    data = {"jwt_header": "Authorization", "max_file_size_mb": "100", "lossy_save": lossy_save}
    data["lossy_edit_formats"] = list(exts)
    world.client("alice").post("/admin/settings", data=data)


def opened(world, file_id: int, who: str, mode: str = "edit") -> dict:
    response = world.client(who).get(f"/files/{file_id}/open?mode={mode}")
    assert response.status_code == 200, response.status_code
    return page_config(response.get_data(as_text=True))


# --- editors and modes --------------------------------------------------------------------


def test_every_document_type_opens_in_its_editor_and_mode(world):
    files = {
        kind: world.create_document("alice", f"New {kind}", kind)["id"] for kind in ("docx", "xlsx", "pptx", "pdf")
    }
    files["vsdx"] = upload(world, "Plan.vsdx", b"PK\x03\x04 a diagram")["id"]
    files["odt"] = upload(world, "Notes.odt", odt_with("hello"))["id"]
    files["docxf"] = upload(world, "Form.docxf", b"PK\x03\x04 an old form")["id"]
    files["oform"] = upload(world, "Form.oform", b"PK\x03\x04 an old form")["id"]
    files["csv"] = upload(world, "Table.csv", b"a,b\n1,2\n")["id"]
    # (document type, owner's mode, reader's mode) before any lossy format is chosen
    expected = {
        "docx": ("word", "edit"),
        "xlsx": ("cell", "edit"),
        "pptx": ("slide", "edit"),
        "pdf": ("pdf", "edit"),
        "vsdx": ("diagram", "view"),  # view only in Docs
        "odt": ("word", "view"),  # lossy: not chosen yet
        "docxf": ("pdf", "view"),  # old forms: view only in Docs 9
        "oform": ("pdf", "view"),
        "csv": ("cell", "view"),
    }
    for ext, (kind, mode) in expected.items():
        config = opened(world, files[ext], "alice")
        assert (config["documentType"], config["editorConfig"]["mode"]) == (kind, mode), ext
        assert config["document"]["fileType"] == ext
        assert config["document"]["permissions"]["edit"] is (mode == "edit"), ext
        reader = opened(world, files[ext], "bob")  # a member at the default level: read
        assert (reader["documentType"], reader["editorConfig"]["mode"]) == (kind, "view"), ext
    assert opened(world, files["pdf"], "alice")["document"]["permissions"]["fillForms"] is True  # fillable

    choose_lossy(world, "odt", "csv")
    for ext in ("odt", "csv"):
        config = opened(world, files[ext], "alice")
        assert config["editorConfig"]["mode"] == "edit" and config["document"]["permissions"]["edit"] is True
        assert opened(world, files[ext], "bob")["editorConfig"]["mode"] == "view"  # rights still decide
        assert opened(world, files[ext], "alice", "view")["editorConfig"]["mode"] == "view"
    for ext in ("vsdx", "docxf", "oform"):
        assert opened(world, files[ext], "alice")["editorConfig"]["mode"] == "view", ext
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f'href="/files/{files["odt"]}/open?mode=edit"' in page
    assert f'href="/files/{files["vsdx"]}/open?mode=view"' in page

    choose_lossy(world)  # none again
    assert opened(world, files["odt"], "alice")["editorConfig"]["mode"] == "view"


def test_the_settings_page_offers_every_lossy_format(world):
    from app.services import formats

    html = world.client("alice").get("/admin/settings").get_data(as_text=True)
    for ext in formats.LOSSY_EDITABLE:
        assert f'name="lossy_edit_formats" type="checkbox" value="{ext}"' in html, ext
    assert 'name="lossy_save"' in html
    choose_lossy(world, "rtf", "ods", lossy_save="keep")
    html = world.client("alice").get("/admin/settings").get_data(as_text=True)
    checked = set(re.findall(r'<input checked[^>]*name="lossy_edit_formats"[^>]*value="(\w+)"', html))
    assert checked == {"rtf", "ods"}
    with world.app.app_context():
        from app.services import settings

        assert settings.lossy_formats() == {"rtf", "ods"} and settings.get("lossy_save") == "keep"
    bad = world.client("alice").post(
        "/admin/settings", data={"jwt_header": "Authorization", "max_file_size_mb": "100", "lossy_edit_formats": "docx"}
    )
    assert "is not a valid choice" in bad.get_data(as_text=True)  # only lossy-edit formats
    with world.app.app_context():
        assert settings.lossy_formats() == {"rtf", "ods"}


def test_unknown_types_are_plain_files_with_a_reason(world):
    body = b"MZ\x90\x00 a program"
    file = upload(world, "tool.exe", body)  # accepted, as a plain file
    page = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "file-icon-other" in page and ".exe files cannot be opened in the editors" in page
    assert f"/files/{file['id']}/open" not in page  # no View or Edit button
    details = world.client("bob").get(f"/files/{file['id']}").get_data(as_text=True)
    assert "cannot be opened in the editors" in details and f"/files/{file['id']}/download" in details
    editor = world.client("bob").get(f"/files/{file['id']}/open")
    assert editor.status_code == 415 and ".exe files cannot be opened in the editors" in editor.get_data(as_text=True)
    api = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob"))
    assert api.status_code == 415 and "cannot be opened in the editors" in api.get_json()["error"]
    download = world.client("bob").get(f"/files/{file['id']}/download")
    assert download.data == body and download.headers["Content-Type"] == "application/octet-stream"


def test_file_lists_show_icons_by_the_table(world):
    world.create_document("alice", "Sheet", "xlsx")
    upload(world, "Archive.zip", b"PK\x05\x06" + b"\x00" * 18)
    upload(world, "Photo.png", b"\x89PNG\r\n\x1a\n")
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    for name in ("cell", "archive", "image"):
        assert f"file-icon-{name}" in page, name
    # The icons are inline: no address in the page names a CDN (random tokens may spell "cdn").
    assert "<svg" in page and not re.search(r'(?:src|href)="[^"]*cdn', page, re.IGNORECASE)


# --- saves of lossy formats ---------------------------------------------------------------


@pytest.fixture
def odt(world, fake_docs):
    """An .odt chosen for editing, opened by its owner: the key and callback its editor holds."""
    choose_lossy(world, "odt")
    file = upload(world, "Notes.odt", odt_with("the original text"))
    config = opened(world, file["id"], "alice")
    assert config["editorConfig"]["mode"] == "edit"
    return {"id": file["id"], "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}


def docx_save(world, fake_docs, odt, text="edited in the editor") -> dict:
    url = fake_docs.put("output.docx", docx_with(text))
    return {
        "key": odt["key"],
        "status": 2,
        "url": url,
        "filetype": "docx",  # Docs assembled the session as OOXML
        "users": [str(world.user_ids["alice"])],
        "actions": [{"type": 0, "userid": str(world.user_ids["alice"])}],
    }


def odt_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as odt:
        assert odt.read("mimetype").decode() == ODT_MIME
        return odt.read("content.xml").decode()


def files_in_space(world) -> dict[str, int]:
    from app.extensions import db
    from app.models import File

    return world.query(lambda: dict(db.session.execute(sa.select(File.title, File.id)).all()))


@pytest.mark.skipif(not HAS_LIBREOFFICE, reason="LibreOffice converts in the test double of Docs")
def test_a_docx_save_of_an_odt_is_converted_back_and_stored_as_odt(world, fake_docs, odt):
    fake_docs.converter = libreoffice_converter(fake_docs)
    body = docx_save(world, fake_docs, odt)
    response = send(odt["callback"], body)
    assert response.status_code == 200 and response.json() == {"error": 0}
    [asked] = {(c["filetype"], c["outputtype"], c["url"], c["key"]) for c in fake_docs.conversions}
    assert asked[:3] == ("docx", "odt", body["url"]) and asked[3].startswith(f"save_{odt['id']}_")
    assert [v.number for v in world.versions(odt["id"])] == [1, 2]
    stored = world.head_bytes(odt["id"])
    assert "edited in the editor" in odt_text(stored) and "the original text" not in odt_text(stored)
    file = world.file(odt["id"])
    assert file.ext == "odt" and file.title == "Notes.odt" and file.doc_key != odt["key"]
    assert set(files_in_space(world)) == {"Notes.odt"}  # nothing beside it
    assert send(odt["callback"], body).json() == {"error": 0}  # Docs' retry: stored once
    assert len(world.versions(odt["id"])) == 2


def test_a_failed_conversion_keeps_the_edit_as_a_new_docx_beside_the_original(world, fake_docs, odt):
    fake_docs.converter = lambda params: {"error": -3}
    restricted = {"default": "none", "users": {"bob": "edit"}, "allow_download": False}
    put = world.client().put(f"/api/v1/files/{odt['id']}/rights", json=restricted, headers=world.api("alice"))
    assert put.status_code == 200, put.data
    before = world.head_bytes(odt["id"])
    response = send(odt["callback"], docx_save(world, fake_docs, odt))
    assert response.status_code == 200 and response.json() == {"error": 0}  # kept: Docs may let it go
    assert len(fake_docs.conversions) == 1
    assert len(world.versions(odt["id"])) == 1 and world.head_bytes(odt["id"]) == before  # untouched
    titles = files_in_space(world)
    assert set(titles) == {"Notes.odt", "Notes.docx"}
    assert docx_text(world.head_bytes(titles["Notes.docx"])) == ["edited in the editor"]
    copy = world.file(titles["Notes.docx"])
    assert copy.ext == "docx" and copy.space_id == world.space_id and copy.folder_id is None
    assert world.file(odt["id"]).doc_key != odt["key"]  # the next opener starts from the original
    rights = world.client().get(f"/api/v1/files/{titles['Notes.docx']}/rights", headers=world.api("alice"))
    assert (
        rights.get_json()
        == world.client().get(f"/api/v1/files/{odt['id']}/rights", headers=world.api("alice")).get_json()
    )  # no one reaches the copy who may not reach the original
    told = world.client().get("/api/v1/notifications", headers=world.api("alice")).get_json()["notifications"]
    [note] = [n for n in told if n["kind"] == "save-kept-aside"]
    assert "could not be stored as .odt (conversion failed: conversion error)" in note["text"]
    assert "Notes.docx" in note["text"] and note["link"] == f"/files/{titles['Notes.docx']}"
    assert "Notes.docx" in world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)


def test_the_admin_may_keep_such_saves_as_new_files_directly(world, fake_docs, odt):
    choose_lossy(world, "odt", lossy_save="keep")
    fake_docs.converter = lambda params: pytest.fail("no conversion was to be asked for")
    assert send(odt["callback"], docx_save(world, fake_docs, odt)).json() == {"error": 0}
    assert fake_docs.conversions == [] and len(world.versions(odt["id"])) == 1
    titles = files_in_space(world)
    assert docx_text(world.head_bytes(titles["Notes.docx"])) == ["edited in the editor"]
    # A second session's save lands beside it too, under a name of its own.
    odt["key"] = opened(world, odt["id"], "alice")["document"]["key"]
    send(odt["callback"], docx_save(world, fake_docs, odt, "second session"))
    titles = files_in_space(world)
    assert set(titles) == {"Notes.odt", "Notes.docx", "Notes (2).docx"}
    assert docx_text(world.head_bytes(titles["Notes (2).docx"])) == ["second session"]


def test_a_natively_edited_file_still_refuses_another_type(world, fake_docs):
    """Only lossy formats convert back; a docx saved as anything else is refused as before."""
    choose_lossy(world, "odt")
    file = world.create_document("alice", "Report")
    config = opened(world, file["id"], "alice")
    fake_docs.converter = lambda params: pytest.fail("no conversion for a natively edited format")
    url = fake_docs.put("out.odt", odt_with("x"))
    body = {"key": config["document"]["key"], "status": 2, "url": url, "filetype": "odt", "users": ["1"]}
    assert send(config["editorConfig"]["callbackUrl"], body).status_code == 422
    assert len(world.versions(file["id"])) == 1


@pytest.mark.skipif(not HAS_LIBREOFFICE, reason="LibreOffice converts in the test double of Docs")
def test_a_save_in_a_format_that_cannot_be_checked_is_kept_as_ooxml_beside(world, fake_docs):
    """Docs returns an edited .rtf as .rtf; Coedit cannot check rtf, so Docs converts it to docx and
    that is kept beside the original, which stays as it was."""
    choose_lossy(world, "rtf")
    rtf = upload(world, "Letter.rtf", rb"{\rtf1\ansi the original letter\par}")
    config = opened(world, rtf["id"], "alice")
    assert config["editorConfig"]["mode"] == "edit"
    fake_docs.converter = libreoffice_converter(fake_docs)
    url = fake_docs.put("output.rtf", rb"{\rtf1\ansi the edited letter\par}")
    body = {"key": config["document"]["key"], "status": 2, "url": url, "filetype": "rtf"}
    body["users"] = [str(world.user_ids["alice"])]
    response = send(config["editorConfig"]["callbackUrl"], body)
    assert response.status_code == 200 and response.json() == {"error": 0}
    assert {(c["filetype"], c["outputtype"]) for c in fake_docs.conversions} == {("rtf", "docx")}  # asked until done
    assert len(world.versions(rtf["id"])) == 1
    titles = files_in_space(world)
    assert set(titles) == {"Letter.rtf", "Letter.docx"}
    assert docx_text(world.head_bytes(titles["Letter.docx"])) == ["the edited letter"]
    told = world.client().get("/api/v1/notifications", headers=world.api("alice")).get_json()["notifications"]
    assert any("Coedit cannot check .rtf files" in n["text"] for n in told)

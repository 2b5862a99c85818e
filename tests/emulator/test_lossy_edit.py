"""Lossy-edit formats (odt, ods, odp, txt, csv, ...): opened converted to OOXML like Docs does, edited,
and saved as docx/xlsx/pptx (filetype says so), or in their own format with lossy_save_format."""

import io
import zipfile

import pytest
import requests

from docs_emulator.testing import EmulatorError
from docs_emulator.testing import start_emulator

from .conftest import SECRET
from .conftest import SOFFICE
from .conftest import cells
from .conftest import make_config
from .conftest import open_signed
from .conftest import paragraphs
from .conftest import slide_texts

CASES = {
    "odt": ("docx", paragraphs, "Hello from the source"),
    "ods": ("xlsx", cells, "Widget"),
    "odp": ("pptx", slide_texts, "First slide text"),
}


def _edit_and_close(emu, integrator, key, filename):
    opened = open_signed(emu, integrator, key, filename=filename)
    emu.append(key, "u1", "Added in the editor")
    emu.leave(key, "u1")
    emu.wait_idle(60)
    (body,) = integrator.bodies(2)
    return opened, body


@pytest.mark.parametrize("ext", sorted(CASES))
def test_lossy_file_opens_as_ooxml_and_saves_ooxml(emu, integrator, sources, ext):
    """An odt/ods/odp opened for editing is editable; the status-2 url is the OOXML file Docs edited."""
    ooxml, read, source_text = CASES[ext]
    integrator.add(f"doc.{ext}", sources[ext])
    opened, body = _edit_and_close(emu, integrator, f"lossy-{ext}", f"doc.{ext}")
    assert opened["mode"] == "edit" and opened["canAppend"] is True
    assert opened["fileType"] == ext and opened["contentType"] == ooxml
    assert any(source_text in line for line in opened["content"])
    assert body["filetype"] == ooxml
    resp = requests.get(body["url"])
    assert f"doc.{ooxml}" in resp.headers["Content-Disposition"]
    content = read(resp.content)
    assert any(source_text in str(item) for item in content) and "Added in the editor" in content


def test_txt_and_csv_save_as_docx_and_xlsx(emu, integrator):
    """txt and csv (no LibreOffice needed) save as docx and xlsx."""
    integrator.add("notes.txt", b"first line\nsecond line\n")
    _, body = _edit_and_close(emu, integrator, "lossy-txt", "notes.txt")
    assert body["filetype"] == "docx"
    assert paragraphs(requests.get(body["url"]).content) == ["first line", "second line", "Added in the editor"]
    integrator.callbacks.clear()
    integrator.add("table.csv", b"a,b\n")
    _, body = _edit_and_close(emu, integrator, "lossy-csv", "table.csv")
    assert body["filetype"] == "xlsx"
    assert cells(requests.get(body["url"]).content) == ["a", "b", "Added in the editor"]


def test_forcesave_of_lossy_file_is_ooxml(emu, integrator, sources):
    """Status 6 (the Save button) links to the OOXML file too."""
    integrator.add("doc.odt", sources["odt"])
    open_signed(emu, integrator, "lossy-force", filename="doc.odt", forcesave=True)
    emu.append("lossy-force", "u1", "Saved now")
    assert emu.forcesave("lossy-force", "u1")["sent"] is True
    (body,) = integrator.bodies(6)
    assert body["filetype"] == "docx" and "Saved now" in paragraphs(requests.get(body["url"]).content)


def test_original_format_option(emu, integrator, sources):
    """lossy_save_format "original": the save is converted back (odt stays odt, txt stays txt)."""
    emu.set_options(lossy_save_format="original")
    integrator.add("doc.odt", sources["odt"])
    _, body = _edit_and_close(emu, integrator, "orig-odt", "doc.odt")
    assert body["filetype"] == "odt"
    with zipfile.ZipFile(io.BytesIO(requests.get(body["url"]).content)) as zf:
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        text = zf.read("content.xml").decode()
    assert "Hello from the source" in text and "Added in the editor" in text
    integrator.callbacks.clear()
    integrator.add("notes.txt", b"one\n")
    _, body = _edit_and_close(emu, integrator, "orig-txt", "notes.txt")
    assert body["filetype"] == "txt" and requests.get(body["url"]).text == "one\nAdded in the editor\n"


def test_unchanged_lossy_file_reopens_from_cache(emu, integrator, sources):
    """A viewer-only session caches the converted file; reopening the key does not download again."""
    integrator.add("doc.ods", sources["ods"])
    first = open_signed(emu, integrator, "lossy-cache", filename="doc.ods", mode="view")
    assert first["mode"] == "view" and first["canAppend"] is False
    emu.leave("lossy-cache", "u1")
    again = open_signed(emu, integrator, "lossy-cache", filename="doc.ods")
    assert again["contentType"] == "xlsx" and again["canAppend"] is True
    assert len(integrator.downloads) == 1


@pytest.mark.skipif(not SOFFICE, reason="needs LibreOffice (make libreoffice)")
def test_unreadable_lossy_file_is_minus_82(emu, integrator):
    """An odt LibreOffice cannot open: the editor shows -82 (convertation open error)."""
    integrator.add("doc.odt", b"PK\x03\x04 not an odt")
    result = emu.open_session(emu.sign_config(make_config(integrator, "lossy-bad", filename="doc.odt")))
    assert result["error"] == -82


def test_options_from_the_command_line(integrator):
    """--lossy-save-format and --convert-delay at start; the control API reports them; bad values stop it."""
    with start_emulator(jwt_secret=SECRET, lossy_save_format="original", convert_delay=0.5) as emu:
        config = requests.get(emu.url + "/_emulator/config").json()
        assert config["lossy_save_format"] == "original" and config["convert_delay"] == 0.5
        emu.set_options(lossy_save_format="ooxml")
        emu.reset()
        assert requests.get(emu.url + "/_emulator/config").json()["lossy_save_format"] == "original"
    with pytest.raises(EmulatorError):
        start_emulator(jwt_secret=SECRET, lossy_save_format="pdf")


@pytest.mark.parametrize("save_format", ["ooxml", "original"])
def test_forgotten_lossy_file_reopens_editable(emu, integrator, sources, save_format):
    """A failed save leaves a forgotten docx (or odt); reopening the key edits it as docx again."""
    emu.set_options(lossy_save_format=save_format)
    integrator.add("doc.odt", sources["odt"])
    open_signed(emu, integrator, "lossy-lost", filename="doc.odt")
    emu.append("lossy-lost", "u1", "Kept by Docs")
    integrator.answer = "500"
    emu.leave("lossy-lost", "u1")
    emu.wait_idle(60)
    assert emu.forgotten()["keys"] == ["lossy-lost"]
    assert emu.callbacks(key="lossy-lost", status=2)[0]["body"]["filetype"] == (
        "docx" if save_format == "ooxml" else "odt"
    )
    integrator.answer = "ok"
    again = open_signed(emu, integrator, "lossy-lost", filename="doc.odt")
    assert again["fileType"] == "odt" and again["contentType"] == "docx" and again["canAppend"] is True
    assert "Kept by Docs" in again["content"]

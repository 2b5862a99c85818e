"""The formats table agrees with ONLYOFFICE's own (ONLYOFFICE/document-formats
onlyoffice-docs-formats.json, v3.2.0, kept in tests/data as the reference), and the API gives it."""

import json
from pathlib import Path

import pytest

from app.services import formats

REFERENCE = json.loads((Path(__file__).parent / "data" / "onlyoffice-docs-formats.json").read_text())


def reference_mimes(entry: dict) -> list[str]:
    # One reference entry (vsdx) runs two MIME types into one string, comma-separated.
    return [part.strip() for mime in entry["mime"] for part in mime.split(",")]


def test_every_reference_format_is_in_the_table_and_nothing_else():
    assert [entry["name"] for entry in REFERENCE] == list(formats.FORMATS)


@pytest.mark.parametrize("entry", REFERENCE, ids=[entry["name"] for entry in REFERENCE])
def test_each_format_agrees_with_the_reference(entry):
    fmt = formats.get(entry["name"])
    assert fmt is not None
    assert fmt.document_type == entry["type"]
    assert fmt.actions == frozenset(entry["actions"])
    assert fmt.targets == tuple(dict.fromkeys(entry["convert"]))  # its order; one duplicate (ots: tsv) once
    assert list(fmt.mimes) == reference_mimes(entry)
    assert (fmt.mimes[0] if fmt.mimes else None) == (reference_mimes(entry) or [None])[0]
    assert formats.conversion_targets(entry["name"]) == fmt.targets
    assert formats.opens_in_editor(entry["name"]) == bool(entry["type"])


def test_editing_follows_the_actions_and_the_admins_choice():
    assert formats.edit_mode_possible("docx", set()) and formats.edit_mode_possible("xltx", set())
    for ext in ("docm", "dotm", "xlsm", "xltm", "xlsb", "pptm", "potm", "ppsm"):  # macro carriers: viewer only
        assert ext in formats.MACRO_ENABLED and not formats.edit_mode_possible(ext, {ext}), ext
    assert not formats.edit_mode_possible("odt", set()) and formats.edit_mode_possible("odt", {"odt"})
    assert not formats.edit_mode_possible("doc", {"doc"})  # view and auto-convert only
    assert not formats.edit_mode_possible("docxf", {"docxf"}) and not formats.edit_mode_possible("zip", {"zip"})
    lossy = {entry["name"] for entry in REFERENCE if "lossy-edit" in entry["actions"]}
    assert set(formats.LOSSY_EDITABLE) == lossy >= {"odt", "ods", "odp", "rtf", "txt", "csv"}


def test_ooxml_targets_and_forms():
    assert [formats.ooxml_target(ext) for ext in ("doc", "odt", "ods", "xls", "odp", "ppt", "xml")] == [
        "docx",
        "docx",
        "xlsx",
        "xlsx",
        "pptx",
        "pptx",
        "docx",
    ]
    assert formats.ooxml_target("docxf") == formats.ooxml_target("oform") == "pdf"  # Convert to PDF form
    # HumHub's promise: TXT and CSV into OOXML too, though the table marks them lossy-edit only.
    assert formats.ooxml_target("txt") == "docx" and formats.ooxml_target("csv") == "xlsx"
    for ext in ("docm", "xlsm", "dotx"):  # edited as they are: nothing to convert them to
        assert formats.ooxml_target(ext) is None
    for ext in ("docx", "xlsx", "pptx", "pdf", "vsdx", "djvu", "png", "unknown"):
        assert formats.ooxml_target(ext) is None
    assert formats.can_convert("odt", "docx") and not formats.can_convert("odt", "odt")
    assert not formats.can_convert("unknown", "pdf") and formats.conversion_targets("unknown") == ()


def test_forms_open_for_viewing_only():
    for ext in ("docxf", "oform"):
        assert formats.document_type(ext) == "pdf" and not formats.is_editable(ext)
        assert formats.icon(ext) == "form"


def test_served_types_are_never_active_content():
    for ext in ("html", "htm", "xml", "md", "fb2", "mht", "mhtml", "hml", "svg", "js", "exe", "", "unknown"):
        assert formats.mime_type(ext) == "application/octet-stream", ext
    assert formats.mime_type("docx") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert formats.mime_type("png") == "image/png" and formats.mime_type("odt").endswith("opendocument.text")


def test_icons_and_reasons():
    expected = {"docx": "word", "ods": "cell", "pptx": "slide", "pdf": "pdf", "vsdx": "diagram", "zip": "archive"}
    expected.update({"png": "image", "jpg": "image", "exe": "other", "": "other"})
    assert {ext: formats.icon(ext) for ext in expected} == expected
    assert formats.unopenable_reason("docx") is None
    assert "cannot be opened in the editors" in formats.unopenable_reason("zip")


def test_the_api_lists_the_table(world):
    response = world.client().get("/api/v1/formats", headers=world.api("bob"))
    assert response.status_code == 200
    listed = {row["ext"]: row for row in response.get_json()}
    assert list(listed) == [entry["name"] for entry in REFERENCE]
    assert listed["odt"] == {
        "ext": "odt",
        "document_type": "word",
        "actions": sorted(["view", "lossy-edit", "auto-convert", "review", "comment", "encrypt"]),
        "targets": list(formats.get("odt").targets),
        "mime": "application/vnd.oasis.opendocument.text",
        "served_as": "application/vnd.oasis.opendocument.text",
    }
    assert listed["html"]["mime"] == "text/html" and listed["html"]["served_as"] == "application/octet-stream"
    assert listed["zip"]["document_type"] is None and listed["zip"]["targets"] == []
    assert world.client().get("/api/v1/formats").status_code == 401

"""Tests for app.services.blanks: every blank is a valid, empty document."""

import io
import re

import docx
import openpyxl
import pptx
import pytest

from app.services.blanks import BLANK_TYPES
from app.services.blanks import make_blank
from app.services.validation import validate_document


@pytest.mark.parametrize("ext", BLANK_TYPES)
def test_blank_passes_validation(tmp_path, ext):
    path = tmp_path / f"blank.{ext}"
    path.write_bytes(make_blank(ext, title="Quarterly report"))
    validate_document(str(path), ext)


@pytest.mark.parametrize("ext", BLANK_TYPES)
def test_blank_without_title_passes_validation(tmp_path, ext):
    path = tmp_path / f"blank.{ext}"
    path.write_bytes(make_blank(ext))
    validate_document(str(path), ext)


def test_docx_reopens_empty_with_title():
    document = docx.Document(io.BytesIO(make_blank("docx", title="Minutes")))
    assert document.core_properties.title == "Minutes"
    # The template's own author must not leak into a user's new document.
    assert document.core_properties.author == ""
    assert all(p.text == "" for p in document.paragraphs)
    assert document.tables == []


def test_xlsx_reopens_with_one_empty_sheet1():
    workbook = openpyxl.load_workbook(io.BytesIO(make_blank("xlsx", title="Budget")))
    assert workbook.sheetnames == ["Sheet1"]
    sheet = workbook["Sheet1"]
    assert sheet.max_row == 1 and sheet.max_column == 1 and sheet["A1"].value is None
    assert workbook.properties.title == "Budget"


def test_pptx_reopens_with_one_blank_16_9_slide():
    presentation = pptx.Presentation(io.BytesIO(make_blank("pptx", title="Pitch")))
    assert len(presentation.slides) == 1
    assert len(presentation.slides[0].shapes) == 0
    assert presentation.slide_width * 9 == presentation.slide_height * 16
    assert presentation.core_properties.title == "Pitch"


def _pdf_xref(data: bytes) -> tuple[int, list[int]]:
    """Parse startxref and the (single-section) xref table; return (size, in-use offsets by object number)."""
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[startxref : startxref + 5] == b"xref\n"
    header = re.match(rb"xref\n0 (\d+)\n", data[startxref:])
    count = int(header.group(1))
    table_at = startxref + header.end()
    offsets = []
    for number in range(count):
        entry = data[table_at + 20 * number : table_at + 20 * (number + 1)]
        # Fixed 20-byte entries are what readers index into; check the shape.
        assert re.fullmatch(rb"\d{10} \d{5} [nf] \n", entry), entry
        offset, generation, kind = entry.split()
        if number == 0:
            assert (kind, generation) == (b"f", b"65535")
        else:
            assert kind == b"n"
            offsets.append(int(offset))
    trailer_at = table_at + 20 * count
    assert data[trailer_at:].startswith(b"trailer\n")
    size = int(re.search(rb"/Size (\d+)", data[trailer_at:]).group(1))
    assert size == count
    return size, offsets


@pytest.mark.parametrize("title", ["", "Form (draft) \\ é ✓"])
def test_pdf_xref_offsets_point_at_their_objects(title):
    data = make_blank("pdf", title=title)
    assert data.startswith(b"%PDF-1.7\n")
    size, offsets = _pdf_xref(data)
    assert len(offsets) == size - 1
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj\n".encode()), (number, data[offset : offset + 20])
    # Nothing outside the table looks like an object the table forgot.
    assert len(re.findall(rb"^\d+ 0 obj$", data, re.M)) == len(offsets)


def test_pdf_is_an_a4_form_with_no_fields():
    data = make_blank("pdf")
    catalog = re.search(rb"1 0 obj\n(.*?)\nendobj", data, re.S).group(1)
    assert b"/Type /Catalog" in catalog
    assert re.search(rb"/AcroForm << /Fields \[\] >>", catalog)
    assert re.search(rb"/Root 1 0 R", data)
    assert b"/Count 1" in data
    assert re.search(rb"/MediaBox \[0 0 595\.28 841\.89\]", data)


def test_pdf_title_goes_into_info_dictionary():
    data = make_blank("pdf", title="Ça (1)")
    assert b"/Info 4 0 R" in data
    hex_title = re.search(rb"/Title <([0-9A-F]+)>", data).group(1)
    assert bytes.fromhex(hex_title.decode()).decode("utf-16") == "Ça (1)"
    assert b"/Info" not in make_blank("pdf")


@pytest.mark.parametrize("ext", ["odt", "txt", "doc", "", "exe"])
def test_unknown_type_raises(ext):
    with pytest.raises(ValueError):
        make_blank(ext)


def test_type_is_case_insensitive():
    assert make_blank("PDF").startswith(b"%PDF-")

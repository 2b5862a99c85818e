"""In-process checks of the document helpers: text rendering, Append per format, the PDF writer."""

import io

import openpyxl
import pytest

from docs_emulator import documents

from .conftest import docx_bytes
from .conftest import pptx_bytes
from .conftest import xlsx_bytes


def test_docx_append():
    """A new paragraph at the end."""
    data = documents.append_text(docx_bytes("a"), "docx", "b")
    assert documents.text_lines(data, "docx") == ["a", "b"]


def test_xlsx_append_uses_column_a_of_a_new_row():
    """Cells listed row by row; the appended text lands in A of the next row."""
    data = documents.append_text(xlsx_bytes(["x", 1], ["y", 2]), "xlsx", "new")
    assert documents.text_lines(data, "xlsx") == ["x", "1", "y", "2", "new"]
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A3"].value == "new"
    empty = documents.append_text(documents.blank("xlsx"), "xlsx", "first")
    assert openpyxl.load_workbook(io.BytesIO(empty)).active["A1"].value == "first"


def test_pptx_append_adds_a_slide():
    """One line per slide with text."""
    data = documents.append_text(pptx_bytes("one"), "pptx", "two")
    assert documents.text_lines(data, "pptx") == ["one", "two"]


def test_pdf_round_trip_and_xref():
    """The hand-written PDF is parseable: xref offsets point at the objects."""
    data = documents.make_pdf(["Hello (world)", "Ünïcode \\ backslash"])
    assert documents.text_lines(data, "pdf") == ["Hello (world)", "Ünïcode \\ backslash"]
    data = documents.append_text(data, "pdf", "third")
    assert documents.text_lines(data, "pdf")[-1] == "third"
    startxref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[startxref:].startswith(b"xref")
    entries = data[startxref:].split(b"\n")[3:]
    for number, entry in enumerate(entries[:5], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(f"{number} 0 obj".encode())


def test_pdf_without_text():
    """A PDF with no extractable text is described by its size."""
    assert documents.text_lines(b"%PDF-1.4\n%%EOF\n", "pdf") == ["PDF document, 15 bytes"]


def test_long_pdf_has_several_pages():
    """More lines than fit on a page: several pages, all text kept."""
    lines = [f"line {i}" for i in range(120)]
    data = documents.make_pdf(lines)
    assert data.count(b"/Type /Page ") == 3
    assert documents.text_lines(data, "pdf") == lines


def test_txt_and_csv():
    """Text lines; CSV cells."""
    assert documents.text_lines(documents.append_text(b"a\n", "txt", "b"), "txt") == ["a", "b"]
    assert documents.text_lines(documents.append_text(b"x,y\n", "csv", "z, w"), "csv") == ["x", "y", "z, w"]


def test_corrupt_input_raises():
    """Unreadable bytes raise ContentError."""
    with pytest.raises(documents.ContentError):
        documents.text_lines(b"nope", "docx")

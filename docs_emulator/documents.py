"""Document content: plain-text rendering, the "Append" edit, blank files and a tiny PDF writer/reader.

The emulator does not render documents; it shows their text so tests can see
which version of a file was opened and which edit was saved.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib

import docx
import openpyxl
import pptx
from pptx.util import Inches


class ContentError(Exception):
    """The bytes are not a readable file of the claimed type (Docs: error -82 / -3)."""


# --- reading ---------------------------------------------------------------


def text_lines(data: bytes, file_type: str) -> list[str]:
    """Return the document as lines of text: paragraphs, cell values or slide texts."""
    try:
        if file_type == "docx":
            return _docx_lines(data)
        if file_type == "xlsx":
            return _xlsx_lines(data)
        if file_type == "pptx":
            return _pptx_lines(data)
        if file_type == "pdf":
            return _pdf_lines(data)
        if file_type == "txt":
            return [line for line in decode_text(data).splitlines() if line.strip()]
        if file_type == "csv":
            return [cell for row in csv.reader(io.StringIO(decode_text(data))) for cell in row if cell != ""]
    except ContentError:
        raise
    except Exception as exc:  # any parser failure means a corrupt file
        raise ContentError(f"cannot read {file_type}: {exc}") from exc
    return [f"{file_type.upper()} document, {len(data)} bytes"]


def check_readable(data: bytes, file_type: str) -> None:
    """Raise ContentError if the emulator cannot open the file."""
    text_lines(data, file_type)


def decode_text(data: bytes, encoding: str = "utf-8") -> str:
    """Decode text files; strip a UTF-8 BOM; fall back to latin-1 for non-UTF-8 bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


def _docx_lines(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells if cell.text.strip())
    return lines


def _xlsx_lines(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            lines.extend(str(v) for v in row if v is not None and str(v) != "")
    return lines


def _pptx_lines(data: bytes) -> list[str]:
    deck = pptx.Presentation(io.BytesIO(data))
    lines = []
    for slide in deck.slides:
        parts = [
            shape.text_frame.text for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text.strip()
        ]
        if parts:
            lines.append(" ".join(parts))
    return lines


# --- editing ---------------------------------------------------------------


def append_text(data: bytes, file_type: str, text: str) -> bytes:
    """Return a new version of the file with ``text`` added at the end.

    docx: a new paragraph; xlsx/csv: a new row with the text in column A;
    pptx: a new slide with one text box; pdf/txt: a new line.
    """
    if file_type == "docx":
        document = docx.Document(io.BytesIO(data))
        document.add_paragraph(text)
        return _save(document)
    if file_type == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        sheet = book.worksheets[0]
        empty = sheet.max_row == 1 and all(c.value is None for c in sheet[1])
        sheet.cell(row=1 if empty else sheet.max_row + 1, column=1, value=text)
        return _save(book)
    if file_type == "pptx":
        deck = pptx.Presentation(io.BytesIO(data))
        slide = deck.slides.add_slide(_blank_layout(deck))
        box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(1))
        box.text_frame.text = text
        return _save(deck)
    if file_type == "pdf":
        return make_pdf(_pdf_lines(data, fallback=False) + [text])
    if file_type == "txt":
        body = decode_text(data)
        if body and not body.endswith("\n"):
            body += "\n"
        return (body + text + "\n").encode("utf-8")
    if file_type == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([text])
        body = decode_text(data)
        if body and not body.endswith("\n"):
            body += "\n"
        return (body + out.getvalue()).encode("utf-8")
    raise ContentError(f"the emulator cannot edit {file_type} files")


def _blank_layout(deck):
    # Layout 6 of the default template is "Blank"; other templates may have fewer.
    layouts = deck.slide_layouts
    return layouts[6] if len(layouts) > 6 else layouts[len(layouts) - 1]


def _save(obj) -> bytes:
    buf = io.BytesIO()
    obj.save(buf)
    return buf.getvalue()


def blank(file_type: str) -> bytes | None:
    """A new empty document, used like Docs' newFileTemplate when the source is 0 bytes."""
    if file_type == "docx":
        return _save(docx.Document())
    if file_type == "xlsx":
        return _save(openpyxl.Workbook())
    if file_type == "pptx":
        return _save(pptx.Presentation())
    if file_type == "pdf":
        return make_pdf([])
    if file_type in ("txt", "csv"):
        return b""
    return None


# --- PDF -------------------------------------------------------------------

LINES_PER_PAGE = 48


def _pdf_escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(lines: list[str]) -> bytes:
    """Write a minimal valid PDF (Helvetica, one Tj per line, correct xref table)."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    # Object numbers: 1 catalog, 2 page tree, 3 font, then (page, content) pairs.
    objects: dict[int, bytes] = {}
    kids = []
    for n, page_lines in enumerate(pages):
        page_no, content_no = 4 + 2 * n, 5 + 2 * n
        kids.append(f"{page_no} 0 R")
        stream = b"BT /F1 12 Tf 14 TL 72 770 Td\n"
        for line in page_lines:
            stream += b"(" + _pdf_escape(line) + b") Tj T*\n"
        stream += b"ET\n"
        objects[page_no] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_no} 0 R >>"
        ).encode()
        objects[content_no] = f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"endstream"
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n".encode()
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def stamp_pdf(data: bytes, text: str) -> bytes:
    """Every page of a PDF with the text laid over it, as Docs stamps a conversion's watermark
    (here plainly, at the page's top: enough for the text to be there)."""
    from pypdf import PdfReader
    from pypdf import PdfWriter

    overlay = PdfReader(io.BytesIO(make_pdf(text.splitlines() or [""]))).pages[0]
    writer = PdfWriter(clone_from=io.BytesIO(data))
    for page in writer.pages:
        page.merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_STREAM_RE = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)\r?\nendstream", re.S)
_STRING_RE = re.compile(rb"\((?:\\.|[^\\)])*\)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape_pdf_string(raw: bytes) -> str:
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i : i + 1]
        if c == b"\\" and i + 1 < len(body):
            nxt = body[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            i += 1
            continue
        out += c
        i += 1
    return out.decode("cp1252", errors="replace")


def _pdf_lines(data: bytes, fallback: bool = True) -> list[str]:
    """Extract text shown with Tj/TJ from simple (uncompressed or Flate) content streams."""
    if not data.startswith(b"%PDF"):
        raise ContentError("not a PDF file")
    lines: list[str] = []
    for header, body in _STREAM_RE.findall(data):
        if b"/FlateDecode" in header:
            try:
                body = zlib.decompress(body)
            except zlib.error:
                continue
        elif b"/Filter" in header:
            continue  # other filters are beyond "simple" extraction
        if b"BT" not in body:
            continue
        for op in re.finditer(rb"(\((?:\\.|[^\\)])*\))\s*(?:Tj|'|\")|\[(.*?)\]\s*TJ", body, re.S):
            if op.group(1):
                text = _unescape_pdf_string(op.group(1))
            else:
                text = "".join(_unescape_pdf_string(s) for s in _STRING_RE.findall(op.group(2)))
            if text.strip():
                lines.append(text)
    if not lines and fallback:
        return [f"PDF document, {len(data)} bytes"]
    return lines


# --- conversion helpers ----------------------------------------------------

# Conversion API codePage values (Windows code page numbers) → Python codecs.
CODE_PAGES = {
    65001: "utf-8",
    1200: "utf-16-le",
    1201: "utf-16-be",
    932: "shift_jis",
    936: "gbk",
    949: "euc-kr",
    950: "big5",
    1250: "cp1250",
    1251: "cp1251",
    1252: "cp1252",
    1253: "cp1253",
    1254: "cp1254",
    1255: "cp1255",
    1256: "cp1256",
    1257: "cp1257",
    866: "cp866",
    20866: "koi8-r",
    28591: "latin-1",
    28595: "iso8859-5",
}

# Conversion API delimiter codes; 0 ("none") is coerced to comma as Docs does.
DELIMITERS = {0: ",", 1: "\t", 2: ";", 3: ":", 4: ",", 5: " "}


def txt_to_docx(data: bytes, encoding: str = "utf-8") -> bytes:
    """One paragraph per text line."""
    document = docx.Document()
    for line in decode_text(data, encoding).splitlines():
        document.add_paragraph(line)
    return _save(document)


def csv_to_xlsx(data: bytes, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """One worksheet with the CSV rows; numbers stay text (Docs would guess types)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(decode_text(data, encoding)), delimiter=delimiter):
        sheet.append(row)
    return _save(book)


def docx_to_txt(data: bytes) -> bytes:
    """Paragraph texts, one per line, UTF-8."""
    document = docx.Document(io.BytesIO(data))
    return ("\n".join(p.text for p in document.paragraphs) + "\n").encode("utf-8")


def xlsx_to_csv(data: bytes, delimiter: str = ",") -> bytes:
    """The first worksheet as CSV, UTF-8."""
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in book.worksheets[0].iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def changes_zip(changes: list[dict]) -> bytes:
    """The changesurl archive: the emulator's own record of the session's edits."""
    import json

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("changes.json", json.dumps(changes, indent=1))
    return buf.getvalue()

"""Real conversions through LibreOffice (installed by `make test`): office formats to OOXML and back,
pdf, page images and thumbnails, password-protected OOXML, async progress and the error codes."""

import io
import shutil
import subprocess
import time
import zipfile

import pytest
import requests
from PIL import Image

from docs_emulator import office
from docs_emulator.testing import password_protected

from .conftest import SOFFICE
from .conftest import cells
from .conftest import paragraphs
from .conftest import slide_texts

pytestmark = pytest.mark.skipif(
    not SOFFICE or not shutil.which("pdftotext"), reason="needs LibreOffice and poppler-utils (make libreoffice)"
)


def pdf_text(data: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext."""
    assert data.startswith(b"%PDF")
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def convert(emu, integrator, data, filetype, outputtype, key, **extra):
    """A synchronous conversion of ``data``; returns the answer and the converted bytes (if any)."""
    url = integrator.add(f"{key}.{filetype}", data)
    payload = {"async": False, "filetype": filetype, "outputtype": outputtype, "key": key, "url": url, **extra}
    answer = emu.convert({"title": f"{key}.{filetype}", **payload})
    content = requests.get(answer["fileUrl"]).content if answer.get("endConvert") else None
    return answer, content


@pytest.mark.parametrize("ext", ["odt", "doc", "rtf"])
def test_word_formats_to_docx(emu, integrator, sources, ext):
    """odt, doc and rtf become docx holding the same paragraphs."""
    answer, content = convert(emu, integrator, sources[ext], ext, "docx", f"w2d-{ext}")
    assert answer["fileType"] == "docx" and answer["percent"] == 100
    assert paragraphs(content) == ["Hello from the source", "Second paragraph"]


@pytest.mark.parametrize("ext", ["ods", "xls"])
def test_cell_formats_to_xlsx(emu, integrator, sources, ext):
    """ods and xls become xlsx with the same cells."""
    answer, content = convert(emu, integrator, sources[ext], ext, "xlsx", f"c2x-{ext}")
    assert answer["fileType"] == "xlsx"
    assert cells(content) == ["Name", "Amount", "Widget", 42]


@pytest.mark.parametrize("ext", ["odp", "ppt"])
def test_slide_formats_to_pptx(emu, integrator, sources, ext):
    """odp and ppt become pptx with the same slide texts."""
    answer, content = convert(emu, integrator, sources[ext], ext, "pptx", f"s2p-{ext}")
    assert answer["fileType"] == "pptx"
    assert slide_texts(content) == ["First slide text", "Second slide text"]


def test_ooxml_alias_converts_odt(emu, integrator, sources):
    """outputtype "ooxml" for an odt is a real docx."""
    answer, content = convert(emu, integrator, sources["odt"], "odt", "ooxml", "alias-odt")
    assert answer["fileType"] == "docx" and "Hello from the source" in paragraphs(content)


def test_csv_to_xlsx_then_back(emu, integrator):
    """csv → xlsx keeps the cells; xlsx → csv writes them comma separated."""
    _, content = convert(emu, integrator, b"a,b\nc,d\n", "csv", "xlsx", "csv-x")
    assert cells(content) == ["a", "b", "c", "d"]
    _, text = convert(emu, integrator, content, "xlsx", "csv", "x-csv")
    assert text == b"a,b\nc,d\n"


def test_docx_to_pdf_odt_rtf_html_epub(emu, integrator, sources):
    """docx → pdf (text by pdftotext), odt (round trip back to docx), rtf, html and epub (text inside)."""
    _, pdf = convert(emu, integrator, sources["docx"], "docx", "pdf", "d-pdf")
    assert "Hello from the source" in pdf_text(pdf)
    answer, odt = convert(emu, integrator, sources["docx"], "docx", "odt", "d-odt")
    assert answer["fileType"] == "odt" and odt[:2] == b"PK" and b"application/vnd.oasis.opendocument.text" in odt[:100]
    _, back = convert(emu, integrator, odt, "odt", "docx", "d-odt-back")
    assert paragraphs(back) == ["Hello from the source", "Second paragraph"]
    _, rtf = convert(emu, integrator, sources["docx"], "docx", "rtf", "d-rtf")
    assert rtf.startswith(b"{\\rtf") and b"Hello from the source" in rtf
    _, html = convert(emu, integrator, sources["docx"], "docx", "html", "d-html")
    assert "Hello from the source" in html.decode()
    answer, epub = convert(emu, integrator, sources["docx"], "docx", "epub", "d-epub")
    assert answer["fileType"] == "epub"
    with zipfile.ZipFile(io.BytesIO(epub)) as zf:
        assert zf.read("mimetype") == b"application/epub+zip"
        assert any(b"Hello from the source" in zf.read(n) for n in zf.namelist() if n.endswith("html"))


def test_xlsx_to_pdf_and_ods(emu, integrator, sources):
    """xlsx → pdf with the cells' text; xlsx → ods that converts back to the same cells."""
    _, pdf = convert(emu, integrator, sources["xlsx"], "xlsx", "pdf", "x-pdf")
    assert "Widget" in pdf_text(pdf) and "42" in pdf_text(pdf)
    answer, ods = convert(emu, integrator, sources["xlsx"], "xlsx", "ods", "x-ods")
    assert answer["fileType"] == "ods"
    _, back = convert(emu, integrator, ods, "ods", "xlsx", "x-ods-back")
    assert cells(back) == ["Name", "Amount", "Widget", 42]


def test_pptx_to_pdf_odp_png(emu, integrator, sources):
    """pptx → pdf (every slide's text), odp, and png (the first slide as a picture)."""
    _, pdf = convert(emu, integrator, sources["pptx"], "pptx", "pdf", "p-pdf")
    text = pdf_text(pdf)
    assert "First slide text" in text and "Second slide text" in text
    answer, odp = convert(emu, integrator, sources["pptx"], "pptx", "odp", "p-odp")
    assert answer["fileType"] == "odp" and b"opendocument.presentation" in odp[:100]
    answer, png = convert(emu, integrator, sources["pptx"], "pptx", "png", "p-png")
    assert answer["fileType"] == "png"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > image.height  # a 4:3 slide at 96 dpi


def test_docxf_to_pdf(emu, integrator, sources):
    """A docxf form template (a docx package) converts to pdf."""
    _, pdf = convert(emu, integrator, sources["docx"], "docxf", "pdf", "form-pdf")
    assert "Hello from the source" in pdf_text(pdf)


# --- thumbnails -------------------------------------------------------------------------------------


def test_thumbnail_stretch_keep_and_page(emu, integrator, sources):
    """aspect 0 is exactly width x height, 1 fits inside keeping the page's shape, 2 is the page at 96 dpi."""
    thumb = {"aspect": 0, "first": True, "width": 120, "height": 90}
    answer, png = convert(emu, integrator, sources["docx"], "docx", "png", "th0", thumbnail=thumb)
    assert answer["fileType"] == "png" and Image.open(io.BytesIO(png)).size == (120, 90)
    thumb = {"aspect": 1, "first": True, "width": 200, "height": 200}
    _, png = convert(emu, integrator, sources["docx"], "docx", "png", "th1", thumbnail=thumb)
    width, height = Image.open(io.BytesIO(png)).size
    assert height == 200 and 140 <= width <= 160  # a portrait Letter/A4 page
    _, png = convert(emu, integrator, sources["docx"], "docx", "png", "th2", thumbnail={"aspect": 2})
    assert Image.open(io.BytesIO(png)).size in ((816, 1056), (794, 1123))  # Letter or A4 at 96 dpi


def test_thumbnail_jpg_and_all_pages(emu, integrator, sources):
    """jpg thumbnails of a pdf; first: false gives a zip with one picture per page."""
    _, pdf = convert(emu, integrator, sources["pptx"], "pptx", "pdf", "allp-pdf")
    thumb = {"aspect": 0, "width": 64, "height": 48}
    answer, jpg = convert(emu, integrator, pdf, "pdf", "jpg", "th-jpg", thumbnail=thumb)
    image = Image.open(io.BytesIO(jpg))
    assert answer["fileType"] == "jpg" and image.format == "JPEG" and image.size == (64, 48)
    answer, archive = convert(emu, integrator, pdf, "pdf", "png", "th-all", thumbnail={**thumb, "first": False})
    assert answer["fileType"] == "zip"
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.namelist() == ["image1.png", "image2.png"]
        assert Image.open(io.BytesIO(zf.read("image2.png"))).size == (64, 48)


def test_thumbnail_must_be_an_object(emu, integrator, sources):
    """A thumbnail that is not an object: -7."""
    answer, _ = convert(emu, integrator, sources["docx"], "docx", "png", "th-bad", thumbnail="big")
    assert answer == {"error": -7}


# --- passwords ----------------------------------------------------------------------------------------


def test_password_protected_docx(emu, integrator, sources):
    """Encrypted docx: -5 without a password or with a wrong one; the right one converts it."""
    locked = password_protected(sources["docx"], "secret")
    assert locked.startswith(office.OLE_MAGIC)
    assert convert(emu, integrator, locked, "docx", "pdf", "pw1")[0] == {"error": -5}
    assert convert(emu, integrator, locked, "docx", "pdf", "pw2", password="wrong")[0] == {"error": -5}
    answer, pdf = convert(emu, integrator, locked, "docx", "pdf", "pw3", password="secret")
    assert answer["endConvert"] is True and "Hello from the source" in pdf_text(pdf)
    _, opened = convert(emu, integrator, locked, "docx", "docx", "pw4", password="secret")
    assert paragraphs(opened) == ["Hello from the source", "Second paragraph"]


def test_password_protected_xlsx_async(emu, integrator, sources):
    """The -5 of an async conversion comes with a later poll."""
    locked = password_protected(sources["xlsx"], "pw")
    payload = {"async": True, "filetype": "xlsx", "outputtype": "csv", "key": "pw-async"}
    payload["url"] = integrator.add("locked.xlsx", locked)
    assert emu.convert(payload) == {"endConvert": False, "percent": 0}
    emu.wait_idle()
    assert emu.convert(payload) == {"error": -5}


# --- errors -----------------------------------------------------------------------------------------------


def test_corrupt_odt_is_minus_3(emu, integrator):
    """An odt LibreOffice cannot read: -3."""
    assert convert(emu, integrator, b"PK\x03\x04 not really", "odt", "docx", "bad-odt")[0] == {"error": -3}


def test_xml_of_unknown_family_is_minus_9(emu, integrator):
    """XML to "ooxml" when the XML says neither document nor spreadsheet: -9."""
    assert convert(emu, integrator, b"<?xml version='1.0'?><data/>", "xml", "ooxml", "xml9")[0] == {"error": -9}


def test_size_limits_are_minus_10(emu, integrator, sources):
    """Run-time limits: unzipped package size and download size; reset restores them."""
    emu.set_options(max_unzipped_bytes=1000)
    assert convert(emu, integrator, sources["docx"], "docx", "pdf", "big1")[0] == {"error": -10}
    emu.set_options(max_unzipped_bytes=0, max_download_bytes=100)
    assert convert(emu, integrator, sources["odt"], "odt", "docx", "big2")[0] == {"error": -10}
    emu.reset()
    assert convert(emu, integrator, sources["odt"], "odt", "docx", "big3")[0]["endConvert"] is True


def test_timeout_is_minus_2(emu, integrator, sources):
    """A LibreOffice run longer than convert_timeout is killed: -2."""
    emu.set_options(convert_timeout=0.05)
    assert convert(emu, integrator, sources["odt"], "odt", "docx", "slow1")[0] == {"error": -2}


def test_unknown_run_time_option_is_refused(emu):
    """Only the run-time options can be changed."""
    resp = requests.post(emu.url + "/_emulator/options", json={"jwt_secret": "x"})
    assert resp.status_code == 400
    assert emu.set_options(convert_delay=1.5)["convert_delay"] == 1.5


# --- async progress ----------------------------------------------------------------------------------------


def test_async_progress(emu, integrator, sources):
    """async: 0 first, then rising values strictly between 0 and 100, then 100 with the file."""
    emu.set_options(convert_delay=1.5)
    payload = {"async": True, "filetype": "odt", "outputtype": "docx", "key": "prog1", "title": "p.odt"}
    payload["url"] = integrator.add("p.odt", sources["odt"])
    answers = [emu.convert(payload)]
    deadline = time.monotonic() + 60
    while not answers[-1].get("endConvert") and time.monotonic() < deadline:
        time.sleep(0.2)
        answers.append(emu.convert(payload))
    assert answers[0] == {"endConvert": False, "percent": 0}
    running = [a["percent"] for a in answers[1:-1]]
    assert running and all(0 < p < 100 for p in running) and running == sorted(running)
    assert all(set(a) == {"endConvert", "percent"} for a in answers[:-1])
    last = answers[-1]
    assert last["endConvert"] is True and last["percent"] == 100 and last["fileType"] == "docx"
    assert "Hello from the source" in paragraphs(requests.get(last["fileUrl"]).content)


def test_async_progress_in_xml(emu, integrator, sources):
    """The legacy XML answer carries the same percent while converting."""
    emu.set_options(convert_delay=1.0)
    payload = {"async": True, "filetype": "docx", "outputtype": "pdf", "key": "progxml"}
    payload["url"] = integrator.add("x.docx", sources["docx"])
    assert "<Percent>0</Percent><EndConvert>False</EndConvert>" in emu.convert(payload, legacy=True, accept="*/*")
    time.sleep(0.5)
    text = emu.convert(payload, legacy=True, accept="*/*")
    percent = int(text.split("<Percent>")[1].split("<")[0])
    assert 0 < percent < 100 and "<EndConvert>False</EndConvert>" in text
    emu.wait_idle()
    assert "<Percent>100</Percent><EndConvert>True</EndConvert>" in emu.convert(payload, legacy=True, accept="*/*")


def test_parallel_conversions(emu, integrator, sources):
    """Conversions running at the same time each use their own LibreOffice profile and all succeed."""
    payloads = []
    for n, ext in enumerate(("odt", "ods", "odp")):
        url = integrator.add(f"par{n}.{ext}", sources[ext])
        payloads.append({"async": True, "filetype": ext, "outputtype": "ooxml", "key": f"par{n}", "url": url})
    assert all(emu.convert(p)["endConvert"] is False for p in payloads)
    emu.wait_idle(120)
    docx_answer, xlsx_answer, pptx_answer = (emu.convert(p) for p in payloads)
    assert "Hello from the source" in paragraphs(requests.get(docx_answer["fileUrl"]).content)
    assert "Widget" in cells(requests.get(xlsx_answer["fileUrl"]).content)
    assert "First slide text" in slide_texts(requests.get(pptx_answer["fileUrl"]).content)

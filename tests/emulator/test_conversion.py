"""The conversion service: real conversions, parameter and token errors, XML answers, async, cache."""

import io
import shutil

import docx
import jwt
import openpyxl
import pytest
import requests

from docs_emulator.testing import start_emulator

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import xlsx_bytes


def _convert(emu, integrator, name, data, filetype, outputtype, key="conv1", **extra):
    url = integrator.add(name, data)
    return emu.convert(
        {"async": False, "filetype": filetype, "outputtype": outputtype, "key": key, "url": url, "title": name, **extra}
    )


def test_docx_round_trip(emu, integrator):
    """docx → docx (the settings page's connection test) returns a readable docx."""
    answer = _convert(emu, integrator, "check.docx", docx_bytes("ping"), "docx", "docx", key="check_1")
    assert answer["endConvert"] is True and answer["percent"] == 100 and answer["fileType"] == "docx"
    resp = requests.get(answer["fileUrl"])
    assert [p.text for p in docx.Document(io.BytesIO(resp.content)).paragraphs] == ["ping"]
    assert "check.docx" in resp.headers["Content-Disposition"]
    # The download of the source carried the outbox token.
    assert integrator.downloads[0]["headers"]["Authorization"].startswith("Bearer ")


def test_txt_to_docx_with_code_page(emu, integrator):
    """txt → docx, one paragraph per line, codePage honoured."""
    data = "Привет\nмир\n".encode("cp1251")
    answer = _convert(emu, integrator, "a.txt", data, "txt", "docx", codePage=1251)
    content = requests.get(answer["fileUrl"]).content
    assert [p.text for p in docx.Document(io.BytesIO(content)).paragraphs] == ["Привет", "мир"]


def test_csv_to_xlsx_with_delimiter(emu, integrator):
    """csv → xlsx with delimiter 2 (semicolon)."""
    answer = _convert(emu, integrator, "a.csv", b"a;b\n1;2\n", "csv", "xlsx", delimiter=2)
    book = openpyxl.load_workbook(io.BytesIO(requests.get(answer["fileUrl"]).content))
    assert [list(r) for r in book.active.iter_rows(values_only=True)] == [["a", "b"], ["1", "2"]]


def test_docx_to_txt_and_xlsx_to_csv(emu, integrator):
    """The reverse text conversions."""
    answer = _convert(emu, integrator, "a.docx", docx_bytes("l1", "l2"), "docx", "txt", key="t1")
    assert requests.get(answer["fileUrl"]).text == "l1\nl2\n"
    answer = _convert(emu, integrator, "b.xlsx", xlsx_bytes(["x", 1], ["y", 2]), "xlsx", "csv", key="t2")
    assert requests.get(answer["fileUrl"]).text == "x,1\ny,2\n"


def test_ooxml_alias(emu, integrator):
    """outputtype "ooxml" resolves to the family's OOXML type."""
    answer = _convert(emu, integrator, "a.txt", b"x", "txt", "ooxml")
    assert answer["fileType"] == "docx"


def test_input_errors_are_minus_7(emu, integrator):
    """Bad key characters, unknown filetype or outputtype, long password: -7."""
    assert _convert(emu, integrator, "a.docx", b"", "docx", "docx", key="bad key!") == {"error": -7}
    assert _convert(emu, integrator, "a.docx", b"", "exe", "docx") == {"error": -7}
    assert _convert(emu, integrator, "a.docx", b"", "docx", "exe") == {"error": -7}
    assert _convert(emu, integrator, "a.docx", b"", "docx", "docx", password="p" * 256) == {"error": -7}


def test_token_errors_are_minus_8(emu, integrator):
    """No token, wrong secret, expired: -8."""
    payload = {"filetype": "docx", "outputtype": "docx", "key": "t", "url": integrator.add("a.docx", b"")}
    assert requests.post(emu.url + "/converter", json=payload).json() == {"error": -8}
    bad = jwt.encode(payload, "wrong-secret-wrong-secret-wrong!", algorithm="HS256")
    assert requests.post(emu.url + "/converter", json={"token": bad}).json() == {"error": -8}
    old = jwt.encode({**payload, "exp": 1000}, SECRET, algorithm="HS256")
    assert requests.post(emu.url + "/converter", json={"token": old}).json() == {"error": -8}


def test_download_failure_is_minus_4(emu, integrator):
    """A source URL that 404s: -4."""
    answer = emu.convert(
        {"filetype": "docx", "outputtype": "docx", "key": "k404", "url": integrator.url + "/files/missing.docx"}
    )
    assert answer == {"error": -4}


def test_size_limit_is_minus_10(integrator):
    """A source above the size limit: -10."""
    with start_emulator(jwt_secret=SECRET, max_download_bytes=100) as emu:
        url = integrator.add("big.txt", b"x" * 1000)
        assert emu.convert({"filetype": "txt", "outputtype": "docx", "key": "big", "url": url}) == {"error": -10}


def test_corrupt_source_is_minus_3(emu, integrator):
    """A docx that is not a docx: -3."""
    assert _convert(emu, integrator, "a.docx", b"garbage", "docx", "docx", key="bad1") == {"error": -3}


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice would convert it")
def test_unsupported_without_libreoffice_is_minus_3(emu, integrator):
    """Without soffice, conversions the emulator cannot do itself: -3."""
    assert _convert(emu, integrator, "a.docx", docx_bytes("x"), "docx", "odt", key="odt1") == {"error": -3}


def test_pdf_export_without_libreoffice(emu, integrator):
    """docx → pdf gives a text PDF when LibreOffice is absent (a real one when present)."""
    answer = _convert(emu, integrator, "a.docx", docx_bytes("pdf me"), "docx", "pdf", key="pdf1")
    assert requests.get(answer["fileUrl"]).content.startswith(b"%PDF")


def test_xml_answers(emu, integrator):
    """Legacy address: XML by default, JSON on request; /converter: XML when preferred."""
    url = integrator.add("a.docx", docx_bytes("x"))
    payload = {"filetype": "docx", "outputtype": "docx", "key": "xml1", "url": url}
    text = emu.convert(payload, legacy=True, accept="*/*")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><FileResult><FileUrl>')
    assert "<FileType>docx</FileType><Percent>100</Percent><EndConvert>True</EndConvert></FileResult>" in text
    assert emu.convert(payload, legacy=True, accept="application/json")["endConvert"] is True
    assert emu.convert(payload, accept="application/xml").startswith("<?xml")
    error = emu.convert({**payload, "key": "bad key"}, legacy=True, accept="*/*")
    assert error == '<?xml version="1.0" encoding="utf-8"?><FileResult><Error>-7</Error></FileResult>'


def test_async_then_result(emu, integrator):
    """async: first {"endConvert": false, "percent": 0}, the same request later gets the result."""
    url = integrator.add("a.docx", docx_bytes("x"))
    payload = {"async": True, "filetype": "docx", "outputtype": "docx", "key": "async1", "url": url}
    assert emu.convert(payload) == {"endConvert": False, "percent": 0}
    emu.wait_idle()
    assert emu.convert(payload)["endConvert"] is True


def test_result_cached_per_key_and_output(emu, integrator):
    """Same key + output type: the cached result, even if the source changed."""
    _convert(emu, integrator, "a.docx", docx_bytes("first"), "docx", "txt", key="cache1")
    answer = _convert(emu, integrator, "a.docx", docx_bytes("second"), "docx", "txt", key="cache1")
    assert requests.get(answer["fileUrl"]).text == "first\n"
    assert len(integrator.downloads) == 1

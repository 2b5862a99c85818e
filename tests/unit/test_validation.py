"""Tests for app.services.validation: good documents pass, damaged and hostile ones are refused.

The hostile inputs are built here, in tmp_path, from small hand-made packages
or from the blanks of app.services.blanks.
"""

import io
import struct
import time
import tracemalloc
import zipfile

import pytest

from app.services import validation
from app.services.blanks import make_blank
from app.services.validation import InvalidDocument
from app.services.validation import Limits
from app.services.validation import validate_document

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def package_rels(target="word/document.xml"):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        f'Target="{target}"/>'
        "</Relationships>"
    )


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOCUMENT = f"<w:document {W_NS}><w:body><w:p><w:r><w:t>MARKER-TEXT-0123456789</w:t></w:r></w:p></w:body></w:document>"

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n"
    f"<w:document {W_NS}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of {name: str|bytes}, in order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def docx_members(document=DOCUMENT, **overrides):
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": package_rels(),
        "word/document.xml": document,
    }
    members.update(overrides)
    return {name: data for name, data in members.items() if data is not None}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def assert_invalid(path, ext, limits=None, contains=""):
    with pytest.raises(InvalidDocument) as caught:
        validate_document(path, ext, limits or Limits())
    reason = caught.value.reason
    assert isinstance(reason, str) and reason.strip(), "the reason must be a non-empty sentence"
    assert str(caught.value) == reason
    assert contains.lower() in reason.lower(), reason
    return reason


def eocd_offset(data):
    at = data.rfind(b"PK\x05\x06")
    assert at == len(data) - 22, "these tests build archives without comments"
    return at


def local_data_span(data, name):
    """(start, length) of a member's compressed bytes, read from its local header."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    return start, info.compress_size


# --- Good documents ----------------------------------------------------------


@pytest.mark.parametrize("ext", ["docx", "xlsx", "pptx", "pdf"])
def test_blank_documents_pass(tmp_path, ext):
    validate_document(write(tmp_path, f"good.{ext}", make_blank(ext)), ext)


def test_hand_made_minimal_docx_passes(tmp_path):
    # The baseline every hostile variant below differs from in one way.
    validate_document(write(tmp_path, "min.docx", zip_bytes(docx_members())), "docx")


def test_extension_is_case_and_dot_insensitive(tmp_path):
    validate_document(write(tmp_path, "good.docx", make_blank("docx")), ".DOCX")


def test_main_part_is_found_through_package_relationships(tmp_path):
    members = docx_members(**{"_rels/.rels": package_rels("/word/main.xml"), "word/document.xml": None})
    members["word/main.xml"] = DOCUMENT
    validate_document(write(tmp_path, "moved.docx", zip_bytes(members)), "docx")


def test_main_part_falls_back_to_default_name_without_rels(tmp_path):
    path = write(tmp_path, "norels.docx", zip_bytes(docx_members(**{"_rels/.rels": None})))
    validate_document(path, "docx")


def test_large_main_part_is_streamed_not_built_as_a_tree(tmp_path):
    # ~7 MB of paragraphs: about 40 MB as a full tree, about 8 MB if elements
    # are cleared but left attached to their parent, under 1 MB when streamed.
    path = tmp_path / "big.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", package_rels())
        with zf.open("word/document.xml", "w") as member:
            member.write(f"<w:document {W_NS}><w:body>".encode())
            for block in range(100):
                member.write(
                    "".join(
                        f"<w:p><w:r><w:t>Paragraph {block}.{n} of a long document</w:t></w:r></w:p>"
                        for n in range(1000)
                    ).encode()
                )
            member.write(b"</w:body></w:document>")
    tracemalloc.start()
    try:
        validate_document(str(path), "docx", Limits(max_ratio=100_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes: the XML was not streamed"


def test_odt_passes(tmp_path):
    members = {
        "mimetype": "application/vnd.oasis.opendocument.text",
        "content.xml": '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
    }
    validate_document(write(tmp_path, "good.odt", zip_bytes(members, zipfile.ZIP_STORED)), "odt")


def test_utf8_text_passes_even_when_a_character_straddles_chunks(tmp_path):
    data = b"a" * (validation._CHUNK - 1) + "é;ü\n".encode() * 10
    validate_document(write(tmp_path, "good.csv", data), "csv")
    validate_document(write(tmp_path, "good.txt", "\ufeffhello\n".encode()), "txt")


# --- Size and type ------------------------------------------------------------


@pytest.mark.parametrize("ext", ["docx", "pdf", "txt", "odt"])
def test_empty_file(tmp_path, ext):
    assert_invalid(write(tmp_path, f"empty.{ext}", b""), ext, contains="empty")


def test_file_over_max_bytes(tmp_path):
    data = make_blank("docx")
    path = write(tmp_path, "big.docx", data)
    assert_invalid(path, "docx", Limits(max_bytes=len(data) - 1), contains="limit")
    validate_document(path, "docx", Limits(max_bytes=len(data)))


@pytest.mark.parametrize("ext", ["doc", "exe", "html", ""])
def test_unknown_extension_cannot_be_checked(tmp_path, ext):
    assert_invalid(write(tmp_path, "file.bin", b"data"), ext, contains="cannot be checked")


# --- Damaged zips -------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.01, 0.5, 0.98, 0.9995])
def test_truncated_docx(tmp_path, keep):
    # From "the first few hundred bytes" to "only the end record cut short".
    data = make_blank("docx")
    assert_invalid(write(tmp_path, "cut.docx", data[: int(len(data) * keep)]), "docx")


def test_non_zip_named_docx(tmp_path):
    path = write(tmp_path, "fake.docx", b"This is a plain text file, not a zip archive.\n" * 50)
    assert_invalid(path, "docx", contains="not a zip")


@pytest.mark.parametrize("member", ["word/document.xml", "word/media/image1.bin"])
@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_member_with_bad_crc(tmp_path, compression, member):
    # The media member is never parsed, so only the CRC pass over every
    # member can notice that it is damaged.
    members = docx_members(**{"word/media/image1.bin": b"MARKER-BYTES " + bytes(range(256)) * 8})
    data = bytearray(zip_bytes(members, compression))
    start, length = local_data_span(bytes(data), member)
    if compression == zipfile.ZIP_STORED:
        flip = data.find(b"MARKER-", start)  # the XML stays well-formed: only the CRC can tell
        assert start <= flip < start + length
    else:
        flip = start + length // 2
    data[flip] ^= 0x01
    reason = assert_invalid(write(tmp_path, "crc.docx", bytes(data)), "docx", contains=member)
    if compression == zipfile.ZIP_STORED:
        assert "crc" in reason.lower()


def test_declared_size_that_lies_is_caught(tmp_path):
    # The central directory says 100 bytes; the data inflates to much more.
    # Reading must stop at the declared size and the CRC must then fail.
    data = bytearray(zip_bytes(docx_members(**{"word/media/image1.bin": b"\0" * 50_000})))
    directory = struct.unpack_from("<L", data, eocd_offset(data) + 16)[0]
    entry = directory
    while True:
        assert data[entry : entry + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, entry + 28)
        if data[entry + 46 : entry + 46 + name_length] == b"word/media/image1.bin":
            break
        entry += 46 + name_length + extra_length + comment_length
    struct.pack_into("<L", data, entry + 24, 100)
    assert_invalid(write(tmp_path, "liar.docx", bytes(data)), "docx", contains="image1.bin")


def test_zip_bomb_is_refused_before_decompressing(tmp_path, monkeypatch):
    path = tmp_path / "bomb.docx"
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", package_rels())
        zf.writestr("word/document.xml", DOCUMENT)
        with zf.open("word/media/zeros.bin", "w") as member:
            for _ in range(300):
                member.write(zeros)

    def no_decompression(*args, **kwargs):
        raise AssertionError("a member was opened before the declared sizes were checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    started = time.monotonic()
    assert_invalid(str(path), "docx", contains="ratio")
    assert time.monotonic() - started < 1.0


def test_total_uncompressed_size_limit(tmp_path):
    path = write(tmp_path, "big.docx", make_blank("docx"))
    assert_invalid(path, "docx", Limits(max_uncompressed=10_000), contains="expand")


def test_member_count_limit(tmp_path):
    members = docx_members()
    members.update({f"word/media/pad{i}.txt": "x" for i in range(20)})
    path = write(tmp_path, "many.docx", zip_bytes(members))
    assert_invalid(path, "docx", Limits(max_entries=10), contains="members")
    validate_document(path, "docx", Limits(max_entries=23))


def test_forged_member_count_is_refused_before_zipfile_reads_the_directory(tmp_path, monkeypatch):
    data = bytearray(zip_bytes(docx_members()))
    at = eocd_offset(data)
    struct.pack_into("<2H", data, at + 8, 60_000, 60_000)
    path = write(tmp_path, "forged.docx", bytes(data))

    def no_directory_read(self):
        raise AssertionError("zipfile parsed the central directory")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", no_directory_read)
    assert_invalid(path, "docx", contains="members")


def test_zip64_member_count_is_read_from_the_zip64_record(tmp_path, monkeypatch):
    # Over 65535 members zipfile writes a ZIP64 end record, and the classic
    # record's count saturates at 65535; the pre-check must use the real one.
    path = tmp_path / "zip64.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for number in range(70_000):
            zf.writestr(str(number), b"")

    def no_directory_read(self):
        raise AssertionError("zipfile parsed the central directory")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", no_directory_read)
    assert_invalid(str(path), "docx", Limits(max_entries=69_999), contains="70000 members")


def test_streaming_counter_stops_at_the_real_size_limit():
    # With CPython's zipfile the declared checks fire first, so the counting
    # in _read_members is a second line of defence; exercise it directly.
    data = zip_bytes({"a.bin": bytes(600_000), "b.bin": bytes(600_000)})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        with pytest.raises(InvalidDocument, match="expands to more than"):
            validation._read_members(zf, zf.infolist(), Limits(max_uncompressed=1_000_000))
        validation._read_members(zf, zf.infolist(), Limits(max_uncompressed=1_200_000))


@pytest.mark.parametrize("name", ["../evil.xml", "word/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil.xml"])
def test_member_names_escaping_the_archive(tmp_path, name):
    members = docx_members()
    members[name] = "<x/>"
    assert_invalid(write(tmp_path, "escape.docx", zip_bytes(members)), "docx", contains="name")


def test_dots_inside_a_member_name_are_fine(tmp_path):
    members = docx_members()
    members["word/notes..backup.xml"] = "<x/>"
    validate_document(write(tmp_path, "dots.docx", zip_bytes(members)), "docx")


def test_duplicate_member_names(tmp_path):
    members = list(docx_members().items()) + [("word/document.xml", "<w:document/>")]
    out = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(out, "w") as zf:
        for name, content in members:
            zf.writestr(name, content)
    assert_invalid(write(tmp_path, "dup.docx", out.getvalue()), "docx", contains="two members")


def test_unsupported_compression_method(tmp_path):
    path = write(tmp_path, "bz.docx", zip_bytes(docx_members(), zipfile.ZIP_BZIP2))
    assert_invalid(path, "docx", contains="compression")


# --- OOXML structure ------------------------------------------------------------


def test_zip_without_content_types(tmp_path):
    path = write(tmp_path, "noct.docx", zip_bytes(docx_members(**{"[Content_Types].xml": None})))
    assert_invalid(path, "docx", contains="[Content_Types].xml")


def test_any_zip_is_not_a_docx(tmp_path):
    path = write(tmp_path, "photos.docx", zip_bytes({"photo.jpg": b"\xff\xd8\xff", "readme.txt": "hi"}))
    assert_invalid(path, "docx")


def test_malformed_document_xml(tmp_path):
    broken = f"<w:document {W_NS}><w:body><w:p></w:body></w:document>"
    path = write(tmp_path, "bad.docx", zip_bytes(docx_members(broken)))
    assert_invalid(path, "docx", contains="not well-formed")


def test_main_part_missing(tmp_path):
    path = write(tmp_path, "nomain.docx", zip_bytes(docx_members(**{"word/document.xml": None})))
    assert_invalid(path, "docx", contains="missing")


def test_main_part_with_wrong_root(tmp_path):
    path = write(tmp_path, "root.docx", zip_bytes(docx_members(f"<w:workbook {W_NS}/>")))
    assert_invalid(path, "docx", contains="root")


def test_billion_laughs_is_refused_quickly(tmp_path):
    path = write(tmp_path, "lol.docx", zip_bytes(docx_members(BILLION_LAUGHS)))
    started = time.monotonic()
    assert_invalid(path, "docx", contains="DTD")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "dtd",
    [
        '<!DOCTYPE w:document [<!ENTITY name "harmless">]>',  # plain ElementTree would accept this
        '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE w:document SYSTEM "http://example.invalid/doc.dtd">',
    ],
)
def test_any_dtd_is_refused(tmp_path, dtd):
    document = f'<?xml version="1.0"?>\n{dtd}\n{DOCUMENT}'
    path = write(tmp_path, "dtd.docx", zip_bytes(docx_members(document)))
    assert_invalid(path, "docx", contains="DTD")


def test_dtd_in_package_relationships_is_refused(tmp_path):
    rels = package_rels().replace("<Relationships", '<!DOCTYPE r [<!ENTITY e "x">]><Relationships', 1)
    path = write(tmp_path, "rels.docx", zip_bytes(docx_members(**{"_rels/.rels": rels})))
    assert_invalid(path, "docx", contains="_rels/.rels")


@pytest.mark.parametrize(
    ("made", "checked_as"), [("xlsx", "docx"), ("docx", "xlsx"), ("pptx", "xlsm"), ("xlsx", "pptx")]
)
def test_family_mismatch(tmp_path, made, checked_as):
    path = write(tmp_path, f"file.{checked_as}", make_blank(made))
    assert_invalid(path, checked_as, contains=f".{checked_as}")


def test_family_mismatch_without_rels(tmp_path):
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
    }
    assert_invalid(write(tmp_path, "sheet.docx", zip_bytes(members)), "docx", contains="spreadsheet")


# --- OpenDocument ----------------------------------------------------------------


def test_odt_checked_as_ods(tmp_path):
    members = {
        "mimetype": "application/vnd.oasis.opendocument.text",
        "content.xml": '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
    }
    path = write(tmp_path, "text.ods", zip_bytes(members, zipfile.ZIP_STORED))
    assert_invalid(path, "ods", contains="mimetype")


def test_odf_without_content(tmp_path):
    path = write(tmp_path, "empty.odt", zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text"}))
    assert_invalid(path, "odt", contains="content.xml")


# --- PDF and text -----------------------------------------------------------------


def test_pdf_without_header(tmp_path):
    data = make_blank("pdf")
    assert_invalid(write(tmp_path, "nohead.pdf", b"\n" + data), "pdf", contains="%PDF-")
    assert_invalid(write(tmp_path, "html.pdf", b"<html>error</html>"), "pdf", contains="%PDF-")


def test_truncated_pdf(tmp_path):
    data = make_blank("pdf")
    assert_invalid(write(tmp_path, "cut.pdf", data[: len(data) - 10]), "pdf", contains="truncated")


def test_pdf_eof_marker_must_be_near_the_end(tmp_path):
    # An %%EOF from an earlier revision followed by a cut-off update.
    data = make_blank("pdf") + b"1 0 obj\n<< /Filler (" + b"x" * 4096
    assert_invalid(write(tmp_path, "update.pdf", data), "pdf", contains="truncated")


def test_text_that_is_not_utf8(tmp_path):
    assert_invalid(write(tmp_path, "latin1.csv", "naïve;café\n".encode("latin-1")), "csv", contains="UTF-8")
    assert_invalid(write(tmp_path, "cut.txt", "é".encode()[:1]), "txt", contains="UTF-8")


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, limits, kind",
    [
        (lambda: b"<html>not a zip</html>", Limits(), validation.ZIP_INTEGRITY),
        (lambda: _zip_of({"a.txt": b"x"}), Limits(), validation.FILE_CONTENT),
        (lambda: make_blank("docx"), Limits(max_bytes=100), validation.SIZE_LIMIT),
        (lambda: _zip_of({"a": b"1", "b": b"2"}), Limits(max_entries=1), validation.ZIP_LIMITS),
        (lambda: _zip_of({"a": b"\0" * (2 * 1024 * 1024)}), Limits(), validation.EXPANSION_RATIO),
        (
            lambda: _zip_of({"[Content_Types].xml": b"<Types", "word/document.xml": b"<document/>"}),
            Limits(),
            validation.XML_WELLFORMEDNESS,
        ),
        (
            lambda: _zip_of({"[Content_Types].xml": b'<!DOCTYPE x [<!ENTITY a "b">]><Types/>'}),
            Limits(),
            validation.XML_DTD,
        ),
    ],
)
def test_each_refusal_names_the_kind_of_check_that_refused(tmp_path, content, limits, kind):
    path = tmp_path / "doc.docx"
    path.write_bytes(content())
    with pytest.raises(InvalidDocument) as refused:
        validate_document(str(path), "docx", limits)
    assert refused.value.kind == kind, refused.value.reason

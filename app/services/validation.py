"""Checks on a file the Document Server produced, before it replaces the stored document.

When an editing session is saved, the Document Server hands Coedit a URL to the
new version. Coedit downloads it to a temporary path and calls
``validate_document`` on it; only if that returns does the file replace the
stored document. A truncated download, a conversion that went wrong, or a
hostile file (zip bomb, XML entity bomb, path traversal names) raises
``InvalidDocument`` instead, and the stored document is left as it was.

Every check streams: the file, the zip members and the XML are read in chunks,
so memory use does not grow with the size of the document.

What is checked, by family (the ``_CHECKERS`` table maps extensions to these):

* Office Open XML (docx, xlsx, pptx and their macro/template variants): a zip
  within ``Limits``, every member's CRC verified, ``[Content_Types].xml``
  present, and the main part (found through ``_rels/.rels``) well-formed and of
  the family the extension promises.
* OpenDocument (odt, ods, odp and their templates ott, ots, otp): a zip within ``Limits`` whose ``mimetype``
  member names the expected type, with a well-formed ``content.xml``.
* PDF: the ``%PDF-`` header and an ``%%EOF`` marker near the end (a cheap test
  for truncation; it does not parse the PDF).
* txt, csv, tsv: the text must be UTF-8. That is what Coedit asks the Document
  Server to write, and a decoding failure is the most likely sign of a broken or
  wrong file; text has no other structure to check.

Any other extension is refused: a file that cannot be checked is not accepted.
XML is parsed by expat with defusedxml's guards and DTDs forbidden, so entity
expansion (the "billion laughs") and external entities never get a chance to run.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO
from typing import Callable
from typing import Iterator
from typing import Optional
from urllib.parse import unquote
from xml.parsers import expat

import defusedxml
from defusedxml import DTDForbidden
from defusedxml import EntitiesForbidden
from defusedxml import ExternalReferenceForbidden
from flask_babel import gettext

_CHUNK = 64 * 1024
_MIB = 1024 * 1024


# What kind of check refused a file (InvalidDocument.kind, the rejection metrics' label).
FILE_CONTENT = "file_content"  # not the type it claims to be, or not a type we can check
SIZE_LIMIT = "size_limit"  # the file, or the archive expanded, is over a limit
ZIP_INTEGRITY = "zip_integrity"  # not a whole, well-formed zip (damaged, bad names, encryption)
ZIP_LIMITS = "zip_limits"  # more members or a larger directory than any document has
EXPANSION_RATIO = "expansion_ratio"  # a member expands like a zip bomb
XML_WELLFORMEDNESS = "xml_wellformedness"  # a part is not well-formed XML
XML_DTD = "xml_dtd"  # a part declares a DTD or entities (entity bombs, external entities)


class InvalidDocument(Exception):
    """The file is not a sound document of the expected type; .reason is a short plain-English sentence,
    .kind which check refused it (one of the names above)."""

    def __init__(self, reason: str, kind: str = FILE_CONTENT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    """Bounds on what a document may be; anything beyond them is refused."""

    max_bytes: int = 100 * 1024 * 1024  # the file on disk
    max_entries: int = 10_000  # zip members
    max_uncompressed: int = 1024 * 1024 * 1024  # sum of member sizes
    max_ratio: int = 200  # per-member uncompressed/compressed ratio (for members over 1 MiB uncompressed)


def validate_zip(path: str, limits: Limits = Limits()) -> None:
    """Raise InvalidDocument unless the file is a sound zip within limits (e.g. a changes archive)."""
    size = os.path.getsize(path)
    if size == 0 or size > limits.max_bytes:
        raise InvalidDocument(gettext("The archive is empty or too large."), SIZE_LIMIT if size else ZIP_INTEGRITY)
    with _sound_zip(path, size, limits):
        pass


def validate_document(path: str, ext: str, limits: Limits = Limits()) -> None:
    """Raise InvalidDocument unless the file at path is a sound `ext` document.

    ``ext`` is the expected type, case-insensitive, with or without a leading
    dot. Errors reading ``path`` itself (missing file, permissions) are not
    about the document and propagate as OSError.
    """
    kind = ext.lower().lstrip(".")
    checker = _CHECKERS.get(kind)
    if checker is None:
        raise InvalidDocument(gettext("Files of type %(ext)r cannot be checked, so they are not accepted.", ext=ext))
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidDocument(gettext("The file is empty."))
    if size > limits.max_bytes:
        raise InvalidDocument(
            gettext(
                "The file is %(size)s bytes, more than the limit of %(max_bytes)s bytes.",
                size=size,
                max_bytes=limits.max_bytes,
            ),
            SIZE_LIMIT,
        )
    checker(path, kind, size, limits)


# --- Office Open XML --------------------------------------------------------

_OOXML_FAMILY = {
    **dict.fromkeys(("docx", "docm", "dotx", "dotm"), "word"),
    **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm"), "xl"),
    **dict.fromkeys(("pptx", "pptm", "potx", "potm", "ppsx", "ppsm"), "ppt"),
}
# Where each family keeps its main part when _rels/.rels does not say, and the
# root element that part must have.
_OOXML_DEFAULT_MAIN = {"word": "word/document.xml", "xl": "xl/workbook.xml", "ppt": "ppt/presentation.xml"}
_OOXML_ROOT = {"word": "document", "xl": "workbook", "ppt": "presentation"}
_FAMILY_NAME = {"word": "word-processing", "xl": "spreadsheet", "ppt": "presentation"}
_CONTENT_TYPES = "[Content_Types].xml"
_PACKAGE_RELS = "_rels/.rels"


def _check_ooxml(path: str, ext: str, size: int, limits: Limits) -> None:
    family = _OOXML_FAMILY[ext]
    with _sound_zip(path, size, limits) as zf:
        names = set(zf.namelist())
        if _CONTENT_TYPES not in names:
            raise InvalidDocument(
                gettext(
                    "The archive has no %(CONTENT_TYPES)s, so it is not an Office document.",
                    CONTENT_TYPES=_CONTENT_TYPES,
                )
            )
        if _scan_xml(zf, _CONTENT_TYPES) != "Types":
            raise InvalidDocument(
                gettext("%(CONTENT_TYPES)s is not a content-types list.", CONTENT_TYPES=_CONTENT_TYPES)
            )
        main = _ooxml_main_part(zf, names)
        # Checked before parsing the main part: a mismatch needs no parsing.
        main_family = main.split("/", 1)[0]
        if main_family != family:
            found = _FAMILY_NAME.get(main_family, "unknown")
            raise InvalidDocument(
                f"The main part {main} is a {found} document, but a .{ext} file "
                f"must be a {_FAMILY_NAME[family]} document."
            )
        root = _scan_xml(zf, main)
        if root != _OOXML_ROOT[family]:
            raise InvalidDocument(f"The main part {main} has a <{root}> root instead of <{_OOXML_ROOT[family]}>.")


def _ooxml_main_part(zf: zipfile.ZipFile, names: set[str]) -> str:
    """Name of the package's main part: the officeDocument relationship's target, else a known default."""
    if _PACKAGE_RELS in names:
        targets: list[str] = []

        def collect(local_name: str, attrs: dict[str, str]) -> None:
            # Transitional and Strict OOXML use different namespace URIs, but
            # both relationship types end in /officeDocument.
            if (
                local_name == "Relationship"
                and attrs.get("Type", "").endswith("/officeDocument")
                and attrs.get("TargetMode", "Internal") != "External"
            ):
                targets.append(attrs.get("Target", ""))

        _scan_xml(zf, _PACKAGE_RELS, collect)
        if targets:
            # Package-level targets are relative to the package root; part
            # names are percent-encoded URIs and compare case-insensitively.
            part = posixpath.normpath(unquote(targets[0]).lstrip("/"))
            if part == ".." or part.startswith("../"):
                raise InvalidDocument(
                    gettext("%(PACKAGE_RELS)s points the main part outside the package.", PACKAGE_RELS=_PACKAGE_RELS)
                )
            by_lower = {name.lower(): name for name in names}
            if part.lower() not in by_lower:
                raise InvalidDocument(
                    gettext(
                        "The main part %(part)s named in %(PACKAGE_RELS)s is missing.",
                        part=part,
                        PACKAGE_RELS=_PACKAGE_RELS,
                    )
                )
            return by_lower[part.lower()]
    for candidate in _OOXML_DEFAULT_MAIN.values():
        if candidate in names:
            return candidate
    raise InvalidDocument(gettext("The archive has no main document part."))


# --- OpenDocument -----------------------------------------------------------

_ODF_MIMETYPE = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "ott": "application/vnd.oasis.opendocument.text-template",
    "ots": "application/vnd.oasis.opendocument.spreadsheet-template",
    "otp": "application/vnd.oasis.opendocument.presentation-template",
}


def _check_odf(path: str, ext: str, size: int, limits: Limits) -> None:
    expected = _ODF_MIMETYPE[ext]
    with _sound_zip(path, size, limits) as zf:
        names = set(zf.namelist())
        if "mimetype" not in names:
            raise InvalidDocument(gettext("The archive has no mimetype member, so it is not an OpenDocument file."))
        with _archive_errors(), zf.open("mimetype") as member:
            # A little more than needed, to see a longer (wrong) value; never
            # more, whatever the member claims to hold.
            declared = member.read(len(expected) + 64).strip()
        if declared != expected.encode("ascii"):
            shown = declared.decode("ascii", "replace")[:80]
            raise InvalidDocument(
                gettext(
                    "The mimetype member says %(shown)r, but a .%(ext)s file must say %(expected)r.",
                    shown=shown,
                    ext=ext,
                    expected=expected,
                )
            )
        if "content.xml" not in names:
            raise InvalidDocument(gettext("The archive has no content.xml."))
        root = _scan_xml(zf, "content.xml")
        if root != "document-content":
            raise InvalidDocument(f"content.xml has a <{root}> root instead of <document-content>.")


# --- PDF --------------------------------------------------------------------

_PDF_TAIL = 2048


def _check_pdf(path: str, ext: str, size: int, limits: Limits) -> None:
    with open(path, "rb") as fh:
        if fh.read(5) != b"%PDF-":
            raise InvalidDocument(gettext("The file does not start with a %PDF- header, so it is not a PDF."))
        # Writers end the file with %%EOF, possibly followed by a little
        # whitespace or junk; its absence near the end means a cut-off file.
        fh.seek(max(0, size - _PDF_TAIL))
        if b"%%EOF" not in fh.read(_PDF_TAIL):
            raise InvalidDocument(gettext("The PDF has no %%EOF marker at its end, so it is probably truncated."))


# --- Plain text -------------------------------------------------------------


def _check_text(path: str, ext: str, size: int, limits: Limits) -> None:
    # The incremental decoder carries a multi-byte sequence split across two
    # chunks over to the next call, so chunking does not cause false errors.
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            # exc.start is relative to the buffered input of this call, which
            # may begin up to 3 bytes before the chunk: hence "near".
            raise InvalidDocument(
                f"The file is not UTF-8 text (invalid bytes near offset {offset + exc.start})."
            ) from exc


# --- Zip archives -----------------------------------------------------------

# Open Packaging Conventions and ODF both allow only these two methods; refusing
# the rest keeps bzip2/lzma decompressors (and their own bombs) out of reach.
_ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

# Ways zipfile and zlib report a damaged archive. OSError covers seeks to the
# impossible offsets a forged directory can contain, UnicodeDecodeError a
# member name flagged UTF-8 that is not.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    struct.error,
    NotImplementedError,
    UnicodeDecodeError,
    OSError,
)


@contextmanager
def _archive_errors() -> Iterator[None]:
    """Report zipfile/zlib failures as InvalidDocument."""
    try:
        yield
    except _ZIP_ERRORS as exc:
        raise InvalidDocument(gettext("The archive is damaged (%(exc)s).", exc=exc), ZIP_INTEGRITY) from exc


@contextmanager
def _sound_zip(path: str, size: int, limits: Limits) -> Iterator[zipfile.ZipFile]:
    """Open the archive at path, refusing it unless it is whole and within limits.

    By the time the ZipFile is yielded, the declared sizes were checked before
    any decompression, and then every member was decompressed once, in chunks,
    to verify its CRC and its real size.
    """
    with open(path, "rb") as fh:
        with _archive_errors():
            _check_end_record(fh, size, limits)
            if not zipfile.is_zipfile(fh):
                raise InvalidDocument(gettext("The file is not a zip archive, or it is truncated."), ZIP_INTEGRITY)
            zf = zipfile.ZipFile(fh)
        with zf:
            infos = zf.infolist()
            _check_declared(infos, limits)
            _read_members(zf, infos, limits)
            yield zf


# End-of-central-directory records (APPNOTE 4.3.14 to 4.3.16).
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_MAX_COMMENT = 0xFFFF
# Generous average size of one central directory entry in a real document
# (46 fixed bytes plus name and extra fields); used to bound the directory.
_CD_BYTES_PER_ENTRY = 1024


def _check_end_record(fh: BinaryIO, size: int, limits: Limits) -> None:
    """Refuse an archive whose central directory is too large, before zipfile loads it.

    zipfile reads the whole central directory in one go and builds an object
    per entry before infolist() can be counted, so a 100 MB file of tiny
    entries would cost gigabytes. This finds the end record the way zipfile
    does (no comment first, then the last signature in the final 64 KiB, then
    a ZIP64 record just before it) and checks the entry count and directory
    size it declares. A file without an end record is left to is_zipfile.
    """
    tail_length = min(size, _EOCD.size + _MAX_COMMENT + 1)
    fh.seek(size - tail_length)
    tail = fh.read(tail_length)
    last = len(tail) - _EOCD.size
    if last >= 0 and tail[last : last + 4] == _EOCD_SIGNATURE and tail[-2:] == b"\0\0":
        at = last
    else:
        at = tail.rfind(_EOCD_SIGNATURE)
        if at < 0 or at > last:
            return
    entries, directory_size = _EOCD.unpack_from(tail, at)[4:6]
    record_offset = size - tail_length + at
    zip64_offset = record_offset - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    if zip64_offset >= 0:
        fh.seek(zip64_offset)
        block = fh.read(_ZIP64_EOCD.size + _ZIP64_LOCATOR.size)
        if block[:4] == _ZIP64_EOCD_SIGNATURE and block[_ZIP64_EOCD.size :][:4] == _ZIP64_LOCATOR_SIGNATURE:
            entries, directory_size = _ZIP64_EOCD.unpack_from(block)[7:9]
    if entries > limits.max_entries:
        raise InvalidDocument(
            gettext(
                "The archive has %(entries)s members, more than the limit of %(max_entries)s.",
                entries=entries,
                max_entries=limits.max_entries,
            ),
            ZIP_LIMITS,
        )
    if directory_size > limits.max_entries * _CD_BYTES_PER_ENTRY:
        raise InvalidDocument(
            gettext(
                "The archive's directory is %(directory_size)s bytes, far larger than a document needs.",
                directory_size=directory_size,
            ),
            ZIP_LIMITS,
        )


def _check_declared(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Check the central directory's names and declared sizes; nothing is decompressed here."""
    if len(infos) > limits.max_entries:
        raise InvalidDocument(
            f"The archive has {len(infos)} members, more than the limit of {limits.max_entries}.", ZIP_LIMITS
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        _check_member_name(info)
        # zipfile keeps only the last of two same-named members; other readers
        # may take the first, so what we check might not be what they open.
        if info.filename in seen:
            raise InvalidDocument(
                gettext("The archive has two members named %(filename)r.", filename=info.filename), ZIP_INTEGRITY
            )
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise InvalidDocument(
                gettext("The archive member %(filename)r is encrypted.", filename=info.filename), ZIP_INTEGRITY
            )
        if info.compress_type not in _ALLOWED_COMPRESSION:
            raise InvalidDocument(
                gettext(
                    "The archive member %(filename)r uses an unsupported compression method.", filename=info.filename
                ),
                ZIP_INTEGRITY,
            )
        total += info.file_size
        if total > limits.max_uncompressed:
            raise InvalidDocument(
                gettext(
                    "The archive would expand to more than %(max_uncompressed)s bytes, the limit.",
                    max_uncompressed=limits.max_uncompressed,
                ),
                SIZE_LIMIT,
            )
        if info.file_size > _MIB and info.file_size > limits.max_ratio * info.compress_size:
            raise InvalidDocument(
                gettext(
                    "The archive member %(filename)r has a compression ratio above %(max_ratio)s:1, "
                    "which only a zip bomb needs.",
                    filename=info.filename,
                    max_ratio=limits.max_ratio,
                ),
                EXPANSION_RATIO,
            )


def _check_member_name(info: zipfile.ZipInfo) -> None:
    # orig_filename is the name as stored; zipfile's filename has already had
    # backslashes converted on Windows and anything after a NUL dropped, and
    # other tools that unpack the file would see the stored name.
    name = info.orig_filename
    if "\0" in name:
        raise InvalidDocument(gettext("An archive member name contains a NUL character."), ZIP_INTEGRITY)
    slashed = name.replace("\\", "/")
    if slashed.startswith("/") or (len(slashed) > 1 and slashed[1] == ":"):
        raise InvalidDocument(
            gettext("The archive member name %(name)r is an absolute path.", name=name), ZIP_INTEGRITY
        )
    # A ".." path component, not any "..": "notes..xml" is a harmless name.
    if ".." in slashed.split("/"):
        raise InvalidDocument(
            gettext("The archive member name %(name)r climbs out of the archive with '..'.", name=name), ZIP_INTEGRITY
        )


def _read_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Decompress every member in chunks, counting real bytes, so its CRC gets checked.

    zipfile verifies a member's CRC once it has been read to the end. The
    declared sizes were checked already, but they come from the archive and
    can lie, so the real output is counted too and reading stops as soon as it
    goes beyond what was declared or allowed.
    """
    total = 0
    for info in infos:
        produced = 0
        try:
            with zf.open(info) as member:
                while chunk := member.read(_CHUNK):
                    produced += len(chunk)
                    total += len(chunk)
                    if produced > info.file_size:
                        raise InvalidDocument(
                            gettext(
                                "The archive member %(filename)r is larger than it declares.", filename=info.filename
                            ),
                            ZIP_INTEGRITY,
                        )
                    if total > limits.max_uncompressed:
                        raise InvalidDocument(
                            gettext(
                                "The archive expands to more than %(max_uncompressed)s bytes, the limit.",
                                max_uncompressed=limits.max_uncompressed,
                            ),
                            SIZE_LIMIT,
                        )
                    if produced > _MIB and produced > limits.max_ratio * info.compress_size:
                        raise InvalidDocument(
                            gettext(
                                "The archive member %(filename)r expands more than %(max_ratio)s:1, "
                                "which only a zip bomb needs.",
                                filename=info.filename,
                                max_ratio=limits.max_ratio,
                            ),
                            EXPANSION_RATIO,
                        )
        except _ZIP_ERRORS as exc:
            raise InvalidDocument(
                gettext("The archive member %(filename)r is corrupted (%(exc)s).", filename=info.filename, exc=exc),
                ZIP_INTEGRITY,
            ) from exc


# --- XML --------------------------------------------------------------------


def _local_name(tag: str) -> str:
    """Tag without its {namespace}: transitional and strict OOXML differ only there."""
    return tag.rpartition("}")[2]


def _scan_xml(zf: zipfile.ZipFile, name: str, on_start: Optional[Callable[[str, dict[str, str]], None]] = None) -> str:
    """Stream-parse member ``name`` and return its root element's local name.

    ``on_start`` sees each element's local name and attributes as it opens. Nothing of the tree
    is kept, so memory does not grow with the size of the part. Without ``on_start`` no Python
    code runs past the root element: expat checks the rest for well-formedness at its own speed
    (a word-processing document's main part can be hundreds of megabytes). Raise InvalidDocument
    if the part is not well-formed or has a DTD.
    """
    root: list[str] = []
    parser = expat.ParserCreate(namespace_separator="}")
    # defusedxml's guards for expat, with DTDs forbidden: the DOCTYPE itself is refused, so
    # neither entity bombs nor external entities are ever declared; no Office or ODF part needs
    # a DTD.
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external_reference

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not root:
            root.append(_local_name(tag))
            if on_start is None:
                parser.StartElementHandler = None  # the rest only needs to be well-formed
                return
        on_start(_local_name(tag), attrs)

    parser.StartElementHandler = start
    try:
        with _archive_errors(), zf.open(name) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except defusedxml.DefusedXmlException as exc:
        raise InvalidDocument(f"{name} declares a DTD or entities, which are refused.", XML_DTD) from exc
    except expat.ExpatError as exc:
        raise InvalidDocument(f"{name} is not well-formed XML ({exc}).", XML_WELLFORMEDNESS) from exc
    if not root:  # expat refuses a part without an element; kept as a guard
        raise InvalidDocument(f"{name} has no root element.")
    return root[0]


def _refuse_dtd(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _refuse_entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _refuse_unparsed_entity(name, base, sysid, pubid, notation_name):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _refuse_external_reference(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


# --- Dispatch ---------------------------------------------------------------

_CHECKERS: dict[str, Callable[[str, str, int, Limits], None]] = {
    **dict.fromkeys(_OOXML_FAMILY, _check_ooxml),
    **dict.fromkeys(_ODF_MIMETYPE, _check_odf),
    "pdf": _check_pdf,
    "txt": _check_text,
    "csv": _check_text,
    "tsv": _check_text,
}


def checkable(ext: str) -> bool:
    """Whether documents of this type can be checked (and so accepted from Docs)."""
    return ext.lower().lstrip(".") in _CHECKERS

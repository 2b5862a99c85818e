"""The conversion service: parameter checks, download, password-protected OOXML, the few conversions
the emulator does itself, LibreOffice for the rest when installed, page images and thumbnails,
results cached per (key, output type), async polling with progress."""

from __future__ import annotations

import re
import threading
import time

from . import documents
from . import formats
from . import office
from .outbound import DownloadError

KEY_RE = re.compile(r"^[0-9-.a-zA-Z_=]*$")
EXT_RE = re.compile(r"^[a-zA-Z0-9]+$")
# How long an async conversion is expected to take beyond convert_delay: the clock its percent follows.
EXPECTED_SECONDS = 3.0
# Docs' inputLimits: uncompressed size of a zip package it agrees to open (-10 beyond).
UNZIPPED_LIMITS = {"word": 50 * 1024 * 1024, "slide": 50 * 1024 * 1024, "cell": 300 * 1024 * 1024}


class ConversionError(Exception):
    """A conversion failed; ``code`` is the conversion API error (-2, -3, -4, -5, -7, -9, -10)."""

    def __init__(self, code: int, detail: str = ""):
        super().__init__(detail or str(code))
        self.code = code


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class Converter:
    """Runs conversions for the /converter and /ConvertService.ashx endpoints."""

    def __init__(self, emulator):
        self.emu = emulator
        self._lock = threading.Lock()
        self.results: dict[tuple[str, str], dict] = {}  # finished: stored file and names
        self.running: dict[tuple[str, str], dict] = {}  # async: start time, expected duration, last percent
        self.failed: dict[tuple[str, str], int] = {}  # async failures waiting to be reported once

    def soffice(self) -> str | None:
        """Path of LibreOffice's soffice if available."""
        return office.soffice_path(self.emu.options.soffice)

    def handle(self, params: dict) -> dict:
        """Answer one conversion request (JSON shape; the view turns it into XML if asked)."""
        try:
            source, output, key = self._validate(params)
        except ConversionError as exc:
            return {"error": exc.code}
        ident = (key, output)
        with self._lock:
            done = self.results.get(ident)
            if done is None and params.get("async") is True:
                if ident in self.failed:
                    return {"error": self.failed.pop(ident)}
                if ident in self.running:
                    return {"endConvert": False, "percent": self._percent(self.running[ident])}
                expected = self.emu.options.convert_delay + EXPECTED_SECONDS
                self.running[ident] = {"started": time.monotonic(), "expected": expected, "last": 0}
                self.emu.jobs.start(self._run_async, ident, params, source, output, name="convert")
                return {"endConvert": False, "percent": 0}
        if done is None:
            try:
                done = self._convert(params, source, output)
            except ConversionError as exc:
                return {"error": exc.code}
            with self._lock:
                self.results[ident] = done
        return self._success(done)

    @staticmethod
    def _percent(job: dict) -> int:
        # The API documents percent as progress, though Docs' own server only ever sends 0 or 100;
        # the emulator reports time elapsed against the expected duration (1..95, never going back)
        # so clients that show progress can be tested. 100 comes only with endConvert: true.
        elapsed = time.monotonic() - job["started"]
        job["last"] = max(job["last"], min(95, max(1, int(100 * elapsed / job["expected"]))))
        return job["last"]

    def _success(self, done: dict) -> dict:
        url = self.emu.store.url(done["file_id"], done["filename"], done["download_name"])
        return {"endConvert": True, "fileType": done["fileType"], "fileUrl": url, "percent": 100}

    def _run_async(self, ident, params, source, output) -> None:
        try:
            done = self._convert(params, source, output)
            with self._lock:
                self.results[ident] = done
        except ConversionError as exc:
            with self._lock:
                self.failed[ident] = exc.code
        finally:
            with self._lock:
                self.running.pop(ident, None)

    def _validate(self, params: dict) -> tuple[str, str, str]:
        key = params.get("key")
        source = params.get("filetype") or params.get("fileType")
        output = params.get("outputtype") or params.get("outputType")
        if not isinstance(key, str) or not key or not KEY_RE.match(key):
            raise ConversionError(-7, "bad key")
        if not isinstance(source, str) or not EXT_RE.match(source) or not formats.is_known_file_type(source.lower()):
            raise ConversionError(-7, "bad filetype")
        if not isinstance(output, str) or output.lower() not in formats.OUTPUT_TYPES:
            raise ConversionError(-7, "bad outputtype")
        password = params.get("password")
        if password is not None and (not isinstance(password, str) or len(password) > 255):
            raise ConversionError(-7, "bad password")
        if not isinstance(params.get("url"), str):
            raise ConversionError(-7, "no url")
        if params.get("thumbnail") is not None and not isinstance(params.get("thumbnail"), dict):
            raise ConversionError(-7, "thumbnail must be an object")
        if params.get("watermark") is not None and not isinstance(params.get("watermark"), dict):
            raise ConversionError(-7, "watermark must be an object")
        source, output = source.lower(), output.lower()
        if source == "xml" and output in ("ooxml", "odf"):
            return source, output, key  # the family comes from the content (see _xml_family)
        return source, formats.resolve_output_type(output, source), key

    def _convert(self, params: dict, source: str, output: str) -> dict:
        try:
            data = self.emu.downloader.fetch(params["url"], "convert")
        except DownloadError as exc:
            raise ConversionError(exc.code, str(exc)) from None
        if self.emu.options.convert_delay > 0:
            self.emu.jobs.sleep(self.emu.options.convert_delay)  # makes async progress observable
        if not data and source in ("docx", "xlsx", "pptx", "pdf"):
            data = documents.blank(source)  # Docs' newFileTemplate for empty sources
        if source == "xml" and output in ("ooxml", "odf"):
            output = formats.resolve_output_type(output, _xml_family(data))
        self._check_size(data, source)
        if office.is_encrypted_ooxml(data, source):
            try:
                data = office.decrypt_ooxml(data, params.get("password"))
            except office.OfficeError as exc:
                raise ConversionError(exc.code, str(exc)) from None
        encoding = documents.CODE_PAGES.get(_int(params.get("codePage"), 65001), "utf-8")
        delimiter = documents.DELIMITERS.get(_int(params.get("delimiter"), 4), ",")
        if isinstance(params.get("delimiterChar"), str) and len(params["delimiterChar"]) == 1:
            delimiter = params["delimiterChar"]
        if source == "tsv":
            delimiter = "\t"
        try:
            result, output = self._convert_bytes(data, source, output, encoding, delimiter, params.get("thumbnail"))
        except ConversionError:
            raise
        except office.OfficeError as exc:
            raise ConversionError(exc.code, str(exc)) from None
        except Exception as exc:  # a parser failure = corrupt or unsupported input
            raise ConversionError(-3, f"{type(exc).__name__}: {exc}") from None
        if output == "pdf" and params.get("watermark"):
            result = documents.stamp_pdf(result, watermark_text(params["watermark"]))
        title = params.get("title") if isinstance(params.get("title"), str) and params.get("title") else "output"
        stem = title.rsplit(".", 1)[0] if "." in title else title
        filename = f"output.{output}"
        file_id = self.emu.store.put(result, filename, "conv")
        return {"file_id": file_id, "filename": filename, "download_name": f"{stem}.{output}", "fileType": output}

    def _check_size(self, data: bytes, source: str) -> None:
        limit = self.emu.options.max_unzipped_bytes or UNZIPPED_LIMITS.get(formats.document_type_of(source) or "", 0)
        size = office.unzipped_size(data) if limit else None
        if size is not None and size > limit:
            raise ConversionError(-10, f"{size} bytes unzipped, the limit is {limit}")

    def _convert_bytes(
        self, data: bytes, source: str, output: str, encoding: str, delimiter: str, thumbnail
    ) -> tuple[bytes, str]:
        """The converted bytes and their file type (a zip when thumbnail.first is false)."""
        if output in office.IMAGE_FORMATS:
            # Image outputs are page renderings: the document as PDF, then its pages as pictures.
            pdf = data if source == "pdf" else self._convert_bytes(data, source, "pdf", encoding, delimiter, None)[0]
            return office.page_images(pdf, output, thumbnail or {}, self.emu.options.convert_timeout)
        return self._convert_document(data, source, output, encoding, delimiter), output

    def _convert_document(self, data: bytes, source: str, output: str, encoding: str, delimiter: str) -> bytes:
        if source == output and source in ("docx", "xlsx", "pptx"):
            documents.check_readable(data, source)  # the settings page's round trip
            return data
        # Text sources go through OOXML: the emulator honours codePage and delimiter itself.
        if source == "txt":
            data, source = documents.txt_to_docx(data, encoding), "docx"
        elif source in ("csv", "tsv"):
            data, source = documents.csv_to_xlsx(data, encoding, delimiter), "xlsx"
        if source == output:
            return data
        if (source, output) == ("docx", "txt"):
            return documents.docx_to_txt(data)
        if (source, output) == ("xlsx", "csv"):
            return documents.xlsx_to_csv(data, delimiter)
        soffice = self.soffice()
        if soffice:
            return office.soffice_convert(soffice, data, source, output, self.emu.options.convert_timeout)
        if output == "pdf" and source in formats.RENDERED:
            # No LibreOffice: a text-only PDF keeps pdf export testable.
            return documents.make_pdf(documents.text_lines(data, source))
        raise ConversionError(-3, f"the emulator cannot convert {source} to {output} without LibreOffice")

    def clear(self) -> None:
        """Forget cached results (control API reset)."""
        with self._lock:
            self.results.clear()
            self.failed.clear()


def watermark_text(watermark: dict) -> str:
    """The text of a watermark_on_draw object: its paragraphs' runs, a line per paragraph."""
    paragraphs = watermark.get("paragraphs") if isinstance(watermark.get("paragraphs"), list) else []
    lines = []
    for paragraph in paragraphs:
        runs = paragraph.get("runs") if isinstance(paragraph, dict) and isinstance(paragraph.get("runs"), list) else []
        lines.append("".join(str(run.get("text", "")) for run in runs if isinstance(run, dict)))
    return "\n".join(lines)


def _xml_family(data: bytes) -> str:
    """word or cell for an XML source (Office 2003 XML); -9 when the content does not say."""
    head = data[:4096]
    if b"Excel.Sheet" in head or b"<Workbook" in head or b"<ss:Workbook" in head:
        return "xlsx"
    if b"Word.Document" in head or b"<w:wordDocument" in head or b"<pkg:package" in head:
        return "docx"
    raise ConversionError(-9, "cannot tell whether the XML is a document or a spreadsheet")

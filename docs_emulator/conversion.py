"""The conversion service: parameter checks, download, the few conversions the emulator does itself,
LibreOffice for the rest when installed, results cached per (key, output type), async polling."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from . import documents
from . import formats
from .outbound import DownloadError

KEY_RE = re.compile(r"^[0-9-.a-zA-Z_=]*$")
EXT_RE = re.compile(r"^[a-zA-Z0-9]+$")
SOFFICE_TIMEOUT = 120


class ConversionError(Exception):
    """A conversion failed; ``code`` is the conversion API error (-3, -4, -7, -10)."""

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
        self.running: set[tuple[str, str]] = set()
        self.failed: dict[tuple[str, str], int] = {}  # async failures waiting to be reported once

    def soffice(self) -> str | None:
        """Path of LibreOffice's soffice if available."""
        return self.emu.options.soffice or shutil.which("soffice") or shutil.which("libreoffice")

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
                if ident not in self.running:
                    self.running.add(ident)
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
                self.running.discard(ident)

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
        source = source.lower()
        return source, formats.resolve_output_type(output.lower(), source), key

    def _convert(self, params: dict, source: str, output: str) -> dict:
        try:
            data = self.emu.downloader.fetch(params["url"], "convert")
        except DownloadError as exc:
            raise ConversionError(exc.code, str(exc)) from None
        if not data and source in ("docx", "xlsx", "pptx", "pdf"):
            data = documents.blank(source)  # Docs' newFileTemplate for empty sources
        encoding = documents.CODE_PAGES.get(_int(params.get("codePage"), 65001), "utf-8")
        delimiter = documents.DELIMITERS.get(_int(params.get("delimiter"), 4), ",")
        if isinstance(params.get("delimiterChar"), str) and len(params["delimiterChar"]) == 1:
            delimiter = params["delimiterChar"]
        try:
            result = self._convert_bytes(data, source, output, encoding, delimiter)
        except ConversionError:
            raise
        except Exception as exc:  # a parser failure = corrupt or unsupported input
            raise ConversionError(-3, f"{type(exc).__name__}: {exc}") from None
        title = params.get("title") if isinstance(params.get("title"), str) and params.get("title") else "output"
        stem = title.rsplit(".", 1)[0] if "." in title else title
        filename = f"output.{output}"
        file_id = self.emu.store.put(result, filename, "conv")
        return {"file_id": file_id, "filename": filename, "download_name": f"{stem}.{output}", "fileType": output}

    def _convert_bytes(self, data: bytes, source: str, output: str, encoding: str, delimiter: str) -> bytes:
        if source == output and source in ("docx", "xlsx", "pptx"):
            documents.check_readable(data, source)  # the settings page's round trip
            return data
        if (source, output) == ("txt", "docx"):
            return documents.txt_to_docx(data, encoding)
        if (source, output) == ("csv", "xlsx"):
            return documents.csv_to_xlsx(data, encoding, delimiter)
        if (source, output) == ("docx", "txt"):
            return documents.docx_to_txt(data)
        if (source, output) == ("xlsx", "csv"):
            return documents.xlsx_to_csv(data, delimiter)
        soffice = self.soffice()
        if soffice:
            return self._soffice(soffice, data, source, output)
        if output == "pdf" and source in formats.RENDERED:
            # No LibreOffice: a text-only PDF keeps pdf export testable.
            return documents.make_pdf(documents.text_lines(data, source))
        raise ConversionError(-3, f"the emulator cannot convert {source} to {output}")

    def _soffice(self, soffice: str, data: bytes, source: str, output: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="emu-soffice-") as tmp:
            src = Path(tmp) / f"input.{source}"
            src.write_bytes(data)
            profile = Path(tmp) / "profile"
            cmd = [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                output,
                "--outdir",
                tmp,
                str(src),
            ]
            try:
                subprocess.run(
                    cmd, capture_output=True, timeout=SOFFICE_TIMEOUT, check=False, env={**os.environ, "HOME": tmp}
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ConversionError(-3, f"soffice failed: {exc}") from None
            out = Path(tmp) / f"input.{output}"
            if not out.is_file():
                raise ConversionError(-3, "soffice produced no file")
            return out.read_bytes()

    def clear(self) -> None:
        """Forget cached results (control API reset)."""
        with self._lock:
            self.results.clear()
            self.failed.clear()

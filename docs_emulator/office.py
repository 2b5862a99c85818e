"""The tools behind the emulator's real conversions: LibreOffice (soffice --headless --convert-to),
poppler's pdftoppm for page images, Pillow to size them, msoffcrypto-tool for password-protected OOXML.

Docs does all of this with its own x2t converter; the emulator only needs results whose content tests
can check, so it borrows whatever is installed and says plainly (OfficeError) when something is not.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from PIL import Image


class OfficeError(Exception):
    """A tool failed; ``code`` is the conversion API error (-2 timeout, -3 conversion, -5 password)."""

    def __init__(self, code: int, detail: str):
        super().__init__(detail)
        self.code = code


# What LibreOffice is asked to write for an output extension: "ext:Filter:options". Text outputs are
# UTF-8 and csv comma separated, as Docs writes them; the rest use LibreOffice's default filter.
_FILTERS = {
    "docx": "docx:MS Word 2007 XML",
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "pptx": "pptx:Impress MS PowerPoint 2007 XML",
    "txt": "txt:Text (encoded):UTF8",
    "csv": "csv:Text - txt - csv (StarCalc):44,34,76,1",
    "html": "html:XHTML Writer File:UTF8",
}

# docxf (a form template) and oform are docx packages LibreOffice does not know by their names.
_READ_AS = {"docxf": "docx", "oform": "docx"}

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream name as it appears in an OLE directory entry (UTF-16LE).
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
OOXML_TYPES = set("docx docm dotx dotm xlsx xlsm xltx xltm xlsb pptx pptm potx potm ppsx ppsm".split())


def soffice_path(configured: str | None) -> str | None:
    """soffice to run: the --soffice option, else whatever PATH has."""
    return configured or shutil.which("soffice") or shutil.which("libreoffice")


def soffice_convert(soffice: str, data: bytes, source: str, output: str, timeout: float) -> bytes:
    """Convert with ``soffice --headless --convert-to``; OfficeError(-3) when it writes nothing.

    Every run gets its own temporary folder and LibreOffice user profile
    (-env:UserInstallation): two soffice processes sharing a profile block or fail each other.
    """
    with tempfile.TemporaryDirectory(prefix="emu-soffice-") as tmp:
        src = Path(tmp) / f"input.{_READ_AS.get(source, source)}"
        src.write_bytes(data)
        outdir = Path(tmp) / "out"
        cmd = [
            soffice,
            f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            _FILTERS.get(output, output),
            "--outdir",
            str(outdir),
            str(src),
        ]
        log = _run(cmd, timeout, {"HOME": tmp})
        produced = sorted(outdir.glob("*")) if outdir.is_dir() else []
        if not produced:
            raise OfficeError(-3, f"LibreOffice could not convert {source} to {output}: {log.strip()[-300:]}")
        return produced[0].read_bytes()


def _run(cmd: list[str], timeout: float, env: dict | None = None) -> str:
    # A session of its own, so a timeout kills soffice.bin too, not only the soffice wrapper script.
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        raise OfficeError(-3, f"cannot run {cmd[0]}: {exc}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise OfficeError(-2, f"{Path(cmd[0]).name} took longer than {timeout:g}s") from None
    return out.decode(errors="replace")


# --- page images (the conversion API's image outputs and thumbnail parameter) --------------------

IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "gif": "GIF"}


def page_images(pdf: bytes, output: str, thumbnail: dict, timeout: float) -> tuple[bytes, str]:
    """Images of a PDF's pages as the conversion API's ``thumbnail`` asks: ``(bytes, file type)``.

    aspect 0 stretches to width x height, 1 fits inside it keeping the proportions, 2 (the default)
    is the page at 96 dpi. ``first`` (default true) gives the first page, else a zip of all pages.
    """
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        raise OfficeError(-3, "page images need pdftoppm (poppler-utils)")
    aspect = _int(thumbnail.get("aspect"), 2)
    width = max(1, _int(thumbnail.get("width"), 100))
    height = max(1, _int(thumbnail.get("height"), 100))
    first = thumbnail.get("first", True) is not False
    # Render sharp enough for the requested size, then let Pillow size it exactly.
    dpi = 96 if aspect not in (0, 1) else 150
    with tempfile.TemporaryDirectory(prefix="emu-pages-") as tmp:
        src = Path(tmp) / "input.pdf"
        src.write_bytes(pdf)
        cmd = [pdftoppm, "-png", "-r", str(dpi)]
        if first:
            cmd += ["-f", "1", "-l", "1", "-singlefile"]
        _run(cmd + [str(src), str(Path(tmp) / "page")], timeout)
        pages = sorted(Path(tmp).glob("page*.png"), key=lambda p: (len(p.name), p.name))
        if not pages:
            raise OfficeError(-3, "the document has no page to render")
        images = [_sized(Image.open(p), aspect, width, height, output) for p in pages]
    if first:
        return images[0], output
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, image in enumerate(images, 1):
            zf.writestr(f"image{n}.{output}", image)
    return buf.getvalue(), "zip"


def _sized(image: Image.Image, aspect: int, width: int, height: int, output: str) -> bytes:
    image.load()
    if aspect == 0:
        image = image.resize((width, height), Image.LANCZOS)
    elif aspect == 1:
        scale = min(width / image.width, height / image.height)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
    if output in ("jpg", "bmp"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, IMAGE_FORMATS[output])
    return buf.getvalue()


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- password-protected OOXML ---------------------------------------------------------------------


def is_encrypted_ooxml(data: bytes, file_type: str) -> bool:
    """An encrypted docx/xlsx/pptx is not a zip but an OLE compound file (MS-OFFCRYPTO) holding the
    streams EncryptionInfo and EncryptedPackage; a legacy .doc renamed .docx has no EncryptionInfo."""
    return file_type in OOXML_TYPES and data.startswith(OLE_MAGIC) and _ENCRYPTION_INFO in data


def decrypt_ooxml(data: bytes, password: str | None) -> bytes:
    """The zip inside an encrypted OOXML file; OfficeError(-5) without the right password."""
    if not password:
        raise OfficeError(-5, "the file is password protected and no password was given")
    try:
        import msoffcrypto
    except ImportError:
        raise OfficeError(-3, "decrypting needs msoffcrypto-tool (requirements-dev.txt)") from None
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password)
        out = io.BytesIO()
        office.decrypt(out)
    except Exception as exc:  # msoffcrypto raises InvalidKeyError and friends for a wrong password
        raise OfficeError(-5, f"wrong password ({type(exc).__name__})") from None
    return out.getvalue()


def encrypt_ooxml(data: bytes, password: str) -> bytes:
    """A password-protected copy of a docx/xlsx/pptx (ECMA-376 agile encryption), for tests."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def unzipped_size(data: bytes) -> int | None:
    """Total uncompressed size of a zip package (Docs' inputLimits), None if it is not a zip."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        return None

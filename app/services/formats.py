"""What each file extension is to the Document Server: its editor, whether it edits, its MIME type."""

DOCUMENT_TYPES = {
    "word": (
        "doc docm docx dot dotm dotx epub fb2 fodt hml htm html hwp hwpx md mht mhtml odt ott "
        "pages rtf stw sxw txt wps wpt xml"
    ).split(),
    "cell": "csv et ett fods numbers ods ots sxc xls xlsb xlsm xlsx xlt xltm xltx tsv".split(),
    "slide": ("dps dpt fodp key odg odp otp pot potm potx pps ppsm ppsx ppt pptm pptx sxi").split(),
    "pdf": "djvu oxps pdf xps".split(),
    "diagram": "vsdm vsdx vssm vssx vstm vstx".split(),
}
EXTENSION_TYPES = {}
for _type, _exts in DOCUMENT_TYPES.items():
    for _ext in _exts:
        EXTENSION_TYPES.setdefault(_ext, _type)  # xml is word first, as Docs treats it

# Opened for editing; everything else with a document type opens in the viewer.
EDITABLE = frozenset({"docx", "xlsx", "pptx", "pdf"})

MIME_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "csv": "text/csv",
}

# The Create document menu: label, extension.
CREATABLE = (("Document", "docx"), ("Spreadsheet", "xlsx"), ("Presentation", "pptx"), ("PDF form", "pdf"))


def extension_of(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def document_type(ext: str) -> str | None:
    """word, cell, slide, pdf or diagram; None when Docs cannot open the file."""
    return EXTENSION_TYPES.get(ext)


def is_editable(ext: str) -> bool:
    return ext in EDITABLE


def mime_type(ext: str) -> str:
    """The type a file is served with: ours for office formats, otherwise inert bytes.

    Never guessed from the extension: an uploaded .html, .svg, .xml or .js served as what it is
    would run in the site's origin when opened from a link.
    """
    return MIME_TYPES.get(ext, "application/octet-stream")


# provisional until the formats table lands: the formats module's API (get, conversion_targets,
# can_convert, ooxml_target, icon) over just the data conversions, Download as and previews need.
from dataclasses import dataclass  # noqa: E402

_DOCX_TARGETS = tuple("pdf odt txt rtf html epub docm dotx ott fb2 md png jpg bmp gif pdfa".split())
_XLSX_TARGETS = tuple("pdf ods csv xlsm xltx ots png jpg bmp gif pdfa".split())
_PPTX_TARGETS = tuple("pdf odp png jpg bmp gif pptm potx otp pdfa".split())
_OOXML = {"word": "docx", "cell": "xlsx", "slide": "pptx"}
_AUTO_CONVERT = {
    **dict.fromkeys(("doc", "odt", "rtf", "txt"), "docx"),
    **dict.fromkeys(("xls", "ods", "csv"), "xlsx"),
    **dict.fromkeys(("ppt", "odp"), "pptx"),
    **dict.fromkeys(("docxf", "oform"), "pdf"),
}
_TARGETS = {
    "docx": _DOCX_TARGETS,
    "xlsx": _XLSX_TARGETS,
    "pptx": _PPTX_TARGETS,
    "pdf": ("png", "jpg", "bmp", "gif", "pdfa"),
    **{ext: (target, "pdf", "png") for ext, target in _AUTO_CONVERT.items() if target != "pdf"},
    "docxf": ("pdf", "docx"),
    "oform": ("pdf",),
}


@dataclass(frozen=True)
class Format:
    ext: str
    document_type: str | None
    actions: frozenset
    targets: tuple
    mimes: tuple


def get(ext: str) -> Format | None:
    ext = (ext or "").lower()
    kind = document_type(ext)
    if kind is None and ext not in _TARGETS:
        return None
    actions = {"view"}
    if is_editable(ext):
        actions.add("edit")
    if ext in _AUTO_CONVERT:
        actions.add("auto-convert")
    return Format(ext, kind, frozenset(actions), _TARGETS.get(ext, ()), (mime_type(ext),))


def conversion_targets(ext: str) -> tuple[str, ...]:
    found = get(ext)
    return found.targets if found else ()


def can_convert(ext: str, target: str) -> bool:
    return (target or "").lower() in conversion_targets(ext)


def ooxml_target(ext: str) -> str | None:
    return _AUTO_CONVERT.get((ext or "").lower())


def icon(ext: str) -> str:
    """The placeholder shown until a preview exists: one glyph per document type."""
    return {"word": "📄", "cell": "📊", "slide": "📽", "pdf": "📕", "diagram": "📐"}.get(document_type(ext) or "", "📁")

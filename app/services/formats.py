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

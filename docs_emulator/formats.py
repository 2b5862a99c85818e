"""File formats: documentType of each extension, which ones open for editing, what converts to what."""

from __future__ import annotations

DOCUMENT_TYPES = {
    "word": (
        "doc docm docx dot dotm dotx epub fb2 fodt hml htm html hwp hwpx md mht mhtml odt ott "
        "pages rtf stw sxw txt wps wpt xml oform docxf gdoc"
    ).split(),
    "cell": "csv et ett fods numbers ods ots sxc xls xlsb xlsm xlsx xlt xltm xltx xml tsv gsheet".split(),
    "slide": "dps dpt fodp key odg odp otp pot potm potx pps ppsm ppsx ppt pptm pptx sxi gslides".split(),
    "pdf": "djvu oxps pdf xps".split(),
    "diagram": "vsdm vsdx vssm vssx vstm vstx".split(),
}

# Deprecated names still accepted by api.js (since 6.1).
DOCUMENT_TYPE_ALIASES = {"text": "word", "spreadsheet": "cell", "presentation": "slide"}

# What api.js assumes when only documentType is given.
DEFAULT_FILE_TYPE = {"word": "docx", "cell": "xlsx", "slide": "pptx", "pdf": "pdf", "diagram": "vsdx"}

EDITOR_APPS = {
    "word": "documenteditor",
    "cell": "spreadsheeteditor",
    "slide": "presentationeditor",
    "pdf": "pdfeditor",
    "diagram": "visioeditor",
}

# Formats Docs opens for editing ("edit" or "lossy-edit" in the formats table).
EDITABLE = set(
    "docm docx dotm dotx xlsb xlsm xlsx xltm xltx potm potx ppsm ppsx pptm pptx pdf "
    "epub fb2 html odt ott rtf txt csv ods ots tsv odp otp".split()
)

# Formats Docs edits with possible loss ("lossy-edit"): it opens them converted to OOXML, edits that,
# and its save callback delivers the OOXML file (filetype docx/xlsx/pptx); the integrator converts back.
LOSSY_EDIT = set("epub fb2 html odt ott rtf txt csv ods ots tsv odp otp".split())

# The OOXML type Docs works in for each document type.
OOXML_OF = {"word": "docx", "cell": "xlsx", "slide": "pptx"}

# Formats whose content the emulator can read and change itself.
RENDERED = {"docx", "xlsx", "pptx", "pdf", "txt", "csv"}

# Every extension the conversion service accepts as an output type.
OUTPUT_TYPES = set(
    "bmp csv docm docx dotm dotx epub fb2 gif html jpg md odp ods odt otp ots ott pdf pdfa png "
    "potm potx ppsm ppsx pptm pptx rtf tsv txt xlsm xlsx xltm xltx ooxml odf".split()
)

MIME_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "json": "application/json",
}


def document_type_of(file_type: str | None) -> str | None:
    """documentType for an extension (word wins for the ambiguous "xml")."""
    if not file_type:
        return None
    for doc_type, exts in DOCUMENT_TYPES.items():
        if file_type in exts:
            return doc_type
    return None


def is_known_file_type(file_type: str | None) -> bool:
    """True for every extension api.js accepts."""
    return document_type_of(file_type) is not None


def resolve_output_type(output: str, source: str) -> str:
    """Map the "ooxml"/"odf" aliases to a concrete extension for this source."""
    family = document_type_of(source) or "word"
    if output == "ooxml":
        return {"word": "docx", "cell": "xlsx", "slide": "pptx"}.get(family, "docx")
    if output == "odf":
        return {"word": "odt", "cell": "ods", "slide": "odp"}.get(family, "odt")
    return output


def mime_type(ext: str) -> str:
    """Content-Type for a served file."""
    return MIME_TYPES.get(ext, "application/octet-stream")

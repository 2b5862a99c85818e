"""What each file extension is to the Document Server, and so to Coedit.

One table drives everything: which files open in the editors and in which one (``documentType``),
whether they open for editing, which formats they convert to, the MIME types uploads and downloads
go with, and the icon a file list shows. The facts are ONLYOFFICE's own formats table
(ONLYOFFICE/document-formats ``onlyoffice-docs-formats.json``, which Docs itself reads), written here
one line per format; tests/test_formats.py keeps the two in agreement.

Actions, as ONLYOFFICE names them: ``view``; ``edit`` (native editing); ``lossy-edit`` (editable,
but saving may lose what the format cannot hold: opened for editing only when an administrator
chooses the format); ``auto-convert`` (connectors offer a conversion to OOXML); ``review``,
``comment``, ``fill`` (PDF forms), ``customfilter``, ``encrypt``.

Conversion targets are written as sets in the table's order: ``W`` the word set, ``C`` the cell
set, ``S`` the slide set, ``D`` pictures and PDF; the format itself is never its own target;
``-x`` leaves x out; lower-case targets are spelled out, comma-separated.
"""

from dataclasses import dataclass

from flask_babel import gettext

_SETS = {
    "W": "docx bmp docm dotm dotx epub fb2 gif html jpg md odt ott pdf pdfa png rtf txt".split(),
    "C": "xlsx bmp csv gif jpg ods ots pdf pdfa png tsv xlsm xltm xltx".split(),
    "S": "pptx bmp gif jpg odp otp pdf pdfa png potm potx ppsm ppsx pptm txt".split(),
    "D": "bmp gif jpg pdf pdfa png".split(),
}
_XML_TARGETS = (
    "docx,xlsx,bmp,csv,docm,dotm,dotx,epub,fb2,gif,html,jpg,md,ods,odt,ots,ott,pdf,pdfa,png,rtf,txt,tsv,xlsm,xltm,xltx"
)

# ext   type     actions                                       targets  MIME types (the first is served)
_TABLE = f"""
doc     word     view,auto-convert                             W        application/msword
docm    word     view,edit,review,comment,encrypt              W        application/vnd.ms-word.document.macroenabled.12
docx    word     view,edit,review,comment,encrypt              W        application/vnd.openxmlformats-officedocument.wordprocessingml.document
dot     word     view,auto-convert                             W        application/msword
dotm    word     view,edit,review,comment,encrypt              W        application/vnd.ms-word.template.macroenabled.12
dotx    word     view,edit,review,comment,encrypt              W        application/vnd.openxmlformats-officedocument.wordprocessingml.template
epub    word     view,lossy-edit,auto-convert                  W        application/epub+zip
fb2     word     view,lossy-edit,auto-convert                  W        text/fb2+xml application/x-fictionbook+xml
fodt    word     view,auto-convert                             W        application/vnd.oasis.opendocument.text-flat-xml
gdoc    word     view                                          -        application/vnd.google-apps.document
hml     word     view,auto-convert                             W        multipart/related
htm     word     view,auto-convert                             W-html   text/html
html    word     view,lossy-edit,auto-convert                  W        text/html
hwp     word     view,auto-convert                             W        application/x-hwp application/x-hwp-v5
hwpx    word     view,auto-convert                             W        application/x-hwpx
md      word     view,auto-convert                             W        text/markdown
mht     word     view,auto-convert                             W        message/rfc822
mhtml   word     view,auto-convert                             W        message/rfc822
odt     word     view,lossy-edit,auto-convert,review,comment,encrypt W  application/vnd.oasis.opendocument.text
ott     word     view,lossy-edit,auto-convert,review,comment,encrypt W  application/vnd.oasis.opendocument.text-template
pages   word     view,auto-convert                             W        application/vnd.apple.pages application/x-iwork-pages-sffpages
rtf     word     view,lossy-edit,auto-convert,review,comment   W        application/rtf text/rtf
stw     word     view,auto-convert                             W        application/vnd.sun.xml.writer.template
sxw     word     view,auto-convert                             W        application/vnd.sun.xml.writer
txt     word     view,lossy-edit                               W        text/plain
wps     word     view,auto-convert                             W        application/vnd.ms-works
wpt     word     view,auto-convert                             W        -
xml     word     view,auto-convert                             {_XML_TARGETS} application/xml text/xml
csv     cell     view,lossy-edit,customfilter                  C        text/csv application/csv text/x-comma-separated-values text/x-csv
et      cell     view,auto-convert                             C        -
ett     cell     view,auto-convert                             C        -
fods    cell     view,auto-convert                             C        application/vnd.oasis.opendocument.spreadsheet-flat-xml
gsheet  cell     view                                          -        application/vnd.google-apps.spreadsheet
numbers cell     view,auto-convert                             C        application/vnd.apple.numbers application/x-iwork-numbers-sffnumbers
ods     cell     view,lossy-edit,auto-convert,customfilter,comment,encrypt C application/vnd.oasis.opendocument.spreadsheet
ots     cell     view,lossy-edit,auto-convert,customfilter,comment,encrypt C application/vnd.oasis.opendocument.spreadsheet-template
tsv     cell     view,lossy-edit,customfilter                  C        text/tab-separated-values
sxc     cell     view,auto-convert                             C        application/vnd.sun.xml.calc
xls     cell     view,auto-convert                             C        application/vnd.ms-excel
xlsb    cell     view,edit,customfilter,comment,encrypt        C        application/vnd.ms-excel.sheet.binary.macroenabled.12
xlsm    cell     view,edit,customfilter,comment,encrypt        C        application/vnd.ms-excel.sheet.macroenabled.12 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
xlsx    cell     view,edit,customfilter,comment,encrypt        C        application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
xlt     cell     view,auto-convert                             C        application/vnd.ms-excel
xltm    cell     view,edit,customfilter,comment,encrypt        C        application/vnd.ms-excel.template.macroenabled.12
xltx    cell     view,edit,customfilter,comment,encrypt        C        application/vnd.openxmlformats-officedocument.spreadsheetml.template
dps     slide    view,auto-convert                             S-txt    -
dpt     slide    view,auto-convert                             S-txt    -
fodp    slide    view,auto-convert                             S-txt    application/vnd.oasis.opendocument.presentation-flat-xml
gslides slide    view                                          -        application/vnd.google-apps.presentation
key     slide    view,auto-convert                             S        application/vnd.apple.keynote application/x-iwork-keynote-sffkey application/vnd.apple.keynote.13
odg     slide    view,auto-convert                             S        application/vnd.oasis.opendocument.graphics application/x-vnd.oasis.opendocument.graphics
odp     slide    view,lossy-edit,auto-convert,comment,encrypt  S        application/vnd.oasis.opendocument.presentation
otp     slide    view,lossy-edit,auto-convert,comment,encrypt  S        application/vnd.oasis.opendocument.presentation-template
pot     slide    view,auto-convert                             S        application/vnd.ms-powerpoint
potm    slide    view,edit,comment,encrypt                     S        application/vnd.ms-powerpoint.template.macroenabled.12
potx    slide    view,edit,comment,encrypt                     S        application/vnd.openxmlformats-officedocument.presentationml.template
pps     slide    view,auto-convert                             S        application/vnd.ms-powerpoint
ppsm    slide    view,edit,comment,encrypt                     S        application/vnd.ms-powerpoint.slideshow.macroenabled.12
ppsx    slide    view,edit,comment,encrypt                     S        application/vnd.openxmlformats-officedocument.presentationml.slideshow
ppt     slide    view,auto-convert                             S        application/vnd.ms-powerpoint
pptm    slide    view,edit,comment,encrypt                     S        application/vnd.ms-powerpoint.presentation.macroenabled.12
pptx    slide    view,edit,comment,encrypt                     S        application/vnd.openxmlformats-officedocument.presentationml.presentation
sxi     slide    view,auto-convert                             S        application/vnd.sun.xml.impress
djvu    pdf      view                                          D        image/vnd.djvu
docxf   pdf      view                                          W        application/vnd.openxmlformats-officedocument.wordprocessingml.document.docxf
oform   pdf      view                                          pdf      application/vnd.openxmlformats-officedocument.wordprocessingml.document.oform
oxps    pdf      view                                          W        application/oxps
pdf     pdf      view,edit,comment,fill,encrypt                W        application/pdf application/acrobat application/nappdf application/x-pdf image/pdf
xps     pdf      view                                          W        application/vnd.ms-xpsdocument application/xps
vsdx    diagram  view                                          D        application/vnd.ms-visio.drawing application/vnd.visio2013 application/vnd.visio
vsdm    diagram  view                                          D        application/vnd.ms-visio.drawing.macroEnabled.12
vssm    diagram  view                                          D        application/vnd.ms-visio.stencil.macroEnabled.12
vssx    diagram  view                                          D        application/vnd.ms-visio.stencil
vstm    diagram  view                                          D        application/vnd.ms-visio.template.macroEnabled.12
vstx    diagram  view                                          D        application/vnd.ms-visio.template
bmp     -        -                                             -        image/bmp
gif     -        -                                             -        image/gif
heic    -        -                                             -        image/heic
heif    -        -                                             -        image/heif
jpg     -        -                                             -        image/jpeg
pdfa    -        -                                             -        application/pdf application/acrobat application/nappdf application/x-pdf image/pdf
png     -        -                                             -        image/png
tif     -        -                                             -        image/tif image/x-tif application/tif application/x-tif
tiff    -        -                                             -        image/tiff image/x-tiff application/tiff application/x-tiff
webp    -        -                                             -        image/webp
zip     -        -                                             -        application/zip
"""
# Notes on the facts: ONLYOFFICE's vsdx entry runs two types into one string
# ("application/vnd.ms-visio.drawing, application/vnd.visio2013"); they are two here. Its ots
# entry names tsv twice; once here. Images, pdfa and zip have no editor: they are only what
# conversions produce (or insert), and are listed for their MIME types and icons.

# MIME types that a browser would run as a page (script in html, xml, svg; markdown and the
# mail and multipart wrappers of mht/hml render as html in some browsers). Files of these types
# are served as inert bytes whatever the table says: an uploaded .html served as text/html would
# run in the site's origin when opened from a link.
ACTIVE_CONTENT = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "image/svg+xml",
        "text/markdown",
        "text/fb2+xml",
        "message/rfc822",
        "multipart/related",
    }
)
INERT = "application/octet-stream"

DOCUMENT_TYPE_NAMES = ("word", "cell", "slide", "pdf", "diagram")
# The conversion that keeps a document's content whole: OOXML of its type; forms become PDF forms.
_OOXML = {"word": "docx", "cell": "xlsx", "slide": "pptx"}
_FORM_SOURCES = frozenset({"docxf", "oform"})
_IMAGES = frozenset("bmp gif heic heif jpg jpeg png tif tiff webp svg".split())
_ARCHIVES = frozenset("zip 7z rar tar gz tgz bz2 xz zst".split())
ICONS = ("word", "cell", "slide", "pdf", "diagram", "form", "archive", "image", "other")


@dataclass(frozen=True)
class Format:
    ext: str
    document_type: str  # word, cell, slide, pdf, diagram; "" when no editor opens it
    actions: frozenset[str]
    targets: tuple[str, ...]  # conversion targets, in the table's order
    mimes: tuple[str, ...]


def _targets(ext: str, spec: str) -> tuple[str, ...]:
    if spec == "-":
        return ()
    if spec[0].islower():
        return tuple(spec.split(","))
    name, *left_out = spec.split("-")
    return tuple(t for t in _SETS[name] if t != ext and t not in left_out)


def _parse(table: str) -> dict[str, Format]:
    formats = {}
    for line in table.strip().splitlines():
        ext, kind, actions, targets, *mimes = line.split()
        formats[ext] = Format(
            ext=ext,
            document_type="" if kind == "-" else kind,
            actions=frozenset() if actions == "-" else frozenset(actions.split(",")),
            targets=_targets(ext, targets),
            mimes=() if mimes == ["-"] else tuple(mimes),
        )
    return formats


FORMATS: dict[str, Format] = _parse(_TABLE)

# Macro-enabled formats (their MIME types say so). Docs edits them, but Coedit opens them in the
# viewer only: a macro carrier is accepted and shown, never edited (and never runs macros unasked).
MACRO_ENABLED = frozenset(f.ext for f in FORMATS.values() if any("macroenabled" in m.lower() for m in f.mimes[:1]))

# Extension -> documentType, for the formats an editor opens.
EXTENSION_TYPES = {f.ext: f.document_type for f in FORMATS.values() if f.document_type}
# Opened for editing (natively); lossy-edit formats only when the admin chose them.
LOSSY_EDITABLE = tuple(f.ext for f in FORMATS.values() if "lossy-edit" in f.actions)
# What each type is served as (never active content).
MIME_TYPES = {f.ext: f.mimes[0] for f in FORMATS.values() if f.mimes and f.mimes[0] not in ACTIVE_CONTENT}

# The Create document menu: label, extension.
CREATABLE = (("Document", "docx"), ("Spreadsheet", "xlsx"), ("Presentation", "pptx"), ("PDF form", "pdf"))


def get(ext: str) -> Format | None:
    return FORMATS.get(ext)


def extension_of(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def document_type(ext: str) -> str | None:
    """word, cell, slide, pdf or diagram; None when Docs cannot open the file."""
    return EXTENSION_TYPES.get(ext)


def opens_in_editor(ext: str) -> bool:
    return ext in EXTENSION_TYPES


def is_editable(ext: str) -> bool:
    """Whether the editors edit the format natively (without possible loss)."""
    return edit_mode_possible(ext, frozenset())


def edit_mode_possible(ext: str, lossy_allowed: set[str] | frozenset[str]) -> bool:
    """Whether the format opens for editing: natively, or lossy-edit and chosen by the admin;
    never a macro-enabled format."""
    fmt = FORMATS.get(ext)
    if fmt is None or ext in MACRO_ENABLED:
        return False
    return "edit" in fmt.actions or ("lossy-edit" in fmt.actions and ext in lossy_allowed)


def conversion_targets(ext: str) -> tuple[str, ...]:
    fmt = FORMATS.get(ext)
    return fmt.targets if fmt else ()


def can_convert(ext: str, target: str) -> bool:
    return target in conversion_targets(ext)


def ooxml_target(ext: str) -> str | None:
    """What "Convert to DOCX/XLSX/PPTX" makes of a format Docs reads but does not edit as it is
    (those marked auto-convert, and the lossy-edit ones such as txt and csv): the OOXML format of
    its type; "Convert to PDF form" for the old form formats (docxf, oform, view-only in Docs 9);
    else None."""
    fmt = FORMATS.get(ext)
    if fmt is None:
        return None
    if ext in _FORM_SOURCES:
        return "pdf" if can_convert(ext, "pdf") else None
    target = _OOXML.get(fmt.document_type)
    if target is None or target == ext or "edit" in fmt.actions:
        return None
    return target if can_convert(ext, target) else None


def mime_type(ext: str) -> str:
    """The type a file is served with: the table's for document and picture formats, otherwise
    inert bytes.

    Never guessed from the extension, and never active content (ACTIVE_CONTENT): an uploaded
    .html, .svg, .xml or .js served as what it is would run in the site's origin when opened
    from a link.
    """
    return MIME_TYPES.get(ext, INERT)


def icon(ext: str) -> str:
    """One of ICONS: the file's editor, a form, an archive, a picture, or other."""
    if ext in _FORM_SOURCES:
        return "form"
    kind = document_type(ext)
    if kind:
        return kind
    if ext == "pdfa":
        return "pdf"
    if ext in _IMAGES:
        return "image"
    if ext in _ARCHIVES:
        return "archive"
    return "other"


def unopenable_reason(ext: str) -> str | None:
    """Why a file cannot be opened in the editors (it is then a plain file: download only); None
    when it can."""
    if opens_in_editor(ext):
        return None
    if not ext:
        return gettext("Files without an extension cannot be opened in the editors; download the file to open it.")
    return gettext(".%(ext)s files cannot be opened in the editors; download the file to open it.", ext=ext)


def as_json() -> list[dict]:
    """The table as GET /api/v1/formats gives it."""
    return [
        {
            "ext": f.ext,
            "document_type": f.document_type or None,
            "actions": sorted(f.actions),
            "targets": list(f.targets),
            "mime": f.mimes[0] if f.mimes else None,
            "served_as": mime_type(f.ext),
        }
        for f in FORMATS.values()
    ]

"""Search over files' titles and the text of their current versions, only within what the person may read.

The text of each new head version is extracted in a job (``index_text``) once the version is
committed: bounded in bytes read, characters kept and seconds spent, and a failure leaves the
previous text (or none) and never touches the save. The index is SQLite FTS5 or PostgreSQL
full-text search (app/models/search.py); this module is the only one that knows which.

Visibility is decided in the query itself: only files of spaces the person is a member of, minus
the files hidden from them by rights, are ever matched, so neither a result nor a snippet can
carry text of a file they may not read.
"""

import html
import io
import logging
import re
import time
import zipfile
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from defusedxml import ElementTree
from markupsafe import Markup

from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.models import Membership
from app.models import Space
from app.models import User
from app.models.space import MANAGER_ROLES
from app.services import rights
from app.services.storage import get_storage

log = logging.getLogger("coedit.search")

MAX_SOURCE_BYTES = 30 * 1024 * 1024  # larger versions are found by title only
MAX_TEXT_CHARS = 500_000
SECONDS = 20.0
MAX_TERMS = 8
RESULTS = 50
# Highlight marks the engines put around matches: private-use characters, removed from indexed
# text, so after HTML-escaping the snippet they can only be ours.
START, STOP = "\ue000", "\ue001"
TEXT_EXTS = {"txt", "csv", "md"}
ODF_EXTS = {"odt", "ods", "odp", "ott", "ots", "otp"}


# --- extraction -------------------------------------------------------------------------------


class _Budget:
    def __init__(self, seconds: float = SECONDS, chars: int = MAX_TEXT_CHARS):
        self.deadline = time.monotonic() + seconds
        self.chars = chars
        self.parts: list[str] = []

    def add(self, text) -> bool:
        """Keep text; False once the budget is spent (the extractor stops there)."""
        if text is None:
            return True
        text = str(text).strip()
        if text:
            text = text[: self.chars]
            self.parts.append(text)
            self.chars -= len(text)
        return self.chars > 0 and time.monotonic() < self.deadline

    def text(self) -> str:
        return "\n".join(self.parts).replace(START, " ").replace(STOP, " ")


def extract(data: bytes, ext: str, seconds: float = SECONDS) -> str:
    """The plain text of a document (empty for formats without text we read)."""
    budget = _Budget(seconds)
    ext = ext.lower()
    if ext == "docx":
        _docx(data, budget)
    elif ext == "xlsx":
        _xlsx(data, budget)
    elif ext == "pptx":
        _pptx(data, budget)
    elif ext in ODF_EXTS:
        _odf(data, budget)
    elif ext == "pdf":
        _pdf(data, budget)
    elif ext in TEXT_EXTS:
        budget.add(data[: MAX_TEXT_CHARS * 4].decode("utf-8", errors="replace"))
    return budget.text()


def _docx(data: bytes, budget: _Budget) -> None:
    import docx

    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        if not budget.add(paragraph.text):
            return
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                if not budget.add(cell.text):
                    return


def _xlsx(data: bytes, budget: _Budget) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            budget.add(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if value is not None and not budget.add(value):
                        return
    finally:
        workbook.close()


def _pptx(data: bytes, budget: _Budget) -> None:
    import pptx

    for slide in pptx.Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame and not budget.add(shape.text_frame.text):
                return


def _odf(data: bytes, budget: _Budget) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("content.xml")
        if info.file_size > MAX_SOURCE_BYTES:
            return
        root = ElementTree.fromstring(archive.read(info))
    text_ns = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
    # Paragraphs and headings keep their words together; itertext joins the spans inside.
    for element in root.iter():
        if element.tag in (text_ns + "p", text_ns + "h") and not budget.add("".join(element.itertext())):
            return


def _pdf(data: bytes, budget: _Budget) -> None:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    for page in reader.pages:
        if not budget.add(page.extract_text()):
            return


# --- the index --------------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def request(file: File, number: int) -> None:
    """Index the text of a new head version once it is committed (a job)."""
    from app import jobs

    jobs.enqueue(jobs.index_text, file.id, number)


def index_file(file: File, version: FileVersion | None = None) -> bool:
    """Stage the text of the file's current version in the index; False when it could not be read.

    Never raises for a document it cannot read: the file stays findable by its title.
    """
    version = version or db.session.scalar(file.versions_select().where(FileVersion.number == file.version))
    if version is None:
        return False
    text = ""
    readable = True
    if version.size <= MAX_SOURCE_BYTES:
        try:
            with get_storage().open(version.storage_key) as source:
                data = source.read(MAX_SOURCE_BYTES + 1)
            text = extract(data, file.ext)
        except Exception as exc:  # any broken document: title only
            log.info("no text from file %s version %s: %s", file.id, version.number, exc)
            readable = False
    _store(file.id, version.number, text)
    return readable


def _store(file_id: int, number: int, text: str) -> None:
    params = {"id": file_id, "version": number, "body": text}
    if _dialect() == "postgresql":
        db.session.execute(
            sa.text(
                "INSERT INTO file_text (file_id, version, body) VALUES (:id, :version, :body) "
                "ON CONFLICT (file_id) DO UPDATE SET version = excluded.version, body = excluded.body"
            ),
            params,
        )
    else:
        db.session.execute(sa.text("DELETE FROM file_text WHERE rowid = :id"), params)
        db.session.execute(
            sa.text("INSERT INTO file_text (rowid, body, version) VALUES (:id, :body, :version)"), params
        )


def forget(file_id: int) -> None:
    """Stage removing a file's text (it is deleted; SQLite may give its id to another file)."""
    column = "file_id" if _dialect() == "postgresql" else "rowid"
    db.session.execute(sa.text(f"DELETE FROM file_text WHERE {column} = :id"), {"id": file_id})


def indexed_version(file_id: int) -> int | None:
    column = "file_id" if _dialect() == "postgresql" else "rowid"
    return db.session.scalar(sa.text(f"SELECT version FROM file_text WHERE {column} = :id"), {"id": file_id})


# --- searching --------------------------------------------------------------------------------


@dataclass
class Hit:
    file: File
    title_match: bool
    snippet: Markup | None  # around the match in the text, highlighted; escaped apart from <mark>


def terms(query: str) -> list[str]:
    """The words of a query (letters and digits only: nothing reaches an engine's query syntax)."""
    return re.findall(r"\w+", query or "")[:MAX_TERMS]


def visible_files(user: User) -> sa.ColumnElement[bool]:
    """The condition on File for what the person may find: files of their live spaces, not in the
    trash and not hidden from them. The one place every search query takes it from.
    """
    spaces = (
        sa.select(Membership.space_id)
        .join(Space, Space.id == Membership.space_id)
        .where(Membership.user_id == user.id, Space.deleted_at.is_(None))
    )
    managed = spaces.where(Membership.role.in_(MANAGER_ROLES))
    # One condition for every space (not one hidden-files query per space).
    return File.space_id.in_(spaces) & File.trashed_at.is_(None) & rights.not_hidden(user, managed)


def search(user: User, query: str, limit: int = RESULTS) -> list[Hit]:
    """Files the person may read whose title or text holds every word of the query."""
    words = terms(query)
    if not words:
        return []
    visible = visible_files(user)
    title_condition = sa.and_(*(sa.func.lower(File.title).contains(w.lower(), autoescape=True) for w in words))
    by_title = db.session.scalars(
        sa.select(File)
        .options(so.joinedload(File.space))  # the results name each file's space
        .where(visible, title_condition)
        .order_by(File.updated_at.desc(), File.id.desc())
        .limit(limit)
    ).all()
    snippets = dict(_text_matches(visible, words, limit))
    found = {file.id: file for file in by_title}
    missing = [fid for fid in snippets if fid not in found]
    if missing:
        for file in db.session.scalars(
            sa.select(File).options(so.joinedload(File.space)).where(File.id.in_(missing), visible)
        ):
            found[file.id] = file
    hits = [Hit(file, True, _markup(snippets.get(file.id))) for file in by_title]
    hits += [
        Hit(found[fid], False, _markup(snippet))
        for fid, snippet in snippets.items()
        if fid in found and fid not in {f.id for f in by_title}
    ]
    return hits[:limit]


def _text_matches(visible, words: list[str], limit: int) -> list[tuple[int, str]]:
    if _dialect() == "postgresql":
        index = sa.table("file_text", sa.column("file_id"), sa.column("body"), sa.column("tsv"))
        tsquery = sa.func.to_tsquery("simple", " & ".join(f"'{w.lower()}':*" for w in words))
        options = f'StartSel={START}, StopSel={STOP}, MaxWords=25, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
        statement = (
            sa.select(File.id, sa.func.ts_headline("simple", index.c.body, tsquery, options))
            .join(index, index.c.file_id == File.id)
            .where(visible, index.c.tsv.op("@@")(tsquery))
            .order_by(sa.func.ts_rank(index.c.tsv, tsquery).desc(), File.id)
            .limit(limit)
        )
    else:
        index = sa.table("file_text", sa.column("rowid"))
        fts = sa.literal_column("file_text")
        match = " ".join(f'"{w}"*' for w in words)
        statement = (
            sa.select(File.id, sa.func.snippet(fts, 0, START, STOP, "…", 16))
            .join(index, index.c.rowid == File.id)
            .where(visible, fts.op("MATCH")(match))
            .order_by(sa.literal_column("rank"), File.id)
            .limit(limit)
        )
    return [(fid, snippet) for fid, snippet in db.session.execute(statement)]


def _markup(snippet: str | None) -> Markup | None:
    if not snippet:
        return None
    escaped = html.escape(snippet, quote=True)
    return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))


def all_file_ids() -> list[int]:
    """Every file, for the reindex command (which indexes and commits one at a time)."""
    return list(db.session.scalars(sa.select(File.id).order_by(File.id)))

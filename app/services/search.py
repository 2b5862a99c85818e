"""Search over files' titles and the text of their current versions, only within what the person may read.

The text of each new head version is extracted in a job (``index_text``) once the version is
committed: bounded in bytes read, characters kept and seconds spent, and a failure leaves the
previous text (or none) and never touches the save. The index is SQLite FTS5 or PostgreSQL
full-text search (app/models/search.py); this module is the only one that knows which.

Visibility is decided in the query itself: only files of spaces the person is a member of, minus
the files hidden from them by rights, are ever matched, so neither a result nor a snippet can
carry text of a file they may not read.

Text matches come best-ranked first. On SQLite, where ranking costs per match, those ranked are
the ``RANKED`` most recently created files the person may read that match (all of them, when
fewer do); PostgreSQL ranks every match.
"""

import html
import io
import logging
import re
import time
import xml.sax.handler
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import defusedxml.sax
import sqlalchemy as sa
import sqlalchemy.orm as so
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
RANKED = 1000  # on SQLite, how many of the newest matching files are ranked by relevance
_PIECE = 64 * 1024  # what an archive member is read and parsed in
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
        return not self.spent()

    def spent(self) -> bool:
        return self.chars <= 0 or time.monotonic() >= self.deadline

    def text(self) -> str:
        return "\n".join(self.parts).replace(START, " ").replace(STOP, " ")


def extract(source: bytes | BinaryIO, ext: str, seconds: float = SECONDS) -> str:
    """The plain text of a document (empty for formats without text we read).

    ``source`` is the document's bytes or a seekable binary stream of them. Archives are read
    member by member and their XML parsed as a stream of events, never as a tree, so memory stays
    bounded whatever the document's size: what is kept is the budget's text.
    """
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    budget = _Budget(seconds)
    ext = ext.lower()
    if ext in _ARCHIVES:
        with zipfile.ZipFile(source) as archive:
            _ARCHIVES[ext](archive, budget)
    elif ext == "pdf":
        _pdf(source, budget)
    elif ext in TEXT_EXTS:
        budget.add(source.read(MAX_TEXT_CHARS * 4).decode("utf-8", errors="replace"))
    return budget.text()


class _TextEvents(xml.sax.handler.ContentHandler):
    """Collects the character data of text elements, one piece of text per block element.

    ``texts`` are the local names whose character data is text (every element inside them too);
    a block (a paragraph, a cell) ending hands what was collected to the budget; ``breaks`` (a tab,
    a line break) separate words. Only the current block's text is held, cut at what the budget
    still takes.
    """

    def __init__(self, budget: _Budget, texts: set[str], blocks: set[str], breaks: frozenset = frozenset()):
        super().__init__()
        self.budget = budget
        self.texts, self.blocks, self.breaks = texts, blocks, breaks
        self.inside = 0  # depth of open text elements
        self.parts: list[str] = []
        self.held = 0
        self.done = False

    def startElementNS(self, name, qname, attrs) -> None:
        local = name[1]
        if local in self.texts:
            self.inside += 1
        elif local in self.breaks and self.parts:
            self.parts.append(" ")  # a tab or line break between runs still separates their words
            self.held += 1

    def characters(self, content: str) -> None:
        if self.inside and self.held < self.budget.chars:
            self.parts.append(content)
            self.held += len(content)

    def endElementNS(self, name, qname) -> None:
        local = name[1]
        if local in self.texts:
            self.inside -= 1
        if local in self.blocks:
            self.flush()

    def flush(self) -> None:
        if self.parts and not self.done:
            self.done = not self.budget.add("".join(self.parts))
        self.parts, self.held = [], 0


def _stream_part(archive: zipfile.ZipFile, name: str, handler: _TextEvents) -> bool:
    """Feed one member of the archive through the handler in pieces; False once the budget is spent.

    defusedxml's parser refuses DTDs and entity declarations, as validation does.
    """
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd = True
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    parser.setContentHandler(handler)
    with archive.open(name) as member:
        while chunk := member.read(_PIECE):
            parser.feed(chunk)
            if handler.done or handler.budget.spent():
                handler.done = True
                return False
    parser.close()
    handler.flush()
    return not handler.done


def _numbered(archive: zipfile.ZipFile, folder: str, stem: str) -> list[str]:
    """The members folder/stemN.xml in the order of N (slide2 before slide10)."""
    pattern = re.compile(re.escape(f"{folder}/{stem}") + r"(\d+)\.xml")
    found = [(int(m.group(1)), name) for name in archive.namelist() if (m := pattern.fullmatch(name))]
    return [name for _, name in sorted(found)]


def _docx(archive: zipfile.ZipFile, budget: _Budget) -> None:
    # Paragraphs (w:p) of the body and its tables, in document order; w:t holds the text.
    _stream_part(archive, "word/document.xml", _TextEvents(budget, {"t"}, {"p"}, frozenset({"tab", "br", "cr"})))


class _SheetEvents(_TextEvents):
    """A worksheet's cell values: numbers and inline strings; shared strings (t="s", an index into
    sharedStrings.xml, read before) are skipped here."""

    shared = False  # whether the open cell's value is a shared string's index

    def startElementNS(self, name, qname, attrs) -> None:
        if name[1] == "c":
            self.shared = attrs.get((None, "t")) == "s"
        elif name[1] == "v" and not self.shared:
            self.inside += 1
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name, qname) -> None:
        if name[1] == "v" and not self.shared:
            self.inside -= 1
        super().endElementNS(name, qname)


class _SheetNames(_TextEvents):
    """The workbook's sheet names (the name attributes of its sheet elements)."""

    def __init__(self, budget: _Budget):
        super().__init__(budget, set(), set())

    def startElementNS(self, name, qname, attrs) -> None:
        if name[1] == "sheet" and not self.done:
            self.done = not self.budget.add(attrs.get((None, "name")))


def _xlsx(archive: zipfile.ZipFile, budget: _Budget) -> None:
    names = set(archive.namelist())
    if "xl/workbook.xml" in names and not _stream_part(archive, "xl/workbook.xml", _SheetNames(budget)):
        return
    if "xl/sharedStrings.xml" in names:
        # Each string item (si) is one piece; its runs (r/t) and phonetic hints (rPh/t) are text.
        if not _stream_part(archive, "xl/sharedStrings.xml", _TextEvents(budget, {"t"}, {"si"})):
            return
    for sheet in _numbered(archive, "xl/worksheets", "sheet"):
        if not _stream_part(archive, sheet, _SheetEvents(budget, {"t"}, {"c"})):
            return


def _pptx(archive: zipfile.ZipFile, budget: _Budget) -> None:
    for slide in _numbered(archive, "ppt/slides", "slide"):
        # DrawingML paragraphs (a:p) of every shape; a:t holds the text.
        if not _stream_part(archive, slide, _TextEvents(budget, {"t"}, {"p"}, frozenset({"br", "tab"}))):
            return


def _odf(archive: zipfile.ZipFile, budget: _Budget) -> None:
    # Paragraphs and headings keep their words together, spans inside them included.
    _stream_part(
        archive, "content.xml", _TextEvents(budget, {"p", "h"}, {"p", "h"}, frozenset({"tab", "s", "line-break"}))
    )


def _pdf(source: BinaryIO, budget: _Budget) -> None:
    import pypdf

    # pypdf reads a stream's objects where the cross-reference table says, page by page.
    reader = pypdf.PdfReader(source)
    for page in reader.pages:
        if not budget.add(page.extract_text()):
            return


_ARCHIVES = {
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    **dict.fromkeys(ODF_EXTS, _odf),
}


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
            with _buffered(get_storage().open(version.storage_key)) as source:
                text = extract(source, file.ext)
        except Exception as exc:  # any broken document: title only
            log.info("no text from file %s version %s: %s", file.id, version.number, exc)
            readable = False
    _store(file.id, version.number, text)
    return readable


def _buffered(stream: BinaryIO) -> BinaryIO:
    """A remote blob's raw stream read in larger pieces (zipfile reads and seeks in small ones)."""
    return io.BufferedReader(stream, _PIECE) if isinstance(stream, io.RawIOBase) else stream


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


def _live_spaces(user: User) -> tuple[sa.Select, sa.Select]:
    """The person's live spaces, and those of them they manage (as SQL selections)."""
    spaces = (
        sa.select(Membership.space_id)
        .join(Space, Space.id == Membership.space_id)
        .where(Membership.user_id == user.id, Space.deleted_at.is_(None))
    )
    return spaces, spaces.where(Membership.role.in_(MANAGER_ROLES))


def visible_files(user: User) -> sa.ColumnElement[bool]:
    """The condition on File for what the person may find: files of their live spaces, not in the
    trash and not hidden from them. The one place every search query takes it from.
    """
    spaces, managed = _live_spaces(user)
    # One condition for every space (not one hidden-files query per space).
    return File.space_id.in_(spaces) & File.trashed_at.is_(None) & rights.not_hidden(user, managed)


def downloadable_files(user: User) -> sa.ColumnElement[bool]:
    """``visible_files`` narrowed to those the person may also download (``rights.downloadable``,
    which implies not hidden)."""
    spaces, managed = _live_spaces(user)
    return File.space_id.in_(spaces) & File.trashed_at.is_(None) & rights.downloadable(user, managed)


def title_holds(word: str) -> sa.ColumnElement[bool]:
    """The condition on File for a title holding the word, in any case."""
    if _dialect() == "postgresql":
        return sa.func.lower(File.title).contains(word.lower(), autoescape=True)
    # SQLite's LIKE ignores case in ASCII letters and its lower() changes nothing else: the same
    # files, without lowering every title the scan reads (half its time).
    return File.title.contains(word.lower(), autoescape=True)


def search(user: User, query: str, limit: int = RESULTS) -> list[Hit]:
    """Files the person may read whose title or text holds every word of the query."""
    words = terms(query)
    if not words:
        return []
    visible = visible_files(user)
    title_condition = sa.and_(*(title_holds(w) for w in words))
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
        # FTS5 scores (bm25) every row it sorts by rank, under a LIMIT too, so only the RANKED
        # newest matches the person may read are ranked: the scan for the oldest of them walks
        # the index down by rowid (the file id), stops there and scores nothing.
        newest = (
            sa.select(index.c.rowid.label("id"))
            .join(File, File.id == index.c.rowid)
            .where(visible, fts.op("MATCH")(match))
            .order_by(index.c.rowid.desc())
            .limit(max(RANKED, limit))
            .subquery()
        )
        oldest_ranked = sa.select(sa.func.min(newest.c.id)).scalar_subquery()
        statement = (
            sa.select(File.id, sa.func.snippet(fts, 0, START, STOP, "…", 16))
            .join(index, index.c.rowid == File.id)
            .where(visible, fts.op("MATCH")(match), index.c.rowid >= oldest_ranked)
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

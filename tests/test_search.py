"""Search: titles and the text of docx/xlsx/pptx/odt/pdf, only within what the person may read."""

import io
import zipfile

import openpyxl
import pptx
import pytest

from app.extensions import db
from app.models import File
from app.models import Space
from app.models import User
from app.models.base import utcnow
from app.services import search
from tests.databases import ENGINE
from tests.helpers import docx_with
from tests.helpers import wait_for
from tests.test_lossy_edit import odt_with
from tests.test_lossy_edit import upload


def xlsx_with(text: str) -> bytes:
    book = openpyxl.Workbook()
    book.active["B2"] = text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pptx_with(text: str) -> bytes:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = text
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def pdf_with(text: str) -> bytes:
    """A one-page PDF showing text in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


MAKERS = {"docx": docx_with, "xlsx": xlsx_with, "pptx": pptx_with, "odt": odt_with, "pdf": pdf_with}


def indexed(world, file_id: int) -> None:
    """Wait for the indexing job the upload started (jobs run on a thread without a broker)."""
    wait_for(lambda: world.query(lambda: search.indexed_version(file_id)) is not None, what="the file's text indexed")


def find(world, who: str, q: str) -> dict:
    answer = world.client().get("/api/v1/search", query_string={"q": q}, headers=world.api(who))
    assert answer.status_code == 200
    return {hit["title"]: hit for hit in answer.get_json()["results"]}


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_text_and_title_of_each_format_are_found(world, ext):
    made = upload(world, f"Quarterly {ext}.{ext}", MAKERS[ext](f"Zebrafish habitat budget {ext}"))
    indexed(world, made["id"])
    by_text = find(world, "bob", "zebrafish")
    assert list(by_text) == [made["title"]]
    assert "<mark>Zebrafish</mark>" in by_text[made["title"]]["snippet"]
    assert by_text[made["title"]]["title_match"] is False
    by_title = find(world, "bob", "quarterly")
    assert by_title[made["title"]]["title_match"] is True
    assert find(world, "bob", "QUARTERLY")[made["title"]]["title_match"] is True
    assert find(world, "bob", "zebra habitat") and not find(world, "bob", "zebrafish elephant")


def test_a_reader_never_finds_files_they_may_not_read(world):
    shown = upload(world, "Open notes.docx", docx_with("Secret pelican plan, shared <b>widely</b>"))
    hidden = upload(world, "Pelican salaries.docx", docx_with("Secret pelican salaries"))
    world.set_level(hidden["id"], "bob", "none")
    for made in (shown, hidden):
        indexed(world, made["id"])
    # A file in a space bob is not a member of.
    other = world.client().post("/api/v1/spaces", json={"name": "Board"}, headers=world.api("alice")).get_json()
    elsewhere = world.client().post(
        f"/api/v1/spaces/{other['id']}/files",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("Secret pelican merger")), "Board pelican.docx")},
    )
    assert elsewhere.status_code == 201
    indexed(world, elsewhere.get_json()["id"])

    assert set(find(world, "alice", "pelican")) == {"Open notes.docx", "Pelican salaries.docx", "Board pelican.docx"}
    for query in ("pelican", "secret", "salaries", "merger", "board"):
        hits = find(world, "bob", query)
        assert set(hits) <= {"Open notes.docx"}, query
        assert all(
            "salaries" not in (h["snippet"] or "") and "merger" not in (h["snippet"] or "") for h in hits.values()
        )
    snippet = find(world, "bob", "pelican")["Open notes.docx"]["snippet"]
    # The document's text is escaped (PostgreSQL's ts_headline drops tag-like text): only our marks are HTML.
    assert "<b>" not in snippet and "widely" in snippet and snippet.count("<mark>") == 1
    assert find(world, "carol", "pelican") == {}

    page = world.client("bob").get("/search?q=pelican").get_data(as_text=True)
    assert "Open notes.docx" in page and "<mark>pelican</mark>" in page
    assert "salaries" not in page.lower() and "merger" not in page and "Board" not in page


def test_queries_cannot_reach_the_engines_syntax(world):
    made = upload(world, "Notes.docx", docx_with("alpha beta"))
    indexed(world, made["id"])
    for query in ('"', "alpha OR", "NEAR(alpha", "*", "al'pha", "a:*", "%", "_", "()"):
        assert (
            world.client().get("/api/v1/search", query_string={"q": query}, headers=world.api("bob")).status_code == 200
        )
    assert find(world, "bob", "") == {}
    assert find(world, "bob", "%") == {}


def test_a_new_version_replaces_the_text_and_a_deleted_file_leaves_none(world):
    made = upload(world, "Draft.docx", docx_with("first walrus words"))
    indexed(world, made["id"])
    answer = world.client().post(
        f"/api/v1/files/{made['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("second narwhal words")), "Draft.docx")},
    )
    assert answer.status_code in (200, 201), answer.data
    wait_for(lambda: world.query(lambda: search.indexed_version(made["id"])) == 2, what="version 2 indexed")
    assert find(world, "bob", "narwhal") and not find(world, "bob", "walrus")
    world.client("alice").post(f"/files/{made['id']}/delete")
    assert world.query(lambda: search.indexed_version(made["id"])) is None


def test_files_in_the_trash_or_a_deleted_space_are_not_found_until_restored(world):
    made = upload(world, "Heron census.docx", docx_with("heron counts by lake"))
    indexed(world, made["id"])
    alice = world.client("alice")
    assert alice.post(f"/files/{made['id']}/trash").status_code == 302
    assert not find(world, "bob", "heron") and not find(world, "alice", "census")
    trashed = world.query(lambda: db.session.get(File, made["id"]).trashed_at)
    assert trashed is not None
    assert alice.post(f"/spaces/{world.space_id}/trash/files/{made['id']}/restore").status_code == 302
    assert list(find(world, "bob", "heron")) == ["Heron census.docx"]

    def delete_space():
        db.session.get(Space, world.space_id).deleted_at = utcnow()
        db.session.commit()

    world.query(delete_space)
    assert not find(world, "bob", "heron")


def test_reindex_command_indexes_existing_files(world):
    made = upload(world, "Old.docx", docx_with("ancient armadillo"))
    indexed(world, made["id"])

    def wipe():
        search.forget(made["id"])
        db.session.commit()

    world.query(wipe)
    assert not find(world, "bob", "armadillo")
    result = world.app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed 1 file." in result.output
    assert find(world, "bob", "armadillo")


def test_a_broken_document_is_found_by_title_and_the_save_stands(world):
    made = upload(world, "Broken.txt", b"plain words about a capybara")
    indexed(world, made["id"])
    assert find(world, "bob", "capybara")

    def index_broken():
        from app.models import File

        file = db.session.get(File, made["id"])
        file.ext = "docx"  # its bytes are no docx now
        readable = search.index_file(file)
        db.session.rollback()
        return readable

    assert world.query(index_broken) is False


def test_extraction_is_bounded_and_unreadable_documents_give_no_text():
    huge = ("word " * 300_000).encode()
    assert len(search.extract(huge, "txt")) <= search.MAX_TEXT_CHARS
    assert search.extract(b"anything", "png") == ""
    assert search.extract(b"x", "txt", seconds=0) == "x"  # the first piece is kept, then it stops
    with pytest.raises(zipfile.BadZipFile):
        search.extract(b"not a zip", "docx")  # index_file catches it: the file stays findable by name
    marked = search.extract(f"a{search.START}b{search.STOP}c".encode(), "txt")
    assert search.START not in marked and search.STOP not in marked  # only our highlights are marks


def indexed_texts(world, texts: list[str], default_level: str = "read") -> list[int]:
    """Files of the world's space with these texts indexed, straight through the models and in
    this order (so each has a larger id, and counts as newer, than the one before)."""

    def add():
        ids = []
        for text in texts:
            file = File(
                space_id=world.space_id,
                title=f"Notes {len(ids)}.docx",
                ext="docx",
                owner_id=world.user_ids["alice"],
                version=1,
                default_level=default_level,
            )
            db.session.add(file)
            db.session.flush()
            search._store(file.id, 1, text)
            ids.append(file.id)
        db.session.commit()
        return ids

    return world.query(add)


def found_ids(world, who: str, q: str, limit: int) -> list[int]:
    def run():
        hits = search.search(db.session.get(User, world.user_ids[who]), q, limit)
        assert all(hit.snippet and "<mark>" in hit.snippet for hit in hits)
        return [hit.file.id for hit in hits]

    return world.query(run)


def test_many_newer_better_ranked_files_a_reader_may_not_read_never_show(world, monkeypatch):
    # On SQLite only the newest matches are ranked: a window of two makes the hidden files fill
    # it, were it counted over every match and not over what the reader may read.
    monkeypatch.setattr(search, "RANKED", 2)
    shown = indexed_texts(world, [f"heron seen on the lake {i}" for i in range(3)])
    hidden = indexed_texts(world, ["heron heron heron heron heron"] * 5, default_level="none")

    assert set(found_ids(world, "alice", "heron", 2)) <= set(hidden)  # the best-ranked and newest
    for limit in (2, 3, 50):
        found = found_ids(world, "bob", "heron", limit)
        assert len(found) == min(limit, len(shown)) and set(found) <= set(shown), limit
    assert set(find(world, "bob", "heron")) == {f"Notes {i}.docx" for i in range(3)}


def test_text_matches_come_best_ranked_first(world):
    a, b, c, d = indexed_texts(
        world, ["walrus walrus walrus walrus x", "walrus x x x x", "walrus walrus walrus x x", "walrus x x x x"]
    )
    assert found_ids(world, "bob", "walrus", 50) == [a, c, b, d]


@pytest.mark.skipif(ENGINE != "sqlite", reason="PostgreSQL ranks every match")
def test_sqlite_ranks_the_newest_matches_only(world, monkeypatch):
    monkeypatch.setattr(search, "RANKED", 3)
    a, b, c, d = indexed_texts(
        world, ["walrus walrus walrus walrus x", "walrus x x x x", "walrus walrus walrus x x", "walrus x x x x"]
    )
    assert found_ids(world, "bob", "walrus", 3) == [c, b, d]  # a, the best, is older than the three
    assert found_ids(world, "bob", "walrus", 4) == [a, c, b, d]  # never fewer than asked for

"""Conversions through the Docs emulator over real HTTP, JWT on: Convert to OOXML as a job with
progress, Download as, previews, and their API; contents checked, not just types.

The emulator converts with LibreOffice when ``soffice`` is installed (make test installs it); the
source files in legacy and OpenDocument formats are made here with it too.
"""

import csv
import io
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from docs_emulator.testing import start_emulator
from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.helpers import wait_for

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

DOC_TEXT = "Quarterly report alpha"
SLIDE_TEXT = "Roadmap slide"


# --- sources ---------------------------------------------------------------------------------------


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(DOC_TEXT)
    document.add_paragraph("Second paragraph")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Amount"])
    sheet.append(["Widgets", 42])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pptx() -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = SLIDE_TEXT
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def soffice_convert(data: bytes, source: str, target: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="test-soffice-") as tmp:
        src = Path(tmp) / f"source.{source}"
        src.write_bytes(data)
        profile = (Path(tmp) / "profile").as_uri()
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                tmp,
                str(src),
            ],
            capture_output=True,
            timeout=180,
            check=True,
            env={**os.environ, "HOME": tmp},
        )
        return (Path(tmp) / f"source.{target}").read_bytes()


@pytest.fixture(scope="module")
def sources():
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    docx_bytes, xlsx_bytes, pptx_bytes = make_docx(), make_xlsx(), make_pptx()
    return {
        "docx": docx_bytes,
        "xlsx": xlsx_bytes,
        "pptx": pptx_bytes,
        "odt": soffice_convert(docx_bytes, "docx", "odt"),
        "doc": soffice_convert(docx_bytes, "docx", "doc"),
        "ods": soffice_convert(xlsx_bytes, "xlsx", "ods"),
        "xls": soffice_convert(xlsx_bytes, "xlsx", "xls"),
        "odp": soffice_convert(pptx_bytes, "pptx", "odp"),
        "ppt": soffice_convert(pptx_bytes, "pptx", "ppt"),
        "txt": f"{DOC_TEXT}\nSecond paragraph\n".encode(),
        "csv": b"Name,Amount\nWidgets,42\n",
    }


# --- contents of results ---------------------------------------------------------------------------


def xlsx_cells(data: bytes) -> list[list[str]]:
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]


def pptx_text(data: bytes) -> str:
    import pptx

    deck = pptx.Presentation(io.BytesIO(data))
    return " ".join(shape.text_frame.text for slide in deck.slides for shape in slide.shapes if shape.has_text_frame)


def pdf_text(data: bytes) -> str:
    if not shutil.which("pdftotext"):
        return ""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, check=True).stdout.decode()


def odf_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("content.xml").decode()


def assert_content(ext: str, data: bytes) -> None:
    if ext == "docx":
        assert DOC_TEXT in docx_text(data)
    elif ext == "xlsx":
        cells = xlsx_cells(data)
        assert ["Name", "Amount"] == cells[0][:2]
        assert cells[1][0] == "Widgets" and cells[1][1] in ("42", "42.0")
    elif ext == "pptx":
        assert SLIDE_TEXT in pptx_text(data)
    else:
        raise AssertionError(ext)


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(jwt_secret=SECRET) as emu:
        yield emu


@pytest.fixture
def live(make_world, emulator):
    emulator.clear_faults()
    return make_world(DOCS_URL=emulator.url)


def upload(world, name: str, data: bytes, who: str = "alice") -> dict:
    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files",
        data={"file": (io.BytesIO(data), name)},
        headers=world.api(who),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.data
    return response.get_json()


def convert(world, file_id: int, who: str = "alice", **body) -> dict:
    response = world.client().post(f"/api/v1/files/{file_id}/convert", json=body, headers=world.api(who))
    assert response.status_code == 202, response.data
    answer = response.get_json()
    assert set(answer) == {"job", "status_url"}
    return answer


def wait_job(world, job_id: int, who: str = "alice", timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        response = world.client().get(f"/api/v1/jobs/{job_id}", headers=world.api(who))
        assert response.status_code == 200, response.data
        job = response.get_json()
        seen.append((job["status"], job["percent"]))
        if job["status"] in ("done", "failed"):
            job["seen"] = seen
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not end: {seen[-5:]}"
        time.sleep(0.2)


def file_count(world) -> int:
    from app.models import File

    return world.query(lambda: db.session.scalar(sa.select(sa.func.count(File.id))))


def content(world, file_id: int, who: str = "alice", **query):
    return world.client().get(f"/api/v1/files/{file_id}/content", query_string=query, headers=world.api(who))


# --- Convert to OOXML ------------------------------------------------------------------------------

HUMHUB_FORMATS = {
    "odt": "docx",
    "doc": "docx",
    "txt": "docx",
    "ods": "xlsx",
    "xls": "xlsx",
    "csv": "xlsx",
    "odp": "pptx",
    "ppt": "pptx",
}


@needs_soffice
@pytest.mark.parametrize("ext", list(HUMHUB_FORMATS))
def test_each_format_converts_to_its_ooxml_type_beside_the_original(live, sources, ext):
    target = HUMHUB_FORMATS[ext]
    original = upload(live, f"Notes.{ext}", sources[ext])
    before = content(live, original["id"]).data

    job = wait_job(live, convert(live, original["id"])["job"])

    assert job["status"] == "done", job
    assert job["percent"] == 100
    new = job["file"]
    assert new["title"] == f"Notes.{target}" and new["space"] == live.space_id and new["folder"] is None
    assert_content(target, content(live, new["id"]).data)
    assert content(live, original["id"]).data == before  # the original is untouched
    assert live.file(original["id"]).version == 1
    events = live.query(lambda: [e.action for e in _audit(original["id"])])
    assert "file.converted" in events


def _audit(file_id):
    from app.models import AuditEvent

    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.file_id == file_id)).all()


@needs_soffice
def test_a_second_conversion_gets_a_unique_name(live, sources):
    original = upload(live, "Minutes.odt", sources["odt"])
    first = wait_job(live, convert(live, original["id"])["job"])
    second = wait_job(live, convert(live, original["id"])["job"])
    assert first["file"]["title"] == "Minutes.docx"
    assert second["file"]["title"] == "Minutes (2).docx"


def test_the_admin_may_have_uploads_converted_at_once(live):
    from app import transaction
    from app.models import ConversionJob
    from app.services import settings

    def turn_on():
        settings.save({"convert_on_upload": True})
        transaction.commit()

    live.query(turn_on)
    original = upload(live, "Sales.csv", b"Name,Amount\nWidgets,42\n")
    job_id = live.query(lambda: db.session.scalar(sa.select(ConversionJob.id)))
    job = wait_job(live, job_id)
    assert job["status"] == "done" and job["file"]["title"] == "Sales.xlsx"
    assert_content("xlsx", content(live, job["file"]["id"]).data)
    assert live.file(original["id"]).title == "Sales.csv"  # the upload stays
    docx = upload(live, "Already.docx", make_docx())  # OOXML already: nothing to convert
    assert live.query(lambda: db.session.scalar(sa.select(sa.func.count(ConversionJob.id)))) == 1
    assert docx["title"] == "Already.docx"


def test_a_failed_conversion_says_why_in_plain_words_and_leaves_nothing(live):
    # Text the converter cannot put into a document (a control character): conversion error -3.
    original = upload(live, "Broken.txt", b"bad \x01 text\n")
    files_before = file_count(live)
    blobs_before = sorted(live.blob_keys())

    job = wait_job(live, convert(live, original["id"])["job"])

    assert job["status"] == "failed"
    assert job["error"] == "Docs could not convert the file: it may be damaged or in a form Docs cannot read."
    assert "file" not in job and job["needs_password"] is False
    assert file_count(live) == files_before
    assert sorted(live.blob_keys()) == blobs_before


def test_only_editors_who_are_members_convert(live):
    original = upload(live, "Plan.csv", b"a,b\n1,2\n")
    page = live.client("alice").get(f"/files/{original['id']}").get_data(as_text=True)
    assert "Convert to XLSX" in page
    live.set_level(original["id"], "bob", "read")
    page = live.client("bob").get(f"/files/{original['id']}").get_data(as_text=True)
    assert "Convert to XLSX" not in page
    assert live.client("bob").post(f"/files/{original['id']}/convert", data={"target": "xlsx"}).status_code == 403
    response = live.client().post(f"/api/v1/files/{original['id']}/convert", json={}, headers=live.api("bob"))
    assert response.status_code == 403
    response = live.client().post(f"/api/v1/files/{original['id']}/convert", json={}, headers=live.api("carol"))
    assert response.status_code == 404
    response = live.client().post(
        f"/api/v1/files/{original['id']}/convert", json={"to": "exe"}, headers=live.api("alice")
    )
    assert response.status_code == 400


def test_the_job_status_is_its_owners_alone(live):
    original = upload(live, "Mine.csv", b"Name,Amount\nWidgets,42\n")
    live.set_level(original["id"], "bob", "edit")
    job_id = convert(live, original["id"])["job"]
    for other in ("bob", "carol"):
        response = live.client().get(f"/api/v1/jobs/{job_id}", headers=live.api(other))
        assert response.status_code == 404
    job = wait_job(live, job_id)
    assert job["status"] == "done" and set(job) >= {"id", "status", "percent", "file"}
    assert live.client().get(f"/api/v1/jobs/{job_id + 1000}", headers=live.api("alice")).status_code == 404


# --- Download as -----------------------------------------------------------------------------------


@needs_soffice
def test_download_as_docx_to_pdf_and_odt(live, sources):
    doc = upload(live, "Report.docx", sources["docx"])

    pdf = content(live, doc["id"], format="pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF-")
    assert "filename=Report.pdf" in pdf.headers["Content-Disposition"]
    assert pdf.headers["Content-Type"] == "application/pdf"
    if shutil.which("pdftotext"):
        assert DOC_TEXT in pdf_text(pdf.data)

    # From the file page too (the Download as menu).
    odt = live.client("alice").get(f"/files/{doc['id']}/download?format=odt")
    assert odt.status_code == 200
    assert "filename=Report.odt" in odt.headers["Content-Disposition"]
    assert DOC_TEXT in odf_text(odt.data)

    actions = live.query(lambda: [(e.action, e.details_json) for e in _audit(doc["id"])])
    assert sum(1 for action, _ in actions if action == "file.downloaded_as") == 2


@needs_soffice
def test_download_as_xlsx_to_csv_and_ods(live, sources):
    sheet = upload(live, "Budget.xlsx", sources["xlsx"])
    as_csv = content(live, sheet["id"], format="csv")
    assert as_csv.status_code == 200 and "filename=Budget.csv" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Name", "Amount"] and rows[1][:2] == ["Widgets", "42"]

    as_ods = content(live, sheet["id"], format="ods")
    assert as_ods.status_code == 200 and "filename=Budget.ods" in as_ods.headers["Content-Disposition"]
    text = odf_text(as_ods.data)
    assert "Widgets" in text and "42" in text


@needs_soffice
def test_download_as_pptx_to_pdf(live, sources):
    deck = upload(live, "Deck.pptx", sources["pptx"])
    pdf = content(live, deck["id"], format="pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert "filename=Deck.pdf" in pdf.headers["Content-Disposition"]
    if shutil.which("pdftotext"):
        assert SLIDE_TEXT in pdf_text(pdf.data)


def test_download_as_refuses_formats_the_table_does_not_list_and_readers_without_downloads(live):
    doc = live.create_document("alice", "Closed")
    assert content(live, doc["id"], format="exe").status_code == 400
    assert content(live, doc["id"], format="xlsx").status_code == 400
    live.set_level(doc["id"], "bob", "read")
    response = live.client().put(
        f"/api/v1/files/{doc['id']}/rights", json={"allow_download": False}, headers=live.api("alice")
    )
    assert response.status_code == 200
    assert content(live, doc["id"], "bob", format="pdf").status_code == 403
    assert live.client("bob").get(f"/files/{doc['id']}/download?format=pdf").status_code == 403
    page = live.client("bob").get(f"/files/{doc['id']}").get_data(as_text=True)
    assert "Download as" not in page
    assert content(live, doc["id"], "carol", format="pdf").status_code == 404


def test_the_editor_offers_downloads_only_as_the_rights_allow(live):
    """Docs' own Download as in the editor follows permissions.download, which is may_download."""
    doc = live.create_document("alice", "Switch")
    live.set_level(doc["id"], "bob", "read")
    live.client().put(f"/api/v1/files/{doc['id']}/rights", json={"allow_download": False}, headers=live.api("alice"))
    config = live.client().get(f"/api/v1/files/{doc['id']}/editor-config?mode=view", headers=live.api("bob"))
    assert config.get_json()["document"]["permissions"]["download"] is False


# --- previews --------------------------------------------------------------------------------------


@needs_soffice
def test_thumbnail_is_404_until_the_preview_is_made_then_a_png(make_world, emulator, sources):
    world = make_world(DOCS_URL=emulator.url, PREVIEWS=False)
    doc = upload(world, "Picture.docx", sources["docx"])
    assert world.client().get(f"/api/v1/files/{doc['id']}/thumbnail", headers=world.api("alice")).status_code == 404

    world.app.config["PREVIEWS"] = True
    from app import jobs

    with world.app.app_context():
        jobs.make_thumbnail(doc["id"], 1)  # what the job after each new version runs

    response = world.client().get(f"/api/v1/files/{doc['id']}/thumbnail", headers=world.api("alice"))
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f"/api/v1/files/{doc['id']}/thumbnail" in page


@needs_soffice
def test_a_new_version_gets_its_preview_in_the_background(make_world, emulator, sources):
    world = make_world(DOCS_URL=emulator.url, PREVIEWS=True)
    doc = upload(world, "Fresh.docx", sources["docx"])
    wait_for(lambda: world.versions(doc["id"])[0].thumbnail_key, timeout=120, what="the preview")
    response = world.client().get(f"/api/v1/files/{doc['id']}/thumbnail", headers=world.api("alice"))
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    page = world.client("alice").get(f"/files/{doc['id']}").get_data(as_text=True)
    assert 'id="file-preview"' in page

    # Readers without downloads see the icon, and the preview's bytes are refused them.
    world.set_level(doc["id"], "bob", "read")
    world.client().put(f"/api/v1/files/{doc['id']}/rights", json={"allow_download": False}, headers=world.api("alice"))
    assert world.client().get(f"/api/v1/files/{doc['id']}/thumbnail", headers=world.api("bob")).status_code == 403
    page = world.client("bob").get(f"/files/{doc['id']}").get_data(as_text=True)
    assert 'id="file-preview"' not in page and 'id="file-preview-icon"' in page

    # The preview goes with its file.
    assert world.blob_keys("previews/")
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    assert world.blob_keys("previews/") == []


# --- password-protected files (-5) -----------------------------------------------------------------


def _store_unchecked(world, title: str, data: bytes) -> int:
    """Add a file as an upload would, without the content check (an encrypted docx is no zip)."""
    from app import transaction
    from app.models import Space
    from app.models import User
    from app.services import files
    from app.services.storage import get_storage

    def add():
        handle, path = get_storage().temp_file()
        with handle:
            handle.write(data)
        try:
            space = db.session.get(Space, world.space_id)
            owner = db.session.get(User, world.user_ids["alice"])
            file = files._new_file(space, None, owner, title, path, "upload")
            transaction.commit()
            return file.id
        finally:
            files.remove_leftovers(path)

    return world.query(add)


def test_a_password_protected_file_asks_for_its_password_and_converts_with_it(live, sources):
    """The conversion API answers -5 for a protected document without its password (documented;
    the emulator answers so once it detects encrypted OOXML)."""
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(sources["docx"])).encrypt("s3cret", encrypted)
    assert msoffcrypto.__name__
    file_id = _store_unchecked(live, "Secret.docx", encrypted.getvalue())
    files_before = file_count(live)

    job = wait_job(live, convert(live, file_id, to="odt")["job"])
    assert job["status"] == "failed" and job["needs_password"] is True
    assert "password" in job["error"]
    assert file_count(live) == files_before

    wrong = wait_job(live, convert(live, file_id, to="odt", password="nope")["job"])
    assert wrong["status"] == "failed" and wrong["needs_password"] is True

    right = wait_job(live, convert(live, file_id, to="odt", password="s3cret")["job"])
    assert right["status"] == "done", right
    assert DOC_TEXT in odf_text(content(live, right["file"]["id"]).data)

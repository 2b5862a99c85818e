"""Large documents in bounded memory: a save from Docs, the validation of a large spreadsheet and
the search text of a long document, each measured as the peak RSS growth of a process of its own
(tests/test_storage.py moves 200 MB through each backend; `python -m bench.large` saves and
downloads 100 MB through gunicorn on each).
"""

import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile

import defusedxml
import docx
import jwt
import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.services import search
from tests.helpers import SECRET
from tests.helpers import docx_with
from tests.helpers import write_large_xlsx
from tests.helpers import write_wordy_docx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024
SAVE_MB = 48
RSS_LIMIT_MB = 32

# Runs in a process of its own: the app on the test's database and storage. Every step is done
# once small first (imports, caches, connections), then the peak is reset and the large one runs.
MEASURE = """
import json, sys, threading
from urllib.parse import urlsplit

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

class Growth:
    def __enter__(self):
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current RSS (Linux, proc(5))
        self.before = kib("VmRSS")
        return self

    def __exit__(self, *exc):
        self.kib = kib("VmHWM") - self.before

def jobs_done():
    # Jobs run in threads of this process after the commit (no broker), named after their task.
    for thread in threading.enumerate():
        if thread.name.startswith("coedit."):
            thread.join(60)

job = json.loads(sys.argv[1])
from app import create_app
from app.services import validation

app = create_app(job["config"], instance_path=job["instance"])
client = app.test_client()
callback = urlsplit(job["callback"])
answers = []

def save(body, headers):
    answer = client.post(callback.path + "?" + callback.query, json=body, headers=headers)
    answers.append(answer.get_json())
    jobs_done()

figures = {}
save(*job["warm_save"])
with Growth() as step:
    save(*job["save"])
figures["save_kib"] = step.kib

validation.validate_document(job["small_xlsx"], "xlsx")
with Growth() as step:
    validation.validate_document(job["xlsx"], "xlsx")
figures["xlsx_kib"] = step.kib

with Growth() as step:
    save(*job["wordy_save"])  # validated, stored, and its text indexed by a job in this process
figures["wordy_save_kib"] = step.kib

with Growth() as step:
    held = b"x" * (40 << 20)  # the instrument itself: 40 MB held must show
figures["instrument_kib"] = step.kib
figures["answers"] = answers
print(json.dumps(figures))
"""


def _docx_of_size(size: int) -> bytes:
    """A real docx carrying an incompressible media part, size bytes in all (about)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_with("large")), "r") as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/media/filler.bin", random.randbytes(size), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _signed_save(key: str, url: str, user_id: int, lastsave: str) -> tuple[dict, dict]:
    body = {
        "key": key,
        "status": 6,
        "url": url,
        "filetype": "docx",
        "users": [str(user_id)],
        "lastsave": lastsave,
        "forcesavetype": 1,
    }
    now = int(time.time())
    claims = {"iat": now, "exp": now + 300}
    header = jwt.encode({"payload": body, **claims}, SECRET, algorithm="HS256")
    return {**body, "token": jwt.encode({**body, **claims}, SECRET, algorithm="HS256")}, {
        "Authorization": f"Bearer {header}"
    }


def test_a_large_save_a_large_spreadsheet_and_a_long_documents_text_take_bounded_memory(
    make_world, fake_docs, tmp_path
):
    world = make_world(DOCS_URL=fake_docs.url, STORAGE_DIR=str(tmp_path / "storage"))
    doc = world.create_document("alice", "Large")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    key, callback = config["document"]["key"], config["editorConfig"]["callbackUrl"]
    alice = world.user_ids["alice"]
    big = _docx_of_size(SAVE_MB * MB)
    small_url = fake_docs.put("small.docx", docx_with("warm up"))
    big_url = fake_docs.put("large.docx", big)
    write_large_xlsx(str(tmp_path / "small.xlsx"), 10)
    sheet_bytes = write_large_xlsx(str(tmp_path / "large.xlsx"), 300_000)
    xml_bytes = write_wordy_docx(str(tmp_path / "wordy.docx"), 40_000)
    wordy_url = fake_docs.put("wordy.docx", (tmp_path / "wordy.docx").read_bytes())
    assert sheet_bytes > 35 * MB and xml_bytes > 12 * MB  # parts far beyond what the limit allows to hold

    app_config = {
        name: world.app.config[name]
        for name in (
            "TESTING",
            "SECRET_KEY",
            "DATABASE_URL",
            "STORAGE_DIR",
            "DOCS_URL",
            "DOCS_JWT_SECRET",
            "APP_URL_FOR_DOCS",
            "PASSWORD_HASH_METHOD",
            "PREVIEWS",
        )
    }
    job = {
        "config": app_config,
        "instance": str(tmp_path / "measured"),
        "callback": callback,
        "warm_save": _signed_save(key, small_url, alice, "2026-01-01T00:00:00.000Z"),
        "save": _signed_save(key, big_url, alice, "2026-01-01T00:01:00.000Z"),
        "small_xlsx": str(tmp_path / "small.xlsx"),
        "xlsx": str(tmp_path / "large.xlsx"),
        "wordy_save": _signed_save(key, wordy_url, alice, "2026-01-01T00:02:00.000Z"),
    }
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(job)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"\nRSS growth: {SAVE_MB} MB save {figures['save_kib'] / 1024:.1f} MB, "
        f"xlsx validation ({sheet_bytes / MB:.0f} MB sheet) {figures['xlsx_kib'] / 1024:.1f} MB, "
        f"save and search text of a {xml_bytes / MB:.0f} MB document.xml {figures['wordy_save_kib'] / 1024:.1f} MB"
    )
    assert figures["answers"] == [{"error": 0}] * 3
    assert world.head_bytes(doc["id"]) == (tmp_path / "wordy.docx").read_bytes()
    sizes = [version.size for version in world.versions(doc["id"])]
    assert len(big) in sizes  # the large save was stored whole (head_bytes: the last one)
    text = world.query(lambda: db.session.scalar(sa.text("SELECT body FROM file_text")))
    assert text.startswith("Paragraph 0 of the report") and len(text) > 100_000  # read up to the budget
    assert figures["instrument_kib"] >= 40 * 1024  # the measurement sees memory that is held
    assert figures["save_kib"] < RSS_LIMIT_MB * 1024, figures
    assert figures["xlsx_kib"] < RSS_LIMIT_MB * 1024, figures
    assert figures["wordy_save_kib"] < RSS_LIMIT_MB * 1024, figures


def test_the_search_text_read_as_a_stream_keeps_words_apart_and_refuses_dtds():
    document = docx.Document()
    document.add_paragraph("Hello\tworld")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "heron", "egret"
    buffer = io.BytesIO()
    document.save(buffer)
    assert search.extract(buffer.getvalue(), "docx").split("\n") == ["Hello world", "heron", "egret"]

    book = openpyxl.Workbook()
    book.active.title = "Birds"
    book.active.append(["crane", 42, 2.5])
    buffer = io.BytesIO()
    book.save(buffer)
    # The shared string once (not its index), the numbers as written.
    assert search.extract(buffer.getvalue(), "xlsx").split("\n") == ["Birds", "crane", "42", "2.5"]

    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]><d>&a;&a;</d>'
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_with("x"))) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, bomb if item.filename == "word/document.xml" else source.read(item))
    with pytest.raises(defusedxml.DefusedXmlException):
        search.extract(out.getvalue(), "docx")  # index_file catches it: the file stays findable by name

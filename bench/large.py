"""Large documents: a 100 MB save and a 100 MB download in bounded memory on every storage backend,
and large parts validated and read for search. `python -m bench.large`, or `run(table)` from the bench.

For each backend (local disk, S3 served by moto, SFTP served by a throwaway sshd, as the tests
start them) Coedit runs under gunicorn with one worker. The figure is the growth of that worker's
peak resident memory (VmHWM, reset through /proc/PID/clear_refs before each step, proc(5)) while
Docs saves a 100 MB docx (a signed status-6 callback: Coedit fetches the file from a fake Docs,
validates, hashes and stores it) and while the version is downloaded, by Docs through its signed
download link and by a person through the API. The validation of a spreadsheet with a 100 MiB sheet
and of a document with a 100 MiB document.xml, and that document's search text, run in a process of
their own, measured the same way.
"""

import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import jwt
import requests

from bench.__main__ import ROOT
from bench.__main__ import SECRET
from bench.__main__ import Gunicorn
from bench.table import Table
from tests.helpers import FakeDocsFiles
from tests.helpers import docx_with
from tests.helpers import write_large_xlsx
from tests.helpers import write_wordy_docx
from tests.storage_servers import AWS_ENVIRONMENT
from tests.storage_servers import BACKENDS
from tests.storage_servers import SERVERS


def big_docx(size: int) -> bytes:
    """A real docx carrying an incompressible media part of about size bytes."""
    base = docx_with("big document")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/media/filler.bin", random.randbytes(size), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


MIB = 1024 * 1024
SAVE_BYTES = 100 * 1000 * 1000  # "100 MB", within the default 100 MiB limit on documents
RSS_LIMIT_MIB = 32
FOR_DOCS = "http://127.0.0.1:9"
XLSX_ROWS = 800_000  # a sheet part of about 100 MiB
DOCX_PARAGRAPHS = 300_000  # a document.xml of about 100 MiB


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakGrowth:
    """The growth of a process's peak RSS over a step: VmHWM after, minus VmRSS before (with the
    peak reset to the current RSS first, proc(5) clear_refs "5")."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self):
        with open(f"/proc/{self.pid}/clear_refs", "w") as handle:
            handle.write("5")
        self.before = status_kib(self.pid, "VmRSS")
        return self

    def __exit__(self, *exc):
        self.mib = (status_kib(self.pid, "VmHWM") - self.before) / 1024


def _flask(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _signed(body: dict) -> dict:
    now = int(time.time())
    return {**body, "token": jwt.encode({**body, "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")}


def _drain(response: requests.Response) -> int:
    """Read a streamed answer to its end without keeping it; returns its length."""
    received = 0
    for chunk in response.iter_content(MIB):
        received += len(chunk)
    return received


def _jobs_settled(pid: int, quiet_seconds: float = 1.0, timeout: float = 30) -> None:
    """Wait until the worker is idle (its in-process jobs after the commit are done)."""
    deadline = time.time() + timeout
    last, still_since = None, time.time()
    while time.time() < deadline:
        with open(f"/proc/{pid}/stat") as handle:
            ticks = sum(int(x) for x in handle.read().rsplit(")", 1)[1].split()[11:13])
        if ticks != last:
            last, still_since = ticks, time.time()
        elif time.time() - still_since >= quiet_seconds:
            return
        time.sleep(0.1)


def measure_backend(table: Table, backend: str, docs: FakeDocsFiles, document: bytes) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"coedit-bench-large-{backend}-"))
    place = SERVERS.new_place(backend, work)
    env = {
        **AWS_ENVIRONMENT,
        **{f"COEDIT_{name}": value for name, value in place.items()},
        "COEDIT_INSTANCE_PATH": str(work / "instance"),
        "COEDIT_DATABASE_URL": f"sqlite:///{work}/bench.db",
        "COEDIT_SECRET_KEY": "bench-app-secret",
        "COEDIT_DOCS_URL": docs.url,
        "COEDIT_DOCS_JWT_SECRET": SECRET,
        # Docs' links to us are rewritten to the port gunicorn gets (the bench plays Docs).
        "COEDIT_APP_URL_FOR_DOCS": FOR_DOCS,
    }
    coedit = None
    try:
        _flask(env, "db", "upgrade")
        _flask(env, "create-user", "bench", "--password", "bench")
        token = _flask(env, "create-token", "bench").strip().splitlines()[-1]
        auth = {"Authorization": f"Bearer {token}"}
        coedit = Gunicorn("wsgi:app", env, workers="1")

        def ours(link: str) -> str:
            return coedit.url + link.removeprefix(FOR_DOCS)

        space = requests.post(coedit.url + "/api/v1/spaces", json={"name": "Large"}, headers=auth, timeout=10).json()
        doc = requests.post(
            f"{coedit.url}/api/v1/spaces/{space['id']}/documents",
            json={"title": "Large", "type": "docx"},
            headers=auth,
            timeout=10,
        ).json()
        config_url = f"{coedit.url}/api/v1/files/{doc['id']}/editor-config"
        config = requests.get(config_url, headers=auth, timeout=10).json()
        callback, key = ours(config["editorConfig"]["callbackUrl"]), config["document"]["key"]
        pid = coedit.worker_pid()
        _jobs_settled(pid)

        url = docs.put(f"large-{backend}.docx", document)
        body = _signed(
            {
                "key": key,
                "status": 6,
                "url": url,
                "filetype": "docx",
                "users": ["1"],
                "lastsave": "2026-01-01T00:00:00.000Z",
                "forcesavetype": 1,
            }
        )
        started = time.time()
        with PeakGrowth(pid) as save:
            answer = requests.post(callback, json=body, timeout=300)
            assert answer.json() == {"error": 0}, answer.text
            took = time.time() - started
            _jobs_settled(pid)  # the new version's preview and search text, run in this worker
        info = requests.get(f"{coedit.url}/api/v1/files/{doc['id']}", headers=auth, timeout=10).json()
        assert info["size"] == len(document), info
        table.at_most(f"100 MB save, {backend}: RSS growth", save.mib, "MiB", RSS_LIMIT_MIB)
        table.note(f"100 MB save, {backend}: time", took, "s")

        link = requests.get(config_url, headers=auth, timeout=10).json()["document"]["url"]
        docs_url = ours(link)
        signed = jwt.encode(
            {"payload": {"url": link}, "iat": int(time.time()), "exp": int(time.time()) + 600},
            SECRET,
            algorithm="HS256",
        )
        with PeakGrowth(pid) as docs_download:
            with requests.get(docs_url, headers={"Authorization": f"Bearer {signed}"}, stream=True, timeout=300) as got:
                assert got.status_code == 200, got.status_code
                assert _drain(got) == len(document)
        table.at_most(f"100 MB download by Docs, {backend}: RSS growth", docs_download.mib, "MiB", RSS_LIMIT_MIB)

        content = f"{coedit.url}/api/v1/files/{doc['id']}/content"
        with PeakGrowth(pid) as person_download:
            with requests.get(content, headers=auth, stream=True, timeout=300) as got:
                assert got.status_code == 200, got.status_code
                assert _drain(got) == len(document)
        table.at_most(f"100 MB download by a person, {backend}: RSS growth", person_download.mib, "MiB", RSS_LIMIT_MIB)
    finally:
        if coedit is not None:
            coedit.stop()
        shutil.rmtree(work, ignore_errors=True)


# A step on a large file in a process of its own (the worker's figure would mix in the fetch and the
# store): done once first (imports, caches), then measured.
STEP = """
import json, sys, time
from app.services import search
from app.services import validation

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

step, path, ext = sys.argv[1:]

def once():
    if step == "validate":
        validation.validate_document(path, ext, validation.Limits(max_bytes=1 << 30))
    else:
        with open(path, "rb") as source:
            search.extract(source, ext)

once()
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # resets VmHWM to the current RSS (Linux, proc(5))
before = kib("VmRSS")
started = time.time()
once()
print(json.dumps({"growth_kib": kib("VmHWM") - before, "seconds": time.time() - started}))
"""


def _step(step: str, path: str, ext: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", STEP, step, path, ext],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def measure_large_parts(table: Table) -> None:
    """Validation of a spreadsheet with a sheet of about 100 MiB, and validation and search text of
    a document whose document.xml is about as large."""
    table.begin("Large documents: validation and search text, RSS growth of a process of its own")
    work = tempfile.mkdtemp(prefix="coedit-bench-parts-")
    try:
        xlsx = os.path.join(work, "large.xlsx")
        sheet = write_large_xlsx(xlsx, XLSX_ROWS)
        figures = _step("validate", xlsx, "xlsx")
        table.note("large xlsx: its sheet part", sheet / MIB, "MiB")
        table.at_most("large xlsx validation: RSS growth", figures["growth_kib"] / 1024, "MiB", RSS_LIMIT_MIB)
        table.note("large xlsx validation: time", figures["seconds"], "s")

        docx = os.path.join(work, "long.docx")
        part = write_wordy_docx(docx, DOCX_PARAGRAPHS)
        table.note("long docx: its document.xml", part / MIB, "MiB")
        figures = _step("validate", docx, "docx")
        table.at_most("long docx validation: RSS growth", figures["growth_kib"] / 1024, "MiB", RSS_LIMIT_MIB)
        table.note("long docx validation: time", figures["seconds"], "s")
        figures = _step("search", docx, "docx")
        table.at_most("long docx search text: RSS growth", figures["growth_kib"] / 1024, "MiB", RSS_LIMIT_MIB)
        table.note("long docx search text: time", figures["seconds"], "s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(table: Table) -> None:
    table.begin("Large documents: 100 MB save and download, RSS growth of the gunicorn worker")
    docs = FakeDocsFiles()
    document = big_docx(SAVE_BYTES - 20_000)
    document = big_docx(SAVE_BYTES - 20_000 + (SAVE_BYTES - len(document)))  # exactly SAVE_BYTES
    try:
        for backend in BACKENDS:
            measure_backend(table, backend, docs, document)
    finally:
        docs.stop()
        SERVERS.stop()
    measure_large_parts(table)


def main() -> None:
    table = Table()
    run(table)
    if table.failed():
        sys.exit(1)


if __name__ == "__main__":
    main()

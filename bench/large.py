"""Large documents: a 100 MB save and a 100 MB download in bounded memory on every storage backend,
and the validation of a large spreadsheet. `python -m bench.large`, or `run(table)` from the bench.

For each backend (local disk, S3 served by moto, SFTP served by a throwaway sshd, as the tests
start them) Coedit runs under gunicorn with one worker. The figure is the growth of that worker's
peak resident memory (VmHWM, reset through /proc/PID/clear_refs before each step, proc(5)) while
Docs saves a 100 MB docx (a signed status-6 callback: Coedit fetches the file from a fake Docs,
validates, hashes and stores it) and while the version is downloaded, by Docs through its signed
download link and by a person through the API. The spreadsheet's validation runs in a process of
its own, measured the same way.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
import requests

from bench.__main__ import ROOT
from bench.__main__ import SECRET
from bench.__main__ import Gunicorn
from bench.__main__ import big_docx
from bench.table import Table
from tests.helpers import FakeDocsFiles
from tests.helpers import write_large_xlsx
from tests.storage_servers import AWS_ENVIRONMENT
from tests.storage_servers import BACKENDS
from tests.storage_servers import SERVERS

MIB = 1024 * 1024
SAVE_BYTES = 100 * 1000 * 1000  # "100 MB", within the default 100 MiB limit on documents
RSS_LIMIT_MIB = 32
FOR_DOCS = "http://127.0.0.1:9"
XLSX_ROWS = int(os.environ.get("BENCH_XLSX_ROWS", "800000"))  # a sheet part of about 100 MiB


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
        coedit = Gunicorn("wsgi:app", env)

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


# The validation of a large spreadsheet, in a process of its own (the worker's figure would mix in
# the fetch and the store).
VALIDATE = """
import json, os, sys, time
from app.services import validation

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

path = sys.argv[1]
validation.validate_document(path, "xlsx", validation.Limits(max_bytes=1 << 30))  # warm up: imports, caches
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = kib("VmRSS")
started = time.time()
validation.validate_document(path, "xlsx", validation.Limits(max_bytes=1 << 30))
print(json.dumps({"growth_kib": kib("VmHWM") - before, "seconds": time.time() - started}))
"""


def measure_xlsx(table: Table) -> None:
    work = tempfile.mkdtemp(prefix="coedit-bench-xlsx-")
    try:
        path = os.path.join(work, "large.xlsx")
        sheet_bytes = write_large_xlsx(path, XLSX_ROWS)
        run = subprocess.run(
            [sys.executable, "-c", VALIDATE, path],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": ROOT},
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        table.note(
            f"xlsx validated: sheet {sheet_bytes / MIB:.0f} MiB, file {os.path.getsize(path) / MIB:.0f} MiB",
            figures["seconds"],
            "s",
        )
        table.at_most("large xlsx validation: RSS growth", figures["growth_kib"] / 1024, "MiB", RSS_LIMIT_MIB)
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
    measure_xlsx(table)


def main() -> None:
    table = Table()
    run(table)
    if table.failed():
        sys.exit(1)


if __name__ == "__main__":
    main()

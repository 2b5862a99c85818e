"""Run the benchmarks: `make bench` (or `python -m bench`).

Everything runs on 127.0.0.1 under gunicorn (one worker, so figures compare like with like):
Coedit, and a bare Flask app as the baseline. Each figure is printed with its baseline from
this same run and the ratio between them, so machines of different speed can be compared.
"""

import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import jwt
import requests

from tests.helpers import FakeDocsFiles
from tests.helpers import docx_with

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET = "bench-secret-0123456789-abcdefghijkl"
DURATION = float(os.environ.get("BENCH_SECONDS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, target: str, env: dict, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "--threads",
                str(threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                target,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        deadline = time.time() + 30
        while True:
            try:
                requests.get(self.url + "/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.1)

    def worker_pid(self) -> int:
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return int(children.split()[0])

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


WRK = shutil.which("wrk")
WRK_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


def wrk_rate(url: str, headers: dict | None = None, body: dict | None = None) -> float:
    """Requests per second measured by wrk (a C load generator: the client is not the bottleneck)."""
    args = ["wrk", "-t2", "-c8", f"-d{DURATION:.0f}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(WRK_POST % json.dumps(body))
        script.close()
        args += ["-s", script.name]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    if "Non-2xx" in output:
        raise AssertionError(f"errors under load for {url}:\n{output}")
    return float(next(line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec")))


def throughput(make_request) -> float:
    """Requests per second with CLIENTS concurrent Python clients for DURATION seconds."""
    stop = time.time() + DURATION
    counts = []

    def client():
        session = requests.Session()
        done = 0
        while time.time() < stop:
            response = make_request(session)
            assert response.status_code == 200, (response.status_code, response.text[:200])
            done += 1
        counts.append(done)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.time() - started)


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def big_docx(size: int) -> bytes:
    """A real docx carrying an incompressible media part of about size bytes."""
    base = docx_with("big document")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/media/filler.bin", random.randbytes(size), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def report(name: str, value: float, unit: str, baseline_name: str, baseline: float, target: str) -> None:
    ratio = value / baseline if baseline else float("nan")
    print(
        f"{name:<38} {value:10.1f} {unit:<6} | {baseline_name:<26} {baseline:10.1f} {unit:<6} | "
        f"ratio {ratio:5.2f}  ({target})"
    )


def main() -> None:
    work = tempfile.mkdtemp(prefix="coedit-bench-")
    docs = FakeDocsFiles()
    blob_path = os.path.join(work, "blob.bin")
    with open(blob_path, "wb") as handle:
        handle.write(random.randbytes(20 * 1024 * 1024))
    env = {
        "COEDIT_INSTANCE_PATH": os.path.join(work, "instance"),
        "COEDIT_DATABASE_URL": f"sqlite:///{work}/bench.db",
        "COEDIT_STORAGE_DIR": os.path.join(work, "storage"),
        "COEDIT_SECRET_KEY": "bench-app-secret",
        "COEDIT_DOCS_URL": docs.url,
        "COEDIT_DOCS_JWT_SECRET": SECRET,
        "BENCH_JWT_SECRET": SECRET,
        "BENCH_BLOB": blob_path,
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    subprocess.run(
        [*flask, "create-user", "bench", "--password", "bench"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    token = (
        subprocess.run(
            [*flask, "create-token", "bench"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    servers = []
    auth = {"Authorization": f"Bearer {token}"}
    try:
        baseline = Gunicorn("bench.baseline:app", env)
        servers.append(baseline)
        coedit = Gunicorn("wsgi:app", env)
        servers.append(coedit)
        space = requests.post(coedit.url + "/api/v1/spaces", json={"name": "Bench"}, headers=auth, timeout=10).json()
        doc = requests.post(
            f"{coedit.url}/api/v1/spaces/{space['id']}/documents",
            json={"title": "B", "type": "docx"},
            headers=auth,
            timeout=10,
        ).json()
        config_url = f"{coedit.url}/api/v1/files/{doc['id']}/editor-config"
        config = requests.get(config_url, headers=auth, timeout=10).json()
        callback, key = config["editorConfig"]["callbackUrl"], config["document"]["key"]

        client = "wrk, 8 connections" if WRK else f"{CLIENTS} Python clients (install wrk for better figures)"
        print(f"Coedit benchmarks: {client}, {DURATION:.0f} s each, one gunicorn worker per app\n")
        if WRK:
            hello = wrk_rate(baseline.url + "/hello")
            editor = wrk_rate(config_url, auth)
        else:
            hello = throughput(lambda s: s.get(baseline.url + "/hello"))
            editor = throughput(lambda s: s.get(config_url, headers=auth))
        report("editor config (rights checked in DB)", editor, "req/s", "bare Flask hello", hello, "target >= 0.50")

        def signed(body):
            now = int(time.time())
            return {**body, "token": jwt.encode({**body, "iat": now, "exp": now + 300}, SECRET, algorithm="HS256")}

        status1 = signed({"key": key, "status": 1, "users": ["1"], "actions": [{"type": 1, "userid": "1"}]})
        if WRK:
            verify = wrk_rate(baseline.url + "/jwt", body=status1)
            callbacks = wrk_rate(callback, body=status1)
        else:
            verify = throughput(lambda s: s.post(baseline.url + "/jwt", json=status1))
            callbacks = throughput(lambda s: s.post(callback, json=status1))
        report("signed callback (status 1)", callbacks, "req/s", "Flask verifying one JWT", verify, "target near 1")

        pid = coedit.worker_pid()
        before = peak_rss_kib(pid)
        data = big_docx(20 * 1024 * 1024)
        url = docs.put("big.docx", data)
        body = signed(
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
        answer = requests.post(callback, json=body, timeout=120)
        elapsed = time.time() - started
        assert answer.json() == {"error": 0}, answer.text
        extra_mib = (peak_rss_kib(pid) - before) / 1024
        print(
            f"{'20 MB save, extra peak memory':<38} {extra_mib:10.1f} MiB    | took {elapsed:.2f} s"
            f"{'':<17}| {'ok' if extra_mib < 16 else 'OVER'} (target < 16 MiB)"
        )

        info = requests.get(f"{coedit.url}/api/v1/files/{doc['id']}", headers=auth, timeout=10).json()
        download = requests.get(config_url, headers=auth, timeout=10).json()["document"]["url"]
        header = {
            "Authorization": "Bearer "
            + jwt.encode({"payload": {"url": download}, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
        }

        def rate(url, headers=None, rounds=10):
            session = requests.Session()
            total, started = 0, time.time()
            for _ in range(rounds):
                response = session.get(url, headers=headers or {}, timeout=60)
                assert response.status_code == 200
                total += len(response.content)
            return total / (time.time() - started) / (1024 * 1024)

        ours = rate(download, header)
        static = rate(baseline.url + "/blob")
        report(
            f"Docs download ({info['size'] / 1048576:.0f} MB)",
            ours,
            "MB/s",
            "Flask send_file (20 MB)",
            static,
            "target near 1",
        )
    finally:
        for server in servers:
            server.stop()
        docs.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Run the benchmarks: `make bench` (or `python -m bench [hot] [scale] [large]`).

Everything runs on 127.0.0.1 under gunicorn with the same workers for Coedit and for the bare
Flask baseline app, and every figure is printed with its baseline from this same run and the ratio
between them, so machines of different speed compare. The hot paths run on the embedded SQLite
default and on PostgreSQL. The table is also written as JSON (bench-output/), to compare runs.
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import jwt
import requests
import sqlalchemy as sa

from bench.table import Table
from tests.helpers import FakeDocsFiles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET = "bench-secret-0123456789-abcdefghijkl"
DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
POSTGRES_URL = os.environ.get("COEDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# "postgresql+redis" is how several instances run: shared settings' generations, rate limits and
# jobs in Redis. A database of Redis of the bench's own, emptied before and after.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
HOT_ENGINES = "sqlite postgresql postgresql+redis"
OUTPUT = os.path.join(ROOT, "bench-output")
BROWSER_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) coedit-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """An app under gunicorn on a free loopback port, sync workers as `make run` and production use."""

    def __init__(self, target: str, env: dict, port: int | None = None, workers: str = WORKERS):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Its log goes to a file, as a deployment's does: thousands of request lines a second sent
        # to the terminal (or a pipe) that runs the bench would cost the machine more than writing
        # them, and bury the table.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="coedit-bench-", suffix=".log")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", workers, "-b", f"127.0.0.1:{self.port}", "--log-level", "warning"]
            + [target],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while True:
            try:
                requests.get(self.url + "/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{target} did not start:\n{self.log_tail()}") from None
                time.sleep(0.1)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote (it ran out of sight)."""
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-lines:])

    def worker_pids(self) -> list[int]:
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in children.split()]

    def cpu_seconds(self) -> float:
        """The CPU time its workers have used so far (user and system, from /proc)."""
        total = 0
        for pid in self.worker_pids():
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (in clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def worker_pid(self) -> int:
        """The worker of a one-worker server (memory is measured on it)."""
        return self.worker_pids()[0]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:  # a worker stuck in a request under load: the figures are taken
            self.process.kill()
            self.process.wait(10)
        self.log.close()


WRK_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


@dataclass
class Paired:
    """A path and its baseline measured in alternating rounds: medians, and each round's ratio."""

    rate: float
    cpu: float
    baseline_rate: float
    baseline_cpu: float
    ratios: list[float]
    cpu_ratios: list[float]


def paired(baseline: tuple, measured: tuple, rounds: int = ROUNDS) -> Paired:
    """``measured`` and ``baseline`` (each a server, a URL, headers and a body for ``loaded``)
    in ``rounds`` rounds, one right after the other, the order swapped every round.

    On a shared machine the speed left to us drifts by more than the gaps being measured, within
    seconds; a ratio of two measurements taken side by side, repeated, tells more than two long
    measurements taken apart."""
    figures = []
    for round_number in range(rounds):
        if round_number % 2 == 0:
            base = loaded(*baseline)
            figure = loaded(*measured)
        else:
            figure = loaded(*measured)
            base = loaded(*baseline)
        figures.append((figure, base))
    return Paired(
        rate=statistics.median(figure[0] for figure, _ in figures),
        cpu=statistics.median(figure[1] for figure, _ in figures),
        baseline_rate=statistics.median(base[0] for _, base in figures),
        baseline_cpu=statistics.median(base[1] for _, base in figures),
        ratios=[figure[0] / base[0] for figure, base in figures],
        cpu_ratios=[figure[1] / base[1] for figure, base in figures],
    )


def loaded(server: Gunicorn, url: str, headers: dict | None = None, body: dict | None = None) -> tuple[float, float]:
    """Requests per second under wrk, and the CPU time the server's workers spent per request (µs):
    the rate depends on the whole machine, the CPU per request on the app alone."""
    before = server.cpu_seconds()
    try:
        rate = wrk_rate(url, headers, body)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe server's last lines:\n{server.log_tail()}") from None
    return rate, (server.cpu_seconds() - before) / (rate * DURATION) * 1e6


def wrk_rate(url: str, headers: dict | None = None, body: dict | None = None) -> float:
    """Requests per second measured by wrk (a C load generator: the client is not the bottleneck)."""
    args = ["wrk", "-t2", "-c8", f"-d{DURATION:.0f}s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(WRK_POST % json.dumps(body))
        script.close()
        args += ["-s", script.name]
    try:
        output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script:
            os.unlink(script.name)
    if "Non-2xx" in output or "Socket errors" in output:
        raise AssertionError(f"errors under load for {url}:\n{output}")
    return float(next(line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec")))


def signed(body: dict) -> dict:
    """A callback body as Docs sends it: the token in the body, carrying the same fields."""
    now = int(time.time())
    return {**body, "token": jwt.encode({**body, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")}


class Database:
    """The database a Coedit under benchmark uses: a SQLite file, or a PostgreSQL database of its own."""

    def __init__(self, engine: str, work: str):
        self.engine = engine
        if engine == "sqlite":
            self.url = f"sqlite:///{work}/bench.db"
            return
        self.server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.name = f"coedit_bench_{os.getpid()}"
        with self.server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.make_url(POSTGRES_URL).set(database=self.name).render_as_string(hide_password=False)

    def analyze(self) -> None:
        """Statistics for the planner, as a deployment's database has them: autovacuum analyzes a
        table once it grows, and a bench's tables stay below that threshold. Without them
        PostgreSQL plans the hot reads for tables of a guessed size (hash joins over scans)."""
        if self.engine == "sqlite":
            return
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
        engine.dispose()

    def drop(self) -> None:
        if self.engine != "sqlite":
            with self.server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


class Coedit:
    """Coedit under gunicorn on a database of its own, with a user, an API token, a space and a document."""

    def __init__(self, engine: str, docs_url: str, extra_env: dict | None = None):
        self.work = tempfile.mkdtemp(prefix=f"coedit-bench-{engine}-")
        self.database = Database(engine, self.work)
        port = free_port()
        self.env = {
            "COEDIT_INSTANCE_PATH": os.path.join(self.work, "instance"),
            "COEDIT_DATABASE_URL": self.database.url,
            "COEDIT_STORAGE_DIR": os.path.join(self.work, "storage"),
            "COEDIT_SECRET_KEY": "bench-app-secret",
            "COEDIT_DOCS_URL": docs_url,
            "COEDIT_DOCS_JWT_SECRET": SECRET,
            "COEDIT_APP_URL_FOR_DOCS": f"http://127.0.0.1:{port}",
            # One benchmark client is one person at thousands of calls a minute: the per-person API
            # limit is still counted on every call, only set above what the run reaches.
            "COEDIT_RATELIMIT_API": "10000000 per minute",
            **(extra_env or {}),
        }
        self.flask("db", "upgrade")
        self.flask("create-user", "bench", "--password", "bench")
        token = self.flask("create-token", "bench").strip().splitlines()[-1]
        self.auth = {"Authorization": f"Bearer {token}"}
        self.server = Gunicorn("wsgi:app", self.env, port)
        self.url = self.server.url
        try:
            space = self.post("/api/v1/spaces", {"name": "Bench"})
            self.space_id = space["id"]
            self.doc = self.post(f"/api/v1/spaces/{self.space_id}/documents", {"title": "B", "type": "docx"})
            self.database.analyze()
        except Exception:
            self.stop()  # else its server outlives the run, holding the output pipe open
            raise
        self.config_url = f"{self.url}/api/v1/files/{self.doc['id']}/editor-config"

    def flask(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.url + path, json=body, headers=self.auth, timeout=30)
        response.raise_for_status()
        return response.json()

    def signed_in_browser(self) -> dict:
        """A browser's headers after signing in through the sign-in form as a person does: its
        session cookie, and the User-Agent it signed in with. A browser keeps its User-Agent, and
        Flask-Login's session protection marks a session whose User-Agent changed as not fresh,
        which rewrites its cookie on every request."""
        browser = requests.Session()
        browser.headers["User-Agent"] = BROWSER_USER_AGENT
        page = browser.get(self.url + "/auth/login", timeout=30).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)  # form.hidden_tag()'s
        fields = {"username": "bench", "password": "bench", "csrf_token": csrf.group(1)}
        response = browser.post(self.url + "/auth/login", data=fields, timeout=30, allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"signing in answered {response.status_code}")
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        return {"Cookie": cookie, "User-Agent": BROWSER_USER_AGENT}

    def config(self) -> dict:
        response = requests.get(self.config_url, headers=self.auth, timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.server.stop()
        self.database.drop()
        shutil.rmtree(self.work, ignore_errors=True)


def hot_paths(table: Table, engine: str, baseline: Gunicorn, docs: FakeDocsFiles) -> None:
    """The editor config and a status-1 callback that changes nothing, against their bare Flask ceilings."""
    table.begin(
        f"hot paths on {engine} (gunicorn -w {WORKERS}, wrk 2 threads, 8 connections, "
        f"{ROUNDS} rounds of {DURATION:.0f} s beside the baseline: medians, the rounds' ratios' range)"
    )
    database, _, shared = engine.partition("+")
    extra = {}
    if shared == "redis":
        import redis

        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
        extra["COEDIT_REDIS_URL"] = BENCH_REDIS_URL
    coedit = Coedit(database, docs.url, extra)
    try:
        config = coedit.config()
        callback, key = config["editorConfig"]["callbackUrl"], config["document"]["key"]
        status1 = signed({"key": key, "status": 1, "users": ["1"], "actions": [{"type": 1, "userid": "1"}]})
        assert requests.post(callback, json=status1, timeout=10).json() == {"error": 0}
        page_url = f"{coedit.url}/files/{coedit.doc['id']}/open"
        browser = coedit.signed_in_browser()
        assert requests.get(page_url, headers=browser, timeout=10).status_code == 200
        hello = ("bare Flask GET", (baseline, baseline.url + "/hello"))
        verify = ("Flask POST verifying a JWT", (baseline, baseline.url + "/jwt", None, status1))
        paths = (
            ("editor config (API, rights checked)", hello, (coedit.server, coedit.config_url, coedit.auth), 0.5),
            ("editor page (config in the page, signed in)", hello, (coedit.server, page_url, browser), 0.5),
            ("status-1 callback (signed, nothing changes)", verify, (coedit.server, callback, None, status1), 0.8),
        )
        for title, (baseline_name, base), measured, target in paths:
            figure = paired(base, measured)
            table.ratio(title, figure.rate, "req/s", baseline_name, figure.baseline_rate, target, figure.ratios)
            cpu_title = title.partition(" (")[0] + ": worker CPU per request"
            table.compare(cpu_title, figure.cpu, "µs", baseline_name, figure.baseline_cpu, figure.cpu_ratios)
    finally:
        coedit.stop()
        if shared == "redis":
            redis.Redis.from_url(BENCH_REDIS_URL).flushdb()


def scale_of_content(table: Table, engine: str, docs: FakeDocsFiles) -> None:
    """Every page and API list of a space of 10,000 files (and the rest) against a space of 10."""
    from bench import scale

    coedit = Coedit(engine, docs.url)
    try:
        ids = scale.seed_large(coedit.database.url, "bench")
        coedit.database.analyze()
        scale.run(table, coedit.url, coedit.auth, ids, engine=engine)
    finally:
        coedit.stop()


SECTIONS = ("hot", "scale", "large")


def main(argv: list[str]) -> int:
    wanted = argv or list(SECTIONS)
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        print(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}", file=sys.stderr)
        return 2
    if not shutil.which("wrk"):
        print("wrk is needed (make bench installs Debian's package)", file=sys.stderr)
        return 2
    table = Table()
    docs = FakeDocsFiles()
    baseline = Gunicorn("bench.baseline:app", {"BENCH_JWT_SECRET": SECRET})
    try:
        if "hot" in wanted:
            for engine in os.environ.get("BENCH_ENGINES", HOT_ENGINES).split():
                hot_paths(table, engine, baseline, docs)
        if "scale" in wanted:
            for engine in os.environ.get("BENCH_ENGINES", "sqlite postgresql").split():
                scale_of_content(table, engine.partition("+")[0], docs)
        if "large" in wanted:
            from bench import large

            large.run(table)
    finally:
        baseline.stop()
        docs.stop()
    os.makedirs(OUTPUT, exist_ok=True)
    path = os.path.join(OUTPUT, time.strftime("bench-%Y%m%dT%H%M%SZ.json", time.gmtime(table.started)))
    table.write_json(path)
    missed = table.failed()
    print(f"\n{len(table.rows)} figures, {len(missed)} short of target; JSON in {os.path.relpath(path, ROOT)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

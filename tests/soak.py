"""A soak of the whole save path: N co-editing sessions driven through the Docs emulator against two
instances behind nginx (tests/cluster.py: PostgreSQL, Redis, S3, one job worker each), for a fixed
time. Each session's editors join and leave (status 1), append edits, press Save (status 6), close
(status 2 after the emulator's save delay), and some people take the file as text (a conversion by
Docs). Every edit is a unique marker paragraph in the docx the emulator delivers at save time.

At the end, and every check can fail:

- errors answered to Docs: every callback attempt the emulator logged was answered HTTP 200
  ``{"error": 0}``;
- lost edits: a marker the driver appended that is not in its file's current version (every
  session ends in a final save, and each version holds everything before it);
- duplicate edits: a marker twice in one version, or one that leaves the history and comes back
  (it must appear in exactly one version for the first time and in every version after it);
- each save became exactly one version: the content of every save Docs delivered (by its SHA-256)
  is exactly one version of the file, except a force-save the final save of its session folded
  (then the final version holds every marker the force-save held);
- torn files: a version whose bytes do not match its recorded SHA-256 or that is not a sound docx;
- metrics: onlyoffice_save_total and onlyoffice_session_events_total, added over both instances,
  equal what the emulator sent;
- memory: the RSS of every process (each gunicorn master and worker, each job worker, nginx, the
  emulator, the S3 server) sampled every few seconds; after warm-up it must stay flat.

``python -m tests.soak`` (``make soak``) runs it; SOAK_SESSIONS, SOAK_SECONDS, SOAK_WORKERS,
SOAK_RSS_LIMIT_MB and SOAK_REPORT change the defaults. tests/test_soak.py runs a short one.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import io
import json
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter

import requests

from tests.cluster import Cluster
from tests.helpers import docx_text

MARKER = re.compile(r"soak-\d+-\d+-[0-9a-f]{8}")
SAVE_STATUSES = (2, 3, 6, 7)
JOIN, LEAVE = 1, 0  # status 1 actions: type 1 connected, type 0 disconnected
# Weights of what happens next in an open session.
ACTIONS = {"append": 6.0, "join": 1.0, "leave": 1.0, "forcesave": 1.5, "convert": 0.4, "close": 1.2}


@dataclasses.dataclass
class Settings:
    sessions: int = 1000
    seconds: float = 600.0
    workers: int = 16
    # RSS growth allowed from the end of warm-up to the end of the run, per process. Python
    # processes reach a plateau once their caches (compiled SQL, templates, connection pools, thread
    # stacks, the allocator's arenas) are full; a leak grows with the work done instead. At the
    # full run's rate (tens of callbacks a second for ten minutes, over 10,000 requests per worker)
    # a leak of 1 KiB a request ends beyond this bound, while allocator noise stays well under it.
    rss_limit_mb: float = 16.0
    warmup_fraction: float = 0.3  # the first part of the run, when caches fill
    # Shown but not held to the bound: the driver keeps every record on purpose, and moto's S3
    # server keeps every object stored.
    rss_exempt: tuple = ("soak driver", "s3 server")
    actions: dict = dataclasses.field(default_factory=lambda: dict(ACTIONS))  # weights of the next step
    sample_seconds: float = 2.0
    report: str | None = None
    progress: bool = False  # print a line every 30 s

    @classmethod
    def from_environment(cls) -> Settings:
        made = cls()
        for field, cast in (("sessions", int), ("seconds", float), ("workers", int), ("rss_limit_mb", float)):
            value = os.environ.get(f"SOAK_{field.upper()}")
            if value:
                setattr(made, field, cast(value))
        made.report = os.environ.get("SOAK_REPORT", "test-output/soak.json")
        made.progress = True
        return made


@dataclasses.dataclass
class Document:
    id: int
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    state: str = "closed"  # closed -> open -> closed (its final save under way until the key is gone)
    key: str | None = None
    changed: bool = False  # edited in this session: its end must give the file a new key
    present: dict = dataclasses.field(default_factory=dict)  # user name -> user id in the session
    markers: list = dataclasses.field(default_factory=list)
    sequence: int = 0


class Control:
    """The emulator's control API and the app's API, one HTTP connection pool per thread."""

    def __init__(self, docs_url: str, app_url: str, tokens: dict):
        self.docs_url, self.app_url, self.tokens = docs_url, app_url, tokens
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http

    def docs(self, method: str, path: str, body: dict | None = None, timeout: float = 60) -> requests.Response:
        return self.http.request(method, self.docs_url + "/_emulator" + path, json=body, timeout=timeout)

    def docs_ok(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.docs(method, path, body)
        if answer.status_code != 200:
            raise SoakError(f"emulator {method} {path}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    def api(self, method: str, path: str, user: str = "alice", base: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.http.request(
            method, (base or self.app_url) + "/api/v1" + path, headers=headers, timeout=60, **kwargs
        )

    def api_ok(self, method: str, path: str, user: str = "alice", expect: int = 200, **kwargs):
        answer = self.api(method, path, user, **kwargs)
        if answer.status_code != expect:
            raise SoakError(f"API {method} {path} as {user}: {answer.status_code} {answer.text[:200]}")
        return answer


class SoakError(Exception):
    """Something the driver was answered that it did not expect."""


def markers_of_docx(data: bytes) -> list[str]:
    """The markers in a docx's main part, read as text (cheap; versions are read with python-docx)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return MARKER.findall(package.read("word/document.xml").decode("utf-8"))


# --- memory ---------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return sorted(set(found))


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the RSS of every process of the installation every few seconds, by role."""

    def __init__(self, cluster: Cluster, interval: float):
        super().__init__(name="rss-sampler", daemon=True)
        self.cluster, self.interval = cluster, interval
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.pids: dict[str, set] = {}  # role -> every pid seen in it (more than one: a restart)
        self.stopping = threading.Event()
        self.started_at = time.monotonic()

    def processes(self) -> dict[str, int]:
        cluster, found = self.cluster, {}
        for instance in cluster.instances:
            master = instance.app.process.pid
            found[f"{instance.name} gunicorn master"] = master
            for number, worker in enumerate(children(master), 1):
                found[f"{instance.name} gunicorn worker {number}"] = worker
            if instance.worker is not None:
                found[f"{instance.name} job worker"] = instance.worker.pid
                for number, child in enumerate(children(instance.worker.pid), 1):
                    found[f"{instance.name} job worker child {number}"] = child
        found["nginx master"] = cluster.nginx.process.pid
        for number, worker in enumerate(children(cluster.nginx.process.pid), 1):
            found[f"nginx worker {number}"] = worker
        found["docs emulator"] = cluster.docs.proc.pid
        s3 = getattr(cluster.s3, "_process", None)
        if s3 is not None:
            found["s3 server"] = s3.pid
        found["soak driver"] = os.getpid()
        return found

    def sample(self) -> None:
        now = time.monotonic() - self.started_at
        values = {}
        for role, pid in self.processes().items():
            value = rss_kib(pid)
            if value is not None:
                values[role] = value
                self.pids.setdefault(role, set()).add(pid)
        self.samples.append((now, values))

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        self.sample()


def median_between(series: list[tuple[float, int]], start: float, end: float) -> float | None:
    chosen = [value for moment, value in series if start <= moment <= end]
    return statistics.median(chosen) if chosen else None


def rss_summary(samples, warmup_end: float, drive_end: float, limit_mb: float) -> dict:
    """Per process: RSS at start, after warm-up and at the end of the drive (medians of a few
    samples, so one allocator burst does not decide), and whether it stayed within the bound."""
    roles = sorted({role for _, values in samples for role in values})
    window = max(6.0, 0.1 * drive_end)
    summary = {}
    for role in roles:
        series = [(t, values[role]) for t, values in samples if role in values]
        if not series:
            continue

        start = series[0][1]
        warm = median_between(series, warmup_end, warmup_end + window) or start
        end = median_between(series, drive_end - window, drive_end) or series[-1][1]
        growth_mb = (end - warm) / 1024
        summary[role] = {
            "start_mb": round(start / 1024, 1),
            "after_warmup_mb": round(warm / 1024, 1),
            "end_mb": round(end / 1024, 1),
            "peak_mb": round(max(v for _, v in series) / 1024, 1),
            "growth_mb": round(growth_mb, 1),
            "flat": growth_mb < limit_mb,
        }
    return summary


def rss_curve(samples, roles: list[str], points: int = 12) -> list[str]:
    """A text table of the RSS curve (MiB) of each process at a dozen moments of the run."""
    if not samples:
        return []
    step = max(1, len(samples) // points)
    chosen = samples[::step]
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    width = max(len(role) for role in roles)
    lines = [f"{'RSS MiB at second':<{width}} " + " ".join(f"{t:>6.0f}" for t, _ in chosen)]
    for role in roles:
        cells = [f"{values[role] / 1024:>6.0f}" if role in values else f"{'-':>6}" for _, values in chosen]
        lines.append(f"{role:<{width}} " + " ".join(cells))
    return lines


# --- the run -------------------------------------------------------------------------------


class Soak:
    def __init__(self, settings: Settings, workdir: str):
        self.settings = settings
        self.workdir = workdir
        self.rng = random.Random()
        self.counts: Counter = Counter()  # what the driver did
        self.driver_errors: list[str] = []
        self.errors_lock = threading.Lock()
        self.key_owner: dict[str, int] = {}  # session key -> document id
        self.callbacks: list[dict] = []
        self.saves: dict[str, dict] = {}  # url of a delivered file -> its sha256 and markers
        self.downloads: list[dict] = []
        self.conversion_markers_foreign = 0

    # --- set-up -----------------------------------------------------------------------------

    def start(self) -> None:
        began = time.monotonic()
        # Docs' own timeouts are long; the emulator's test defaults are seconds, too short under load.
        docs_options = {"callback_timeout": 60.0, "download_timeout": 60.0, "convert_timeout": 60.0}
        # The soak is about saves, not about rate limits: one person opens thousands of editors here.
        env = {"COEDIT_RATELIMIT_API": "1000000 per minute"}
        self.cluster = Cluster(self.workdir, docs_options=docs_options, env=env, tokens=True)
        self.control = Control(self.cluster.docs.url, self.cluster.url, self.cluster.tokens)
        space = self.control.api_ok("POST", "/spaces", json={"name": "Soak"}, expect=201).json()["id"]
        self.control.api_ok("POST", f"/spaces/{space}/members", json={"username": "bob"}, expect=201)

        def create(number):
            body = {"title": f"Soak {number}", "type": "docx"}
            return self.control.api_ok("POST", f"/spaces/{space}/documents", json=body, expect=201).json()["id"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            self.documents = [Document(file_id) for file_id in pool.map(create, range(self.settings.sessions))]
        self.setup_seconds = time.monotonic() - began

    # --- driving ---------------------------------------------------------------------------

    def count(self, name: str, number: int = 1) -> None:
        with self.errors_lock:
            self.counts[name] += number

    def error(self, text: str) -> None:
        with self.errors_lock:
            self.counts["driver errors"] += 1
            if len(self.driver_errors) < 50:
                self.driver_errors.append(text)

    def editor_config(self, doc: Document, user: str) -> dict:
        return self.control.api_ok("GET", f"/files/{doc.id}/editor-config", user).json()

    def join(self, doc: Document, user: str) -> None:
        config = self.editor_config(doc, user)
        key = config["document"]["key"]
        if doc.state == "open" and key != doc.key:
            raise SoakError(f"file {doc.id}: {user} got key {key}, the session runs on {doc.key}")
        self.key_owner[key] = doc.id
        opened = self.control.docs_ok("POST", "/sessions", {"config": config})
        if opened.get("error") != 0:
            raise SoakError(f"file {doc.id}: the editor did not open: {opened}")
        doc.key, doc.state = key, "open"
        doc.present[user] = config["editorConfig"]["user"]["id"]
        self.count("joins", 1)

    def leave(self, doc: Document, user: str) -> None:
        self.control.docs_ok("POST", f"/sessions/{doc.key}/leave", {"user_id": doc.present.pop(user)})
        self.count("leaves", 1)

    def step(self, doc: Document) -> None:
        if doc.state == "closed":
            if doc.key is not None and self.control.docs("GET", f"/sessions/{doc.key}").status_code == 200:
                return  # its final save is still under way
            previous, changed = doc.key, doc.changed
            doc.changed = False
            self.join(doc, "alice")
            if changed and doc.key == previous:
                raise SoakError(f"file {doc.id}: the key {previous} was not replaced after its final save")
            self.count("sessions opened", 1)
            return
        weights = self.settings.actions
        action = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        if action == "append":
            user = self.rng.choice(list(doc.present))
            doc.sequence += 1
            marker = f"soak-{doc.id}-{doc.sequence}-{secrets.token_hex(4)}"
            self.control.docs_ok("POST", f"/sessions/{doc.key}/append", {"user_id": doc.present[user], "text": marker})
            doc.markers.append(marker)
            doc.changed = True
            self.count("edits", 1)
        elif action == "join" and "bob" not in doc.present:
            self.join(doc, "bob")
        elif action == "leave" and len(doc.present) > 1:
            self.leave(doc, self.rng.choice(list(doc.present)))  # the other stays: the app asks for a force-save
        elif action == "forcesave":
            user = self.rng.choice(list(doc.present))
            sent = self.control.docs_ok("POST", f"/sessions/{doc.key}/forcesave", {"user_id": doc.present[user]})
            self.count("save buttons pressed", 1)
            self.count("force-saves sent by the button", int(bool(sent.get("sent"))))
        elif action == "convert":
            self.convert(doc)
        elif action == "close":
            for user in list(doc.present):
                self.leave(doc, user)
            doc.state = "closed"
            self.count("sessions closed", 1)

    def convert(self, doc: Document) -> None:
        """Download as text: Docs converts the current version, fetched from the app."""
        answer = self.control.api("GET", f"/files/{doc.id}/content", params={"format": "txt"})
        self.count("conversions", 1)
        if answer.status_code != 200:
            self.count("conversions failed", 1)
            raise SoakError(f"file {doc.id}: Download as txt answered {answer.status_code} {answer.text[:200]}")
        foreign = set(MARKER.findall(answer.text)) - set(doc.markers)
        if foreign:
            self.conversion_markers_foreign += len(foreign)
            raise SoakError(f"file {doc.id}: the converted text holds edits never made to it: {sorted(foreign)[:3]}")

    def worker(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            doc = self.rng.choice(self.documents)
            if not doc.lock.acquire(blocking=False):
                continue
            try:
                self.step(doc)
                self.count("steps", 1)
            except Exception as exc:  # noqa: BLE001 - every surprise is counted and reported
                self.error(f"{type(exc).__name__}: {exc}")
            finally:
                doc.lock.release()

    # --- the emulator's logs ------------------------------------------------------------------

    def harvest(self) -> int:
        """Take the emulator's callback and download logs, and read each file a save delivered."""
        entries = self.control.docs_ok("POST", "/callbacks/drain")["callbacks"]
        self.downloads += [
            {k: d.get(k) for k in ("purpose", "http_status", "error")}
            for d in self.control.docs_ok("POST", "/downloads/drain")["downloads"]
        ]
        for entry in entries:
            body = entry.get("body") or {}
            entry["body"] = {
                k: body.get(k) for k in ("key", "status", "url", "forcesavetype", "lastsave", "actions", "notmodified")
            }
            self.callbacks.append(entry)
            url = body.get("url")
            if entry["ok"] and entry["status"] in SAVE_STATUSES and url and url not in self.saves:
                data = self.control.http.get(url, timeout=60)
                if data.status_code != 200:
                    self.error(f"the file of a save could not be read back from the emulator: {data.status_code}")
                    continue
                self.saves[url] = {
                    "sha256": hashlib.sha256(data.content).hexdigest(),
                    "markers": markers_of_docx(data.content),
                }
        return len(entries)

    def harvester(self, stop: threading.Event) -> None:
        began, rounds = time.monotonic(), 0
        while not stop.wait(5):
            try:
                self.harvest()
            except Exception as exc:  # noqa: BLE001
                self.error(f"harvest: {type(exc).__name__}: {exc}")
            rounds += 1
            if self.settings.progress and rounds % 6 == 0:  # a line every 30 s on a long run
                statuses = Counter(e["status"] for e in self.callbacks)
                print(
                    f"  {time.monotonic() - began:5.0f} s: {self.counts['steps']} steps, {self.counts['edits']} edits,"
                    f" callbacks {dict(sorted(statuses.items()))},"
                    f" errors {sum(1 for e in self.callbacks if not e['ok'])} to Docs,"
                    f" {self.counts['driver errors']} to the driver",
                    flush=True,
                )

    def settle(self, timeout: float = 600) -> None:
        """Close every open session, then wait until Docs and the job workers have nothing left."""
        open_docs = [doc for doc in self.documents if doc.state == "open"]

        def close(doc):
            try:
                for user in list(doc.present):
                    self.leave(doc, user)
                doc.state = "closed"
                self.count("sessions closed", 1)
            except Exception as exc:  # noqa: BLE001
                self.error(f"closing {doc.id}: {type(exc).__name__}: {exc}")

        with concurrent.futures.ThreadPoolExecutor(self.settings.workers) as pool:
            list(pool.map(close, open_docs))
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            sessions = self.control.docs_ok("GET", "/sessions")["sessions"]
            idle = self.control.docs("POST", "/wait-idle", {"timeout": 5}).status_code == 200
            if self.harvest() or sessions or not idle:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 4:  # the job workers' force-save commands are in too
                return
            time.sleep(0.5)
        self.error("the emulator and the job workers did not settle")

    # --- checks ------------------------------------------------------------------------------

    def verify_documents(self) -> dict:
        saves_by_doc: dict[int, list[dict]] = {}
        for entry in self.callbacks:
            url = entry["body"].get("url")
            if entry["ok"] and url in self.saves:
                doc_id = self.key_owner.get(entry["key"])
                saved = {**self.saves[url], "status": entry["status"], "key": entry["key"], "url": url}
                bucket = saves_by_doc.setdefault(doc_id, [])
                if all(s["url"] != url for s in bucket):
                    bucket.append(saved)
        found: Counter = Counter()
        problems: list[str] = []
        instances = [instance.url for instance in self.cluster.instances]

        def check(doc: Document):
            local: Counter = Counter()
            notes = []
            base = instances[doc.id % len(instances)]
            listed = self.control.api_ok("GET", f"/files/{doc.id}/versions", base=base).json()["versions"]
            versions = []
            for version in listed:
                content = self.control.api_ok(
                    "GET", f"/files/{doc.id}/versions/{version['number']}/content", base=base
                ).content
                local["versions"] += 1
                sha = hashlib.sha256(content).hexdigest()
                try:
                    paragraphs = docx_text(content)
                except Exception as exc:  # noqa: BLE001 - any unreadable docx is a torn file
                    paragraphs = []
                    sha = f"unreadable: {exc}"
                if sha != version["sha256"]:
                    local["torn files"] += 1
                    notes.append(f"file {doc.id} v{version['number']}: torn ({sha[:40]})")
                markers = [m for p in paragraphs for m in MARKER.findall(p)]
                versions.append({**version, "markers": markers, "marker_set": set(markers)})
            made = set(doc.markers)
            previous: set = set()
            introduced: Counter = Counter()
            for version in versions:
                repeated = [m for m, n in Counter(version["markers"]).items() if n > 1]
                local["duplicate edits"] += len(repeated)
                introduced.update(version["marker_set"] - previous)
                previous = version["marker_set"]
                foreign = version["marker_set"] - made
                if foreign:
                    local["edits never made"] += len(foreign)
                    notes.append(f"file {doc.id} v{version['number']}: markers never made here {sorted(foreign)[:3]}")
            head = versions[-1]["marker_set"] if versions else set()
            lost = made - head
            local["lost edits"] += len(lost)
            if lost:
                notes.append(f"file {doc.id}: {len(lost)} edits lost, e.g. {sorted(lost)[:3]}")
            local["duplicate edits"] += sum(1 for n in introduced.values() if n > 1)
            local["edits checked"] += len(made)
            by_sha = Counter(v["sha256"] for v in versions)
            sent = set()
            for save in saves_by_doc.get(doc.id, []):
                sent.add(save["sha256"])
                stored = by_sha[save["sha256"]]
                if stored == 1:
                    local["saves stored as one version"] += 1
                elif stored > 1:
                    local["saves stored twice"] += 1
                    twins = [
                        f"v{v['number']} key {v['key']} source {v['source']} at {v['created_at']}"
                        for v in versions
                        if v["sha256"] == save["sha256"]
                    ]
                    sent_for_key = [
                        {k: e["body"].get(k) for k in ("status", "forcesavetype", "notmodified", "lastsave")}
                        | {"ok": e["ok"], "at": e["time"]}
                        for e in self.callbacks
                        if e["key"] == save["key"] and e["status"] in SAVE_STATUSES
                    ]
                    notes.append(
                        f"file {doc.id}: the status {save['status']} save of key {save['key']} is {twins};"
                        f" Docs sent {sent_for_key}"
                    )
                elif save["status"] in (6, 7) and any(
                    v["key"] == save["key"] and set(save["markers"]) <= v["marker_set"] for v in versions
                ):
                    local["force-saves folded into their final save"] += 1
                else:
                    local["saves not stored"] += 1
                    notes.append(f"file {doc.id}: the status {save['status']} save of key {save['key']} is no version")
            local["versions from no save"] += sum(1 for v in versions[1:] if v["sha256"] not in sent)
            return local, notes

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for local, notes in pool.map(check, self.documents):
                found.update(local)
                problems += notes
        return {"counts": dict(found), "problems": problems[:50]}

    def scrape_metrics(self) -> dict:
        from prometheus_client.parser import text_string_to_metric_families

        totals: Counter = Counter()
        for instance in self.cluster.instances:
            text = requests.get(instance.url + "/metrics", timeout=30).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "onlyoffice_save_total":
                        totals[f"saves {sample.labels['status']}"] += sample.value
                    elif sample.name == "onlyoffice_session_events_total":
                        totals[f"session {sample.labels['event']}"] += sample.value
        return {name: int(value) for name, value in totals.items()}

    def expected_metrics(self) -> dict:
        """What the metrics should say, from what the emulator sent: each distinct save answered
        {"error": 0} once; each join and leave of every status 1 the app answered.

        A force-save sent after its session's final save was answered is a duplicate (the final
        holds it). One that was still in flight when the final save was sent may have been stored
        before it or found held by it, whichever the app serialised first: those are counted in
        ``saves success overlapping``, and the stored saves must lie in between.
        """
        final_sent, final_answered = {}, {}  # key -> when its first final save was sent / answered
        for e in self.callbacks:
            if e["ok"] and e["status"] in (2, 3):
                final_sent[e["key"]] = min(e["time"], final_sent.get(e["key"], e["time"]))
                final_answered[e["key"]] = min(e["answered"], final_answered.get(e["key"], e["answered"]))
        saves, overlapping = set(), set()
        for e in self.callbacks:
            if not e["ok"] or e["status"] not in SAVE_STATUSES:
                continue
            save = (e["key"], e["status"], e["body"].get("lastsave"), e["body"].get("url"))
            if e["status"] in (6, 7) and e["time"] > final_answered.get(e["key"], float("inf")):
                continue  # held by the final save
            if e["status"] in (6, 7) and e["answered"] > final_sent.get(e["key"], float("inf")):
                overlapping.add(save)
            else:
                saves.add(save)
        events: Counter = Counter()
        for entry in self.callbacks:
            # Only what reached the app counts (not a proxy's 502 page): the app answers JSON.
            if entry["status"] == 1 and (entry.get("answer") or "").startswith("{"):
                for action in entry["body"].get("actions") or []:
                    if action.get("type") in (JOIN, LEAVE):
                        events["session join" if action["type"] == JOIN else "session leave"] += 1
        failed = sum(
            1
            for e in self.callbacks
            if not e["ok"] and e["status"] in SAVE_STATUSES and (e.get("answer") or "").startswith("{")
        )
        overlapping -= saves
        return {
            "saves success": len(saves),
            "saves success overlapping": len(overlapping),
            "saves failure": failed,
            **events,
        }

    # --- the whole run ------------------------------------------------------------------------

    def run(self) -> dict:
        settings = self.settings
        self.start()
        sampler = RssSampler(self.cluster, settings.sample_seconds)
        sampler.start()
        stop_harvest = threading.Event()
        harvester = threading.Thread(target=self.harvester, args=(stop_harvest,), daemon=True)
        harvester.start()
        drive_start = time.monotonic()
        deadline = drive_start + settings.seconds
        threads = [
            threading.Thread(target=self.worker, args=(deadline,), name=f"soak-{n}", daemon=True)
            for n in range(settings.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        drive_end = time.monotonic() - sampler.started_at
        stop_harvest.set()
        harvester.join(60)
        self.settle()
        sampler.stop()
        settled = time.monotonic() - drive_start
        warmup_end = (drive_start - sampler.started_at) + settings.warmup_fraction * settings.seconds
        rss = rss_summary(sampler.samples, warmup_end, drive_end, settings.rss_limit_mb)
        documents = self.verify_documents()
        metrics = self.scrape_metrics()
        expected = self.expected_metrics()
        by_status = Counter(e["status"] for e in self.callbacks if e["ok"])
        errors = [e for e in self.callbacks if not e["ok"]]
        report = {
            "settings": dataclasses.asdict(settings),
            "setup_seconds": round(self.setup_seconds, 1),
            "drive_seconds": settings.seconds,
            "settle_seconds": round(settled - settings.seconds, 1),
            "sessions": settings.sessions,
            "driver": dict(self.counts),
            "callbacks": {
                "attempts": len(self.callbacks),
                "status 1 joins": sum(
                    1
                    for e in self.callbacks
                    if e["status"] == 1
                    for a in e["body"].get("actions") or []
                    if a.get("type") == JOIN
                ),
                "status 1 leaves": sum(
                    1
                    for e in self.callbacks
                    if e["status"] == 1
                    for a in e["body"].get("actions") or []
                    if a.get("type") == LEAVE
                ),
                "force-saves (status 6)": by_status[6],
                "force-saves asked by the app": sum(
                    1 for e in self.callbacks if e["ok"] and e["status"] == 6 and e["body"].get("forcesavetype") == 0
                ),
                "final saves (status 2)": by_status[2],
                "status 4": by_status[4],
                "errors answered to Docs": len(errors),
                "retries": sum(1 for e in self.callbacks if e["attempt"] > 1),
            },
            "error_samples": [
                {k: e.get(k) for k in ("key", "status", "attempt", "http_status", "answer", "error")}
                for e in errors[:20]
            ],
            "downloads by Docs": dict(Counter(f"{d['purpose']} {d['http_status']}" for d in self.downloads)),
            "documents": documents,
            "metrics": {"scraped": metrics, "expected": expected},
            "rss": rss,
            "rss_pids": {role: sorted(pids) for role, pids in sampler.pids.items()},
            "rss_curve": rss_curve(sampler.samples, sorted(rss)),
            "driver_errors": self.driver_errors,
            "app_errors": self.app_errors(),
        }
        report["failures"] = failures(report)
        return report

    def app_errors(self, limit: int = 40) -> list[str]:
        """The error lines (and tracebacks) the instances logged, to explain a failure."""
        lines = []
        for instance in self.cluster.instances:
            with open(instance.app.log_path, errors="replace") as handle:
                keep = 0
                for line in handle:
                    if " ERROR " in line or "Traceback" in line:
                        keep = 25
                    if keep:
                        lines.append(f"{instance.name}: {line.rstrip()}")
                        keep -= 1
        return lines[-limit * 25 :]

    def stop(self) -> None:
        cluster = getattr(self, "cluster", None)
        if cluster is not None:
            cluster.stop()


def failures(report: dict) -> list[str]:
    """Every way the run fell short; empty when it held."""
    found = []
    if report["callbacks"]["errors answered to Docs"]:
        found.append(f"{report['callbacks']['errors answered to Docs']} callbacks were not answered {{'error': 0}}")
    if report["driver"].get("driver errors"):
        found.append(f"{report['driver']['driver errors']} unexpected answers to the driver")
    counts = report["documents"]["counts"]
    for name in (
        "lost edits",
        "duplicate edits",
        "torn files",
        "saves stored twice",
        "saves not stored",
        "edits never made",
        "versions from no save",
    ):
        if counts.get(name):
            found.append(f"{counts[name]} {name}")
    if not counts.get("edits checked"):
        found.append("no edit was made: the run proves nothing")
    scraped, expected = report["metrics"]["scraped"], dict(report["metrics"]["expected"])
    overlapping = expected.pop("saves success overlapping", 0)
    for name in sorted(set(scraped) | set(expected)):
        low = expected.get(name, 0)
        high = low + (overlapping if name == "saves success" else 0)
        if not low <= scraped.get(name, 0) <= high:
            sent = f"{low}–{high}" if high != low else f"{low}"
            found.append(f"metrics: {name} is {scraped.get(name, 0)}, {sent} were sent")
    for role, figures in report["rss"].items():
        if not figures["flat"] and role not in report["settings"]["rss_exempt"]:
            found.append(f"memory of {role} grew {figures['growth_mb']} MiB after warm-up")
    for role, pids in report["rss_pids"].items():
        if len(pids) > 1 and role not in report["settings"]["rss_exempt"]:
            found.append(f"{role} was restarted during the run ({len(pids)} processes)")
    return found


def summary_table(report: dict) -> str:
    """The figures a person reads first, then the RSS per process and its curve."""
    driver, calls, docs = report["driver"], report["callbacks"], report["documents"]["counts"]
    scraped, expected = report["metrics"]["scraped"], report["metrics"]["expected"]
    rows = [
        ("sessions (documents co-edited at once)", report["sessions"]),
        (
            "run (s): set-up / drive / settle",
            f"{report['setup_seconds']} / {report['drive_seconds']:.0f} / {report['settle_seconds']}",
        ),
        ("editing sessions opened", driver.get("sessions opened", 0)),
        ("joins / leaves (status 1 sent)", f"{calls['status 1 joins']} / {calls['status 1 leaves']}"),
        ("edits (markers appended)", driver.get("edits", 0)),
        (
            "force-saves (status 6): all / asked by the app",
            f"{calls['force-saves (status 6)']} / {calls['force-saves asked by the app']}",
        ),
        ("final saves (status 2)", calls["final saves (status 2)"]),
        (
            "conversions (Download as txt): all / failed",
            f"{driver.get('conversions', 0)} / {driver.get('conversions failed', 0)}",
        ),
        ("callback attempts / retries", f"{calls['attempts']} / {calls['retries']}"),
        ("errors answered to Docs", calls["errors answered to Docs"]),
        ("unexpected answers to the driver", driver.get("driver errors", 0)),
        ("versions read back", docs.get("versions", 0)),
        ("saves stored as exactly one version", docs.get("saves stored as one version", 0)),
        ("force-saves folded into their final save", docs.get("force-saves folded into their final save", 0)),
        ("saves stored twice / not stored", f"{docs.get('saves stored twice', 0)} / {docs.get('saves not stored', 0)}"),
        ("lost edits / duplicate edits", f"{docs.get('lost edits', 0)} / {docs.get('duplicate edits', 0)}"),
        ("torn files", docs.get("torn files", 0)),
        (
            "metrics saves success: scraped / sent",
            f"{scraped.get('saves success', 0)} / {expected.get('saves success', 0)}"
            + (
                f" + {expected['saves success overlapping']} overlapping their final save"
                if expected.get("saves success overlapping")
                else ""
            ),
        ),
        (
            "metrics session join, leave: scraped / sent",
            f"{scraped.get('session join', 0)}, {scraped.get('session leave', 0)} / "
            f"{expected.get('session join', 0)}, {expected.get('session leave', 0)}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    lines = ["Soak summary", "-" * (width + 20)] + [f"{name:<{width}}  {value}" for name, value in rows]
    limit = report["settings"]["rss_limit_mb"]
    lines += ["", f"RSS per process (MiB; flat = end - after warm-up < {limit:g})"]
    role_width = max([len(role) for role in report["rss"]] + [10])
    lines.append(f"{'process':<{role_width}}  {'start':>7} {'warm':>7} {'end':>7} {'peak':>7} {'growth':>7}  flat")
    for role, f in report["rss"].items():
        lines.append(
            f"{role:<{role_width}}  {f['start_mb']:>7} {f['after_warmup_mb']:>7} {f['end_mb']:>7} "
            f"{f['peak_mb']:>7} {f['growth_mb']:>7}  {'yes' if f['flat'] else 'NO'}"
        )
    lines += ["", *report["rss_curve"], ""]
    lines.append("PASSED" if not report["failures"] else "FAILED:\n  " + "\n  ".join(report["failures"]))
    return "\n".join(lines)


def run_soak(settings: Settings, workdir: str, keep_logs: str | None = None) -> dict:
    """Start the installation, drive it, check it and stop it; returns the report. The instances'
    and the emulator's logs are copied into ``keep_logs`` (a folder) when the run fails."""
    soak = Soak(settings, workdir)
    report = None
    try:
        report = soak.run()
        return report
    finally:
        if keep_logs and (report is None or report["failures"]):
            shutil.copytree(workdir, keep_logs, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*temp*", "*.db"))
            if getattr(soak, "cluster", None) is not None:
                shutil.copy(soak.cluster.docs.log_path, os.path.join(keep_logs, "emulator.log"))
        soak.stop()


def write_report(report: dict, path: str | None) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)


def main() -> int:
    settings = Settings.from_environment()
    print(
        f"Soak: {settings.sessions} sessions for {settings.seconds:.0f} s with {settings.workers} driver threads",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="coedit-soak-") as workdir:
        report = run_soak(settings, workdir, keep_logs=os.environ.get("SOAK_LOGS", "test-output/soak-logs"))
    print(summary_table(report))
    write_report(report, settings.report)
    if settings.report:
        print(f"Report written to {settings.report}")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

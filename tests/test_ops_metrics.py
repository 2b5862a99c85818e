"""Metrics and logs of a real gunicorn with two workers after known traffic from Docs.

Callbacks are sent as Docs sends them, to an app whose Docs file links a scriptable server
answers (FakeDocsFiles); the scrape must add up what both workers recorded, exactly.
"""

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import SECRET
from tests.helpers import AppProcess
from tests.helpers import docx_with
from tests.helpers import signed_callback
from tests.test_callbacks import _xml_bomb
from tests.test_callbacks import _zip_bomb

REJECTIONS = ("file_content", "zip_integrity", "xml_wellformedness", "size_limit", "expansion_ratio", "xml_dtd")


def _without_content_types() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hello.txt", "a zip, but not an Office document")
    return buffer.getvalue()


def _broken_xml() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(docx_with("x")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            broken = item.filename == "word/document.xml"
            archive.writestr(item.filename, b"<w:document><w:body>" if broken else source.read(item.filename))
    return buffer.getvalue()


REJECTED_CONTENT = {
    "file_content": _without_content_types,
    "zip_integrity": lambda: docx_with("half")[:200],
    "xml_wellformedness": _broken_xml,
    "size_limit": lambda: docx_with("big") + b"\0" * (1024 * 1024 + 1),
    "expansion_ratio": _zip_bomb,
    "xml_dtd": _xml_bomb,
}


@pytest.fixture
def traffic(make_world, fake_docs, tmp_path):
    """A document bob edits, with its callback link, served by gunicorn with two workers (JSON logs)."""
    world = make_world(DOCS_URL=fake_docs.url, STORAGE_DIR=str(tmp_path / "storage"))
    with world.app.app_context():
        from app.extensions import db
        from app.services import settings

        settings.save({"max_file_size_mb": 1})
        db.session.commit()
    doc = world.create_document("alice", "Report")
    world.set_level(doc["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob")).get_json()
    env = {
        "COEDIT_DATABASE_URL": world.app.config["DATABASE_URL"],
        "COEDIT_SECRET_KEY": world.app.config["SECRET_KEY"],
        "COEDIT_STORAGE_DIR": str(tmp_path / "storage"),
        "COEDIT_DOCS_URL": fake_docs.url,
        "COEDIT_DOCS_JWT_SECRET": SECRET,
        "COEDIT_DOCS_TIMEOUT": "2,5",
        "COEDIT_LOG_FORMAT": "json",
    }
    server = AppProcess(tmp_path / "gunicorn", env, workers=2)
    callback = urlsplit(config["editorConfig"]["callbackUrl"])
    yield {
        "world": world,
        "docs": fake_docs,
        "server": server,
        "id": doc["id"],
        "key": config["document"]["key"],
        "callback": f"{server.url}{callback.path}?{callback.query}",
        "token": dict(p.split("=", 1) for p in callback.query.split("&"))["token"],
        "bob": str(world.user_ids["bob"]),
        "alice": str(world.user_ids["alice"]),
    }
    server.stop()


def send(traffic, body: dict) -> requests.Response:
    signed, headers = signed_callback({"key": traffic["key"], **body})
    return requests.post(traffic["callback"], json=signed, headers=headers, timeout=30)


def save(traffic, name: str, content: bytes | None, status: int = 6) -> requests.Response:
    url = f"{traffic['docs'].url}/cache/files/{name}?md5=x&expires=9999999999"
    if content is not None:
        traffic["docs"].put(name, content)
    body = {"status": status, "url": url, "filetype": "docx", "users": [traffic["bob"]], "lastsave": name}
    if status == 6:
        body["forcesavetype"] = 1
    return send(traffic, body)


def scrape(url: str) -> dict:
    answer = requests.get(url + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def samples(family, suffix: str = "") -> dict:
    """{labels as a sorted tuple of pairs: value} of the family's samples named name + suffix."""
    wanted = family.name + suffix
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if s.name == wanted}


def histogram_count(family, **labels) -> float:
    key = tuple(sorted(labels.items()))
    counts = samples(family, "_count")
    buckets = {tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")): s for s in family.samples}
    assert key in counts, (family.name, labels, counts, list(buckets)[:3])
    infinity = [s.value for s in family.samples if s.name.endswith("_bucket") and s.labels.get("le") == "+Inf"]
    assert infinity, family.name
    return counts[key]


def test_metrics_of_two_workers_add_up_after_known_traffic(traffic):
    joins = [
        {"status": 1, "users": [traffic["bob"]], "actions": [{"type": 1, "userid": traffic["bob"]}]},
        {
            "status": 1,
            "users": [traffic["bob"], traffic["alice"]],
            "actions": [{"type": 1, "userid": traffic["alice"]}],
        },
    ]
    leave = {"status": 1, "users": [traffic["bob"]], "actions": [{"type": 0, "userid": traffic["alice"]}]}
    answers = [send(traffic, body).status_code for body in (*joins, leave)]
    assert answers == [200, 200, 200]
    assert save(traffic, "force-1.docx", docx_with("one")).status_code == 200
    assert save(traffic, "force-2.docx", docx_with("two")).status_code == 200
    assert save(traffic, "missing.docx", None).status_code == 503  # the download fails: a failed save
    # Sent at once, so both (single-threaded) workers take some.
    with ThreadPoolExecutor(len(REJECTED_CONTENT)) as pool:
        bodies = {reason: content() for reason, content in REJECTED_CONTENT.items()}
        answers = pool.map(lambda reason: save(traffic, f"{reason}.docx", bodies[reason]).status_code, bodies)
        rejected = dict(zip(bodies, answers, strict=True))
    assert rejected == dict.fromkeys(REJECTED_CONTENT, 422)

    during = scrape(traffic["server"].url)
    assert samples(during["onlyoffice_active_sessions"]) == {(): 1.0}
    assert during["onlyoffice_active_sessions"].type == "gauge"

    assert save(traffic, "final.docx", docx_with("final"), status=2).status_code == 200
    callbacks = 3 + 2 + 1 + len(REJECTED_CONTENT) + 1
    metrics = scrape(traffic["server"].url)

    types = {
        "onlyoffice_callback_duration_seconds": "histogram",
        "onlyoffice_download_duration_seconds": "histogram",
        "onlyoffice_upload_duration_seconds": "histogram",
        "onlyoffice_save": "counter",
        "onlyoffice_validation_rejected": "counter",
        "onlyoffice_session_events": "counter",
        "onlyoffice_active_sessions": "gauge",
        "onlyoffice_transition_locks": "gauge",
        "coedit_jobs_failed_kept": "gauge",
        "coedit_request_duration_seconds": "histogram",
        "coedit_jobs_queued": "counter",
        "coedit_build_info": "gauge",
    }
    assert {name: metrics[name].type for name in types} == types
    assert samples(metrics["onlyoffice_save"], "_total") == {
        (("status", "success"),): 3.0,
        (("status", "failure"),): 1.0 + len(REJECTED_CONTENT),
    }
    assert samples(metrics["onlyoffice_validation_rejected"], "_total") == {
        (("reason", reason),): 1.0 for reason in REJECTIONS
    }
    assert samples(metrics["onlyoffice_session_events"], "_total") == {
        (("event", "join"),): 2.0,
        (("event", "leave"),): 1.0,
    }
    assert samples(metrics["onlyoffice_active_sessions"]) == {(): 0.0}  # the final save closed it
    assert histogram_count(metrics["onlyoffice_callback_duration_seconds"]) == callbacks
    # Every save downloaded once (the failed one tried); only the three stored ones were uploaded.
    assert histogram_count(metrics["onlyoffice_download_duration_seconds"]) == 3 + 1 + len(REJECTED_CONTENT)
    assert histogram_count(metrics["onlyoffice_upload_duration_seconds"]) == 3
    buckets = {s.labels["le"] for s in metrics["onlyoffice_callback_duration_seconds"].samples if "le" in s.labels}
    assert {"0.05", "5.0", "30.0", "+Inf"} <= buckets
    requests_family = metrics["coedit_request_duration_seconds"]
    assert histogram_count(requests_family, endpoint="backend.track", status="200") == 6
    assert histogram_count(requests_family, endpoint="backend.track", status="503") == 1
    assert histogram_count(requests_family, endpoint="backend.track", status="422") == len(REJECTED_CONTENT)
    assert histogram_count(requests_family, endpoint="ops.metrics", status="200") == 1  # the scrape before
    # Alice left while bob stayed: a force-save was asked for, as one job; each stored version's
    # text goes to the search index in a job of its own.
    assert samples(metrics["coedit_jobs_queued"], "_total") == {
        (("task", "coedit.forcesave"),): 1.0,
        (("task", "coedit.index_text"),): 3.0,
    }
    assert "coedit_jobs_failed" not in metrics  # Docs refusing the command (404 here) is no failure
    [(labels, value)] = samples(metrics["coedit_build_info"]).items()
    assert dict(labels)["version"] and value == 1.0

    # Both workers took part, and their log lines are JSON with a request id and no secret.
    lines = [json.loads(line) for line in open(traffic["server"].log_path) if line.startswith("{")]
    tracked = [line for line in lines if line.get("endpoint") == "backend.track"]
    assert len(tracked) == callbacks
    assert len({line["pid"] for line in lines if line.get("event") == "request"}) == 2
    for line in tracked:
        assert line["event"] == "request" and line["method"] == "POST" and line["file_id"] == traffic["id"]
        assert len(line["request_id"]) == 32 and isinstance(line["duration_ms"], float)
        assert line["path"] == f"/backend/files/{traffic['id']}/track"
    events = [line for line in lines if line.get("event") not in (None, "request")]
    by_kind = {}
    for line in events:
        by_kind.setdefault(line["event"], []).append(line)
        assert line["request_id"] in {t["request_id"] for t in tracked}, line
        assert line["file_id"] == traffic["id"]
    assert len(by_kind["session_join"]) == 2 and len(by_kind["session_leave"]) == 1
    assert {line["user_id"] for line in by_kind["session_join"]} == {traffic["bob"], traffic["alice"]}
    assert len(by_kind["save_stored"]) == 3
    assert len(by_kind["save_failed"]) == 1 + len(REJECTED_CONTENT)
    assert sorted(line["reason"] for line in by_kind["validation_rejected"]) == sorted(REJECTIONS)
    text = open(traffic["server"].log_path).read()
    assert traffic["token"] not in text and "token=" not in text and SECRET not in text


def test_the_multiprocess_folder_is_made_for_the_instance_and_removed_on_exit(tmp_path, fresh_database_url):
    """Without PROMETHEUS_MULTIPROC_DIR from the operator, each start makes its own and removes it."""
    import glob
    import os

    # A temporary folder of its own: other test runs on this machine make metrics folders too.
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    env = {"COEDIT_DATABASE_URL": fresh_database_url, "COEDIT_SECRET_KEY": "metrics-folder", "TMPDIR": str(temp_dir)}
    server = AppProcess(tmp_path / "instance", {**env, "PROMETHEUS_MULTIPROC_DIR": ""}, workers=2)
    try:
        [made] = glob.glob(os.path.join(temp_dir, "coedit-metrics-*"))
        for _ in range(6):
            assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        assert glob.glob(os.path.join(made, "*.db"))  # the workers write their values there
    finally:
        server.stop()
    assert not os.path.exists(made)

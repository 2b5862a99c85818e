"""Two instances behind nginx, on shared PostgreSQL, Redis and S3, with the Docs emulator: whichever
instance answers, nothing is lost, nothing is done twice, and rights hold everywhere.

The steps share one cluster (tests/cluster.py) and run in order.
"""

import concurrent.futures
import hashlib
import subprocess

import pytest
import requests

from tests.cluster import Cluster
from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import signed_callback
from tests.helpers import wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    made = Cluster(tmp_path_factory.mktemp("cluster"))
    made.tokens = {name: made.flask("create-token", name).strip().splitlines()[-1] for name in ("alice", "bob")}
    yield made
    made.stop()


def api(cluster, name):
    return {"Authorization": f"Bearer {cluster.tokens[name]}"}


@pytest.fixture(scope="module")
def space(cluster):
    made = requests.post(
        cluster.url + "/api/v1/spaces", json={"name": "Shared"}, headers=api(cluster, "alice"), timeout=10
    )
    assert made.status_code == 201, made.text
    space_id = made.json()["id"]
    added = requests.post(
        f"{cluster.url}/api/v1/spaces/{space_id}/members",
        json={"username": "bob"},
        headers=api(cluster, "alice"),
        timeout=10,
    )
    assert added.status_code == 201
    return space_id


def new_document(cluster, space, title):
    made = requests.post(
        f"{cluster.url}/api/v1/spaces/{space}/documents",
        json={"title": title, "type": "docx"},
        headers=api(cluster, "alice"),
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()


def editor_config(cluster, file_id, name="alice", base=None):
    answer = requests.get(
        f"{base or cluster.url}/api/v1/files/{file_id}/editor-config", headers=api(cluster, name), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def versions(cluster, file_id):
    return requests.get(
        f"{cluster.url}/api/v1/files/{file_id}/versions", headers=api(cluster, "alice"), timeout=10
    ).json()["versions"]


def test_1_sign_in_through_the_proxy_and_keep_working_on_either_instance(cluster, space):
    browser = cluster.sign_in("bob")
    before = [instance.requests_seen(f"/spaces/{space}") for instance in cluster.instances]
    for _ in range(6):
        assert browser.get(f"{cluster.url}/spaces/{space}", timeout=10).status_code == 200
    served = [
        instance.requests_seen(f"/spaces/{space}") - seen
        for instance, seen in zip(cluster.instances, before, strict=True)
    ]
    assert all(count > 0 for count in served), served  # both instances answered the same session


def test_2_downloads_and_callbacks_from_docs_land_on_either_instance(cluster, space):
    written = {}
    for round_ in range(4):
        doc = new_document(cluster, space, f"Round {round_}")
        config = editor_config(cluster, doc["id"])
        key, user = config["document"]["key"], config["editorConfig"]["user"]["id"]
        assert cluster.docs.open_session(config)["error"] == 0  # Docs downloaded it through nginx
        cluster.docs.append(key, user, f"written in round {round_}")
        cluster.docs.leave(key, user)
        written[doc["id"]] = f"written in round {round_}"
    cluster.docs.wait_idle(60)
    for file_id, text in written.items():
        head = requests.get(f"{cluster.url}/api/v1/files/{file_id}/content", headers=api(cluster, "alice"), timeout=10)
        assert text in docx_text(head.content)
    for instance in cluster.instances:  # Docs' downloads and callbacks reached both
        assert instance.requests_seen("/backend/files/") > 0, instance.name


def test_3_ten_concurrent_forcesaves_split_across_instances_give_ten_versions(cluster, space):
    doc = new_document(cluster, space, "Concurrent")
    config = editor_config(cluster, doc["id"])
    key, callback = config["document"]["key"], config["editorConfig"]["callbackUrl"]
    contents = {n: docx_with(f"force-save {n}") for n in range(10)}
    bodies = []
    for n, content in contents.items():
        url = cluster.docs.put_file(content, f"force-{n}.docx")
        bodies.append(
            {
                "key": key,
                "status": 6,
                "url": url,
                "filetype": "docx",
                "forcesavetype": 1,
                "users": ["1"],
                "lastsave": f"2026-11-27T10:00:{n:02d}.000Z",
            }
        )

    def deliver(body):
        signed, headers = signed_callback(body)
        return requests.post(callback, json=signed, headers=headers, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(deliver, bodies))
    assert [a.json() for a in answers] == [{"error": 0}] * 10
    stored = versions(cluster, doc["id"])
    assert len(stored) == 11  # version 1 and the ten force-saves
    sha_of = {hashlib.sha256(content).hexdigest() for content in contents.values()}
    assert {v["sha256"] for v in stored[1:]} == sha_of  # each exactly once
    for version in stored[1:]:
        got = requests.get(
            f"{cluster.url}/api/v1/files/{doc['id']}/versions/{version['number']}/content",
            headers=api(cluster, "alice"),
            timeout=10,
        )
        assert hashlib.sha256(got.content).hexdigest() == version["sha256"]  # no torn file
        assert docx_text(got.content)[0].startswith("force-save ")
    calls = [instance.requests_seen(f"/backend/files/{doc['id']}/track") for instance in cluster.instances]
    assert all(count > 0 for count in calls), calls  # split across both instances


def test_4_a_rights_change_on_one_instance_holds_on_the_other_at_once(cluster, space):
    one, two = cluster.instances
    doc = new_document(cluster, space, "Guarded")
    assert requests.get(f"{two.url}/api/v1/files/{doc['id']}", headers=api(cluster, "bob"), timeout=10).ok
    changed = requests.put(
        f"{one.url}/api/v1/files/{doc['id']}/rights",
        json={"users": {"bob": "none"}},
        headers=api(cluster, "alice"),
        timeout=10,
    )
    assert changed.status_code == 200
    assert (
        requests.get(f"{two.url}/api/v1/files/{doc['id']}", headers=api(cluster, "bob"), timeout=10).status_code == 404
    )


def _instance_downloading_from_docs(cluster):
    """The instance whose gunicorn holds a connection to the Docs emulator right now."""
    port = cluster.docs.url.rsplit(":", 1)[1]
    sockets = subprocess.run(["ss", "-tnpH", "dst", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    for instance in cluster.instances:
        children = subprocess.run(
            ["pgrep", "-P", str(instance.app.process.pid)], capture_output=True, text=True
        ).stdout.split()
        if any(f"pid={pid}," in sockets for pid in children):
            return instance
    return None


def test_5_an_instance_killed_mid_save_leaves_docs_retry_to_the_other_and_stores_once(cluster, space):
    doc = new_document(cluster, space, "Crash")
    config = editor_config(cluster, doc["id"])
    key, user = config["document"]["key"], config["editorConfig"]["user"]["id"]
    assert cluster.docs.open_session(config)["error"] == 0
    cluster.docs.append(key, user, "the edit that must survive")
    cluster.docs.fault("download_slow", seconds=5)  # the save's download from Docs hangs here
    cluster.docs.leave(key, user)
    victim = wait_for(lambda: _instance_downloading_from_docs(cluster), 30, "a save in progress")
    victim.kill()
    cluster.docs.wait_idle(60)
    attempts = cluster.docs.callbacks(key=key, status=2)
    assert attempts[-1]["ok"] and len(attempts) >= 2  # the first attempt died with its instance
    stored = versions(cluster, doc["id"])
    assert len(stored) == 2 and stored[-1]["current"]
    head = requests.get(f"{cluster.url}/api/v1/files/{doc['id']}/content", headers=api(cluster, "alice"), timeout=10)
    assert "the edit that must survive" in docx_text(head.content)
    cluster.revive(victim)


def test_6_a_job_queued_by_one_instance_runs_on_the_others_worker(cluster, space):
    one, two = cluster.instances
    one.stop_worker()  # only the other instance's worker is left
    doc = new_document(cluster, space, "Job")
    config = editor_config(cluster, doc["id"], base=one.url)
    key, callback = config["document"]["key"], config["editorConfig"]["callbackUrl"].replace(cluster.url, one.url)
    # A co-editor leaves while another stays: the instance queues "force-save now" for Docs.
    body = {"key": key, "status": 1, "users": ["1"], "actions": [{"type": 0, "userid": "2"}]}
    signed, headers = signed_callback(body)
    assert requests.post(callback, json=signed, headers=headers, timeout=10).json() == {"error": 0}
    ran = "Task coedit.forcesave["  # the worker's "received" line; its banner lists every task's name
    wait_for(lambda: ran in two.worker_log(), 30, "the other instance's worker to run the job")
    assert ran not in one.worker_log()
    one.start_worker()

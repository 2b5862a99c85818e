"""Transition locks, the same tests on both stores: Redis (with REDIS_URL) and the database.

The database store runs on the engine under test (SQLite, or PostgreSQL with
COEDIT_TEST_DATABASE=postgresql); Redis uses a database of its own, emptied first.
"""

import threading
import time

import pytest
import requests

from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import redis_url
from tests.helpers import signed_callback
from tests.helpers import wait_for

REDIS = redis_url(6)


@pytest.fixture(params=["database", "redis"])
def store_config(request):
    if request.param == "redis":
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        return {"REDIS_URL": REDIS}
    return {}


@pytest.fixture
def locked_world(make_world, fake_docs, store_config):
    def make(**overrides):
        return make_world(DOCS_URL=fake_docs.url, **store_config, **overrides)

    return make


def in_app(world, fn):
    with world.app.app_context():
        return fn()


# --- the lock itself -------------------------------------------------------------------


def test_one_holder_at_a_time_and_only_the_owner_releases(locked_world):
    from app.services import locks

    world = locked_world()

    def check():
        first = locks.acquire(7, "save", renew=False)
        with pytest.raises(locks.Busy) as refused:
            locks.acquire(7, "restore", wait=0.2)
        assert refused.value.message == "The document is being saved, try again in a moment."
        assert refused.value.http_status == 409 and refused.value.retry_after >= 1
        other = locks.acquire(8, "rename", wait=0)  # another file is free
        impostor = locks.Lock(first.store, 7, "save", 10)  # same file, another token
        assert impostor.release() is False and impostor.renew() is False
        assert locks.held() == 2
        assert {(h["file_id"], h["action"]) for h in locks.held_locks()} == {(7, "save"), (8, "rename")}
        assert all(h["since"] <= h["expires"] for h in locks.held_locks())
        assert first.release() is True and first.release() is False
        assert locks.held() == 1
        locks.acquire(7, "restore", wait=0).release()
        other.release()
        assert locks.held() == 0 and locks.held_locks() == []

    in_app(world, check)


def test_a_crashed_holders_lock_lapses_and_cannot_free_its_successors(locked_world):
    from app.services import locks

    world = locked_world()

    def check():
        crashed = locks.acquire(3, "save", ttl=0.5, renew=False)  # never released, never renewed
        with pytest.raises(locks.Busy):
            locks.acquire(3, "restore", wait=0)
        time.sleep(0.6)
        assert locks.held() == 0
        successor = locks.acquire(3, "restore", wait=0, renew=False)
        assert crashed.release() is False and crashed.renew() is False  # too late: not its lock any more
        with pytest.raises(locks.Busy) as refused:
            locks.acquire(3, "delete", wait=0)
        assert refused.value.message.startswith("A version of the document is being restored")
        assert successor.release() is True

    in_app(world, check)


def test_a_living_holder_keeps_its_lock_past_the_ttl(locked_world):
    from app.services import locks

    world = locked_world()

    def check():
        working = locks.acquire(4, "save", ttl=0.6)  # renewed every 0.2 s while it works
        time.sleep(1.5)
        with pytest.raises(locks.Busy):
            locks.acquire(4, "restore", wait=0)
        assert working.release() is True
        locks.acquire(4, "restore", wait=0).release()

    in_app(world, check)


def test_a_waiting_action_gets_the_lock_when_the_holder_ends(locked_world):
    from app.services import locks

    world = locked_world()

    def check():
        holder = locks.acquire(5, "save")
        threading.Timer(0.5, holder.release).start()
        started = time.monotonic()
        locks.acquire(5, "restore", wait=5).release()
        assert 0.4 < time.monotonic() - started < 3

    in_app(world, check)


HOLDER = """
import sys, time
from app import create_app
from app.services import locks
database, redis_url, instance, file_id = sys.argv[1:]
config = {"DATABASE_URL": database, "SECRET_KEY": "test-app-secret", "TRANSITION_LOCK_SECONDS": 1}
if redis_url:
    config["REDIS_URL"] = redis_url
with create_app(config, instance_path=instance).app_context():
    locks.acquire(int(file_id), "save")
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_lock_holds_across_processes_while_its_holder_lives_and_lapses_when_it_is_killed(locked_world, tmp_path):
    import os
    import subprocess
    import sys

    from app.services import locks

    world = locked_world()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [world.app.config["DATABASE_URL"], world.app.config["REDIS_URL"] or "", str(tmp_path / "holder"), "9"]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, *args], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"

        def check():
            with pytest.raises(locks.Busy):
                locks.acquire(9, "restore", wait=0)
            time.sleep(2)  # twice its TTL: the holder renews it
            with pytest.raises(locks.Busy):
                locks.acquire(9, "restore", wait=0)
            holder.kill()  # a crash: no release, no more renewals
            holder.wait(10)
            started = time.monotonic()
            locks.acquire(9, "restore", wait=5).release()
            assert time.monotonic() - started < 2

        in_app(world, check)
    finally:
        holder.kill()
        holder.wait(10)


# --- a restore during a save, for real -------------------------------------------------


@pytest.fixture
def doc(locked_world):
    def make(**overrides):
        world = locked_world(**overrides)
        file = world.create_document("alice", "Report")
        world.set_level(file["id"], "bob", "edit")
        config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
        return world, {
            "id": file["id"],
            "key": config["document"]["key"],
            "callback": config["editorConfig"]["callbackUrl"],
        }

    return make


def start_slow_save(world, fake_docs, doc) -> tuple[threading.Thread, dict]:
    """A final save whose download from Docs takes 3 s (the 'slow' file of the Docs double)."""
    fake_docs.put("slow", docx_with("edited by bob"))
    body = {
        "key": doc["key"],
        "status": 2,
        "url": f"{fake_docs.url}/cache/files/slow?md5=x&expires=9999999999",
        "filetype": "docx",
        "users": [str(world.user_ids["bob"])],
    }
    signed, headers = signed_callback(body)
    answer = {}

    def post():
        answer["response"] = requests.post(doc["callback"], json=signed, headers=headers, timeout=30)

    thread = threading.Thread(target=post)
    thread.start()
    wait_for(lambda: any("/cache/files/slow" in path for path in fake_docs.requests), what="the save's download")
    return thread, answer


def restore(world, doc, number=1):
    return world.client().post(f"/api/v1/files/{doc['id']}/versions/{number}/restore", headers=world.api("bob"))


def test_a_restore_during_a_save_gets_409_and_nothing_is_lost(doc, fake_docs):
    from app.services import locks

    world, doc = doc(TRANSITION_LOCK_WAIT=0.5)
    original = world.head_bytes(doc["id"])
    thread, answer = start_slow_save(world, fake_docs, doc)
    assert in_app(world, locks.held) == 1
    refused = restore(world, doc)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "The document is being saved, try again in a moment."
    assert int(refused.headers["Retry-After"]) >= 1
    thread.join(30)
    assert answer["response"].status_code == 200 and answer["response"].json() == {"error": 0}
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]
    assert in_app(world, locks.held) == 0
    # Tried again, as Retry-After says: the restore is a new version; the save stays in the history.
    assert restore(world, doc).status_code == 201
    versions = world.versions(doc["id"])
    assert [v.number for v in versions] == [1, 2, 3] and versions[2].source == "restore"
    assert world.head_bytes(doc["id"]) == original
    assert docx_text(world.blob_bytes(versions[1].storage_key)) == ["edited by bob"]


def test_a_restore_during_a_save_waits_for_it_and_nothing_is_lost(doc, fake_docs):
    world, doc = doc(TRANSITION_LOCK_WAIT=10)
    original = world.head_bytes(doc["id"])
    thread, answer = start_slow_save(world, fake_docs, doc)
    started = time.monotonic()
    response = restore(world, doc)  # waits for the save, then restores over it
    assert response.status_code == 201 and time.monotonic() - started > 1
    thread.join(30)
    assert answer["response"].json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [(v.number, v.source) for v in versions] == [(1, "create"), (2, "save"), (3, "restore")]
    assert docx_text(world.blob_bytes(versions[1].storage_key)) == ["edited by bob"]
    assert world.head_bytes(doc["id"]) == original


def test_a_save_during_a_restore_answers_503_so_docs_retries(doc, fake_docs, monkeypatch):
    from app.services import locks

    monkeypatch.setattr(locks, "SAVE_WAIT", 0.3)
    world, doc = doc()
    fake_docs.put("out.docx", docx_with("edited by bob"))
    body = {
        "key": doc["key"],
        "status": 2,
        "url": f"{fake_docs.url}/cache/files/out.docx?md5=x&expires=9999999999",
        "filetype": "docx",
        "users": [str(world.user_ids["bob"])],
    }
    signed, headers = signed_callback(body)
    with world.app.app_context():
        restoring = locks.acquire(doc["id"], "restore")
        busy = requests.post(doc["callback"], json=signed, headers=headers, timeout=30)
        restoring.release()
    assert busy.status_code == 503 and busy.json() == {"error": 1}  # 5xx: Docs sends it again
    assert [v.number for v in world.versions(doc["id"])] == [1]
    retried = requests.post(doc["callback"], json=signed, headers=headers, timeout=30)
    assert retried.json() == {"error": 0}
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]


def test_rename_and_delete_meet_a_save_with_a_plain_message(doc):
    from app.services import locks

    world, doc = doc(TRANSITION_LOCK_WAIT=0.2)
    alice = world.client("alice")
    with world.app.app_context():
        saving = locks.acquire(doc["id"], "save")
        renamed = alice.post(f"/files/{doc['id']}/rename", data={"title": "New"}, follow_redirects=True)
        deleted = alice.post(f"/files/{doc['id']}/delete", data={}, follow_redirects=True)
        saving.release()
    for page in (renamed, deleted):
        assert "The document is being saved, try again in a moment." in page.get_data(as_text=True)
    assert world.file(doc["id"]).title == "Report.docx"
    assert in_app(world, locks.held) == 0
    assert alice.post(f"/files/{doc['id']}/rename", data={"title": "New"}).status_code == 302
    assert world.file(doc["id"]).title == "New.docx"


def test_a_refused_action_lets_the_lock_go(doc):
    from app.services import locks

    world, doc = doc()
    refused = restore(world, doc)  # version 1 is the current one: 400, after the lock was taken
    assert refused.status_code == 400
    assert in_app(world, locks.held) == 0
    assert world.client("alice").post(f"/files/{doc['id']}/rename", data={"title": "New"}).status_code == 302
    assert in_app(world, locks.held) == 0


def test_an_unreachable_lock_store_answers_try_again_not_an_unguarded_change(doc, monkeypatch):
    from app.services import locks

    world, doc = doc()

    def unreachable(self, lock, ttl):
        raise ConnectionError("store away")

    monkeypatch.setattr(locks.RedisStore, "take", unreachable)
    monkeypatch.setattr(locks.DatabaseStore, "take", unreachable)
    response = restore(world, doc)
    assert response.status_code == 503
    assert "try again in a moment" in response.get_json()["error"]
    assert [v.number for v in world.versions(doc["id"])] == [1]

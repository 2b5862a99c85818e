"""Every storage backend against a real server on loopback: local disk, S3 (moto's server) and SFTP
(Debian's sshd with a key made by the test).

Round trips, a 200 MB file through each backend in bounded memory (measured RSS of a process of its
own, not time), a failed upload that leaves no visible version and no blob, and a failed commit that
removes the blob it would have named.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from app.services.exceptions import StorageError
from app.services.storage import build
from tests.helpers import docx_with
from tests.storage_servers import AWS_ENVIRONMENT
from tests.storage_servers import BACKENDS
from tests.storage_servers import SERVERS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024
BIG_FILE_MB = 200
RSS_LIMIT_MB = 32


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def place(backend, tmp_path):
    """The settings of a storage place of its own on the backend's server."""
    return SERVERS.new_place(backend, tmp_path)


@pytest.fixture
def blobs(place, tmp_path):
    return build(place, str(tmp_path / "instance"))


def _temp_file_with(storage, data: bytes) -> str:
    handle, path = storage.temp_file()
    with handle:
        handle.write(data)
    return path


# --- the interface, on each backend -------------------------------------------------------------


def test_round_trip(blobs, place):
    data = os.urandom(3 * MB + 123)
    path = _temp_file_with(blobs, data)
    assert os.path.dirname(path) == blobs.temp_dir
    key = blobs.put_file(path, "files/7")
    assert key.startswith("files/7/") and not os.path.exists(path)  # storage took the temporary file
    assert blobs.size(key) == len(data)
    assert SERVERS.keys(place) == [key]
    with blobs.open(key) as stream:
        assert stream.read(10) == data[:10]
        stream.seek(2 * MB)  # a Range request's start
        assert stream.read(5) == data[2 * MB : 2 * MB + 5]
        stream.seek(0)
        received = b"".join(iter(lambda: stream.read(MB), b""))
    assert received == data
    other = blobs.put_bytes(b"second", "files/7")
    assert other != key and blobs.open(other).read() == b"second"  # a new key every time, nothing overwritten
    blobs.delete(key)
    blobs.delete(key)  # deleting twice is no error
    with pytest.raises(StorageError, match="blob missing"):
        blobs.open(key)
    assert SERVERS.keys(place) == [other]
    assert blobs.writable()
    assert os.listdir(blobs.temp_dir) == []


def test_keys_outside_the_storage_are_refused(blobs):
    for key in ("../escape", "files/../../escape", "/etc/passwd", "files//x", "files/\x00"):
        with pytest.raises(StorageError):
            blobs.open(key)


def test_temporary_files_are_on_local_disk_of_this_instance_and_swept_at_start(backend, place, tmp_path):
    instance = tmp_path / "instance"
    storage = build(place, str(instance))
    if backend != "local":
        assert storage.temp_dir == str(instance / "tmp")  # each instance its own, never on the shared store
    handle, path = storage.temp_file()
    handle.close()
    os.utime(path, (1, 1))  # older than any TEMP_MAX_AGE_SECONDS
    assert build(place, str(instance)).sweep_temp(3600) == 1 and not os.path.exists(path)


MEASURE = """
import hashlib, json, os, resource, sys
from app.services.storage import build

def rss_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

def reset_peak():
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current RSS (Linux, proc(5))

place, instance, size_mb = json.loads(sys.argv[1])
storage = build(place, instance)
storage.delete(storage.put_bytes(b"warm up: imports, connections, threads", "warm"))
with storage.open(storage.put_bytes(os.urandom(1 << 20), "warm")) as stream:
    stream.read()

handle, path = storage.temp_file()
sha = hashlib.sha256()
with handle:
    for _ in range(size_mb):
        block = os.urandom(1 << 20)
        sha.update(block)
        handle.write(block)
expected = sha.hexdigest()

reset_peak()
before = rss_kb("VmRSS")
key = storage.put_file(path, "files/1")
uploading = rss_kb("VmHWM") - before

reset_peak()
before = rss_kb("VmRSS")
sha = hashlib.sha256()
received = 0
with storage.open(key) as stream:
    while chunk := stream.read(1 << 20):
        sha.update(chunk)
        received += len(chunk)
downloading = rss_kb("VmHWM") - before
storage.delete(key)

reset_peak()  # the instrument itself: 40 MB held must show as 40 MB
before = rss_kb("VmRSS")
held = b"x" * (40 << 20)
instrument = rss_kb("VmHWM") - before
print(json.dumps({"upload_kb": uploading, "download_kb": downloading, "received": received,
                  "intact": sha.hexdigest() == expected, "instrument_kb": instrument}))
"""


def test_a_200_mb_file_moves_through_the_backend_in_bounded_memory(place, backend, tmp_path):
    """Peak RSS growth of a process of its own while a 200 MB file goes in (put_file) and out (open)."""
    env = {**os.environ, **AWS_ENVIRONMENT, "PYTHONPATH": ROOT}
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps([place, str(tmp_path / "instance"), BIG_FILE_MB])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"\n{backend}: RSS growth uploading {figures['upload_kb'] / 1024:.1f} MB, "
        f"downloading {figures['download_kb'] / 1024:.1f} MB ({BIG_FILE_MB} MB file)"
    )
    assert figures["received"] == BIG_FILE_MB * MB and figures["intact"]
    assert figures["instrument_kb"] >= 40 * 1024  # the measurement sees memory that is held
    assert figures["upload_kb"] < RSS_LIMIT_MB * 1024, figures
    assert figures["download_kb"] < RSS_LIMIT_MB * 1024, figures


# --- uploads that fail half-way leave nothing --------------------------------------------------------


def test_s3_multipart_upload_failing_half_way_leaves_no_object_and_no_parts(tmp_path):
    from botocore.awsrequest import AWSResponse

    place = SERVERS.new_place("s3", tmp_path)
    storage = build(place, str(tmp_path / "instance"))
    client = storage._client()
    parts = []

    class Refusal:
        def stream(self, **_):
            yield b"<Error><Code>AccessDenied</Code><Message>refused by the test</Message></Error>"

    def refuse_the_third_part(request, **_):
        parts.append(request.url)
        if len(parts) == 3:  # the S3 server answers the third part with 403 (not retried)
            return AWSResponse(request.url, 403, {}, Refusal())
        return None

    client.meta.events.register("before-send.s3.UploadPart", refuse_the_third_part)
    try:
        path = _temp_file_with(storage, os.urandom(40 * MB))
        with pytest.raises(StorageError, match="refused access"):
            storage.put_file(path, "files/1")
    finally:
        client.meta.events.unregister("before-send.s3.UploadPart", refuse_the_third_part)
    assert len(parts) >= 3  # it was a multipart upload, and it failed in the middle
    assert SERVERS.keys(place) == []
    bucket = place["STORAGE_URL"].split("/")[2]
    assert SERVERS.get("s3").client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    os.unlink(path)


def test_sftp_upload_failing_half_way_leaves_no_file(tmp_path, monkeypatch):
    import paramiko

    place = SERVERS.new_place("sftp", tmp_path)
    storage = build(place, str(tmp_path / "instance"))
    writes = []
    write = paramiko.SFTPFile.write

    def break_on_the_fifth_write(self, data):
        writes.append(len(data))
        if len(writes) == 5:
            raise OSError("Failure")  # what paramiko raises for SSH_FX_FAILURE
        return write(self, data)

    monkeypatch.setattr(paramiko.SFTPFile, "write", break_on_the_fifth_write)
    path = _temp_file_with(storage, os.urandom(10 * MB))
    with pytest.raises(StorageError, match="could not be written"):
        storage.put_file(path, "files/1")
    monkeypatch.undo()
    assert SERVERS.keys(place) == []
    assert storage.put_bytes(b"the connection is still usable", "files/1")


# --- through the app, on each backend ----------------------------------------------------------------


@pytest.fixture
def stored_world(make_world, fake_docs, place):
    return make_world(DOCS_URL=fake_docs.url, **place)


def test_uploads_and_downloads_through_the_app(stored_world):
    world = stored_world
    data = os.urandom(5 * MB)
    answer = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(data), "data.bin")},
    )
    assert answer.status_code == 201, answer.data
    file_id = answer.get_json()["id"]
    [key] = world.blob_keys(f"files/{file_id}")
    assert world.blob_bytes(key) == data

    url, api = f"/api/v1/files/{file_id}/content", world.api("bob")
    whole = world.client().get(url, headers=api)
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["Content-Length"] == str(len(data))
    etag = whole.headers["ETag"]
    assert etag == f'"{hashlib.sha256(data).hexdigest()}"'
    assert world.client().get(url, headers={**api, "If-None-Match": etag}).status_code == 304
    part = world.client().get(url, headers={**api, "Range": "bytes=3000000-3000009"})
    assert part.status_code == 206 and part.data == data[3000000:3000010]
    assert part.headers["Content-Range"] == f"bytes 3000000-3000009/{len(data)}"
    assert world.client().get(url, headers={**api, "Range": f"bytes={len(data) + 5}-"}).status_code == 416

    second = world.client().post(
        f"/api/v1/files/{file_id}/versions", headers=world.api("alice"), data={"file": (io.BytesIO(b"v2"), "x.bin")}
    )
    assert second.status_code == 201 and world.head_bytes(file_id) == b"v2"
    restored = world.client().post(f"/api/v1/files/{file_id}/versions/1/restore", headers=world.api("alice"))
    assert restored.status_code == 201 and world.head_bytes(file_id) == data  # copied blob to blob, streamed
    assert len(world.blob_keys(f"files/{file_id}")) == 3
    assert world.client("alice").post(f"/files/{file_id}/delete").status_code == 302
    assert world.blob_keys(f"files/{file_id}") == []  # a committed deletion takes the blobs along


@pytest.mark.parametrize("backend", ["s3", "sftp"])  # local disk: the server sends the file itself
def test_a_range_reopens_a_remote_blob_at_its_offset_whatever_the_server(stored_world, backend, monkeypatch):
    """Under gunicorn too (whose file wrapper cannot seek), a Range asks the store for its bytes only."""
    from gunicorn.http.wsgi import FileWrapper

    from app.services.storage.s3 import S3Reader
    from app.services.storage.sftp import SFTPReader

    world = stored_world
    data = os.urandom(6 * MB)
    answer = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files", headers=world.api("alice"), data={"file": (io.BytesIO(data), "r.bin")}
    )
    reader = {"s3": S3Reader, "sftp": SFTPReader}[backend]
    offsets = []
    open_at = reader._open_at

    def recording(self, offset):
        offsets.append(offset)
        return open_at(self, offset)

    monkeypatch.setattr(reader, "_open_at", recording)
    client = world.app.test_client()
    client.environ_base["wsgi.file_wrapper"] = FileWrapper
    part = client.get(
        f"/api/v1/files/{answer.get_json()['id']}/content",
        headers={**world.api("bob"), "Range": "bytes=5000000-5000009"},
    )
    assert part.status_code == 206 and part.data == data[5000000:5000010]
    assert offsets == [5000000]


def test_a_failed_commit_removes_the_blob(stored_world):
    from app.extensions import db

    world = stored_world

    def fail(session):
        if session.info.get("coedit_new_blobs"):  # the commit that would make a new blob visible
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    sa.event.listen(db.session, "before_commit", fail)
    try:
        answer = world.client().post(
            f"/api/v1/spaces/{world.space_id}/files",
            headers=world.api("alice"),
            data={"file": (io.BytesIO(os.urandom(MB)), "lost.bin")},
        )
    finally:
        sa.event.remove(db.session, "before_commit", fail)
    assert answer.status_code == 500
    assert world.blob_keys("files") == []


def _refuse_new_blobs(world, backend: str, file_id: int) -> None:
    """Make the storage refuse what comes next, as a real server would."""
    config = world.app.config
    if backend == "s3":  # the bucket goes away: the server answers NoSuchBucket
        client = SERVERS.get("s3").client()
        bucket = config["STORAGE_URL"].split("/")[2]
        for key in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=key["Key"])
        client.delete_bucket(Bucket=bucket)
        return
    # Disk and SFTP: a plain file where the file's folder of blobs is, so nothing can be created in it.
    root = config["STORAGE_DIR"] if backend == "local" else "/" + config["STORAGE_URL"].split("/", 3)[3]
    folder = os.path.join(root, "files", str(file_id))
    shutil.rmtree(folder)
    with open(folder, "w") as handle:
        handle.write("not a folder")


def test_a_refused_upload_leaves_no_visible_version_and_says_so(make_world, fake_docs, backend, tmp_path):
    if backend == "s3":
        bucket = f"refusing-{os.urandom(4).hex()}"
        SERVERS.get("s3").client().create_bucket(Bucket=bucket)
        place = {**SERVERS.new_place("s3", tmp_path), "STORAGE_URL": f"s3://{bucket}/versions"}
    else:
        place = SERVERS.new_place(backend, tmp_path)
    world = make_world(DOCS_URL=fake_docs.url, **place)
    doc = world.create_document("alice", "Refused")
    _refuse_new_blobs(world, backend, doc["id"])
    answer = world.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("refused")), "Refused.docx")},
    )
    assert answer.status_code == 503
    reason = answer.get_json()["error"]
    assert "storage" in reason and "Traceback" not in reason and len(reason) < 200, reason
    assert [v.number for v in world.versions(doc["id"])] == [1]  # no version became visible
    assert world.file(doc["id"]).version == 1
    assert os.listdir(world.app.extensions["coedit_storage"].temp_dir) == []
    if backend != "s3":
        assert world.blob_keys("files") == [f"files/{doc['id']}"]  # only the blocking file, no new blob


@pytest.mark.parametrize("backend", ["s3", "sftp"])  # a read-only local disk: test_security_cases.py
def test_readiness_tells_when_the_storage_does_not_answer(make_world, backend, tmp_path):
    place = SERVERS.new_place(backend, tmp_path)
    if backend == "s3":
        place["STORAGE_URL"] = "s3://no-such-bucket-here/versions"
    else:
        from tests.storage_servers import free_port

        place["STORAGE_URL"] = place["STORAGE_URL"].replace(f":{SERVERS.get('sftp').port}/", f":{free_port()}/")
    world = make_world(**place)
    answer = world.client().get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["checks"]["storage"] == "failing"


def test_the_apps_of_this_run_keep_their_blobs_where_the_run_asked(world, request):
    """`pytest --storage=s3` (or sftp) runs every test's app on that backend."""
    asked = request.config.getoption("--storage")
    expected = {"local": "LocalStorage", "s3": "S3Storage", "sftp": "SFTPStorage"}[asked]
    assert type(world.app.extensions["coedit_storage"]).__name__ == expected

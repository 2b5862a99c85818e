"""Unfinished S3 multipart uploads a killed process left are aborted: against moto's S3 server,
by the storage's maintenance step, the job the schedule runs and `flask abort-stale-uploads`."""

from datetime import datetime
from datetime import timedelta
from datetime import timezone

from app.services.storage import build
from tests.conftest import build_app
from tests.storage_servers import SERVERS


def _uploads(client, bucket: str, prefix: str) -> set[str]:
    found = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return {upload["UploadId"] for upload in found}


def _begin(client, bucket: str, key: str) -> tuple[str, object]:
    """An unfinished upload (one part sent, never completed) and when S3 says it began."""
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"part of a killed upload")
    initiated = next(
        item["Initiated"]
        for item in client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
        if item["UploadId"] == upload
    )
    return upload, initiated


def test_uploads_begun_before_the_cutoff_under_our_prefix_are_aborted_others_and_objects_kept(tmp_path):
    # moto's server reports the same begin time for every upload (2010-11-10), so the cutoff is set
    # around the time it reports: at it (the upload counts as fresh) and just after it (old).
    place = SERVERS.new_place("s3", tmp_path)
    storage = build(place, str(tmp_path / "instance"))
    bucket, prefix = storage.bucket, storage.prefix + "/"
    client = SERVERS.get("s3").client()
    kept_key = storage.put_bytes(b"a finished blob", "files/1")
    someone_elses, _ = _begin(client, bucket, "another-installation/files/9/blob")
    upload, began = _begin(client, bucket, prefix + "files/1/killed")

    assert storage.abort_stale_uploads(started_before=began) == 0  # may still be running
    assert _uploads(client, bucket, prefix) == {upload}

    assert storage.abort_stale_uploads(started_before=began + timedelta(milliseconds=1)) == 1
    assert _uploads(client, bucket, prefix) == set()
    assert someone_elses in _uploads(client, bucket, "another-installation/")  # not under our prefix
    assert storage.open(kept_key).read() == b"a finished blob"
    assert SERVERS.keys(place) == [kept_key]
    client.abort_multipart_upload(Bucket=bucket, Key="another-installation/files/9/blob", UploadId=someone_elses)


def test_the_scheduled_job_and_the_cli_abort_what_is_older_than_the_setting(tmp_path):
    from app import jobs

    app = build_app(tmp_path, **SERVERS.new_place("s3", tmp_path))
    storage = app.extensions["coedit_storage"]
    client = SERVERS.get("s3").client()
    prefix = storage.prefix + "/"
    began = _begin(client, storage.bucket, prefix + "files/1/a")[1]
    age = (datetime.now(timezone.utc) - began).total_seconds()

    app.config["S3_UPLOAD_MAX_AGE_SECONDS"] = age + 3600  # younger than the setting: kept
    with app.app_context():
        jobs.abort_stale_uploads()
    assert len(_uploads(client, storage.bucket, prefix)) == 1

    app.config["S3_UPLOAD_MAX_AGE_SECONDS"] = 24 * 3600  # the default
    with app.app_context():
        jobs.abort_stale_uploads()
    assert _uploads(client, storage.bucket, prefix) == set()

    _begin(client, storage.bucket, prefix + "files/1/b")
    result = app.test_cli_runner().invoke(args=["abort-stale-uploads", "--older-than", "60"])
    assert result.exit_code == 0, result.output
    assert "Aborted 1 unfinished upload." in result.output
    assert _uploads(client, storage.bucket, prefix) == set()


def test_local_storage_has_nothing_to_abort(tmp_path):
    app = build_app(tmp_path, STORAGE_DIR=str(tmp_path / "storage"))
    result = app.test_cli_runner().invoke(args=["abort-stale-uploads", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "Aborted 0 unfinished uploads." in result.output

"""Pick the storage backend from configuration: local disk, S3 or SFTP."""

import os
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from urllib.parse import urlsplit

from flask import current_app

from app import context
from app.services.storage.base import Storage
from app.services.storage.local import LocalStorage


def init_app(app) -> None:
    """Build the backend once per process; sweep temporary files a crash left behind."""
    storage = build(app.config, app.instance_path)
    storage.sweep_temp(app.config["TEMP_MAX_AGE_SECONDS"])
    app.extensions["coedit_storage"] = storage


def build(config, instance_path: str) -> Storage:
    """The backend STORAGE_URL names (s3://, sftp://), else local disk in STORAGE_DIR.

    Temporary files are always on local disk: beside the blobs for local storage (so a rename
    puts them in place), else in this instance's own folder, where its start sweeps them.
    """
    url = config.get("STORAGE_URL")
    if not url:
        return LocalStorage(config.get("STORAGE_DIR") or os.path.join(instance_path, "storage"))
    if config.get("STORAGE_DIR"):
        raise ValueError("set STORAGE_URL or STORAGE_DIR, not both")
    scheme = urlsplit(url).scheme
    temp_dir = os.path.join(instance_path, "tmp")
    if scheme == "s3":
        from app.services.storage.s3 import S3Storage

        return S3Storage(url, temp_dir, endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"))
    if scheme == "sftp":
        from app.services.storage.sftp import SFTPStorage

        return SFTPStorage(
            url, temp_dir, key_file=config.get("SFTP_KEY_FILE"), known_hosts=config.get("SFTP_KNOWN_HOSTS")
        )
    raise ValueError(f"STORAGE_URL must start with s3:// or sftp://, not {scheme or url!r}")


def store(path: str, prefix: str) -> str:
    """Move a finished temporary file into storage for a row of the current transaction.

    Returns the new blob's key; the blob is deleted again if that transaction does not commit.
    """
    from app import transaction
    from app.ops import metrics

    with metrics.timed(metrics.UPLOAD_DURATION):
        key = get_storage().put_file(path, prefix)
    transaction.stage_blob(key)
    return key


def remove_leftovers(*paths: str | None) -> None:
    """Delete temporary files that are still there (storage took the others over)."""
    for path in paths:
        if path and os.path.exists(path):
            os.unlink(path)


def abort_stale_uploads(max_age_seconds: float | None = None) -> int:
    """Abort the unfinished uploads older than max_age_seconds (default S3_UPLOAD_MAX_AGE_SECONDS)."""
    if max_age_seconds is None:
        max_age_seconds = float(current_app.config["S3_UPLOAD_MAX_AGE_SECONDS"])
    started_before = datetime.now(timezone.utc) - timedelta(seconds=max_age_seconds)
    return get_storage().abort_stale_uploads(started_before)


def get_storage() -> Storage:
    return context.required().app.extensions["coedit_storage"]  # one look-up: on every download and save

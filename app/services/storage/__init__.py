"""Pick the storage backend from configuration."""

import os

from flask import current_app

from app.services.storage.base import Storage
from app.services.storage.local import LocalStorage


def init_app(app) -> None:
    """Build the backend once per process; sweep temporary files a crash left behind."""
    root = app.config["STORAGE_DIR"] or os.path.join(app.instance_path, "storage")
    storage = LocalStorage(root)
    storage.sweep_temp(app.config["TEMP_MAX_AGE_SECONDS"])
    app.extensions["coedit_storage"] = storage


def store(path: str, prefix: str) -> str:
    """Move a finished temporary file into storage for a row of the current transaction.

    Returns the new blob's key; the blob is deleted again if that transaction does not commit.
    """
    from app import transaction

    key = get_storage().put_file(path, prefix)
    transaction.stage_blob(key)
    return key


def remove_leftovers(*paths: str | None) -> None:
    """Delete temporary files that are still there (storage took the others over)."""
    for path in paths:
        if path and os.path.exists(path):
            os.unlink(path)


def get_storage() -> Storage:
    return current_app.extensions["coedit_storage"]

"""Version retention: which old versions `flask --app wsgi purge-versions` removes.

The admin page chooses a mode (settings ``retention_mode``):

* ``all`` — keep every version (the default; nothing is ever removed);
* ``last`` — keep the ``retention_count`` highest-numbered versions of each file;
* ``days`` — keep versions younger than ``retention_days`` days.

Whatever the mode, a file's current (head) version is always kept, even when it is the
oldest: it is what the file is. Conflict copies are old versions like any other.
Removal deletes the rows first and the blobs only after the commit, so a failed
commit never leaves a row naming a missing blob. It holds each file's transition lock while it
removes that file's versions, one file at a time; a file busy with another action (a restore
reading an old version, a save) waits for the next run. Save receipts and document keys
store version numbers only, so they keep working for removed versions.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import sqlalchemy as sa

from app import transaction
from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.models.base import utcnow
from app.services import files as file_service
from app.services import locks
from app.services import settings
from app.services.exceptions import NotFoundError

log = logging.getLogger("coedit.retention")

MODES = ("all", "last", "days")
_CHUNK = 500  # ids per IN (...): under every database's parameter limit


def _aware(moment: datetime) -> datetime:
    # A caller's naive datetime is UTC, as everything stored is.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def plan(now: datetime | None = None) -> list[FileVersion]:
    """The versions the retention setting would remove now, by file and number; never a head version."""
    mode = settings.get("retention_mode")
    if mode not in ("last", "days"):
        return []  # "all", or a value we do not understand: removing nothing is the safe reading
    count = max(1, int(settings.get("retention_count")))
    cutoff = _aware(now or utcnow()) - timedelta(days=max(1, int(settings.get("retention_days"))))
    rows = db.session.execute(
        sa.select(FileVersion, File.version)
        .join(File, File.id == FileVersion.file_id)
        .order_by(FileVersion.file_id, FileVersion.number.desc())
    )
    by_file: dict[int, list[tuple[FileVersion, int]]] = defaultdict(list)
    for version, head in rows:
        by_file[version.file_id].append((version, head))
    doomed: list[FileVersion] = []
    for versions in by_file.values():  # each list runs newest (highest number) first
        for rank, (version, head) in enumerate(versions):
            if version.number == head:
                continue
            if mode == "last" and rank < count:
                continue
            if mode == "days" and version.created_at >= cutoff:
                continue
            doomed.append(version)
    doomed.sort(key=lambda v: (v.file_id, v.number))
    return doomed


def purge_by_file(versions: list[FileVersion], busy: list[int] | None = None) -> Iterator[int]:
    """Stage removing these versions one file at a time, yielding how many of the file's went once
    they are staged: the caller commits each file's removal before it asks for the next.

    Each file's transaction holds the file's transition lock (services/locks.py) from before it
    stages anything until that commit, so a restore reading one of these versions, or a save,
    never meets it half removed; one file at a time, so a long run holds no lock for long and
    never many at once. A file another action is moving right now is skipped, logged and its id
    appended to ``busy``: the next run takes it. A version that became its file's head since it
    was planned is skipped too (the head is never removed).
    """
    by_file: dict[int, list[int]] = defaultdict(list)
    for version in versions:
        by_file[version.file_id].append(version.id)
    for file_id, ids in by_file.items():
        file = db.session.get(File, file_id)
        if file is None:
            continue  # deleted since it was planned, with its versions
        try:
            file_service.hold(file, "retention", wait=0)
        except NotFoundError:
            db.session.rollback()  # lets the lock go
            continue
        except locks.Busy as exc:
            log.info("file %s is busy (%s): its old versions are left for the next run", file_id, exc.action)
            if busy is not None:
                busy.append(file_id)
            continue
        file_service.lock(file)  # raises if the caller did not commit the last file (begin_write)
        removed = 0
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            removed += remove_held(db.session.scalars(sa.select(FileVersion).where(FileVersion.id.in_(chunk))).all())
        yield removed


def remove_held(versions: list[FileVersion]) -> int:
    """Stage deleting these version rows of files whose transition locks this transaction holds
    already (their blobs go once that is committed); returns how many. Never a head version."""
    removed = 0
    ids = sorted({v.file_id for v in versions})
    heads: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        heads.update(
            db.session.execute(sa.select(File.id, File.version).where(File.id.in_(ids[start : start + _CHUNK]))).all()
        )
    for version in versions:
        head = heads.get(version.file_id)
        if head is None or head == version.number:
            continue
        current = db.session.get(FileVersion, version.id)
        if current is None:
            continue  # already gone (another purge)
        for key in (current.storage_key, current.changes_storage_key, current.thumbnail_key):
            if key:
                transaction.delete_blob_after_commit(key)
        db.session.delete(current)
        removed += 1
    return removed

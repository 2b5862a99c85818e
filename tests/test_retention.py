"""Version retention: keep all, the last N, or those younger than D days; never the head.

`flask purge-versions` is a dry run unless --apply; --apply removes rows, then blobs.
"""

import io
import os
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.models import SaveReceipt
from app.models import User
from app.models.base import utcnow
from tests.helpers import docx_text
from tests.helpers import docx_with


def make_file(world, title: str, ages_in_days: list[int]) -> int:
    """A file with one version per age (oldest first, version 1 = first age); returns its id."""
    from app import transaction
    from app.services import files

    doc = world.create_document("alice", title)

    def build():
        file = db.session.get(File, doc["id"])
        alice = db.session.get(User, world.user_ids["alice"])
        for n in range(2, len(ages_in_days) + 1):
            files.upload_version(file, alice, io.BytesIO(docx_with(f"{title} version {n}")))
            transaction.commit()
        now = utcnow()
        for number, age in enumerate(ages_in_days, start=1):
            db.session.execute(
                sa.update(FileVersion)
                .where(FileVersion.file_id == file.id, FileVersion.number == number)
                .values(created_at=now - timedelta(days=age, minutes=1))
            )
        db.session.commit()

    world.query(build)
    return doc["id"]


def configure(world, **values):
    from app.services import settings

    def apply():
        settings.save(values)
        db.session.commit()

    world.query(apply)


def numbers(world, file_id) -> list[int]:
    return [v.number for v in world.versions(file_id)]


def planned(world) -> list[tuple[int, int]]:
    from app.services import retention

    return world.query(lambda: [(v.file_id, v.number) for v in retention.plan()])


def blob_path(world, key: str) -> str:
    return os.path.join(world.app.config["STORAGE_DIR"], key)


def purge(world, *args):
    return world.app.test_cli_runner().invoke(args=["purge-versions", *args])


def test_keep_all_is_the_default_and_removes_nothing(world):
    file_id = make_file(world, "Everything", [400, 300, 200, 100])
    assert planned(world) == []
    result = purge(world, "--apply")
    assert result.exit_code == 0 and "keeps all versions" in result.output
    assert numbers(world, file_id) == [1, 2, 3, 4]


def test_last_n_keeps_the_highest_numbered_versions(world):
    big = make_file(world, "Big", [5, 4, 3, 2, 1])
    small = make_file(world, "Small", [9, 8])
    configure(world, retention_mode="last", retention_count=2)
    assert planned(world) == [(big, 1), (big, 2), (big, 3)]
    result = purge(world, "--apply")
    assert result.exit_code == 0, result.output
    assert numbers(world, big) == [4, 5] and numbers(world, small) == [1, 2]
    assert "removed Big.docx (file %d) version 1" % big in result.output
    assert "Removed 3 versions of 1 file " in result.output


def test_younger_than_d_days(world):
    file_id = make_file(world, "Aging", [120, 91, 89, 10, 0])
    configure(world, retention_mode="days", retention_days=90)
    assert planned(world) == [(file_id, 1), (file_id, 2)]
    assert purge(world, "--apply").exit_code == 0
    assert numbers(world, file_id) == [3, 4, 5]


def test_the_head_is_never_removed_even_when_it_is_the_oldest(world):
    alone = make_file(world, "Alone", [1000])
    # A head that is older than a later conflict copy (a save from an outdated session).
    kept = make_file(world, "Conflicted", [500, 400])

    def make_conflict():
        db.session.execute(
            sa.update(FileVersion).where(FileVersion.file_id == kept, FileVersion.number == 2).values(is_conflict=True)
        )
        db.session.execute(sa.update(File).where(File.id == kept).values(version=1))
        db.session.commit()

    world.query(make_conflict)
    configure(world, retention_mode="days", retention_days=1)
    assert planned(world) == [(kept, 2)]
    configure(world, retention_mode="last", retention_count=1)
    assert planned(world) == []  # version 2 is the last one, version 1 the head
    purge(world, "--apply")
    assert numbers(world, alone) == [1] and numbers(world, kept) == [1, 2]
    assert world.file(kept).version == 1


def test_dry_run_changes_nothing(world):
    file_id = make_file(world, "Draft", [30, 20, 10])
    configure(world, retention_mode="last", retention_count=1)
    before = world.versions(file_id)
    result = purge(world)
    assert result.exit_code == 0
    assert result.output.count("would remove Draft.docx") == 2
    assert "2 versions of 1 file would be removed" in result.output and "nothing was changed" in result.output
    assert numbers(world, file_id) == [1, 2, 3]
    assert all(os.path.exists(blob_path(world, v.storage_key)) for v in before)


def test_apply_removes_rows_and_blobs_and_receipts_still_work(world):
    from app.services.storage import get_storage

    file_id = make_file(world, "Purged", [30, 20, 10])

    def attach_changes_and_receipt():
        version = db.session.scalar(
            sa.select(FileVersion).where(FileVersion.file_id == file_id, FileVersion.number == 1)
        )
        version.changes_storage_key = get_storage().put_bytes(b"PK changes", f"changes/{file_id}")
        db.session.add(SaveReceipt(file_id=file_id, doc_key="old-key", kind="final", dedupe="final", version_number=1))
        db.session.commit()
        return version.changes_storage_key

    changes_key = world.query(attach_changes_and_receipt)
    configure(world, retention_mode="last", retention_count=1)
    old = world.versions(file_id)
    assert os.path.exists(blob_path(world, changes_key))

    result = purge(world, "--apply")
    assert result.exit_code == 0, result.output
    assert numbers(world, file_id) == [3]
    for version in old[:2]:
        assert not os.path.exists(blob_path(world, version.storage_key))
    assert not os.path.exists(blob_path(world, changes_key))
    assert os.path.exists(blob_path(world, old[2].storage_key))
    # The receipt names a number, not a row: it is still there, and the file still works.
    receipts = world.query(
        lambda: db.session.scalars(sa.select(SaveReceipt.version_number).where(SaveReceipt.file_id == file_id)).all()
    )
    assert receipts == [1]
    assert docx_text(world.head_bytes(file_id))[-1] == "Purged version 3"
    versions = world.client().get(f"/api/v1/files/{file_id}/versions", headers=world.api("alice"))
    assert versions.status_code == 200
    # A second run finds nothing left to remove.
    again = purge(world, "--apply")
    assert "Removed 0 versions" in again.output


def test_the_admin_page_sets_retention_and_keeps_it_when_left_out(world):
    from app.services import settings

    client = world.client("alice")
    base = {"jwt_header": "Authorization", "max_file_size_mb": "100", "verify_tls": "y"}
    html = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="retention_mode"' in html and "purge-versions" in html
    client.post(
        "/admin/settings", data={**base, "retention_mode": "last", "retention_count": "3", "retention_days": "30"}
    )
    values = world.query(
        lambda: (settings.get("retention_mode"), settings.get("retention_count"), settings.get("retention_days"))
    )
    assert values == ("last", 3, 30)
    client.post("/admin/settings", data=base)  # a page without the retention fields
    client.post("/admin/settings", data={**base, "retention_mode": "days", "retention_count": ""})
    values = world.query(
        lambda: (settings.get("retention_mode"), settings.get("retention_count"), settings.get("retention_days"))
    )
    assert values == ("days", 3, 30)
    html = client.post("/admin/settings", data={**base, "retention_mode": "forever"}).get_data(as_text=True)
    assert "Please correct the marked fields" in html
    html = client.post("/admin/settings", data={**base, "retention_count": "0"}).get_data(as_text=True)
    assert "Please correct the marked fields" in html


def test_a_file_busy_with_another_action_is_left_for_the_next_run(world):
    """Each file's versions go under its transition lock: a file a restore (reading an old version)
    holds is skipped, the others are removed, and the next run takes it."""
    from app.services import locks

    busy = make_file(world, "Busy", [5, 4, 3])
    free = make_file(world, "Free", [5, 4, 3])
    configure(world, retention_mode="last", retention_count=1)
    with world.app.app_context():
        restoring = locks.acquire(busy, "restore")
        result = purge(world, "--apply")
        assert locks.held() == 1  # the restore's: the purge let each of its own go
        restoring.release()
    assert result.exit_code == 0, result.output
    assert numbers(world, busy) == [1, 2, 3] and numbers(world, free) == [3]
    assert "Removed 2 versions of 1 file " in result.output
    assert f"Left 1 file being changed right now for the next run: Busy.docx (file {busy})." in result.output
    assert all(os.path.exists(blob_path(world, v.storage_key)) for v in world.versions(busy))

    again = purge(world, "--apply")
    assert again.exit_code == 0, again.output
    assert numbers(world, busy) == [3] and "Removed 2 versions of 1 file " in again.output
    assert "Left" not in again.output


def test_the_scheduled_job_skips_a_busy_file_too(world, caplog):
    from app import jobs
    from app.services import locks

    busy = make_file(world, "Busy", [5, 4])
    free = make_file(world, "Free", [5, 4])
    configure(world, retention_mode="last", retention_count=1)
    with world.app.app_context():
        saving = locks.acquire(busy, "save")
        with caplog.at_level("INFO", logger="coedit.retention"):
            jobs.apply_retention()
        saving.release()
    assert numbers(world, busy) == [1, 2] and numbers(world, free) == [2]
    assert f"file {busy} is busy (save)" in caplog.text
    world.query(jobs.apply_retention)
    assert numbers(world, busy) == [2]

"""The hot paths stay lean: what a repeated status 1 and an editor opening cost in statements.

Docs sends status 1 on every join, leave and reconnect of every co-editor, and people open editors
all day: these count the SQL statements each sends, so a change that adds a query, a write or a
commit to them fails here (their speed is measured by `make bench`, not timed in tests).
"""

import logging
import threading
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.databases import ENGINE
from tests.helpers import post_signed_callback as post


class ReadsAlone(logging.Handler):
    """The statements transaction.reading_alone runs on the driver, past SQLAlchemy's events."""

    def __init__(self, seen):
        super().__init__(logging.DEBUG)
        self.seen = seen

    def emit(self, record):
        self.seen.append(" ".join(record.args[0].split()).upper())


@contextmanager
def statements(world):
    """The SQL statements the app runs meanwhile, through SQLAlchemy or straight on the driver
    (the test's server runs in this process)."""
    from app.extensions import db

    seen = []
    with world.app.app_context():
        engine = db.engine

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(" ".join(statement.split()).upper())

    # Transactions begin and end through the driver's own calls, which no cursor event sees.
    ends = {name: (lambda _conn, name=name: seen.append(name.upper())) for name in ("begin", "commit", "rollback")}
    reads_alone, handler = logging.getLogger("coedit.transaction"), ReadsAlone(seen)
    level = reads_alone.level
    reads_alone.addHandler(handler)
    reads_alone.setLevel(logging.DEBUG)
    sa.event.listen(engine, "before_cursor_execute", note)
    for name, listener in ends.items():
        sa.event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
        for name, listener in ends.items():
            sa.event.remove(engine, name, listener)
        reads_alone.removeHandler(handler)
        reads_alone.setLevel(level)


def writes(seen) -> list[str]:
    return [s for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_repeated_status_1_reads_one_statement_and_writes_nothing(world, opened):
    """The same editors again (a reconnect): the file's editing state and the joined people's rights
    are read in one statement; nothing is written and nothing committed."""
    with statements(world) as seen:
        assert post(opened["callback"], opened["joined"]).json() == {"error": 0}
    selects = [s for s in seen if s.startswith("SELECT")]
    assert len(selects) == 1, seen
    assert writes(seen) == [] and not any(s.startswith("COMMIT") for s in seen), seen
    assert world.file(opened["id"]).editors == [opened["bob"]]


def test_more_co_editors_joining_cost_no_more_statements(world, opened):
    """Rights of every joined person come in the same statement, up to rights.PARTICIPANT_SLOTS of them."""
    alice = str(world.user_ids["alice"])
    both = {**opened["joined"], "users": [opened["bob"], alice], "actions": [{"type": 1, "userid": alice}]}
    assert post(opened["callback"], both).json() == {"error": 0}  # alice joins: the editors change
    again = {**both, "actions": [{"type": 1, "userid": opened["bob"]}, {"type": 1, "userid": alice}]}
    with statements(world) as seen:
        assert post(opened["callback"], again).json() == {"error": 0}
    assert len([s for s in seen if s.startswith("SELECT")]) == 1 and writes(seen) == [], seen


def test_a_status_1_that_changes_the_editors_still_writes_them(world, opened):
    left = {**opened["joined"], "users": [], "actions": [{"type": 0, "userid": opened["bob"]}]}
    with statements(world) as seen:
        assert post(opened["callback"], left).json() == {"error": 0}
    assert any(s.startswith("UPDATE FILE ") for s in writes(seen)), seen
    assert world.file(opened["id"]).editors == []


def test_a_repeated_status_1_still_drops_someone_who_lost_the_right(world, opened):
    """No write for a repeat, yet rights are live: bob, now a reader, is refused on his next reconnect."""
    world.set_level(opened["id"], "bob", "read")
    dropped = threading.Event()
    from app import jobs

    original = jobs.drop_from_editor

    def watch(*args):
        dropped.set()

    jobs.drop_from_editor = watch
    try:
        assert post(opened["callback"], opened["joined"]).json() == {"error": 0}
    finally:
        jobs.drop_from_editor = original
    # The job runs in-process after the commit that hands it over.
    assert dropped.wait(5)


def test_opening_the_editor_reads_the_token_and_the_file_and_writes_its_entry_shortly_after(world, opened):
    """The opening's answer waits for no write and opens no transaction (on PostgreSQL, a BEGIN and
    a ROLLBACK round trip, and the ROLLBACK would drop the driver's prepared statements): its two
    reads run alone, and its audit entry is written by the process's writer within a moment
    (without anyone asking it to flush), in a transaction of its own."""
    from app.extensions import db
    from app.models import AuditEvent
    from app.ops import audit_writer

    def count():
        return world.query(
            lambda: db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "editor.opened")
            )
        )

    audit_writer.flush(world.app)  # the fixture's opening
    before = count()
    with statements(world) as seen:
        response = world.client().get(f"/api/v1/files/{opened['id']}/editor-config", headers=world.api("bob"))
    assert response.status_code == 200
    assert writes(seen) == [], seen
    assert len([s for s in seen if s.startswith("SELECT")]) == 2, seen  # the token's user, the file with rights
    assert not {"BEGIN", "COMMIT", "ROLLBACK"} & set(seen), seen
    deadline = time.monotonic() + 5
    while count() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count() == before + 1


def test_the_editor_page_reads_the_session_and_the_file_alone(world, opened):
    """The page people open reads as the API's config does: the session's user and the file with
    its rights and its space's name, each alone; no transaction, no write."""
    bob = world.client("bob")
    with statements(world) as seen:
        response = bob.get(f"/files/{opened['id']}/open")
    assert response.status_code == 200
    assert "← Team</a>" in response.get_data(as_text=True)  # the space's name, from the same read
    assert writes(seen) == [], seen
    assert len([s for s in seen if s.startswith("SELECT")]) == 2, seen
    assert not {"BEGIN", "COMMIT", "ROLLBACK"} & set(seen), seen


def test_the_rate_limit_counts_in_memory_without_starting_threads(world):
    """The per-process limit storage sweeps as requests come, instead of a timer thread per 10 ms."""
    client = world.client()
    client.get("/api/v1/formats", headers=world.api("bob"))
    started = threading.active_count()
    for _ in range(50):
        assert client.get("/api/v1/formats", headers=world.api("bob")).status_code == 200
        time.sleep(0.012)  # longer than the original's timer: each call would start another
    assert threading.active_count() <= started + 1  # the audit writer may start once


@pytest.mark.skipif(ENGINE != "postgresql", reason="pooled server connections exist on PostgreSQL only")
def test_a_connection_the_server_ended_while_idle_is_replaced_before_use(world, opened, monkeypatch):
    """No ping on every checkout; a connection idle longer than IDLE_PING_SECONDS is pinged, and one
    the server ended (a restart, a failover) is replaced instead of failing the request."""
    from app import transaction
    from app.extensions import db

    client = world.client()
    assert client.get(f"/api/v1/files/{opened['id']}", headers=world.api("bob")).status_code == 200
    with world.app.app_context():
        with db.engine.connect() as admin:
            admin.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    monkeypatch.setattr(transaction, "IDLE_PING_SECONDS", 0.0)
    assert client.get(f"/api/v1/files/{opened['id']}", headers=world.api("bob")).status_code == 200


@contextmanager
def checkouts(engine):
    """The pool's checkouts and checkins meanwhile."""
    seen = {"checkout": 0, "checkin": 0}

    def counter(name):
        return lambda *_args: seen.__setitem__(name, seen[name] + 1)

    listeners = {name: counter(name) for name in seen}
    for name, listener in listeners.items():
        sa.event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners.items():
            sa.event.remove(engine, name, listener)


ONE = sa.select(sa.literal_column("1").label("one"))


def _read_one():
    from app import transaction

    with transaction.reading_alone() as read:
        return read(ONE, {})[0].one


def test_reads_alone_keep_one_connection_on_the_main_thread_and_check_out_elsewhere(world):
    """A pool checkout and checkin cost about as much as a status 1's read: the main thread (a sync
    worker's only one) keeps its connection between reads; other threads give theirs back."""
    from app.extensions import db

    with world.app.app_context():
        engine = db.engine
        taken = []
        sa.event.listen(engine, "checkout", lambda dbapi_connection, *_: taken.append(dbapi_connection))
        _read_one()  # the one kept from now on
        [kept_connection] = taken
        with checkouts(engine) as seen:
            assert [_read_one() for _ in range(5)] == [1] * 5
            assert seen == {"checkout": 0, "checkin": 0}
            kept = engine.pool.checkedout()

            results = []

            def elsewhere():
                with world.app.app_context():
                    results.append(_read_one())

            worker = threading.Thread(target=elsewhere)
            worker.start()
            worker.join()
            assert results == [1]
            assert seen == {"checkout": 1, "checkin": 1}
            assert engine.pool.checkedout() == kept

            engine.dispose()  # the kept one is closed with its pool
            with pytest.raises(Exception, match="(?i)closed"):
                kept_connection.cursor().execute("SELECT 1")
            assert _read_one() == 1  # and a new one is taken from the new pool
            assert seen["checkout"] == 2


def test_a_connection_a_read_failed_on_is_not_kept(world):
    from app import transaction
    from app.extensions import db

    with world.app.app_context():
        engine = db.engine
        _read_one()
        broken = sa.select(sa.column("missing_column")).select_from(sa.table("no_such_table"))
        with checkouts(engine) as seen:
            # The read's own error, not one from cleaning up after it.
            with pytest.raises(engine.dialect.loaded_dbapi.Error, match="no_such_table"):
                with transaction.reading_alone() as read:
                    read(broken, {})
            assert _read_one() == 1
            assert seen == {"checkout": 1, "checkin": 1}  # thrown away, and another taken


def test_a_forked_child_never_reads_on_its_parents_connection(world):
    """gunicorn and Celery fork: a connection is one socket (or file handle) for one process."""
    import os

    from app.extensions import db

    with world.app.app_context():
        engine = db.engine
        _read_one()
        with checkouts(engine) as seen:
            child = os.fork()
            if child == 0:  # pragma: no cover - the child's verdict is its exit code
                code = 1
                try:
                    code = 0 if _read_one() == 1 and seen["checkout"] == 1 else 2
                finally:
                    os._exit(code)
            _, status = os.waitpid(child, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert _read_one() == 1 and seen["checkout"] == 0  # the parent's is still its own

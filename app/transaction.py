"""One rule for transactions: services stage, the request (CLI command, job) commits once.

Services add, change and delete rows, and stage the blobs those rows name; they never commit.
The view, command or job that called them ends with ``commit()``. Two kinds of work hang on that
commit, so neither can be half done:

- blobs: a blob written for a new row (``stage_blob``) is deleted when the transaction ends
  without committing; a blob whose row is deleted (``delete_blob_after_commit``) goes only once
  the deletion is committed.
- follow-ups (``after_commit``): work that must not fail or undo what was committed (notices and
  notifications about a save, folding intermediate versions, handing jobs over: app/jobs.py)
  runs after it, each in its own transaction; a failure is logged, never reported as a failure of
  the commit.

``apart(work)`` is for what must be kept although the work it is about was rolled back (the audit
entry of a failed sign-in or a refused save): it commits work alone, at once.

A few services commit early through the same ``commit()`` where the protocol needs it and say
why (a save's receipt must be durable before Docs is answered). ``begin_write()`` starts a write
transaction afresh (a row lock must be its first statement). ``on_end`` runs something when the
transaction ends, committed or not (a file's transition lock is released then: services/locks.py).
"""

import collections
import contextlib
import logging
import os
import threading
import time
from typing import Callable

import sqlalchemy as sa

from app.extensions import db

log = logging.getLogger("coedit.transaction")

_NEW_BLOBS = "coedit_new_blobs"
_DOOMED_BLOBS = "coedit_doomed_blobs"
_LATER = "coedit_after_commit"  # follow-ups of the open transaction
_READY = "coedit_after_commit_ready"  # follow-ups of the transaction just committed
_FLUSHED = "coedit_flushed"
_ON_END = "coedit_on_end"  # run when the transaction ends, committed or not (releasing locks)


def commit() -> None:
    """Commit the staged work, then run its follow-ups, each in a transaction of its own."""
    db.session.commit()
    while db.session.info.get(_READY):
        follow_up = db.session.info[_READY].pop(0)
        try:
            follow_up()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception(
                "follow-up %s failed after a commit; what was committed stands",
                getattr(follow_up, "__qualname__", follow_up),
            )


def read(statement, params: dict):
    """Rows of a Core select, run on the session's connection in its transaction.

    For the hot paths' one-row reads: without the ORM's per-statement machinery, several times
    cheaper than session.execute. What the session has staged is flushed first, as autoflush would.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params)


@contextlib.contextmanager
def reading_alone():
    """``read(statement, params)`` for the block, running Core selects alone: outside the session
    and any transaction, for decisions on the hottest paths that write nothing (Docs' status 1),
    where ``read`` would cost a transaction.

    Each statement is compiled once per database dialect and run straight on the driver, on a
    pooled connection in autocommit (``_Reader``): each statement is its own consistent snapshot,
    and PostgreSQL is spared the BEGIN and ROLLBACK round trips. Whoever goes on to write reads
    again in its transaction. Rows are named tuples of the values typed as Core types them
    (SQLite's datetimes are datetimes); no expanding parameters.
    """
    engine = db.engine
    reader = _READER.take(engine)
    failed = False
    try:
        cursor = reader.dbapi_connection.cursor()

        def read(statement, params: dict) -> list:
            sql, positions, constants, row_class, converters = _driver_sql(statement, engine.dialect)
            values = {**constants, **params}
            if log.isEnabledFor(logging.DEBUG):  # SQLAlchemy's events do not see these statements
                log.debug("read alone: %s", sql)
            cursor.execute(sql, tuple(values[name] for name in positions) if positions is not None else values)
            rows = cursor.fetchall()
            if not converters:
                return [row_class(*row) for row in rows]
            typed = []
            for row in rows:
                row = list(row)
                for index, convert in converters:
                    row[index] = convert(row[index])
                typed.append(row_class(*row))
            return typed

        try:
            yield read
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error:
        failed = True  # it may be the connection that failed: never used again
        raise
    finally:
        if failed:
            _READER.discard(reader)
        else:
            _READER.give_back(engine, reader)


class _Reader:
    """The pooled connection ``reading_alone`` runs on.

    Checking a connection out of SQLAlchemy's pool and back in costs about as much as the read
    itself. So the main thread, which serves every request of a gunicorn sync worker, keeps the
    one it took between reads (in autocommit, with no transaction open). Other threads check one
    out for each block, as before. The kept connection is closed when a read on it fails or its
    engine is disposed, and a forked child never uses its parent's. On PostgreSQL one idle for
    IDLE_PING_SECONDS is pinged first, as a checkout would (``ping_if_idle``).
    """

    def __init__(self):
        self.kept = None  # (engine, pooled connection, pid)
        self.forked_away = []  # a parent's, held by a forked child: never used, closed or collected

    def take(self, engine):
        if threading.current_thread() is not threading.main_thread():
            return self._checkout(engine)
        kept = self.kept
        if kept is not None:
            kept_engine, pooled, pid = kept
            if pid != os.getpid():
                self.forked_away.append(pooled)
            elif kept_engine is engine and self._alive(engine, pooled):
                return pooled
            else:
                self.discard(pooled)
            self.kept = None
        pooled = self._checkout(engine)
        self.kept = (engine, pooled, os.getpid())
        return pooled

    def give_back(self, engine, pooled) -> None:
        kept = self.kept
        if kept is not None and kept[1] is pooled:
            pooled.info[LAST_USE] = time.monotonic()  # as a checkin notes it, for the idle ping
            return
        _autocommit(engine, pooled, False)
        pooled.close()  # back to the pool: its reset's rollback has no transaction to end

    def discard(self, pooled) -> None:
        """Close this connection for good (it failed, or it is not of the engine in use)."""
        if self.kept is not None and self.kept[1] is pooled:
            self.kept = None
        try:
            pooled.invalidate()
            pooled.close()
        except Exception:  # noqa: BLE001 - already closed or broken: nothing is left to release
            pass

    def release(self, engine) -> None:
        """The engine is disposed, its pool closed: so is the connection kept from it."""
        kept = self.kept
        if kept is not None and kept[0] is engine and kept[2] == os.getpid():
            self.discard(kept[1])

    @staticmethod
    def _checkout(engine):
        pooled = engine.raw_connection()
        _autocommit(engine, pooled, True)
        return pooled

    def _alive(self, engine, pooled) -> bool:
        if engine.dialect.name != "postgresql":
            return True  # a database file does not hang up
        try:
            ping_if_idle(pooled.dbapi_connection, pooled.info)
        except sa.exc.DisconnectionError:
            return False
        return True


def _autocommit(engine, pooled, on: bool) -> None:
    if engine.dialect.name == "postgresql":
        pooled.dbapi_connection.autocommit = on  # psycopg: on the client only, no round trip


_READER = _Reader()


# A database server that restarted or failed over leaves dead connections in the pool. Pinging
# at every checkout (pool_pre_ping) would cost a round trip on every request; a connection used
# within the last seconds is alive, so only one idle longer is pinged (SQLAlchemy's custom
# pessimistic disconnect handling). One that dies in between fails its request with a 503, and
# SQLAlchemy then replaces every connection of the pool.
IDLE_PING_SECONDS = 5.0
LAST_USE = "coedit_last_use"


def ping_if_idle(dbapi_connection, info: dict) -> None:
    """:raise sqlalchemy.exc.DisconnectionError: the connection was idle and is dead."""
    last_use = info.get(LAST_USE)
    if last_use is None or time.monotonic() - last_use < IDLE_PING_SECONDS:
        return  # just connected, or used a moment ago
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()  # end the transaction the ping began; the request begins its own
    except Exception as exc:
        # The pool throws this connection away and checks out another (SQLAlchemy retries).
        raise sa.exc.DisconnectionError() from exc
    finally:
        try:
            cursor.close()
        except Exception:
            pass


def watch_engine(engine) -> None:
    """The engine's connection events: SQLite's pragmas, or PostgreSQL's ping of idle connections."""
    sa.event.listen(engine, "engine_disposed", _READER.release)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        sa.event.listen(engine, "checkin", _note_last_use)
        sa.event.listen(engine, "checkout", _ping_checkout)


def _sqlite_pragmas(connection, _record) -> None:
    # WAL lets readers go on while a save writes; foreign keys make cascades real.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _note_last_use(_dbapi_connection, record) -> None:
    record.info[LAST_USE] = time.monotonic()


def _ping_checkout(dbapi_connection, record, _proxy) -> None:
    ping_if_idle(dbapi_connection, record.info)


def first_alone(statement, params: dict):
    """The first row (or None) of one Core select run alone (``reading_alone``): for reads that
    decide a request before it stages anything, such as who signed it and what they may open."""
    with reading_alone() as read:
        rows = read(statement, params)
    return rows[0] if rows else None


_DRIVER_SQL: dict = {}


def _driver_sql(statement, dialect) -> tuple:
    """The SQL the driver runs for this statement, its parameters' order (None when the driver
    takes them by name), the values of its literals, a named tuple for its rows and the columns'
    result conversions, as Core applies them: compiled once per statement and dialect."""
    key = (statement, dialect.name)
    found = _DRIVER_SQL.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("reading_alone takes no expanding parameters")
        positions = list(compiled.positiontup) if compiled.positional else None
        constants = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}
        columns = list(statement.selected_columns)
        row_class = collections.namedtuple("Row", list(statement.selected_columns.keys()))
        converters = []
        for index, column in enumerate(columns):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                converters.append((index, convert))
        found = _DRIVER_SQL[key] = (compiled.string, positions, constants, row_class, tuple(converters))
    return found


def after_commit(follow_up: Callable[[], None]) -> None:
    """Run follow_up once the current transaction is committed (never if it is not)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # nothing read or staged yet: a rollback must still end what follow_up waits on
    session.info.setdefault(_LATER, []).append(follow_up)


def apart(work: Callable[[], None]) -> None:
    """Run work now in a transaction of its own and commit it, whatever becomes of the caller's.

    For records of what failed (audit entries of a refused sign-in or save): the failed work is
    rolled back, and its record must not go with it. Call it with nothing staged (after that
    rollback, or before anything was staged): it refuses to commit someone else's half-done work.
    A failure is logged, never raised, so recording a failure cannot turn it into another one.
    """
    begin_write()
    try:
        work()
        commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record %s apart", getattr(work, "__qualname__", work))


def on_end(callback: Callable[[], None]) -> None:
    """Run callback once the current transaction has ended, committed or rolled back (not when
    ``begin_write`` starts it afresh): a transition lock held for the transaction goes then."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_ON_END, []).append(callback)


def stage_blob(key: str) -> None:
    """A blob just written for a row of this transaction: deleted again if the row never commits."""
    db.session.info.setdefault(_NEW_BLOBS, []).append(key)


def delete_blob_after_commit(key: str) -> None:
    """A blob whose row this transaction deletes: removed once that deletion is committed."""
    db.session.info.setdefault(_DOOMED_BLOBS, []).append(key)


def begin_write() -> None:
    """End the current read-only transaction, so the next statement starts a new one.

    A row lock must be the first statement of its transaction: SQLite cannot turn an older read
    snapshot into a write once another connection has written. Refuses to drop staged work.
    """
    session = db.session
    if (
        session.new
        or session.dirty
        or session.deleted
        or session.info.get(_FLUSHED)
        or session.info.get(_NEW_BLOBS)
        or session.info.get(_LATER)
    ):
        raise RuntimeError("begin_write() with work staged: commit it first")
    held = session.info.pop(_ON_END, None)  # what waits for the end of the work, not of this read
    session.rollback()
    if held:
        session.info[_ON_END] = held


def init_app(app) -> None:
    for name, listener in (("after_flush", _flushed), ("after_commit", _committed), ("after_transaction_end", _ended)):
        if not sa.event.contains(db.session, name, listener):  # once per process, however many apps
            sa.event.listen(db.session, name, listener)


def _flushed(session, _context) -> None:
    session.info[_FLUSHED] = True


def _committed(session) -> None:
    session.info.pop(_NEW_BLOBS, None)  # their rows are durable now
    session.info.setdefault(_READY, []).extend(session.info.pop(_LATER, []))
    doomed = session.info.pop(_DOOMED_BLOBS, [])
    if doomed:
        _delete_blobs(doomed)


def _ended(session, transaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_FLUSHED, None)
    session.info.pop(_LATER, None)  # not committed: the follow-ups have nothing to follow
    session.info.pop(_DOOMED_BLOBS, None)  # their rows stay, so do they
    new = session.info.pop(_NEW_BLOBS, [])
    if new:
        _delete_blobs(new)
    for callback in session.info.pop(_ON_END, []):
        try:
            callback()
        except Exception:
            log.exception("could not run %s at the end of a transaction", getattr(callback, "__qualname__", callback))


def _delete_blobs(keys: list[str]) -> None:
    from app.services.storage import get_storage

    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # an orphan blob costs disk space, never correctness
            log.exception("could not delete blob %s", key)

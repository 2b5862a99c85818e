"""Transition locks: while a file moves between states, nothing else moves it.

A save being stored (callbacks with status 2, 3, 6 and 7), a restore, an upload of a new version,
a rename, a move, a deletion, a move to the trash, an administrator's recovery of a forgotten file
and the removal of old versions (retention) each hold the file's lock for as long as they run, in
every process and on every instance. Whoever comes second waits a moment (``TRANSITION_LOCK_WAIT`` seconds; a save
longer, see ``SAVE_WAIT``) and otherwise gets ``Busy``: a 409 with ``Retry-After`` for people, a
503 for Docs, which then sends its callback again.

A lock has an owner token and a time to live (``TRANSITION_LOCK_SECONDS``). Its holder renews it
on a thread of its own while it runs, so a long download keeps it, and a holder that crashed stops
renewing: its lock lapses within the TTL and the next comer takes it over. Only the owner's token
releases or renews a lock, so a holder that was too slow never frees its successor's.

Two stores, one behaviour (tests/test_locks.py runs the same tests on both):

- Redis, when ``REDIS_URL`` is set: ``SET key value NX PX ttl``; release and renewal compare the
  value before they delete or extend it, in one Lua script (atomic in Redis).
- the database otherwise: the ``transition_lock`` table, one row per file; a row whose time is up
  is taken over by an UPDATE guarded on that, a free file by an INSERT guarded by the primary key.
  Each step runs in a short transaction of its own on a connection of its own, never in the
  request's session: the lock must be seen by other processes the moment it is taken, not when
  the request commits, and must go when its holder ends, whatever the request's transaction does.

Two ways to hold one: ``transition(file_id, action)``, a context manager for code that commits
inside it (the callback service); and ``hold_until_commit(file_id, action)`` for services that
stage, released when the caller's transaction ends (committed or not). Take a lock before the
transaction writes anything: on SQLite the database store needs the write lock too.
"""

import logging
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext

from app import transaction
from app.extensions import db
from app.models import TransitionLock
from app.models.base import utcnow
from app.services import state
from app.services.exceptions import ConflictError
from app.services.exceptions import SaveFailedError

log = logging.getLogger("coedit.locks")

# A save waits longer than a person's action: Docs does not retry force-saves (status 6 and 7), so
# one that meets another save of the same file must wait its turn rather than be lost.
SAVE_WAIT = 15.0
POLL_SECONDS = 0.05

DOING = {
    "save": lazy_gettext("The document is being saved, try again in a moment."),
    "restore": lazy_gettext("A version of the document is being restored, try again in a moment."),
    "upload": lazy_gettext("A new version of the document is being uploaded, try again in a moment."),
    "rename": lazy_gettext("The document is being renamed, try again in a moment."),
    "delete": lazy_gettext("The document is being deleted, try again in a moment."),
    "convert": lazy_gettext("The document is being converted, try again in a moment."),
    "trash": lazy_gettext("The document is being moved to the trash, try again in a moment."),
    "move": lazy_gettext("The document is being moved, try again in a moment."),
    "recover": lazy_gettext("Unsaved changes to the document are being recovered, try again in a moment."),
    "retention": lazy_gettext("Old versions of the document are being removed, try again in a moment."),
}


class Busy(ConflictError):
    """Another action holds the file's lock; ``retry_after`` seconds is a fair wait."""

    def __init__(self, action: str, retry_after: int = 2):
        super().__init__(str(DOING.get(action) or gettext("The document is being changed, try again in a moment.")))
        self.action = action
        self.retry_after = retry_after


class Unavailable(SaveFailedError):
    """The lock store (Redis, or the database) cannot be reached: a failure that may pass (503)."""

    def __init__(self):
        super().__init__(gettext("Changes cannot be made right now; please try again in a moment."))


@dataclass(frozen=True)
class Held:
    """A lock as the status page shows it."""

    file_id: int
    action: str
    since: datetime
    expires: datetime


class Lock:
    """One lock taken: release it (or let it lapse), renew it while working."""

    def __init__(self, store, file_id: int, action: str, ttl: float):
        self.store = store
        self.file_id = file_id
        self.action = action
        self.ttl = ttl
        self.token = secrets.token_hex(16)
        self.since = utcnow()
        self._stop: threading.Event | None = None

    def renew(self) -> bool:
        """Push the expiry a TTL ahead; False when the lock is no longer ours (it lapsed and was taken)."""
        return self.store.extend(self, self.ttl)

    def keep_renewing(self) -> None:
        """Renew on a thread of its own every third of the TTL until released."""
        self._stop = threading.Event()
        threading.Thread(target=self._renewing, name=f"lock-{self.file_id}", daemon=True).start()

    def _renewing(self) -> None:
        stop = self._stop
        while not stop.wait(self.ttl / 3):
            try:
                if not self.renew():
                    # A renewal that waited (SQLite's write lock, during a long save) may find the
                    # lock already released by its holder: that is no loss.
                    if not stop.is_set():
                        log.warning("lock of file %s (%s) was lost before its release", self.file_id, self.action)
                    return
            except Exception:  # a store that is away for a moment: the next round tries again
                log.warning("could not renew the lock of file %s", self.file_id, exc_info=True)

    def release(self) -> bool:
        """Free the lock if it is still ours; True when it was."""
        if self._stop is not None:
            self._stop.set()
        try:
            return self.store.release(self)
        except Exception:  # it lapses by itself within its TTL
            log.warning("could not release the lock of file %s", self.file_id, exc_info=True)
            return False


class RedisStore:
    """Locks as Redis keys: SET NX PX to take, compare-and-delete (Lua) to release."""

    PREFIX = "coedit:transition-lock:"
    RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
    # Extends our own lock; one that lapsed while its holder was merely slow (and no one took it
    # meanwhile) is taken again, as the database store does.
    EXTEND = """
        local value = redis.call('get', KEYS[1])
        if value == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
        if not value then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        return 0
    """

    def __init__(self, client):
        self.client = client

    def _key(self, file_id: int) -> str:
        return f"{self.PREFIX}{file_id}"

    @staticmethod
    def _value(lock: Lock) -> str:
        return f"{lock.token} {lock.action} {lock.since.timestamp():.3f}"

    def take(self, lock: Lock, ttl: float) -> bool:
        return bool(self.client.set(self._key(lock.file_id), self._value(lock), nx=True, px=int(ttl * 1000)))

    def extend(self, lock: Lock, ttl: float) -> bool:
        return bool(self.client.eval(self.EXTEND, 1, self._key(lock.file_id), self._value(lock), int(ttl * 1000)))

    def release(self, lock: Lock) -> bool:
        return bool(self.client.eval(self.RELEASE, 1, self._key(lock.file_id), self._value(lock)))

    def holder(self, file_id: int) -> str | None:
        value = self.client.get(self._key(file_id))
        return value.decode().split(" ")[1] if value else None

    def all(self) -> list[Held]:
        found = []
        for key in self.client.scan_iter(match=self.PREFIX + "*", count=500):
            value, left = self.client.get(key), self.client.pttl(key)
            if not value or left is None or left < 0:
                continue  # gone meanwhile
            _, action, since = value.decode().split(" ")
            found.append(
                Held(
                    file_id=int(key.decode().removeprefix(self.PREFIX)),
                    action=action,
                    since=datetime.fromtimestamp(float(since), timezone.utc),
                    expires=utcnow() + timedelta(milliseconds=left),
                )
            )
        return found


class DatabaseStore:
    """Locks as rows of transition_lock, each step in a short transaction on its own connection."""

    table = TransitionLock.__table__

    def __init__(self, engine):
        self.engine = engine

    def take(self, lock: Lock, ttl: float) -> bool:
        now = utcnow()
        values = {"action": lock.action, "owner": lock.token, "since": now, "expires_at": now + timedelta(seconds=ttl)}
        with self.engine.begin() as connection:
            # A lapsed holder's row: taken over by whoever updates it first (the row's lock, or
            # SQLite's write lock, orders them; the loser's WHERE no longer holds).
            taken = connection.execute(
                sa.update(self.table)
                .where(self.table.c.file_id == lock.file_id, self.table.c.expires_at < now)
                .values(**values)
            ).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(self.table).values(file_id=lock.file_id, **values))
        except sa.exc.IntegrityError:
            return False  # held, and not lapsed
        return True

    def extend(self, lock: Lock, ttl: float) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    sa.update(self.table)
                    .where(self.table.c.file_id == lock.file_id, self.table.c.owner == lock.token)
                    .values(expires_at=utcnow() + timedelta(seconds=ttl))
                ).rowcount
            )

    def release(self, lock: Lock) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    sa.delete(self.table).where(self.table.c.file_id == lock.file_id, self.table.c.owner == lock.token)
                ).rowcount
            )

    def holder(self, file_id: int) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(
                sa.select(self.table.c.action).where(
                    self.table.c.file_id == file_id, self.table.c.expires_at >= utcnow()
                )
            )

    def all(self) -> list[Held]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(self.table).where(self.table.c.expires_at >= utcnow()).order_by(self.table.c.since)
            ).all()
        return [Held(row.file_id, row.action, row.since, row.expires_at) for row in rows]


def store():
    """Redis when the installation has it (several instances share it), else the database."""
    client = state.redis()
    return RedisStore(client) if client is not None else DatabaseStore(db.engine)


def acquire(file_id: int, action: str, wait: float | None = None, ttl: float | None = None, renew: bool = True) -> Lock:
    """Take the file's lock for action, waiting up to ``wait`` seconds for its holder to finish.

    :raise Busy: still held by someone else after the wait.
    """
    config = current_app.config
    if wait is None:
        wait = SAVE_WAIT if action == "save" else config["TRANSITION_LOCK_WAIT"]
    ttl = ttl or config["TRANSITION_LOCK_SECONDS"]
    lock = Lock(store(), file_id, action, ttl)
    deadline = time.monotonic() + wait
    while not _take(lock, ttl):
        if time.monotonic() >= deadline:
            try:
                holder = lock.store.holder(file_id)
            except Exception:
                holder = None
            raise Busy(holder or "save", retry_after=max(1, min(int(ttl), 5)))
        time.sleep(POLL_SECONDS)
    if renew:
        lock.keep_renewing()
    return lock


def _take(lock: Lock, ttl: float) -> bool:
    """Try once. Without its store nothing moves: a file changed unguarded could lose a save."""
    try:
        return lock.store.take(lock, ttl)
    except Exception:
        log.exception("the lock store could not be reached")
        raise Unavailable() from None


@contextmanager
def transition(file_id: int, action: str, wait: float | None = None):
    """Hold the file's lock for action while the block runs (it may commit inside).

    A failure inside ends the session's transaction before the lock goes: its work is not
    committed anyway, and on SQLite the release needs the write lock it may hold.
    """
    lock = acquire(file_id, action, wait)
    try:
        yield lock
    except BaseException:
        db.session.rollback()
        raise
    finally:
        lock.release()


def hold_until_commit(file_id: int, action: str, wait: float | None = None) -> Lock:
    """Take the file's lock for a service that stages; it goes when the caller's transaction ends
    (after its commit, or when it is rolled back), so no one sees the file half moved."""
    lock = acquire(file_id, action, wait)
    transaction.on_end(lock.release)
    return lock


def held() -> int:
    """How many files are locked now (unexpired locks)."""
    return len(store().all())


def held_locks() -> list[dict]:
    """The locks held now, oldest first: file id, action, since and expiry (for a status page)."""
    return [
        {"file_id": h.file_id, "action": h.action, "since": h.since, "expires": h.expires}
        for h in sorted(store().all(), key=lambda h: h.since)
    ]

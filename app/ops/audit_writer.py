"""Audit entries of editor openings, written by a thread of each process in batches.

An opening changes nothing, and opening an editor is the hot path people feel: writing its entry
in the request would cost a write transaction per opening (on PostgreSQL a WAL flush, on SQLite
the database's one write lock). The entries are handed here instead and written within
``FLUSH_SECONDS``, many in one transaction, by a thread of the process; what is pending when the
process exits normally is written then. A process killed outright loses the entries of at most
that last moment; every change (saves, rights, deletions, settings) is still recorded in its own
transaction, with the change.
"""

import atexit
import logging
import os
import threading
import time

import sqlalchemy as sa

from app import transaction
from app.extensions import db
from app.models import AuditEvent

log = logging.getLogger("coedit.audit")

FLUSH_SECONDS = 0.25
# Entries kept while the database refuses them (it is down): the oldest go beyond this.
MAX_PENDING = 20_000


class Writer:
    def __init__(self, app):
        self.app = app
        self.pending: list[dict] = []
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # one flush at a time: the thread's, or one asked for
        self.running = False  # a thread writes; it ends once nothing is left, and the next entry starts another
        self.exit_hook_in: int | None = None  # the process whose exit writes the rest (gunicorn forks workers)

    def add(self, values: dict) -> None:
        with self.lock:
            self.pending.append(values)
            if self.exit_hook_in != os.getpid():
                self.exit_hook_in, self.running = os.getpid(), False  # a forked child has no thread
                atexit.register(self.flush)
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="coedit-audit-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()
            with self.lock:
                if not self.pending:
                    self.running = False
                    return

    def flush(self) -> None:
        """Write what is pending now, in a transaction of its own."""
        with self.flushing:
            with self.lock:
                batch, self.pending = self.pending, []
            if not batch:
                return
            with self.app.app_context():
                try:
                    db.session.execute(sa.insert(AuditEvent), batch)
                    transaction.commit()
                except Exception:
                    db.session.rollback()
                    log.exception("could not write %d audit entries; trying again shortly", len(batch))
                    with self.lock:
                        self.pending = (batch + self.pending)[-MAX_PENDING:]


def writer(app) -> Writer:
    found = app.extensions.get("coedit_audit_writer")
    if found is None:
        found = app.extensions["coedit_audit_writer"] = Writer(app)
    return found


def flush(app) -> None:
    """Write this process's pending entries now (before the log is read here, and in tests)."""
    found = app.extensions.get("coedit_audit_writer")
    if found is not None:
        found.flush()

"""Background work (delayed saves, callback retries, async conversions) with a pending count for wait-idle."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("docs_emulator.jobs")


class Jobs:
    """Runs functions in daemon threads and tracks how many are still running."""

    def __init__(self):
        self._cond = threading.Condition()
        self._pending = 0
        self.stopping = threading.Event()

    def start(self, fn, *args, name: str = "job") -> threading.Thread:
        """Run ``fn(*args)`` in a thread; counts as pending until it returns."""
        with self._cond:
            self._pending += 1

        def run():
            try:
                fn(*args)
            except Exception:  # a failing job must not leave wait-idle hanging
                log.exception("background job %s failed", name)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        return t

    @property
    def pending(self) -> int:
        """Number of jobs still running."""
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait, waking early on shutdown or ``cancel``; True if the full time passed."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self.stopping.is_set() or (cancel is not None and cancel.is_set()):
                return False
            (cancel or self.stopping).wait(min(left, 0.05))

"""Armed faults: one-shot (or n-shot) misbehaviours the tests switch on through the control API."""

from __future__ import annotations

import threading

DOWNLOAD_FAULTS = {"download_404", "download_truncated", "download_garbage", "download_slow", "download_redirect"}
CALLBACK_FAULTS = {
    "callback_twice",
    "callback_wrong_secret",
    "callback_other_key",
    "callback_url_override",
    "callback_unreachable",
    "callback_body",
}
KNOWN_FAULTS = DOWNLOAD_FAULTS | CALLBACK_FAULTS

# Faults that only make sense on callbacks carrying a file url.
_DEFAULT_STATUSES = {"callback_url_override": [2, 6]}


class FaultError(ValueError):
    """The fault request is malformed."""


class Faults:
    """Thread-safe list of armed faults, consumed in the order they were armed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._armed: list[dict] = []

    def arm(self, spec: dict) -> dict:
        """Validate and arm a fault; returns the stored record."""
        name = spec.get("fault")
        if name not in KNOWN_FAULTS:
            raise FaultError(f"unknown fault {name!r}; known: {sorted(KNOWN_FAULTS)}")
        required = {
            "download_redirect": "location",
            "callback_other_key": "key",
            "callback_url_override": "url",
            "callback_body": "body",
        }.get(name)
        if required and required not in spec:
            raise FaultError(f"fault {name} needs {required!r}")
        times = int(spec.get("times", 1))
        if times < 1:
            raise FaultError("times must be >= 1")
        record = dict(spec)
        record["times"] = times
        statuses = spec.get("status", _DEFAULT_STATUSES.get(name))
        if statuses is not None and not isinstance(statuses, list):
            statuses = [statuses]
        record["status"] = statuses
        with self._lock:
            self._armed.append(record)
        return record

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._armed.clear()

    def list(self) -> list[dict]:
        """Copy of the armed faults."""
        with self._lock:
            return [dict(f) for f in self._armed]

    def take(self, names: set[str], status: int | None = None) -> list[dict]:
        """Consume one use of every armed fault in ``names`` that applies (one per name)."""
        taken: list[dict] = []
        with self._lock:
            for record in list(self._armed):
                if record["fault"] not in names or any(t["fault"] == record["fault"] for t in taken):
                    continue
                if status is not None and record.get("status") and status not in record["status"]:
                    continue
                taken.append(dict(record))
                record["times"] -= 1
                if record["times"] <= 0:
                    self._armed.remove(record)
        return taken

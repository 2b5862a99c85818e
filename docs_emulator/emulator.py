"""The emulator's composition root: shared state (options, the one state lock, file store, jobs,
faults, outbound clients) and the parts built on it: sessions, saver and forgotten files."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from .config import RUNTIME_OPTIONS
from .config import Options
from .faults import Faults
from .forgotten import ForgottenFiles
from .jobs import Jobs
from .outbound import CallbackSender
from .outbound import Downloader
from .saving import Saver
from .sessions import DocumentCache
from .sessions import SessionRegistry
from .storage import FileStore


class Emulator:
    """All emulator state. Thread-safe: one lock for state, network I/O outside it."""

    def __init__(self, options: Options):
        self.options = options
        self._initial_options = {name: getattr(options, name) for name in RUNTIME_OPTIONS}
        self._tmp = None
        if options.storage_dir:
            root = Path(options.storage_dir)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="docs-emulator-")
            root = Path(self._tmp.name)
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.store = FileStore(root, options.base_url(), options.link_expires)
        self.jobs = Jobs()
        self.faults = Faults()
        self.downloader = Downloader(options)
        self.sender = CallbackSender(options, self.jobs, self.faults)
        self.lock = threading.RLock()
        self.cache = DocumentCache(self.lock, options.saved_key_ttl)
        self.forgotten = ForgottenFiles(self.store, self.lock)
        self.saver = Saver(self.lock, self.store, self.jobs, self.sender, self.cache, self.forgotten, options)
        self.sessions = SessionRegistry(
            options, self.lock, self.jobs, self.downloader, self.cache, self.forgotten, self.saver
        )

    def shutdown(self) -> None:
        """Stop background threads (pending retries are abandoned)."""
        self.jobs.stopping.set()

    def set_options(self, changes: dict) -> dict:
        """Change options a test may switch at run time (config.RUNTIME_OPTIONS); ValueError if not one."""
        from .config import LOSSY_SAVE_FORMATS

        parsed = {}
        for name, value in changes.items():
            if name not in RUNTIME_OPTIONS or isinstance(value, (dict, list, bool)) or value is None:
                raise ValueError(f"{name!r} cannot be set at run time")
            parsed[name] = RUNTIME_OPTIONS[name](value)
        if parsed.get("lossy_save_format", "ooxml") not in LOSSY_SAVE_FORMATS:
            raise ValueError(f"lossy_save_format must be one of {', '.join(LOSSY_SAVE_FORMATS)}")
        for name, value in parsed.items():
            setattr(self.options, name, value)
        return {name: getattr(self.options, name) for name in RUNTIME_OPTIONS}

    def reset(self) -> None:
        """Forget every session, file, log and fault, and restore the run-time options (control API)."""
        for name, value in self._initial_options.items():
            setattr(self.options, name, value)
        self.faults.clear()
        with self.lock:
            self.sessions.clear()
            self.cache.clear()
            self.forgotten.clear()
            self.sender.log.clear()
            self.downloader.log.clear()
        self.store.clear()

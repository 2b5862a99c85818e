"""Document Server emulator: a test double for ONLYOFFICE Docs.

It speaks the Docs protocol (api.js, config tokens, callbacks, command and
conversion services, signed cache links) closely enough for the Coedit app to
be developed and tested without a real Document Server. It is never a real
editor: every page it serves says "Document Server emulator".

Usage: ``python -m docs_emulator --port 8090`` or, from tests,
``docs_emulator.testing.start_emulator()``.
"""

from .app import create_app
from .config import Options

__all__ = ["Options", "create_app"]

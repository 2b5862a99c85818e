"""The Flask application factory of the emulator."""

from __future__ import annotations

from flask import Flask

from .config import Options
from .conversion import Converter
from .emulator import Emulator


def create_app(options: Options | None = None) -> Flask:
    """Build the emulator app; its state lives in ``app.extensions["docs_emulator"]``."""
    options = options or Options()
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    emu = Emulator(options)
    emu.converter = Converter(emu)
    app.extensions["docs_emulator"] = emu

    from . import browser
    from . import control
    from . import services

    app.register_blueprint(services.bp)
    app.register_blueprint(browser.bp)
    app.register_blueprint(control.bp)
    return app

"""Command line: ``DOCS_EMULATOR_JWT_SECRET=S python -m docs_emulator --host 127.0.0.1 --port 8090 ...``."""

from __future__ import annotations

import logging
import signal
import sys

from werkzeug.serving import make_server

from .app import create_app
from .config import parse_args


def main(argv: list[str] | None = None) -> int:
    """Start the emulator and serve until interrupted or terminated."""
    options = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Bind first so "--port 0" can report (and use in its URLs) the port it got.
    server = make_server(options.host, options.port, None, threaded=True)
    options.port = server.server_port
    app = create_app(options)
    server.app = app

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"Document Server emulator listening on http://{options.host}:{options.port}"
        f" (JWT {'on' if options.jwt_enabled else 'off'}; public URL {options.base_url()})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["docs_emulator"].shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

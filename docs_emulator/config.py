"""Settings of the emulator: one dataclass, filled from the command line or DOCS_EMULATOR_* env vars."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from dataclasses import field

# Versions the emulator reports. The command service answers "<build>.<number>";
# the callback history carries the server version the editor would compare with.
SERVER_VERSION = "9.0.0"
COMMAND_VERSION = "9.0.0.1"
API_VERSION = "9.0.0-emulator"


@dataclass
class Options:
    """Everything that changes the emulator's behaviour. Times are seconds."""

    host: str = "127.0.0.1"
    port: int = 8090
    jwt_secret: str | None = None
    jwt_header: str = "Authorization"
    jwt_prefix: str = "Bearer "
    save_delay: float = 5.0
    retry_base: float = 1.0
    public_url: str | None = None
    storage_dir: str | None = None
    link_expires: int = 900
    # Real Docs waits 10 minutes for a callback answer; tests need far less.
    callback_timeout: float = 10.0
    download_timeout: float = 10.0
    max_download_bytes: int = 100 * 1024 * 1024
    # Browser editors poll the emulator; one that stops polling for this long
    # is treated like a dropped websocket (the user left).
    poll_interval: float = 1.0
    idle_timeout: float = 90.0
    # After a successful status-2 save Docs keeps the key "saved" for 5 minutes:
    # opening it again gives error -102 instead of a fresh download.
    saved_key_ttl: float = 300.0
    # exp of the tokens the emulator issues (callbacks, downloads): Docs uses 5 min.
    token_expires: int = 300
    soffice: str | None = field(default=None)
    # Conversion service: extra seconds every conversion takes (async progress becomes observable),
    # the limit for one LibreOffice/pdftoppm run (-2 beyond), and the uncompressed size of a zip
    # source above which it answers -10 (0: Docs' inputLimits, 50 MB docx/pptx and 300 MB xlsx).
    convert_delay: float = 0.0
    convert_timeout: float = 120.0
    max_unzipped_bytes: int = 0
    # What the save callback of a lossy-edit file (odt, ods, odp, rtf, txt, csv, ...) links to:
    # "ooxml" like Docs (the docx/xlsx/pptx it edited, filetype says so) or "original" (converted back).
    lossy_save_format: str = "ooxml"

    @property
    def jwt_enabled(self) -> bool:
        """JWT is on exactly when a secret is configured."""
        return bool(self.jwt_secret)

    def base_url(self) -> str:
        """Base of every URL the emulator hands out (callback url, changesurl, fileUrl)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # A wildcard bind address is not something a client can connect to.
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def _env(name: str, default=None):
    return os.environ.get("DOCS_EMULATOR_" + name, default)


# (flag, type, help); the env var is DOCS_EMULATOR_<FLAG IN UPPER CASE>, the default comes from Options.
_FLAGS = [
    ("host", str, "address to bind (default 127.0.0.1)"),
    ("port", int, "0 picks a free port (the ready line names it)"),
    (
        "jwt-secret",
        str,
        "shared secret; JWT is on when set (prefer DOCS_EMULATOR_JWT_SECRET or --jwt-secret-file: "
        "arguments are visible to every user in the process list)",
    ),
    ("jwt-secret-file", str, "read the shared secret from this file"),
    ("jwt-header", str, "header for inbound and outbound tokens (default Authorization)"),
    ("jwt-prefix", str, 'prefix of the header value (default "Bearer ")'),
    ("save-delay", float, "seconds between the last editor leaving and status 2/4 (default 5)"),
    ("retry-base", float, "status-2 retries wait base*1, *2, *4 seconds (default 1)"),
    ("public-url", str, "base of the URLs handed out (default http://HOST:PORT)"),
    ("storage-dir", str, "where produced files live (default: a temporary directory)"),
    ("link-expires", int, "lifetime of /cache/files links in seconds (default 900)"),
    ("callback-timeout", float, "seconds to wait for a callback answer (default 10)"),
    ("download-timeout", float, "seconds to wait for a source download (default 10)"),
    ("max-download-bytes", int, "larger sources fail: -4 in the editor, -10 in conversion"),
    ("poll-interval", float, "how often editor pages poll, in seconds (default 1)"),
    ("idle-timeout", float, "an editor page silent this long has left (default 90)"),
    ("saved-key-ttl", float, "seconds a saved key answers -102 (default 300)"),
    ("soffice", str, "path of LibreOffice soffice (default: found on PATH)"),
    ("convert-delay", float, "extra seconds each conversion takes, to watch async progress (default 0)"),
    ("convert-timeout", float, "seconds one LibreOffice run may take before -2 (default 120)"),
    ("max-unzipped-bytes", int, "zip sources larger than this unzipped fail with -10 (default: Docs' limits)"),
    ("lossy-save-format", str, 'saves of lossy-edit files: "ooxml" (like Docs, default) or "original"'),
]

# Options tests may change on a running emulator (POST /_emulator/options); reset restores them.
RUNTIME_OPTIONS = {
    "convert_delay": float,
    "convert_timeout": float,
    "max_unzipped_bytes": int,
    "lossy_save_format": str,
    "max_download_bytes": int,
}
LOSSY_SAVE_FORMATS = ("ooxml", "original")


def parse_args(argv: list[str] | None = None) -> Options:
    """Build Options from command-line flags, falling back to DOCS_EMULATOR_* env vars."""
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m docs_emulator",
        description="Document Server emulator (a test double for ONLYOFFICE Docs; not a real editor).",
    )
    for flag, kind, text in _FLAGS:
        attr = flag.replace("-", "_")
        env = _env(attr.upper())
        default = kind(env) if env not in (None, "") else getattr(defaults, attr, None)
        parser.add_argument("--" + flag, type=kind, default=default, help=text)
    parser.add_argument(
        "--no-jwt",
        action="store_true",
        default=_env("NO_JWT", "") not in ("", "0", "false"),
        help="turn JWT off even if a secret is given",
    )
    args = vars(parser.parse_args(argv))
    no_jwt = args.pop("no_jwt")
    secret_file = args.pop("jwt_secret_file")
    if secret_file:
        with open(secret_file, encoding="utf-8") as handle:
            args["jwt_secret"] = handle.read().strip()
    options = Options(**args)
    if options.lossy_save_format not in LOSSY_SAVE_FORMATS:
        parser.error(f"--lossy-save-format must be one of {', '.join(LOSSY_SAVE_FORMATS)}")
    if no_jwt or not options.jwt_secret:
        options.jwt_secret = None
    return options

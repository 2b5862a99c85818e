"""Configuration defaults and the environment variables that override them.

Load order in create_app: these defaults, then ``instance/config.py``, then the
``COEDIT_*`` environment, then the mapping a test passes in.
"""

# Environment variables that other programs and our own checks rely on (README).
ENVIRONMENT = {
    "COEDIT_SECRET_KEY": "SECRET_KEY",
    "COEDIT_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "COEDIT_STORAGE_DIR": "STORAGE_DIR",
    "COEDIT_DOCS_URL": "DOCS_URL",
    "COEDIT_DOCS_INTERNAL_URL": "DOCS_INTERNAL_URL",
    "COEDIT_DOCS_JWT_SECRET": "DOCS_JWT_SECRET",
    "COEDIT_DOCS_JWT_HEADER": "DOCS_JWT_HEADER",
    "COEDIT_APP_URL_FOR_DOCS": "APP_URL_FOR_DOCS",
    "COEDIT_REDIS_URL": "REDIS_URL",
}


class Config:
    """Safe defaults; nothing here reads the environment at import time."""

    SECRET_KEY = None  # filled from the instance folder when not configured
    SQLALCHEMY_DATABASE_URI = None  # defaults to an SQLite file in the instance folder
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    STORAGE_BACKEND = "local"
    STORAGE_DIR = None  # defaults to <instance>/storage

    # Upload limit for browsers and the API; Document Server saves use the admin setting.
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    MAX_JSON_BYTES = 1024 * 1024  # JSON bodies of the API and the editor's requests
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600  # "Keep me signed in": the session lives this long
    SESSION_IDLE_SECONDS = 12 * 3600  # otherwise it ends after this long without a request
    PASSWORD_HASH_METHOD = "scrypt"

    # Document Server settings: defaults only; the admin page stores overrides and an
    # environment value wins over both (app/services/settings.py).
    DOCS_URL = None
    DOCS_INTERNAL_URL = None
    DOCS_JWT_SECRET = None
    DOCS_JWT_HEADER = None
    APP_URL_FOR_DOCS = None

    # Shared state for several processes (rate-limit counters first): redis://host:port/db.
    REDIS_URL = None

    # Rate limits (Flask-Limiter strings); counted in Redis when REDIS_URL is set, else per process.
    RATELIMIT_STORAGE_URI = None  # defaults to REDIS_URL, else memory://
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on every 429
    RATELIMIT_KEY_PREFIX = "coedit"
    RATELIMIT_SIGN_IN_PER_ACCOUNT = "10 per 5 minutes"  # failed sign-ins of one account
    RATELIMIT_SIGN_IN_PER_ADDRESS = "30 per 5 minutes"  # failed sign-ins from one address
    RATELIMIT_SHARE_PASSWORD = "10 per 5 minutes"  # wrong passwords of one share link from one address
    RATELIMIT_API_TOKEN_FAILURES = "30 per 5 minutes"  # refused API calls from one address
    RATELIMIT_API = "1200 per minute"  # API calls of one person
    RATELIMIT_MENTIONS = "120 per minute"  # @mention look-ups and notifications of one person
    RATELIMIT_CONNECTION_TEST = "10 per minute"  # Docs connection tests of one admin

    # Lifetimes of what we hand out.
    # The config token: Docs checks it when the editor connects (reconnects use a session token of
    # its own). Short, because a config held in a browser grants what it says until it expires.
    EDITOR_TOKEN_SECONDS = 120
    DOWNLOAD_LINK_SECONDS = 3600  # document.url: DS downloads at open, retries within minutes
    HISTORY_LINK_SECONDS = 600  # history views fetch at once
    DOCS_JWT_LEEWAY = 60  # seconds of clock skew accepted, as Docs itself allows
    DOCS_JWT_MAX_LIFETIME = 24 * 3600  # Docs signs its requests for minutes; longer tokens are refused
    DOCS_TIMEOUT = (5, 60)  # connect, read seconds for requests to the Document Server
    SAVE_ALLOWED_PATH_PREFIXES = ("/cache/files/", "/storage-cache/files/")
    PENDING_SAVE_SECONDS = 600  # an editing session silent this long no longer holds its file back
    TEMP_MAX_AGE_SECONDS = 3600  # orphaned temporary files older than this are swept

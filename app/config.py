"""Every setting, once: its name, its default and what it means.

Each can be given in the environment as ``COEDIT_<NAME>`` (``COEDIT_DATABASE_URL``,
``COEDIT_DOCS_URL``, ...), in ``instance/config.py``, or by the mapping a test passes to
``create_app``; that is also the order in which they win. Settings of the Document Server that
the admin page edits are fixed (read-only there) once given this way. The README's table of
settings is checked against this one (``flask --app wsgi settings`` prints it).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    meaning: str


MB = 1024 * 1024
DAY = 24 * 3600

SETTINGS = (
    # Where things are.
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and the links handed to Docs; every instance needs the same one. "
        "Default: generated once into the instance folder (one instance only).",
    ),
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL of the database: PostgreSQL as `postgresql+psycopg://user:password@host:5432/name` "
        "(psycopg 3). Default: SQLite in the instance folder.",
    ),
    Setting(
        "STORAGE_DIR",
        None,
        "Where file versions are kept on local disk (unless STORAGE_URL is set). "
        "Default: `storage/` in the instance folder.",
    ),
    Setting(
        "STORAGE_URL",
        None,
        "Keep file versions in object storage instead: `s3://bucket/prefix` or `sftp://user@host:port/path`. "
        "Temporary files then stay in each instance's own folder.",
    ),
    Setting(
        "S3_ENDPOINT_URL",
        None,
        "Address of an S3-compatible server (MinIO, …); default Amazon S3. Credentials come as boto3 finds "
        "them: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, a profile or an instance role.",
    ),
    Setting("S3_REGION", None, "Region of the bucket (default: boto3's, as `AWS_DEFAULT_REGION` says)."),
    Setting(
        "S3_UPLOAD_MAX_AGE_SECONDS",
        DAY,
        "Unfinished S3 multipart uploads under the prefix older than this (a process killed while uploading "
        "left their parts, billed until aborted) are aborted on the job schedule (every "
        "RETENTION_SCHEDULE_SECONDS) and by `flask abort-stale-uploads`. Longer than any upload takes.",
    ),
    Setting("SFTP_KEY_FILE", None, "Private key for `sftp://` storage (default: ssh-agent and `~/.ssh` keys)."),
    Setting(
        "SFTP_KNOWN_HOSTS",
        None,
        "known_hosts file holding the SFTP server's host key (default `~/.ssh/known_hosts`); "
        "an unknown or changed key is refused.",
    ),
    Setting(
        "REDIS_URL",
        None,
        "`redis://host:port/db` shared by every worker and instance: rate-limit counters, when cached "
        "settings changed, and the job broker unless BROKER_URL names another. Without it each machine "
        "keeps its own.",
    ),
    Setting(
        "PROXY_HOPS",
        0,
        "How many trusted reverse proxies stand in front (nginx: 1); their X-Forwarded-For, "
        "-Proto, -Host and -Prefix are then believed. 0: none, headers ignored.",
    ),
    # Operations: metrics and logs (app/ops).
    Setting(
        "METRICS_TOKEN",
        None,
        "Bearer token Prometheus sends to read `/metrics` from another machine (`Authorization: Bearer …`); "
        "from loopback no token is needed. Unset: `/metrics` answers loopback only.",
    ),
    Setting(
        "LOG_FORMAT",
        "text",
        "`text` (development) or `json`: one JSON object per line, with a request id, for each request "
        "and each notable event (saves, rejections, editors joining and leaving). Production sets `json`.",
    ),
    # Jobs: the work that runs outside a request (app/jobs.py).
    Setting(
        "BROKER_URL",
        None,
        "Where jobs queue for the workers (`celery -A wsgi:celery worker`), e.g. "
        "`amqp://user:password@host:5672//` for RabbitMQ. Default: REDIS_URL; without either, jobs run "
        "in the process that asks for them.",
    ),
    Setting(
        "JOB_QUEUE",
        "coedit",
        "Name of the broker's queue for jobs; installations that share a broker need names of their own.",
    ),
    Setting(
        "JOB_VISIBILITY_TIMEOUT",
        900,
        "With Redis as the broker: seconds after which a job taken by a worker that died goes to another "
        "worker; longer than any job runs or waits for its retry (at most 300).",
    ),
    Setting(
        "RETENTION_SCHEDULE_SECONDS",
        DAY,
        "How often the workers apply the version retention chosen on the admin page (as "
        "`purge-versions --apply` does); 0 turns the schedule off. Nothing is removed while retention "
        "keeps every version.",
    ),
    Setting(
        "AUDIT_RETENTION_DAYS",
        365,
        "Days the audit log keeps its entries; older ones are pruned with the version retention (the job "
        "schedule, or `purge-versions --apply`). 0 keeps them forever.",
    ),
    Setting(
        "TRASH_DAYS",
        30,
        "Days deleted files, folders and spaces stay in the trash, restorable; then the job schedule "
        "(every RETENTION_SCHEDULE_SECONDS) removes them for good.",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        "Address people reach Coedit at (`https://coedit.example.org`), for the links in webhook messages. "
        "Default: the address of the request that caused the event.",
    ),
    Setting(
        "WEBHOOK_ATTEMPTS",
        5,
        "How often a webhook delivery is tried (the receiver unreachable, or answering 5xx, 408 or 429) before "
        "it is logged as failed.",
    ),
    Setting(
        "WEBHOOK_RETRY_SECONDS",
        10.0,
        "Pause before a webhook delivery's second attempt, doubled before each next one (at most 300). "
        "Without a broker the retries wait in the thread that runs the job and are lost if the process stops.",
    ),
    Setting(
        "SITE_NAME",
        None,
        "The site's name in page titles, the navigation bar, the sign-in page, mail subjects and watermarks "
        "(default `Coedit`; the admin page edits it unless given here).",
    ),
    # The Document Server (the admin page edits these unless they are given here).
    Setting("DOCS_URL", None, "Public address of ONLYOFFICE Docs, as browsers reach it."),
    Setting("DOCS_INTERNAL_URL", None, "Address this server uses to reach Docs (default: the public one)."),
    Setting(
        "DOCS_JWT_SECRET", None, "The Docs JWT secret (at least 32 characters); Coedit never talks to Docs unsigned."
    ),
    Setting("DOCS_JWT_HEADER", None, "Header Docs puts its token in (default `Authorization`)."),
    Setting(
        "DOCS_JWT_PREFIX",
        "Bearer ",
        "What precedes the token in that header, read and written alike (Docs' `services.CoAuthoring.token."
        "inbox/outbox.prefix`; mind the trailing space).",
    ),
    Setting(
        "APP_URL_FOR_DOCS",
        None,
        "Base URL Docs uses to reach Coedit (downloads and callbacks); never taken from a request's Host header.",
    ),
    Setting("DOCS_VERIFY_TLS", None, "Verify the TLS certificates of Docs (default on)."),
    Setting(
        "DOCS_FORCESAVE", None, "Show a Save button in the editor that stores a version while editing (default off)."
    ),
    Setting(
        "PREVIEWS",
        True,
        "Make a PNG preview of the first page of each new version, through Docs' conversion service, in a job.",
    ),
    Setting("MAX_FILE_SIZE_MB", None, "Largest document accepted from uploads and from Docs (default 100)."),
    Setting("DOCS_TIMEOUT", (5, 60), "Connect and read timeouts, in seconds, of requests to Docs."),
    Setting("DOCS_JWT_LEEWAY", 60, "Seconds of clock skew accepted on Docs' tokens, as Docs itself allows."),
    Setting(
        "DOCS_JWT_MAX_LIFETIME",
        DAY,
        "Longest lifetime (exp - iat) accepted on a token from Docs, in seconds; Docs signs for minutes.",
    ),
    Setting(
        "SAVE_CONVERSION_SECONDS",
        60,
        "Longest a save Docs returns in OOXML for a file edited with possible loss (an .odt saved as .docx) may "
        "take to be converted back to the file's format; past it the edit is kept as a new OOXML file beside it.",
    ),
    Setting(
        "SAVE_ALLOWED_PATH_PREFIXES",
        ("/cache/files/", "/storage-cache/files/"),
        "Paths on Docs that saves, copies and conversions may be fetched from.",
    ),
    # What we hand out, and for how long.
    Setting(
        "EDITOR_TOKEN_SECONDS",
        120,
        "Lifetime of an editor config's token: Docs checks it when the editor "
        "connects, and a config held in a browser grants what it says until then.",
    ),
    Setting("DOWNLOAD_LINK_SECONDS", 3600, "Lifetime of the document link Docs downloads a file with."),
    Setting("HISTORY_LINK_SECONDS", 600, "Lifetime of the version and changes links of the history viewer."),
    Setting(
        "INSERT_LINK_SECONDS",
        300,
        "Lifetime of the links to other files the editor asks for (images, compare, mail merge, linked data).",
    ),
    Setting(
        "PENDING_SAVE_SECONDS",
        600,
        "An editing session silent this long no longer keeps its file from being "
        "deleted (Docs saves within seconds and stops retrying within a minute).",
    ),
    # Transition locks (app/services/locks.py): one file moves between states at a time.
    Setting(
        "TRANSITION_LOCK_SECONDS",
        6,
        "Time to live of the lock a save, restore, new version, rename or deletion holds on its file; "
        "its holder renews it while working, so a crashed holder's lock lapses within this.",
    ),
    Setting(
        "TRANSITION_LOCK_WAIT",
        2,
        "Seconds a person's action waits for another one on the same file before answering 409 "
        '"try again in a moment" (saves from Docs wait up to 15 s, then answer 503 so Docs retries).',
    ),
    # Requests.
    Setting("MAX_CONTENT_LENGTH", 200 * MB, "Largest request body (uploads), in bytes."),
    Setting("MAX_JSON_BYTES", MB, "Largest JSON body of the API and the editor's requests, in bytes."),
    Setting("TEMP_MAX_AGE_SECONDS", 3600, "Temporary files older than this are swept at start."),
    # Sessions and passwords.
    Setting("PASSWORD_HASH_METHOD", "scrypt", "How passwords (and share-link passwords) are hashed (Werkzeug)."),
    Setting(
        "SESSION_IDLE_SECONDS",
        12 * 3600,
        "A sign-in without *Keep me signed in* ends after this long without a request.",
    ),
    Setting("REMEMBER_COOKIE_DURATION", 30 * DAY, "How long *Keep me signed in* lasts, in seconds."),
    Setting("SESSION_COOKIE_SECURE", False, "Send the session cookie over https only (turn on behind https)."),
    Setting("REMEMBER_COOKIE_SECURE", False, "Send the remember-me cookie over https only (turn on behind https)."),
    Setting("WTF_CSRF_ENABLED", True, "Check the CSRF token of every form (tests may turn it off)."),
    # E-mail about notifications (off without SMTP_HOST).
    Setting(
        "SMTP_HOST",
        None,
        "Mail server that sends each notification by e-mail to people with an e-mail address, from a job "
        "after the commit. Unset: notifications stay in the app only.",
    ),
    Setting("SMTP_PORT", 587, "Port of the mail server (587 for STARTTLS, 465 for `ssl`, 25 for `none`)."),
    Setting("SMTP_USER", None, "User name to sign in to the mail server with (none: send without signing in)."),
    Setting("SMTP_PASSWORD", None, "Password of SMTP_USER."),
    Setting("SMTP_FROM", "coedit@localhost", "Sender address of the e-mails."),
    Setting(
        "SMTP_TLS",
        "starttls",
        "`starttls` (upgrade the connection, refuse to send if the server cannot), `ssl` (TLS from the start) "
        "or `none` (plain text: a mail server on the same machine or network only).",
    ),
    # Rate limits (Flask-Limiter strings).
    Setting("RATELIMIT_STORAGE_URI", None, "Where rate limits count. Default: REDIS_URL, else each process's memory."),
    Setting("RATELIMIT_SIGN_IN_PER_ACCOUNT", "10 per 5 minutes", "Failed sign-ins of one account."),
    Setting("RATELIMIT_SIGN_IN_PER_ADDRESS", "30 per 5 minutes", "Failed sign-ins from one address."),
    Setting("RATELIMIT_SHARE_PASSWORD", "10 per 5 minutes", "Wrong passwords of one share link from one address."),
    Setting("RATELIMIT_API_TOKEN_FAILURES", "30 per 5 minutes", "Refused API calls from one address."),
    Setting("RATELIMIT_API", "1200 per minute", "API calls of one person."),
    Setting("RATELIMIT_INCOMING_HOOK", "60 per minute", "Messages posted through one incoming webhook."),
    Setting(
        "RATELIMIT_MENTIONS",
        "120 per minute",
        "@mention look-ups, notifications and file-picker searches of one person.",
    ),
    Setting("RATELIMIT_CONNECTION_TEST", "10 per minute", "Docs connection tests of one administrator."),
    Setting("RATELIMIT_WEBHOOK_TEST", "10 per minute", "Webhook tests (*Send test*) of one person."),
)

# Not settings: what Coedit always runs with.
FIXED = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "BOOTSTRAP_SERVE_LOCAL": True,  # no CDN, ever
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # No X-RateLimit headers on every response (each costs a look-up in the limits storage); the
    # 429 handler (errors.py) sets Retry-After itself.
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_KEY_PREFIX": "coedit",
}


class Config:
    """The defaults of SETTINGS, as Flask's from_object reads them."""


for _setting in SETTINGS:
    setattr(Config, _setting.name, _setting.default)


def from_environment(environ) -> dict:
    """The settings given as COEDIT_<NAME>, parsed after the type of their default."""
    values = {}
    for setting in SETTINGS:
        raw = environ.get("COEDIT_" + setting.name)
        if raw not in (None, ""):
            values[setting.name] = _parse(raw, setting.default)
    return values


def _parse(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        kind = type(default[0]) if default else str
        return tuple(kind(part.strip()) for part in raw.split(",") if part.strip())
    return raw


def markdown_table() -> str:
    """The settings as the README shows them."""
    lines = ["| Setting (`COEDIT_…`) | Default | Meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = "—" if setting.default is None else f"`{_shown(setting.default)}`"
        lines.append(f"| `{setting.name}` | {default} | {setting.meaning} |")
    return "\n".join(lines)


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    return str(value).lower() if isinstance(value, bool) else str(value)

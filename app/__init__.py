"""Coedit: ONLYOFFICE Docs inside an intranet of spaces and files."""

import os
import secrets

from flask import Flask

from app.config import FIXED
from app.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, errors, CLI.

    ``config`` overrides the settings (wsgi.py passes the COEDIT_* environment, tests their own);
    ``instance_path`` is the folder for the SQLite default, the generated secret and local files.
    """
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path or os.path.join(ROOT, "instance")),
    )
    from app.request import Request

    app.request_class = Request
    load_config(app, config)
    init_extensions(app)
    register_blueprints(app)
    from app import times

    times.register(app)
    from app.services import markup

    markup.register(app)
    from app import errors
    from app import security

    errors.register_error_handlers(app)
    security.init_app(app)
    from app import cli

    cli.init_app(app)
    from app import machine_routes
    from app.ops import logs

    machine_routes.skip_people_hooks(app)

    logs.init_app(app)
    logs.configure(app)
    from app.backend import settled

    settled.install(app)
    trust_proxies(app)  # outermost: what runs inside sees the client's address, scheme and host
    return app


def trust_proxies(app: Flask) -> None:
    if app.config["PROXY_HOPS"]:
        # Behind PROXY_HOPS trusted proxies, take the client's address and the scheme and host it
        # used from X-Forwarded-* (rate limits count per client; links point where people go).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)


def load_config(app: Flask, config: dict | None) -> None:
    """Defaults, then instance/config.py, then ``config``; then what follows from them."""
    app.config.from_object(Config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config or {})
    app.config.update(FIXED)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"] or "sqlite:///" + os.path.join(
        app.instance_path, "coedit.db"
    )
    if not app.config["SECRET_KEY"]:
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            # Several instances share such a database: a secret made by one would reject the
            # sessions and signed links of the others.
            raise RuntimeError(
                "COEDIT_SECRET_KEY must be set when the database is not SQLite: every instance needs the same "
                "secret to accept the others' sessions and signed links."
            )
        app.config["SECRET_KEY"] = _instance_secret(app)
    if not app.config["RATELIMIT_STORAGE_URI"]:
        from app import limits  # registers the storage scheme coedit-memory

        app.config["RATELIMIT_STORAGE_URI"] = (
            app.config["REDIS_URL"] or limits.ProcessMemoryStorage.STORAGE_SCHEME[0] + "://"
        )
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Concurrent saves wait for SQLite's write lock instead of failing at once.
        options.setdefault("connect_args", {}).setdefault("timeout", 30)


def _instance_secret(app: Flask) -> str:
    """A secret made once and kept in the instance folder, so links survive restarts."""
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        os.replace(path + ".new", path)
    with open(path) as handle:
        return handle.read().strip()


def init_extensions(app: Flask) -> None:
    from app import jobs
    from app import limits
    from app import transaction
    from app import urls
    from app.extensions import babel
    from app.extensions import bootstrap
    from app.extensions import csrf
    from app.extensions import db
    from app.extensions import login_manager
    from app.extensions import migrate
    from app.services import locales
    from app.services import storage

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limits.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=locales.select_locale)
    locales.register(app)
    urls.register(app)
    storage.init_app(app)
    transaction.init_app(app)
    jobs.init_app(app)
    with app.app_context():
        transaction.watch_engine(db.engine)


def register_blueprints(app: Flask) -> None:
    from app import admin
    from app import api
    from app import auth
    from app import backend
    from app import editor
    from app import files
    from app import hooks
    from app import notifications
    from app import ops
    from app import share
    from app import spaces
    from app.extensions import csrf

    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(spaces.bp)
    app.register_blueprint(files.bp, url_prefix="/files")
    app.register_blueprint(editor.bp)
    app.register_blueprint(backend.bp, url_prefix="/backend")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(ops.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(hooks.bp)
    # Docs authenticates with JWT, the API with tokens (or CSRF checked in the API itself).
    csrf.exempt(backend.bp)
    csrf.exempt(api.bp)
    csrf.exempt(hooks.bp)  # incoming webhooks: the secret in the URL is the credential

"""The database engine the suite runs on, and fresh databases of it for every test.

``COEDIT_TEST_DATABASE`` picks the engine: ``sqlite`` (the default) or ``postgresql``.

On SQLite a fresh database is a new file in the test's own folder. On PostgreSQL the server and a
role that may CREATE DATABASE are named by ``COEDIT_TEST_POSTGRES_URL``; the schema the models
describe is built once per session into a template database, and each test gets its own copy of
it (``CREATE DATABASE ... TEMPLATE``: the server copies the files, far quicker than building the
schema again), dropped when the test ends. The copy for the next test is made, and the last
test's dropped, in the background while a test runs, so tests do not wait for either. Databases
that a test's own processes migrate start from ``template0``, empty.
"""

import itertools
import os
import secrets
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

ENGINE = os.environ.get("COEDIT_TEST_DATABASE", "sqlite")
if ENGINE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"COEDIT_TEST_DATABASE must be sqlite or postgresql, not {ENGINE!r}")

# The one place the suite's PostgreSQL is named; `make services` provides it at this address.
POSTGRES_URL = os.environ.get("COEDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class Databases:
    """Fresh databases of the engine under test; those of build_app's folders end with the test."""

    def __init__(self, engine: str = ENGINE, server_url: str = POSTGRES_URL):
        self.engine = engine
        self.server_url = sa.make_url(server_url)
        # Unique per run, so runs of other checkouts on the same server never meet.
        self.prefix = f"coedit_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._serial = itertools.count(1)
        # CREATE and DROP DATABASE cannot run inside a transaction.
        self._server = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self._template = None
        self._maker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-databases")
        self._next_copy: Future | None = None  # the template's copy for the next test, made meanwhile
        self._drops: list[Future] = []
        self._of_folder: dict[str, str] = {}
        self._apps = []

    # --- what tests ask for -------------------------------------------------------------------

    def fresh(self, folder, name: str = "coedit", *, schema: bool) -> str:
        """The URL of a new database: with the models' schema, or empty (for migrations to build).

        On SQLite it is the file ``<folder>/<name>.db`` (empty: the caller builds the schema);
        the caller drops it with ``drop`` (a no-op on SQLite: the folder goes with the test).
        """
        if self.engine == "sqlite":
            return f"sqlite:///{os.path.join(str(folder), name + '.db')}"
        if not schema:
            return self._url_of(self._create("template0"))
        copy = self._next_copy or self._maker.submit(self._create, self._schema_template())
        self._next_copy = self._maker.submit(self._create, self._schema_template())
        return self._url_of(copy.result())

    def of_folder(self, folder) -> str:
        """The database of an app built on this folder: one per folder, dropped when the test ends."""
        key = str(folder)
        if key not in self._of_folder:
            self._of_folder[key] = self.fresh(folder, schema=True)
        return self._of_folder[key]

    def own(self, app) -> None:
        """An app of the running test: its connections are closed before its database is dropped."""
        self._apps.append(app)

    def drop(self, url: str) -> None:
        """Drop the database (in the background; close() reports a failure)."""
        if self.engine == "sqlite":
            return
        # FORCE ends what is still connected: a server thread or a killed process's session.
        statement = f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'
        self._drops = [future for future in self._drops if not future.done() or future.exception()]
        self._drops.append(self._maker.submit(self._execute, statement))

    def end_test(self) -> None:
        """Close the test's apps' connections and drop the databases of their folders."""
        from app.extensions import db
        from app.ops import audit_writer

        for app in self._apps:
            audit_writer.flush(app)  # what the app's writer still holds, while its database exists
            with app.app_context():
                db.engine.dispose()
        self._apps.clear()
        for url in self._of_folder.values():
            self.drop(url)
        self._of_folder.clear()

    def close(self) -> None:
        """At the end of the session: the copy made for a next test and the template go too."""
        if self._next_copy is not None:
            self.drop(self._url_of(self._next_copy.result()))
            self._next_copy = None
        self._maker.shutdown()
        for future in self._drops:
            future.result()
        if self._template is not None:
            self._execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
            self._template = None
        self._server.dispose()

    # --- PostgreSQL ---------------------------------------------------------------------------

    def _create(self, template: str) -> str:
        database = f"{self.prefix}_{next(self._serial)}"
        self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        return database

    def _url_of(self, database: str) -> str:
        return self.server_url.set(database=database).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        try:
            with self._server.connect() as connection:
                connection.execute(sa.text(statement))
        except sa.exc.OperationalError as exc:
            raise RuntimeError(
                f"PostgreSQL at {self.server_url.render_as_string()} refused {statement!r} ({exc.orig}); "
                "`make services` installs and starts it, COEDIT_TEST_POSTGRES_URL names another"
            ) from None

    def _schema_template(self) -> str:
        if self._template is None:
            from app.models import Base

            name = f"{self.prefix}_template"
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            engine = sa.create_engine(self._url_of(name), poolclass=sa.pool.NullPool)
            try:
                Base.metadata.create_all(engine)
            finally:
                engine.dispose()
            self._template = name
        return self._template


DATABASES = Databases()


def every_stored_value(url: str) -> list:
    """Every value of every row of every table in the database at url: what a dump of it holds."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        tables = sa.MetaData()
        tables.reflect(engine)
        with engine.connect() as connection:
            return [
                value for table in tables.sorted_tables for row in connection.execute(sa.select(table)) for value in row
            ]
    finally:
        engine.dispose()


def hand_out_id_again(model, row_id: int) -> None:
    """Make the next row of model's table get row_id, the id of a deleted row (in an app context).

    SQLite does so by itself when the deleted row had the highest id; a PostgreSQL sequence goes
    back only when set back (a restored dump, a reset sequence), so the test sets it back here.
    """
    from app.extensions import db

    if db.engine.dialect.name == "postgresql":
        table = db.engine.dialect.identifier_preparer.format_table(model.__table__)  # quoted where needed
        db.session.execute(sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table, "id"), row_id, False)))
        db.session.commit()

"""The full-text index of files' text: not a mapped table, because each engine keeps it its own way.

SQLite: an FTS5 virtual table ``file_text`` whose rowid is the file id (FTS5 makes shadow tables
``file_text_*`` beside it). PostgreSQL: a table ``file_text`` with a generated tsvector and a GIN
index. The same statements are in migration 0015; ``create_all`` (tests) runs them through the
metadata's after_create event. app/services/search.py is the only code that reads or writes it.
"""

import sqlalchemy as sa

from app.models.base import Base

TABLE = "file_text"

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS file_text USING fts5("
    "body, version UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
)
POSTGRESQL_DDL = (
    "CREATE TABLE IF NOT EXISTS file_text ("
    "file_id integer PRIMARY KEY REFERENCES file (id) ON DELETE CASCADE, "
    "version integer NOT NULL, "
    "body text NOT NULL, "
    "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
    "CREATE INDEX IF NOT EXISTS ix_file_text_tsv ON file_text USING gin (tsv)",
)


def ddl(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_DDL if dialect == "postgresql" else SQLITE_DDL


def not_ours(name, type_, parent_names) -> bool:
    """Alembic's include_name: the index is made by hand, so schema comparisons leave it out."""
    return not (type_ == "table" and (name == TABLE or (name or "").startswith(TABLE + "_")))


@sa.event.listens_for(Base.metadata, "after_create")
def _create_index_table(target, connection, **_) -> None:
    for statement in ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


@sa.event.listens_for(Base.metadata, "before_drop")
def _drop_index_table(target, connection, **_) -> None:
    connection.exec_driver_sql("DROP TABLE IF EXISTS file_text")

"""full-text search index of files' text

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 15:20:00

file_text holds the text extracted from each file's current version: on SQLite an FTS5 virtual
table (rowid = file id), on PostgreSQL a table with a generated tsvector and a GIN index. Existing
files are indexed by `flask --app wsgi reindex` (and at their next version).
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen copies of app/models/search.py's statements, as they were when this revision was written.
SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS file_text USING fts5("
    "body, version UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
)
POSTGRESQL = (
    "CREATE TABLE IF NOT EXISTS file_text ("
    "file_id integer PRIMARY KEY REFERENCES file (id) ON DELETE CASCADE, "
    "version integer NOT NULL, "
    "body text NOT NULL, "
    "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
    "CREATE INDEX IF NOT EXISTS ix_file_text_tsv ON file_text USING gin (tsv)",
)


def upgrade():
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    op.execute("DROP TABLE IF EXISTS file_text")

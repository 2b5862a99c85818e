"""editing sessions per document key; what is left of deleted files

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 13:00:00

doc_key records when Docs opened and closed the editing session under each key, so a file
whose save is still on its way is not deleted; deleted_file keeps a deleted file's owner and
keys, so a save that arrives after all is reported to its owner.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("doc_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_opened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("session_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("session_closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "deleted_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("key_salt", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keys_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deleted_by"], ["user.id"], name=op.f("fk_deleted_file_deleted_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_deleted_file_owner_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_deleted_file_space_id_space"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deleted_file")),
    )
    with op.batch_alter_table("deleted_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deleted_file_file_id"), ["file_id"], unique=False)


def downgrade():
    with op.batch_alter_table("deleted_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deleted_file_file_id"))
    op.drop_table("deleted_file")
    with op.batch_alter_table("doc_key", schema=None) as batch_op:
        batch_op.drop_column("session_closed_at")
        batch_op.drop_column("session_seen_at")
        batch_op.drop_column("session_opened_at")

"""the trash: trashed files and folders, deleted spaces

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 16:00:00

A file or folder in the trash keeps its row with trashed_at set (and who put it there); the
content of a trashed folder is marked trashed with it (trashed_with names that folder) so it comes
back together. A deleted space keeps its row with deleted_at until the trash purge removes it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("trashed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("trashed_with", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_file_trashed_at"), ["trashed_at"], unique=False)
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("trashed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("trashed_with", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_folder_trashed_at"), ["trashed_at"], unique=False)
    with op.batch_alter_table("space", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("space", schema=None) as batch_op:
        batch_op.drop_column("deleted_by")
        batch_op.drop_column("deleted_at")
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_folder_trashed_at"))
        batch_op.drop_column("trashed_with")
        batch_op.drop_column("trashed_by")
        batch_op.drop_column("trashed_at")
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_trashed_at"))
        batch_op.drop_column("trashed_with")
        batch_op.drop_column("trashed_by")
        batch_op.drop_column("trashed_at")

"""a space's default level for new files; a version's co-authors

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 16:00:00

space.default_level is the level members get on files created in the space from now on. Spaces
that exist keep what their new files got until now (read): the upgrade widens nobody's access
without a space admin choosing it; new spaces start at edit (teams co-edit). Files keep the
default they have. file_version.coauthors_json lists the ids of everyone whose changes a save
from Docs holds (its callback's users), so the versions table can name them all;
file_version.restored_from the version a restore repeats.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("space") as batch:
        batch.add_column(sa.Column("default_level", sa.String(length=16), nullable=False, server_default="read"))
    with op.batch_alter_table("space") as batch:
        batch.alter_column("default_level", server_default="edit", existing_type=sa.String(length=16))
    with op.batch_alter_table("file_version") as batch:
        batch.add_column(sa.Column("coauthors_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("restored_from", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("file_version") as batch:
        batch.drop_column("restored_from")
        batch.drop_column("coauthors_json")
    with op.batch_alter_table("space") as batch:
        batch.drop_column("default_level")

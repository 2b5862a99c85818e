"""the guest who saved a version

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 16:00:00

file_version.guest_name keeps the name a guest gave on a share link's page for a version Docs
saved on that guest's behalf (guests have no user row, so author_id stays empty).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guest_name", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.drop_column("guest_name")

"""per-file key salt

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:04:20.265743

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_salt", sa.String(length=32), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_column("key_salt")

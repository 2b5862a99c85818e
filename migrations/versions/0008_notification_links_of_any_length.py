"""notification links of any length

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 14:00:00

A mention's link carries the comment's anchor, percent-encoded, which can exceed the 1000
characters the column held: SQLite stored it anyway, PostgreSQL refused the notification.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("link", existing_type=sa.String(length=1000), type_=sa.Text(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("link", existing_type=sa.Text(), type_=sa.String(length=1000), existing_nullable=False)

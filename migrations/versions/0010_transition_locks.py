"""transition locks without Redis

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 15:00:00

transition_lock holds, per file, the lock taken while the file moves between states (a save
being stored, a restore, a new version, a rename, a deletion) when no Redis is configured.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "transition_lock",
        sa.Column("file_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_transition_lock")),
    )
    with op.batch_alter_table("transition_lock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transition_lock_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("transition_lock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transition_lock_expires_at"))
    op.drop_table("transition_lock")

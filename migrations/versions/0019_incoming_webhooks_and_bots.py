"""incoming webhooks and bot accounts

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-27 21:30:00

An incoming webhook is a secret URL (only its SHA-256 stored) through which another application
posts into a space's stream; such a post has no author but the integration's name. A bot account
is a user flagged is_bot: it never signs in with a password and works through API tokens only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "incoming_hook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("default_username", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_incoming_hook_created_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_incoming_hook_space_id_space"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_hook")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_incoming_hook_token_hash")),
    )
    with op.batch_alter_table("incoming_hook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incoming_hook_space_id"), ["space_id"], unique=False)
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("integration_name", sa.String(length=64), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_bot", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("is_bot")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("integration_name")
    with op.batch_alter_table("incoming_hook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incoming_hook_space_id"))
    op.drop_table("incoming_hook")

"""server-side sessions, disabled accounts, usernames unique however they are spelled

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:00:00

Browser sessions become rows (user_session) that sign-out, password changes and disabling
delete; user.username_key holds the NFKC, trimmed, case-folded username that must be unique.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def username_key(name):
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    user = sa.table(
        "user", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("username_key", sa.String)
    )
    connection = op.get_bind()
    taken = set()
    for row in connection.execute(sa.select(user.c.id, user.c.username).order_by(user.c.id)):
        key = username_key(row.username)
        if key in taken:  # an older account spelled alike keeps the name; this one signs in by its id
            key = f"{key}#{row.id}"[:64]
        taken.add(key)
        connection.execute(sa.update(user).where(user.c.id == row.id).values(username_key=key))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_user_username_key"), ["username_key"])


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_username_key"), type_="unique")
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("username_key")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")

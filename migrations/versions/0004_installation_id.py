"""installation id made with the schema

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:00:00

Document keys start from this id; making it here means no request ever has to create it.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade():
    connection = op.get_bind()
    exists = connection.execute(sa.select(setting.c.key).where(setting.c.key == "installation_id")).first()
    if exists is None:
        op.bulk_insert(setting, [{"key": "installation_id", "value": secrets.token_hex(16)}])


def downgrade():
    pass  # the id stays: keys made from it must not change

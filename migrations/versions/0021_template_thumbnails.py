"""previews of document templates

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 22:20:00

document_template.thumbnail_key names the PNG of the template's first page that Docs' conversion
service made (null until then, or when it could not: the type's icon is shown instead).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document_template") as batch:
        batch.add_column(sa.Column("thumbnail_key", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("document_template") as batch:
        batch.drop_column("thumbnail_key")

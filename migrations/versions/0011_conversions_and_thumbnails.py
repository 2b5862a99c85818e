"""conversion jobs and version thumbnails

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 16:00:00

conversion_job records each conversion a person asked for (status, percent, the new file or the
error); file_version.thumbnail_key names the stored PNG preview of a version.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "conversion_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("result_file_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("needs_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_conversion_job_owner_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversion_job")),
    )
    with op.batch_alter_table("conversion_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversion_job_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversion_job_file_id"), ["file_id"], unique=False)
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail_key", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_key")
    with op.batch_alter_table("conversion_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversion_job_file_id"))
        batch_op.drop_index(batch_op.f("ix_conversion_job_owner_id"))
    op.drop_table("conversion_job")

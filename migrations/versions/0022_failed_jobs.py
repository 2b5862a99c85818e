"""jobs that failed for good

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28 10:20:00

failed_job keeps each job that ended in an error (one that retrying cannot mend, or whose retries
ran out), with its arguments, so an admin can see it on the status page and run it again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "failed_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("args_json", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_job")),
    )
    op.create_index("ix_failed_job_failed_at", "failed_job", ["failed_at"])


def downgrade():
    op.drop_index("ix_failed_job_failed_at", table_name="failed_job")
    op.drop_table("failed_job")

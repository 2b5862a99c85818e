"""favourites, the index of a person's editor openings, and document templates

Revision ID: 0020
Revises: 0017
Create Date: 2026-11-27 21:30:00

favourite holds the files each person starred (gone with the person or the file). The home page's
recently opened files read a person's latest ``editor.opened`` audit entries newest first:
ix_audit_event_actor_action_at hands them out in that order, however long the log.
document_template holds the templates "Create document" offers: the site's (space_id null) and
each space's (gone with the space).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "favourite",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], name=op.f("fk_favourite_file_id_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_favourite_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "file_id", name=op.f("pk_favourite")),
    )
    op.create_index("ix_favourite_file_id", "favourite", ["file_id"])
    op.create_index("ix_favourite_user_created", "favourite", ["user_id", "created_at"])
    op.create_index("ix_audit_event_actor_action_at", "audit_event", ["actor_id", "action", "at"])
    op.create_table(
        "document_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("ext", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_document_template_space_id_space"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_document_template_created_by_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_template")),
    )
    op.create_index("ix_document_template_space_id", "document_template", ["space_id"])


def downgrade():
    op.drop_index("ix_document_template_space_id", table_name="document_template")
    op.drop_table("document_template")
    op.drop_index("ix_audit_event_actor_action_at", table_name="audit_event")
    op.drop_index("ix_favourite_user_created", table_name="favourite")
    op.drop_index("ix_favourite_file_id", table_name="favourite")
    op.drop_table("favourite")

"""a file's thread is deleted with the file

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:00:00

Posts about a file used to keep living with file_id set to NULL, which made a restricted file's
comments visible to the whole space once the file was deleted.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_constraint("fk_post_file_id_file", type_="foreignkey")
        batch_op.create_foreign_key("fk_post_file_id_file", "file", ["file_id"], ["id"], ondelete="CASCADE")


def downgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_constraint("fk_post_file_id_file", type_="foreignkey")
        batch_op.create_foreign_key("fk_post_file_id_file", "file", ["file_id"], ["id"], ondelete="SET NULL")

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:07:18.893208

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "space",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "folder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["folder.id"], name=op.f("fk_folder_parent_id_folder"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name=op.f("fk_folder_space_id_space"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folder")),
    )
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_folder_space_id"), ["space_id"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_membership_space_id_space"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_membership_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("space_id", "user_id", name="uq_membership_space_user"),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_space_id"), ["space_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("ext", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc_key", sa.String(length=128), nullable=False),
        sa.Column("key_serial", sa.Integer(), nullable=False),
        sa.Column("save_seq", sa.Integer(), nullable=False),
        sa.Column("editors_json", sa.Text(), nullable=False),
        sa.Column("editing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("default_level", sa.String(length=16), nullable=False),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["folder.id"], name=op.f("fk_file_folder_id_folder"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], name=op.f("fk_file_owner_id_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name=op.f("fk_file_space_id_space"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file")),
    )
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_doc_key"), ["doc_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_folder_id"), ["folder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_space_id"), ["space_id"], unique=False)

    op.create_table(
        "doc_key",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], name=op.f("fk_doc_key_file_id_file"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_doc_key")),
    )
    with op.batch_alter_table("doc_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doc_key_file_id"), ["file_id"], unique=False)

    op.create_table(
        "file_right",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], name=op.f("fk_file_right_file_id_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_file_right_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_right")),
        sa.UniqueConstraint("file_id", "user_id", name="uq_file_right_file_user"),
    )
    with op.batch_alter_table("file_right", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_right_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_right_user_id"), ["user_id"], unique=False)

    op.create_table(
        "file_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("doc_key", sa.String(length=128), nullable=False),
        sa.Column("history_json", sa.Text(), nullable=True),
        sa.Column("changes_storage_key", sa.String(length=255), nullable=True),
        sa.Column("is_conflict", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_file_version_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_file_version_file_id_file"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_version")),
        sa.UniqueConstraint("file_id", "number", name="uq_file_version_file_number"),
    )
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_version_file_id"), ["file_id"], unique=False)

    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_post_author_id_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], name=op.f("fk_post_file_id_file"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"], name=op.f("fk_post_space_id_space"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
    )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_space_id"), ["space_id"], unique=False)

    op.create_table(
        "save_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("doc_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dedupe", sa.String(length=255), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_save_receipt_file_id_file"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_save_receipt")),
        sa.UniqueConstraint("file_id", "doc_key", "kind", "dedupe", name="uq_save_receipt_once"),
    )
    with op.batch_alter_table("save_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_save_receipt_file_id"), ["file_id"], unique=False)


def downgrade():
    with op.batch_alter_table("save_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_save_receipt_file_id"))

    op.drop_table("save_receipt")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_space_id"))
        batch_op.drop_index(batch_op.f("ix_post_file_id"))
        batch_op.drop_index(batch_op.f("ix_post_created_at"))

    op.drop_table("post")
    with op.batch_alter_table("file_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_version_file_id"))

    op.drop_table("file_version")
    with op.batch_alter_table("file_right", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_right_user_id"))
        batch_op.drop_index(batch_op.f("ix_file_right_file_id"))

    op.drop_table("file_right")
    with op.batch_alter_table("doc_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doc_key_file_id"))

    op.drop_table("doc_key")
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_space_id"))
        batch_op.drop_index(batch_op.f("ix_file_folder_id"))
        batch_op.drop_index(batch_op.f("ix_file_doc_key"))

    op.drop_table("file")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_space_id"))

    op.drop_table("membership")
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_folder_space_id"))

    op.drop_table("folder")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("user")
    op.drop_table("space")
    op.drop_table("setting")

"""indexes for the filters and orders of the long lists

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 18:00:00

Every list a page or the API shows a page of (a folder's subfolders and files, the trash, a
person's notifications and unread count, a space's stream, a file's thread) reads through an index
that starts with its filter and goes on with its order, so a page costs the same in a space of ten
files as in one of ten thousand. A file's versions already have one (file_id, number: the unique
constraint).
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_folder_space_parent", "folder", ["space_id", "parent_id"]),
    ("ix_folder_space_trashed", "folder", ["space_id", "trashed_at"]),
    ("ix_file_space_folder", "file", ["space_id", "folder_id"]),
    ("ix_file_space_trashed", "file", ["space_id", "trashed_at"]),
    ("ix_file_trashed_with", "file", ["trashed_with"]),
    ("ix_notification_user_created", "notification", ["user_id", "created_at", "id"]),
    ("ix_notification_user_read", "notification", ["user_id", "read_at"]),
    ("ix_post_space_created", "post", ["space_id", "created_at", "id"]),
    ("ix_post_file_created", "post", ["file_id", "created_at", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

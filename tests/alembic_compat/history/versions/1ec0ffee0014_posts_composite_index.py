"""posts: one index on (user_id, title) instead of user_id alone

Revision ID: 1ec0ffee0014
Revises: 0dc0ffee0013
Create Date: 2024-03-04 09:00:00.000000

"""

from alembic import op

revision = "1ec0ffee0014"
down_revision = "0dc0ffee0013"
branch_labels = None
depends_on = None


def upgrade():
    # New index first: MySQL keeps an index on the foreign key's column at all times.
    op.create_index("ix_posts_user_id_title", "posts", ["user_id", "title"])
    op.drop_index("ix_posts_user_id", table_name="posts")


def downgrade():
    op.create_index("ix_posts_user_id", "posts", ["user_id"])
    op.drop_index("ix_posts_user_id_title", table_name="posts")

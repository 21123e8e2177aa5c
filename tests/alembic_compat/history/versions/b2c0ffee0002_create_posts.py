"""create posts

Revision ID: b2c0ffee0002
Revises: a1c0ffee0001
Create Date: 2024-01-09 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "b2c0ffee0002"
down_revision = "a1c0ffee0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_posts_user_id"),
    )
    op.create_index("ix_posts_user_id", "posts", ["user_id"])


def downgrade():
    op.drop_table("posts")

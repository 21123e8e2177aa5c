"""create post_tags

Revision ID: c9c0ffee0009
Revises: b8c0ffee0008
Create Date: 2024-02-02 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c9c0ffee0009"
down_revision = "b8c0ffee0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_tags",
        sa.Column(
            "post_id",
            sa.Integer(),
            sa.ForeignKey("posts.id", name="fk_post_tags_post_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id", sa.Integer(), sa.ForeignKey("tags.id", name="fk_post_tags_tag_id"), primary_key=True
        ),
    )


def downgrade():
    op.drop_table("post_tags")

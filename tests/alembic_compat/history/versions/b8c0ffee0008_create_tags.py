"""create tags: the start of the tagging branch

Revision ID: b8c0ffee0008
Revises: d4c0ffee0004
Create Date: 2024-02-01 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "b8c0ffee0008"
down_revision = "d4c0ffee0004"
branch_labels = ("tagging",)
depends_on = None


def upgrade():
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.CheckConstraint("name <> ''", name="ck_tags_name_not_empty"),
    )
    with op.batch_alter_table("tags") as batch_op:
        batch_op.create_unique_constraint("uq_tags_name", ["name"])


def downgrade():
    op.drop_table("tags")

"""widen posts.title, rename users.name to full_name

Revision ID: 0dc0ffee0013
Revises: fcc0ffee0012
Create Date: 2024-03-03 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0dc0ffee0013"
down_revision = "fcc0ffee0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.alter_column(
            "title", existing_type=sa.String(200), type_=sa.String(300), existing_nullable=False
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column(
            "name", new_column_name="full_name", existing_type=sa.String(100), existing_nullable=True
        )


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column(
            "full_name", new_column_name="name", existing_type=sa.String(100), existing_nullable=True
        )
    with op.batch_alter_table("posts") as batch_op:
        batch_op.alter_column(
            "title", existing_type=sa.String(300), type_=sa.String(200), existing_nullable=False
        )

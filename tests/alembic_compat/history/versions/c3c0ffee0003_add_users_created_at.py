"""add users.created_at

Revision ID: c3c0ffee0003
Revises: b2c0ffee0002
Create Date: 2024-01-10 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c3c0ffee0003"
down_revision = "b2c0ffee0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("created_at", sa.DateTime(), nullable=True))


def downgrade():
    # SQLite drops a column by copying the table: batch mode does it (and plain ALTER elsewhere).
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("created_at")

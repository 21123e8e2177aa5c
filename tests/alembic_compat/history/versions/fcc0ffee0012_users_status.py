"""users.status: add, fill, then make it required

Revision ID: fcc0ffee0012
Revises: ebc0ffee0011
Create Date: 2024-03-02 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "fcc0ffee0012"
down_revision = "ebc0ffee0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(20), nullable=True))
    op.execute("UPDATE users SET status = 'active'")
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(20), nullable=False, server_default="active")
        batch_op.create_index("ix_users_status", ["status"])


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index("ix_users_status")
        batch_op.drop_column("status")

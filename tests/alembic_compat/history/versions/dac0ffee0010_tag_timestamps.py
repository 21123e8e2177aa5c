"""tag timestamps, from the project's helpers; needs the billing branch

Revision ID: dac0ffee0010
Revises: c9c0ffee0009
Create Date: 2024-02-05 10:00:00.000000

"""

from alembic import op
from myapp_helpers import timestamp_columns

revision = "dac0ffee0010"
down_revision = "c9c0ffee0009"
branch_labels = None
depends_on = "billing"


def upgrade():
    with op.batch_alter_table("tags") as batch_op:
        for column in timestamp_columns():
            batch_op.add_column(column)


def downgrade():
    with op.batch_alter_table("tags") as batch_op:
        for column in reversed(timestamp_columns()):
            batch_op.drop_column(column.name)

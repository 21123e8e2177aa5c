"""trim user names (nothing to undo)

Revision ID: 2fc0ffee0015
Revises: 1ec0ffee0014
Create Date: 2024-03-05 09:00:00.000000

"""

from alembic import op

revision = "2fc0ffee0015"
down_revision = "1ec0ffee0014"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE users SET full_name = TRIM(full_name) WHERE full_name IS NOT NULL")


def downgrade():
    pass

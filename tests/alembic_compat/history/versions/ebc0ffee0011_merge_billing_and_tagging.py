"""merge billing and tagging

Revision ID: ebc0ffee0011
Revises: a7c0ffee0007, dac0ffee0010
Create Date: 2024-03-01 09:00:00.000000

"""

revision = "ebc0ffee0011"
down_revision = ("a7c0ffee0007", "dac0ffee0010")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

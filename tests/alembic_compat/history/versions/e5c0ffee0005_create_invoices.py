"""create invoices: the start of the billing branch

Revision ID: e5c0ffee0005
Revises: d4c0ffee0004
Create Date: 2024-02-01 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "e5c0ffee0005"
down_revision = "d4c0ffee0004"
branch_labels = ("billing",)
depends_on = None


def upgrade():
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_invoices_user_id"), nullable=False
        ),
        sa.Column("number", sa.String(30), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("amount_cents >= 0", name="ck_invoices_amount"),
    )


def downgrade():
    op.drop_table("invoices")

"""index invoices, unique numbers

Revision ID: f6c0ffee0006
Revises: e5c0ffee0005
Create Date: 2024-02-02 09:00:00.000000

"""

from alembic import op

revision = "f6c0ffee0006"
down_revision = "e5c0ffee0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_invoices_amount", "invoices", ["amount_cents"])
    # SQLite cannot add a constraint to a table: batch mode copies the table with it.
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.create_unique_constraint("uq_invoices_number", ["number"])


def downgrade():
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_constraint("uq_invoices_number", type_="unique")
    op.drop_index("ix_invoices_amount", table_name="invoices")

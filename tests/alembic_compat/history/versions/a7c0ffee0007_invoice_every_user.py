"""invoice every user, with raw SQL on op.get_bind()

Revision ID: a7c0ffee0007
Revises: f6c0ffee0006
Create Date: 2024-02-03 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c0ffee0007"
down_revision = "f6c0ffee0006"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    users = bind.execute(sa.text("SELECT id FROM users ORDER BY id")).fetchall()
    for (user_id,) in users:
        bind.execute(
            sa.text(
                "INSERT INTO invoices (user_id, number, amount_cents) VALUES (:user_id, :number, :amount)"
            ),
            {"user_id": user_id, "number": f"INV-{user_id:04d}", "amount": 1000 * user_id},
        )


def downgrade():
    op.get_bind().execute(sa.text("DELETE FROM invoices WHERE number LIKE 'INV-%'"))

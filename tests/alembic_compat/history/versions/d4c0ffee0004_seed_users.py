"""seed users

Revision ID: d4c0ffee0004
Revises: c3c0ffee0003
Create Date: 2024-01-11 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "d4c0ffee0004"
down_revision = "c3c0ffee0003"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
)


def upgrade():
    op.bulk_insert(
        users,
        [
            {"id": 1, "email": "ada@example.com", "name": "  Ada Lovelace "},
            {"id": 2, "email": "grace@example.com", "name": "Grace Hopper"},
            {"id": 3, "email": "edsger@example.com", "name": None},
        ],
    )


def downgrade():
    op.execute("DELETE FROM users WHERE id IN (1, 2, 3)")

"""audit events, indexed the way each engine does best

Revision ID: 30c0ffee0016
Revises: 2fc0ffee0015
Create Date: 2024-03-06 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import context, op

revision = "30c0ffee0016"
down_revision = "2fc0ffee0015"
branch_labels = None
depends_on = None


def upgrade():
    if context.get_x_argument(as_dictionary=True).get("skip-audit"):
        return
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_audit_events_kind ON audit_events (kind) WHERE kind <> 'noise'")
    else:
        op.create_index("ix_audit_events_kind", "audit_events", ["kind"])
    op.get_bind().execute(sa.text("INSERT INTO audit_events (kind) VALUES ('migrated')"))


def downgrade():
    op.drop_table("audit_events")

"""The project's own helpers, imported by a revision (as real projects do)."""

import sqlalchemy as sa


def timestamp_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    ]

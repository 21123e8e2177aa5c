"""A long Alembic history in one line, written for a test (and for timing against Alembic).

``write_long_history(root, count)`` writes ``root/alembic.ini``, ``root/env.py``,
``root/versions/`` with ``count`` revisions, and ``root/myapp_ops.py``: a project module that
registers an Alembic operation (as plugins do) which every revision imports and calls.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PLUGIN = '''
    """A project-level Alembic plugin: ``op.bump_counter(name, by)``."""

    import sqlalchemy as sa
    from alembic.operations import MigrateOperation, Operations


    @Operations.register_operation("bump_counter")
    class BumpCounterOp(MigrateOperation):
        def __init__(self, name, by):
            self.name = name
            self.by = by

        @classmethod
        def bump_counter(cls, operations, name, by=1):
            return operations.invoke(cls(name, by))


    @Operations.implementation_for(BumpCounterOp)
    def bump_counter(operations, operation):
        statement = sa.text("UPDATE counters SET n = n + :by WHERE name = :name")
        operations.execute(statement.bindparams(by=operation.by, name=operation.name))
'''
INI = """
    [alembic]
    script_location = %(here)s
    prepend_sys_path = %(here)s
    path_separator = os
    sqlalchemy.url = sqlite:///alembic.db
"""
ENV = """
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    section = config.get_section(config.config_ini_section, {})
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
"""
FIRST = """
    op.create_table(
        "counters",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.execute("INSERT INTO counters (name, n) VALUES ('steps', 0)")
"""
REVISION = '''\
"""step {number}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

import myapp_ops  # noqa: F401  (registers op.bump_counter)

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def revision_id(number: int) -> str:
    return f"{number * 2654435761 % 16**12:012x}"


def write_long_history(root: Path, count: int) -> list[str]:
    """Write the project; return the revision ids, oldest first."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "myapp_ops.py").write_text(textwrap.dedent(PLUGIN).lstrip(), encoding="utf-8")
    (root / "alembic.ini").write_text(textwrap.dedent(INI).lstrip(), encoding="utf-8")
    (root / "env.py").write_text(textwrap.dedent(ENV).lstrip(), encoding="utf-8")
    ids = [revision_id(number) for number in range(1, count + 1)]
    for number, revision in enumerate(ids, 1):
        down = ids[number - 2] if number > 1 else None
        if number == 1:
            upgrade, downgrade = textwrap.dedent(FIRST).strip(), 'op.drop_table("counters")'
        elif number % 25 == 0:
            table = f"batch_{number:04d}"
            upgrade = f'op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True))\n'
            upgrade += 'op.bump_counter("steps", 1)'
            downgrade = f'op.bump_counter("steps", -1)\nop.drop_table("{table}")'
        else:
            upgrade, downgrade = 'op.bump_counter("steps", 1)', 'op.bump_counter("steps", -1)'
        text = REVISION.format(
            number=number,
            revision=revision,
            down=down,
            upgrade=textwrap.indent(upgrade, "    "),
            downgrade=textwrap.indent(downgrade, "    "),
        )
        (versions / f"{revision}_step_{number:04d}.py").write_text(text, encoding="utf-8")
    return ids

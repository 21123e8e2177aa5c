"""A run opened from a URL connects without SQLAlchemy's asyncio extension (and the ORM it
imports); a migration's ``context.connection`` is still SQLAlchemy's ``AsyncConnection``, in the
migration's own transaction."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase, imported_after

from uno_migrations import ExecutionError, Migrator

MakeDir = Callable[..., Path]

SHARED = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def up(context):
    connection = context.connection
    assert isinstance(connection, AsyncConnection), type(connection)
    assert context.connection is connection
    assert connection.dialect.name in ("postgresql", "mysql", "sqlite")
    await connection.execute(text("INSERT INTO shared (id) VALUES (1)"))
    seen = await (await context.execute_sql("SELECT id FROM shared")).fetchall()
    assert [tuple(row) for row in seen] == [(1,)], seen
    await context.execute_sql("INSERT INTO shared (id) VALUES ($1)", [2])
    both = await connection.execute(text("SELECT count(*) FROM shared"))
    assert both.scalar() == 2
    {ending}
"""


async def test_context_connection_is_an_async_connection_in_the_migration_transaction(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    table = {"1_table.sql": "CREATE TABLE shared (id INTEGER);\n"}
    failing = make_migrations({**table, "2_fails.py": SHARED.format(ending='raise RuntimeError("stop")')})
    with pytest.raises(ExecutionError, match="stop"):
        await Migrator(db.url, directories=[failing]).migrate()
    # What the migration wrote through either connection went with its transaction.
    assert await db.fetch("SELECT id FROM shared") == []

    passing = make_migrations({**table, "2_fails.py": SHARED.format(ending="")}, name="passing")
    await Migrator(db.url, directories=[passing]).migrate()
    assert sorted(await db.fetch("SELECT id FROM shared")) == [(1,), (2,)]


def test_a_run_from_the_command_line_does_not_import_the_asyncio_extension(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    directory = make_migrations(
        {
            "1_table.sql": "CREATE TABLE quiet (id INTEGER);\n",
            "2_rows.py": 'async def up(context):\n    await context.execute_sql("INSERT INTO quiet (id) VALUES (1)")\n',
        }
    )
    base = ["-q", "-u", db.url, "-d", str(directory)]
    found = imported_after(
        [[*base, "migrate"], [*base, "status"]], ["sqlalchemy.ext.asyncio", "sqlalchemy.orm"], tmp_path
    )
    assert found == [[], []]


def test_the_alembic_bridge_does_not_import_the_asyncio_extension() -> None:
    probe = (
        "import sys, alembic_compat; [getattr(alembic_compat, name) for name in alembic_compat.__all__]; "
        "print('sqlalchemy.ext.asyncio' in sys.modules, 'sqlalchemy.orm' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]

"""What docs/index.md promises of the library, tried on every engine through the public API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase

import uno_migrations
from uno_migrations import ExecutionError, Migrator

MakeDir = Callable[..., Path]

FILES = {
    "1_create_notes.sql": """
        -- Migration: Create notes
        CREATE TABLE notes (id INTEGER PRIMARY KEY);
        -- DOWN
        DROP TABLE notes;
    """,
    "2_fill_notes.py": """
        async def up(context):
            await context.execute_sql("INSERT INTO notes (id) VALUES ($1)", [1])


        async def down(context):
            await context.execute_sql("DELETE FROM notes")
    """,
    "3_broken.sql": "INSERT INTO nowhere VALUES (1);",
}


async def test_the_library_never_prints(
    db: TestDatabase, make_migrations: MakeDir, capfd: pytest.CaptureFixture[str]
) -> None:
    """docs/index.md, "What it does", **Library first**: "The library never prints; the command
    line is a thin layer over these calls". Every call, a failing run's included, writes nothing
    to stdout or stderr (the failure is an exception)."""
    directory = make_migrations(FILES)
    migrator = Migrator(db.url, [directory])
    with pytest.raises(ExecutionError):
        await migrator.migrate()
    await migrator.status()
    await migrator.history()
    await migrator.verify()
    await migrator.repair()
    await migrator.rollback(all=True)
    await uno_migrations.migrate(db.url, str(directory), target="2_fill_notes")
    assert [state.status for state in await migrator.status()] == ["applied", "applied", "pending"]
    assert capfd.readouterr() == ("", "")

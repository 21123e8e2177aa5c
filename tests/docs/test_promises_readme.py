"""What README.md promises in its prose, tried on every engine through the public API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase
from sqlalchemy.ext.asyncio import create_async_engine

import uno_migrations
from uno_migrations import Migrator

MakeDir = Callable[..., Path]

FILES = {
    "1_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE notes;",
    "2_fill.py": """
        async def up(context):
            await context.execute_sql("INSERT INTO notes (id) VALUES ($1)", [1])


        async def down(context):
            await context.execute_sql("DELETE FROM notes")
    """,
}


async def test_the_library_first_calls_run_as_written(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README.md, "What it does", **Library first**: "`await Migrator(engine,
    directories=["migrations"]).migrate()` in your app, `uno_migrations.migrate_sync(url,
    "migrations")` in sync code" -- both as written, from the current directory."""
    make_migrations(FILES, name="migrations")
    monkeypatch.chdir(tmp_path)
    engine = create_async_engine(db.url)
    try:
        report = await Migrator(engine, directories=["migrations"]).migrate()
        assert report.ids == ["1_notes", "2_fill"]
        await Migrator(engine, directories=["migrations"]).rollback(all=True)
    finally:
        await engine.dispose()
    assert await db.fetch("SELECT id FROM uno_migrations") == []
    synced = await asyncio.to_thread(uno_migrations.migrate_sync, db.url, "migrations")
    assert synced.ids == ["1_notes", "2_fill"]
    assert await db.fetch("SELECT id FROM notes") == [(1,)]

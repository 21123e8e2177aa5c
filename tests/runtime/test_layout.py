"""uno's own tables carry their layout's version (docs/safety.md, "uno's own tables"): a
database written before the layout was stored is upgraded in place by the first run that writes,
on every engine; a newer layout is refused in one line, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from helpers import Cli, TestDatabase
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.dialects import mysql

from uno_migrations import Migrator

MakeDir = Callable[..., Path]

_PROJECT = {
    "001_a.sql": "CREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n",
    "002_b.sql": "CREATE TABLE b (id INTEGER);\n-- DOWN\nDROP TABLE b;\n",
}


def _layout_1(metadata: MetaData) -> tuple[Table, Table]:
    """The version tables exactly as releases before the stored layout created them."""
    timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    migrations = Table(
        "uno_migrations",
        metadata,
        Column("id", String(255), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("description", Text, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("checksum", String(128), nullable=False),
        Column("status", String(16), nullable=False),
        Column("statements_done", Integer, nullable=False),
        Column("applied_at", timestamp, nullable=False),
        Column("execution_ms", Integer, nullable=False),
        Column("applied_by", String(255), nullable=False),
    )
    log = Table(
        "uno_migrations_log",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("migration_id", String(255), nullable=False, index=True),
        Column("action", String(16), nullable=False),
        Column("at", timestamp, nullable=False),
        Column("execution_ms", Integer, nullable=True),
        Column("checksum", String(128), nullable=True),
        Column("actor", String(255), nullable=False),
    )
    return migrations, log


async def _database_of_layout_1(db: TestDatabase, directory: Path) -> None:
    """001_a applied by a release of layout 1: its table, its row, its log entry."""
    checksum = Migrator(db.url, [directory]).plan().get("001_a").checksum  # type: ignore[union-attr]
    metadata = MetaData()
    migrations, log = _layout_1(metadata)
    at = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.exec_driver_sql("CREATE TABLE a (id INTEGER)")
        row = {"id": "001_a", "name": "a", "description": "", "kind": "sql", "checksum": checksum}
        row |= {"status": "applied", "statements_done": 0, "applied_at": at, "execution_ms": 1}
        await connection.execute(insert(migrations).values(**row, applied_by="deploy@host"))
        entry = {"migration_id": "001_a", "action": "apply", "at": at, "execution_ms": 1}
        await connection.execute(insert(log).values(**entry, checksum=checksum, actor="deploy@host"))


async def test_a_database_of_the_older_layout_is_upgraded_in_place(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(_PROJECT)
    await _database_of_layout_1(db, directory)
    status = await cli.run("-u", db.url, "-d", str(directory), "status")
    assert status.exit_code == 0, status.output
    assert "1 applied, 1 pending" in status.stdout
    assert "uno_migrations_layout" not in await db.tables(), "reading changes nothing"

    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("Applying 002_b ... ")
    assert await db.fetch("SELECT version FROM uno_migrations_layout") == [(2,)]
    assert await db.fetch("SELECT id, status, applied_by FROM uno_migrations ORDER BY id") == [
        ("001_a", "applied", "deploy@host"),
        (
            "002_b",
            "applied",
            (await db.fetch("SELECT applied_by FROM uno_migrations WHERE id = '002_b'"))[0][0],
        ),
    ]
    assert await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq") == [
        ("001_a", "apply"),
        ("002_b", "apply"),
    ]
    again = await cli.run("-u", db.url, "-d", str(directory), "rollback", "--all")
    assert again.exit_code == 0, again.output
    assert await db.tables() == {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}


async def test_a_new_database_gets_the_current_layout(db: TestDatabase, make_migrations: MakeDir) -> None:
    await Migrator(db.url, [make_migrations(_PROJECT)]).migrate()
    assert await db.fetch("SELECT version FROM uno_migrations_layout") == [(2,)]


async def test_a_newer_layout_is_refused_and_nothing_changes(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(_PROJECT)
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate", "--target", "001_a")).exit_code == 0
    await db.execute("UPDATE uno_migrations_layout SET version = 99")
    for command in (["status"], ["migrate"], ["rollback"], ["repair"]):
        result = await cli.run("-u", db.url, "-d", str(directory), *command)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (
            "error: the version tables of uno_migrations have layout 99, written by a newer "
            "uno-migrations; this release knows layouts up to 2: upgrade uno-migrations"
        )
    assert await db.fetch("SELECT id FROM uno_migrations") == [("001_a",)]
    assert "b" not in await db.tables()

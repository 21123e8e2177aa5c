"""SPEC §6: binds, one-call helpers, event loops, isolation between migrators, tables."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase
from sqlalchemy.ext.asyncio import create_async_engine

import uno_migrations
from uno_migrations import ChecksumMismatchError, ConfigurationError, MigrationStatus, Migrator

MakeDir = Callable[..., Path]

ONE = {"1_one.sql": "CREATE TABLE one (id INTEGER);\n-- DOWN\nDROP TABLE one;\n"}


async def test_engine_and_connection_binds(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations(ONE)
    engine = create_async_engine(db.url)
    try:
        assert (await Migrator(engine, directory).migrate()).ids == ["1_one"]
        async with engine.connect() as connection:
            migrator = Migrator(connection, [directory])
            assert (await migrator.rollback()).ids == ["1_one"]
            assert (await migrator.migrate()).ids == ["1_one"]
            assert [s.status for s in await migrator.status()] == ["applied"]
    finally:
        await engine.dispose()
    assert "one" in await db.tables()


async def test_module_level_migrate_in_a_running_loop(db: TestDatabase, make_migrations: MakeDir) -> None:
    report = await uno_migrations.migrate(db.url, str(make_migrations(ONE)))
    assert report.ids == ["1_one"]
    # migrate_sync works even from inside a running loop (it runs on a helper thread).
    assert uno_migrations.migrate_sync(db.url, [make_migrations(ONE, name="again")]).ids == []


def test_migrate_sync_from_plain_code(tmp_path: Path, make_migrations: MakeDir) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert uno_migrations.migrate_sync(url, make_migrations(ONE)).ids == ["1_one"]
    from sqlalchemy import create_engine, inspect

    sync_engine = create_engine(url)
    assert "one" in inspect(sync_engine).get_table_names()
    assert uno_migrations.migrate_sync(sync_engine, make_migrations(ONE, name="same")).ids == []


async def test_two_migrators_in_one_process_do_not_interfere(
    db: TestDatabase, tmp_path: Path, make_migrations: MakeDir
) -> None:
    first = make_migrations({f"{i}_a{i}.sql": f"CREATE TABLE a{i} (id INTEGER);\n" for i in range(1, 6)})
    second = make_migrations({f"{i}_b{i}.sql": f"CREATE TABLE b{i} (id INTEGER);\n" for i in range(1, 4)})
    other_url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    one, two = await asyncio.gather(
        Migrator(db.url, [first]).migrate(), Migrator(other_url, [second]).migrate()
    )
    assert len(one.ids) == 5 and len(two.ids) == 3
    assert {t for t in await db.tables() if t.startswith(("a", "b"))} == {f"a{i}" for i in range(1, 6)}


async def test_custom_table_and_schema(db: TestDatabase, make_migrations: MakeDir) -> None:
    schema = "audit" if db.dialect == "postgresql" else None
    migrator = Migrator(db.url, make_migrations(ONE), table="schema_history", schema=schema)
    await migrator.migrate()
    if schema:
        rows = await db.fetch("SELECT id FROM audit.schema_history")
    else:
        rows = await db.fetch("SELECT id FROM schema_history")
        assert {"schema_history", "schema_history_log"} <= await db.tables()
    assert rows == [("1_one",)]
    assert [s.status for s in await migrator.status()] == ["applied"]


@pytest.mark.parametrize("name", ["x; DROP TABLE users", "1table", "a-b", ""])
def test_table_names_are_validated(name: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid table name"):
        Migrator("sqlite:///x.db", table=name)


async def test_status_history_and_modified_files(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations({**ONE, "2_two.sql": "CREATE TABLE two (id INTEGER);\n"})
    migrator = Migrator(db.url, [directory])
    await migrator.migrate(steps=1)
    states = await migrator.status()
    assert [(s.id, s.status) for s in states] == [("1_one", "applied"), ("2_two", "pending")]
    # The statuses are MigrationStatus members, equal to and printed as their values.
    assert [s.status for s in states] == [MigrationStatus.APPLIED, MigrationStatus.PENDING]
    assert all(isinstance(s.status, MigrationStatus) for s in states)
    assert f"{states[0].status}" == str(states[0].status) == "applied"
    assert states[0].applied_at is not None and states[0].applied_at.tzinfo is not None
    assert states[0].checksum == states[0].applied_checksum

    (directory / "1_one.sql").write_bytes((directory / "1_one.sql").read_bytes().replace(b"\n", b"\r\n"))
    assert await migrator.verify() == []
    (directory / "1_one.sql").write_text(ONE["1_one.sql"] + " ")
    problems = await migrator.verify()
    assert [(p.migration_id, p.kind) for p in problems] == [("1_one", "modified")]
    with pytest.raises(ChecksumMismatchError, match=r"1_one\.sql"):
        await migrator.migrate()
    assert "two" not in await db.tables()
    assert await migrator.repair() == ["1_one"]
    assert (await migrator.migrate()).ids == ["2_two"]


async def test_sync_urls_get_the_async_driver(tmp_path: Path, make_migrations: MakeDir) -> None:
    migrator = Migrator(f"sqlite:///{tmp_path / 'db.sqlite'}", make_migrations(ONE))
    assert migrator.dialect == "sqlite"
    assert (await migrator.migrate()).ids == ["1_one"]

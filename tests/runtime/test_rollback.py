"""Rollback by steps, target and all; irreversible migrations; fake runs; dry runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase

from uno_migrations import IrreversibleMigrationError, MigrationError, Migrator, UnknownMigrationError

MakeDir = Callable[..., Path]


def four_tables(make_migrations: MakeDir) -> Path:
    return make_migrations(
        {
            f"{i}_t{i}.sql": f"CREATE TABLE t{i} (id INTEGER);\n-- DOWN\nDROP TABLE t{i};\n"
            for i in range(1, 5)
        }
    )


async def user_tables(db: TestDatabase) -> set[str]:
    return {t for t in await db.tables() if not t.startswith("uno_migrations")}


async def test_rollback_steps_target_and_all(db: TestDatabase, make_migrations: MakeDir) -> None:
    migrator = Migrator(db.url, directories=[four_tables(make_migrations)])
    await migrator.migrate()
    assert await user_tables(db) == {"t1", "t2", "t3", "t4"}

    assert (await migrator.rollback()).ids == ["4_t4"]
    assert await user_tables(db) == {"t1", "t2", "t3"}

    await migrator.migrate()
    assert (await migrator.rollback(steps=2)).ids == ["4_t4", "3_t3"]
    assert await user_tables(db) == {"t1", "t2"}

    await migrator.migrate()
    assert (await migrator.rollback(target="2")).ids == ["4_t4", "3_t3"]
    assert await user_tables(db) == {"t1", "t2"}

    assert (await migrator.rollback(all=True)).ids == ["2_t2", "1_t1"]
    assert await user_tables(db) == set()
    assert (await migrator.rollback(all=True)).ids == []

    history = [(e.migration_id, e.action) for e in await migrator.history()]
    assert history[:4] == [("1_t1", "apply"), ("2_t2", "apply"), ("3_t3", "apply"), ("4_t4", "apply")]
    assert history[4] == ("4_t4", "revert")
    assert [e.seq for e in await migrator.history()] == sorted(e.seq for e in await migrator.history())


async def test_migrate_target_and_steps(db: TestDatabase, make_migrations: MakeDir) -> None:
    migrator = Migrator(db.url, directories=[four_tables(make_migrations)])
    assert (await migrator.migrate(target="2_t2")).ids == ["1_t1", "2_t2"]
    assert (await migrator.migrate(steps=1)).ids == ["3_t3"]
    assert (await migrator.migrate()).ids == ["4_t4"]
    assert (await migrator.migrate()).ids == []
    with pytest.raises(UnknownMigrationError):
        await migrator.migrate(target="9")


async def test_dependents_are_reverted_before_their_dependencies(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "1_parent.sql": "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE parent;\n",
            "2_other.sql": "CREATE TABLE other (id INTEGER);\n-- DOWN\nDROP TABLE other;\n",
            # Older version, but it depends on 3_child's table, so it runs after it.
            "0_late.sql": "-- Dependencies: 3_child\nCREATE TABLE late (id INTEGER);\n-- DOWN\nDROP TABLE late;\n",
            "3_child.sql": (
                "-- Dependencies: 1_parent\n"
                "CREATE TABLE child (id INTEGER, parent_id INTEGER REFERENCES parent (id));\n"
                "-- DOWN\nDROP TABLE child;\n"
            ),
        }
    )
    migrator = Migrator(db.url, directories=[directory])
    assert (await migrator.migrate()).ids == ["1_parent", "2_other", "3_child", "0_late"]
    assert (await migrator.rollback(all=True)).ids == ["0_late", "3_child", "2_other", "1_parent"]


async def test_irreversible_migration_stops_before_anything_runs(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "1_forever.sql": "CREATE TABLE forever (id INTEGER);\n",
            "2_undoable.sql": "CREATE TABLE undoable (id INTEGER);\n-- DOWN\nDROP TABLE undoable;\n",
        }
    )
    migrator = Migrator(db.url, directories=[directory])
    await migrator.migrate()
    with pytest.raises(IrreversibleMigrationError, match="1_forever"):
        await migrator.rollback(all=True)
    assert await user_tables(db) == {"forever", "undoable"}
    # --fake unmarks without running anything.
    assert (await migrator.rollback(all=True, fake=True)).ids == ["2_undoable", "1_forever"]
    assert await user_tables(db) == {"forever", "undoable"}
    assert await db.scalar("SELECT count(*) FROM uno_migrations") == 0
    actions = [e.action for e in await migrator.history()]
    assert actions == ["apply", "apply", "unmark", "unmark"]


async def test_fake_and_dry_run(db: TestDatabase, make_migrations: MakeDir) -> None:
    migrator = Migrator(db.url, directories=[four_tables(make_migrations)])
    plan = await migrator.migrate(dry_run=True)
    assert plan.dry_run and plan.ids == ["1_t1", "2_t2", "3_t3", "4_t4"]
    assert plan.runs[0].statements == ("CREATE TABLE t1 (id INTEGER)",)
    assert await db.tables() == set(), "a dry run creates nothing, not even the version table"

    assert (await migrator.migrate(steps=1, fake=True)).runs[0].action == "mark"
    assert await user_tables(db) == set()
    assert (await migrator.migrate()).ids == ["2_t2", "3_t3", "4_t4"]
    assert (await migrator.rollback(dry_run=True)).ids == ["4_t4"]
    assert "t4" in await user_tables(db)


async def test_rollback_of_a_migration_whose_file_is_gone(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = four_tables(make_migrations)
    migrator = Migrator(db.url, directories=[directory])
    await migrator.migrate()
    (directory / "4_t4.sql").unlink()
    assert [(s.id, s.status) for s in await migrator.status()][-1] == ("4_t4", "missing")
    with pytest.raises(MigrationError, match=r"4_t4.*missing"):
        await migrator.rollback()
    assert (await migrator.rollback(fake=True)).ids == ["4_t4"]

"""What docs/sql-migrations.md promises in its prose, tried on every engine through the public API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase

from uno_migrations import DiscoveryError, IrreversibleMigrationError, MigrationError, Migrator

MakeDir = Callable[..., Path]


async def _states(migrator: Migrator) -> dict[str, str]:
    return {state.id: state.status for state in await migrator.status()}


async def test_headers_add_up_and_descriptions_join(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/sql-migrations.md, "Headers": "`Dependencies` and `Tags` given twice add up, and
    `Description` lines are joined with spaces"; keys are case-insensitive; the default title is
    the slug, with spaces; a header-like comment after the first statement is an ordinary
    comment."""
    directory = make_migrations(
        {
            "1_a.sql": "CREATE TABLE a (id INTEGER);",
            "2_b.sql": "CREATE TABLE b (id INTEGER);",
            "3_join_them.sql": """
                -- description: first part
                --   DESCRIPTION :  second part
                -- Dependencies: 1_a
                -- dependencies: 2_b
                CREATE TABLE c (id INTEGER);
                -- Migration: not a title
            """,
        }
    )
    migrator = Migrator(db.url, [directory])
    [state] = [s for s in await migrator.status() if s.id == "3_join_them"]
    assert (state.name, state.description, set(state.dependencies)) == (
        "join them",
        "first part second part",
        {"1_a", "2_b"},
    )
    await migrator.migrate()
    assert {"a", "b", "c"} <= await db.tables()


async def test_irreversible_and_empty_down_sections(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/sql-migrations.md, "Irreversible migrations": a file without a separator is
    irreversible: "Rolling it back stops with an error naming it, before anything is reverted;
    `rollback --fake` removes its record without running anything. A separator followed by nothing
    is ... reversible, and reverting it runs nothing"."""
    directory = make_migrations(
        {
            "1_table.sql": "CREATE TABLE t (id INTEGER);\n-- DOWN\nDROP TABLE t;",
            "2_forward.sql": "INSERT INTO t (id) VALUES (1);",
            "3_nothing_down.sql": "INSERT INTO t (id) VALUES (2);\n-- DOWN\n",
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    with pytest.raises(IrreversibleMigrationError) as info:
        await migrator.rollback(all=True)
    assert "2_forward" in str(info.value)
    assert set((await _states(migrator)).values()) == {"applied"}
    await migrator.rollback(steps=1)  # 3_nothing_down: reverting runs nothing
    assert await db.fetch("SELECT id FROM t ORDER BY id") == [(1,), (2,)]
    await migrator.rollback(steps=1, fake=True)
    assert await db.fetch("SELECT id FROM t ORDER BY id") == [(1,), (2,)]
    assert await _states(migrator) == {
        "1_table": "applied",
        "2_forward": "pending",
        "3_nothing_down": "pending",
    }


async def test_transaction_control_is_dropped_with_a_warning(
    db: TestDatabase, make_migrations: MakeDir, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/sql-migrations.md, "Statements": "A migration that wraps itself in `BEGIN;` and
    `COMMIT;` ... still works: ... these transaction-control statements ... are dropped, with a
    warning that names their lines"."""
    directory = make_migrations(
        {
            "1_wrapped.sql": "BEGIN;\nCREATE TABLE t (id INTEGER);\nINSERT INTO t (id) VALUES (1);\nCOMMIT;\n",
        }
    )
    caplog.set_level(logging.WARNING, logger="uno_migrations")
    await Migrator(db.url, [directory]).migrate()
    assert await db.fetch("SELECT id FROM t") == [(1,)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("on line(s) 1, 4" in w for w in warnings), warnings


async def test_an_engine_variant_runs_instead_of_its_base_file(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/sql-migrations.md, "Engine variants": "On that engine the variant is read and run
    instead of the base file; MariaDB uses the `.mysql.sql` variant. It is still one migration,
    with one id and one row in the version table"; "on its engine, its headers are the ones that
    count"."""
    engine = db.dialect
    directory = make_migrations(
        {
            "1_pick.sql": "-- Migration: base\nCREATE TABLE from_base (id INTEGER);",
            f"1_pick.{engine}.sql": f"-- Migration: {engine} variant\nCREATE TABLE from_variant (id INTEGER);",
        }
    )
    migrator = Migrator(db.url, [directory])
    [state] = await migrator.status()
    assert (state.id, state.name) == ("1_pick", f"{engine} variant")
    await migrator.migrate()
    tables = await db.tables()
    assert "from_variant" in tables and "from_base" not in tables
    assert await db.fetch("SELECT id FROM uno_migrations") == [("1_pick",)]


async def test_comment_only_files_are_no_ops_and_empty_files_errors(
    db: TestDatabase, make_migrations: MakeDir, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/sql-migrations.md, "Empty files and fresh templates": a file with comments and no
    statements "is applied and recorded, and reverted, without running anything, and a warning
    saying that it holds only comments"; "A file with nothing in it at all (empty, or only
    whitespace) is an error naming the file"."""
    directory = make_migrations(
        {"1_draft.sql": "-- Migration: Draft\n-- write it here\n-- DOWN\n-- and here\n"}
    )
    caplog.set_level(logging.WARNING, logger="uno_migrations")
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    assert await _states(migrator) == {"1_draft": "applied"}
    await migrator.rollback()
    assert await _states(migrator) == {"1_draft": "pending"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1_draft" in w and "only comments" in w for w in warnings), warnings
    for content in ("", "  \n\n\t\n"):
        empty = make_migrations({"1_ok.sql": "CREATE TABLE ok (id INTEGER);", "2_empty.sql": content})
        with pytest.raises(MigrationError) as info:
            await Migrator(db.url, [empty], table="other_versions").migrate()
        assert "2_empty.sql" in str(info.value)
        assert "ok" not in await db.tables()


async def test_line_endings_do_not_change_the_checksum(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/sql-migrations.md, "Checksums": "Line endings do not count: ... a checkout with
    Windows line endings matches one without"; any other change is `modified` and `migrate`
    refuses, naming the file, until `repair` records the new checksum."""
    directory = make_migrations(
        {
            "1_t.sql": "CREATE TABLE t (id INTEGER);\n-- DOWN\nDROP TABLE t;\n",
            "2_u.sql": "CREATE TABLE u (id INTEGER);",
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate(target="1_t")
    path = directory / "1_t.sql"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert await _states(migrator) == {"1_t": "applied", "2_u": "pending"}
    path.write_bytes(path.read_bytes() + b"-- edited\r\n")
    assert (await _states(migrator))["1_t"] == "modified"
    with pytest.raises(MigrationError) as info:
        await migrator.migrate()
    assert "1_t" in str(info.value)
    assert "u" not in await db.tables()
    assert await migrator.repair() == ["1_t"]
    await migrator.migrate()
    assert "u" in await db.tables()


async def test_a_bad_file_stops_migrate_before_any_migration_runs(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/sql-migrations.md, "Errors": "A file the runner cannot use stops `migrate` before any
    migration runs, with the file's name and, where it applies, the line" -- an unterminated
    string, an invalid header value, statements above the up separator, a variant without its
    base, an unknown engine."""
    good = {"1_first.sql": "CREATE TABLE first_one (id INTEGER);"}
    bad_files = {
        "2_quote.sql": "CREATE TABLE q (id INTEGER);\nINSERT INTO q VALUES ('open);\n",
        "2_header.sql": "-- Transactional: maybe\nCREATE TABLE h (id INTEGER);",
        "2_above.sql": "CREATE TABLE x (id INTEGER);\n-- migrate:up\nCREATE TABLE y (id INTEGER);",
        "2_alone.sqlite.sql": "CREATE TABLE z (id INTEGER);",
        "2_other.sql": "CREATE TABLE o (id INTEGER);",
    }
    for name, content in bad_files.items():
        files = {**good, name: content}
        if name == "2_other.sql":
            files["2_other.oracle.sql"] = content
            name = "2_other.oracle.sql"
        directory = make_migrations(files)
        with pytest.raises((MigrationError, DiscoveryError)) as info:
            await Migrator(db.url, [directory]).migrate()
        assert name in str(info.value), (name, str(info.value))
        if name == "2_quote.sql":
            assert "line 2" in str(info.value), str(info.value)
        assert "first_one" not in await db.tables(), name

"""Adopting a database Alembic migrated: what alembic_version implies is recorded, nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_support import HEAD, ORDER, VERSIONS, alembic, history_migrator, schema_of
from helpers import Cli, TestDatabase, fresh_database

from alembic_compat import AdoptError, adopt

#: What alembic_version = dac0ffee0010 implies: its down revisions and the billing branch it
#: depends on.
ADOPTED = ["a1c0ffee0001", "b2c0ffee0002", "c3c0ffee0003", "d4c0ffee0004"]
ADOPTED += ["b8c0ffee0008", "c9c0ffee0009", "e5c0ffee0005", "dac0ffee0010"]


async def test_adopt_then_migrate_applies_only_the_rest(db: TestDatabase, tmp_path: Path) -> None:
    await alembic(db.url, target="dac0ffee0010")
    migrator = history_migrator(db.url)
    report = await adopt(migrator, [VERSIONS])
    assert report.current == ("dac0ffee0010",)
    assert report.marked == tuple(ADOPTED) and report.already == ()
    log = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert log == [(rev, "mark") for rev in ADOPTED]
    assert await db.scalar("SELECT version_num FROM alembic_version") == "dac0ffee0010"  # untouched

    again = await adopt(db.url, VERSIONS)
    assert again.marked == () and again.already == tuple(sorted(ADOPTED))

    rest = await migrator.migrate()
    assert rest.ids == [rev for rev in ORDER if rev not in ADOPTED]
    async with fresh_database(db.dialect, tmp_path) as reference:
        await alembic(reference.url)
        assert await schema_of(db.url) == await schema_of(reference.url)
    assert await db.scalar("SELECT COUNT(*) FROM invoices") == 3


async def test_adopt_from_the_command_line(db: TestDatabase, cli: Cli) -> None:
    await alembic(db.url, target="c3c0ffee0003")
    result = await cli.run("-u", db.url, "alembic", "adopt", "--alembic-directory", str(VERSIONS))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(" ... ")[0] for line in lines[:3]] == [f"Marking {rev}" for rev in ORDER[:3]]
    assert lines[-1].startswith("Adopted 3 revisions in ")
    assert lines[-1].endswith("(alembic_version at c3c0ffee0003): recorded only, nothing ran")

    again = await cli.run("--alembic-directory", str(VERSIONS), "-u", db.url, "alembic", "adopt")
    assert again.stdout == "Nothing to adopt: the 3 revisions up to c3c0ffee0003 are already recorded\n"

    migrated = await cli.run("--alembic-directory", str(VERSIONS), "-u", db.url, "migrate")
    assert migrated.exit_code == 0 and f"Applying {ORDER[3]} ... " in migrated.stdout
    assert f"Applying {ORDER[2]} " not in migrated.stdout
    assert f"Applied {len(ORDER) - 3} migrations" in migrated.stdout


async def test_adopt_refuses_unknown_revisions_and_a_missing_table(db: TestDatabase, cli: Cli) -> None:
    missing = await cli.run("-u", db.url, "--alembic-directory", str(VERSIONS), "alembic", "adopt")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: no table alembic_version in ")
    assert len(missing.stderr.splitlines()) == 1

    await alembic(db.url, target="b2c0ffee0002")
    await db.execute("UPDATE alembic_version SET version_num = 'feedface9999'")
    unknown = await cli.run("-u", db.url, "--alembic-directory", str(VERSIONS), "alembic", "adopt")
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        f"error: alembic_version names 'feedface9999', not found in {VERSIONS}: point "
        "--alembic-directory at the versions directory this database was migrated with\n"
    )
    with pytest.raises(AdoptError) as raised:
        await adopt(db.url, [VERSIONS])
    assert raised.value.revisions == ("feedface9999",) and raised.value.table == "alembic_version"
    assert "uno_migrations" not in await db.tables()  # nothing was recorded


async def test_adopt_an_empty_version_table_and_another_table_name(db: TestDatabase, cli: Cli) -> None:
    await db.execute("CREATE TABLE legacy_versions (version_num VARCHAR(32) NOT NULL)")
    empty = await cli.run(
        "-u",
        db.url,
        "--alembic-directory",
        str(VERSIONS),
        "alembic",
        "adopt",
        "--version-table",
        "legacy_versions",
    )
    assert empty.exit_code == 0, empty.output
    assert empty.stdout == "Nothing to adopt: legacy_versions is empty (Alembic applied no revision)\n"
    await db.execute(f"INSERT INTO legacy_versions (version_num) VALUES ('{HEAD}')")
    report = await adopt(db.url, [VERSIONS], version_table="legacy_versions", table="schema_history")
    assert sorted(report.marked) == sorted(ORDER)
    assert await db.scalar("SELECT COUNT(*) FROM schema_history") == len(ORDER)


def test_adopt_needs_the_alembic_directory(cli: Cli) -> None:
    result = cli("-u", "sqlite:///x.db", "alembic", "adopt")
    assert result.exit_code == 2
    assert "alembic adopt needs the Alembic versions directory: --alembic-directory DIR" in result.stderr

"""``create``: names, versions, templates that run as written, dependencies."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase, version_rows

from uno_migrations import Migrator
from uno_migrations.files.discovery import discover
from uno_migrations.files.templates import create_migration_file, next_version, slugify

EXTENSIONS = {"python": "py", "class": "py", "sql": "sql"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Add User's Profile v1.2!", "add_user_s_profile_v1_2"),
        ("add user profiles", "add_user_profiles"),
        ("  --Already_snake__case--  ", "already_snake_case"),
        ("Ünïcode naïve café", "n_code_na_ve_caf"),
        ("!!!", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_create_writes_a_timestamped_file_and_prints_its_path(cli: Cli, tmp_path: Path) -> None:
    before = int(time.time())
    result = cli("create", "Add User's Profile v1.2!")
    after = int(time.time())
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip()
    match = re.fullmatch(r"migrations/(\d+)_add_user_s_profile_v1_2\.py", printed)
    assert match, printed
    assert before <= int(match.group(1)) <= after
    text = (tmp_path / printed).read_text()
    assert text.startswith("# Migration: Add User's Profile v1.2!\n# Description:\n")
    assert "dependencies" not in text


def test_empty_slug_is_a_usage_error_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("create", "?!")
    assert result.exit_code == 2
    assert "cannot make a file name from '?!'" in result.stderr
    assert not (tmp_path / "migrations").exists()


def test_creates_in_one_second_get_distinct_ordered_versions(cli: Cli, tmp_path: Path) -> None:
    paths = [cli("create", "same name", "--type", kind).stdout.strip() for kind in ("python", "sql", "class")]
    versions = [int(Path(p).name.split("_")[0]) for p in paths]
    assert versions == sorted(set(versions))
    assert [m.id for m in discover([tmp_path / "migrations"])] == [Path(p).stem for p in paths]


def test_version_follows_the_highest_existing_one_in_every_directory(
    tmp_path: Path, make_migrations: Callable[..., Path]
) -> None:
    first = make_migrations({"1000_a.sql": "SELECT 1;"})
    future = make_migrations({"99999999999_from_the_future.py": "async def up(context): pass\n"})
    assert next_version([first, future], now=2000) == 100000000000
    assert next_version([first, tmp_path / "absent"], now=2000) == 2000
    assert next_version([first], now=500) == 1001


def test_create_never_overwrites(tmp_path: Path) -> None:
    path = create_migration_file(tmp_path / "m", "keep me", "sql", version=42)
    path.write_text("-- edited\nSELECT 1;\n")
    with pytest.raises(FileExistsError):
        create_migration_file(tmp_path / "m", "keep me", "sql", version=42)
    assert path.read_text() == "-- edited\nSELECT 1;\n"


@pytest.mark.parametrize("kind", ["python", "class", "sql"])
async def test_fresh_files_of_each_type_apply_and_revert_as_no_ops(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    result = await cli.run("create", "add user profiles", "--type", kind, "--directory", "./migrations")
    assert result.exit_code == 0, result.output
    path = tmp_path / result.stdout.strip()
    assert path.suffix == f".{EXTENSIONS[kind]}"
    if kind != "sql":
        compile(path.read_text(), str(path), "exec")

    migrator = Migrator(f"sqlite:///{tmp_path / 'fresh.db'}", ["migrations"])
    report = await migrator.migrate()
    assert report.ids == [path.stem]
    (state,) = await migrator.status()
    assert (state.status, state.kind, state.name) == ("applied", kind, "add user profiles")
    reverted = await migrator.rollback()
    assert reverted.ids == [path.stem]
    assert [s.status for s in await migrator.status()] == ["pending"]


@pytest.mark.parametrize("kind", ["python", "class", "sql"])
async def test_depends_on_resolves_a_prefix_and_fills_the_dependency(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    first = Path((await cli.run("create", "create users", "--type", "sql")).stdout.strip())
    prefix = first.name[:6]
    second = await cli.run("create", "add profiles", "--type", kind, "--depends-on", prefix)
    assert second.exit_code == 0, second.output
    text = (tmp_path / second.stdout.strip()).read_text()
    expected = {
        "python": f'dependencies = ["{first.stem}"]',
        "class": f'dependencies=["{first.stem}"]',
        "sql": f"-- Dependencies: {first.stem}",
    }[kind]
    assert expected in text
    (_, created) = discover([tmp_path / "migrations"])
    assert created.dependencies == [first.stem]

    migrator = Migrator(f"sqlite:///{tmp_path / 'deps.db'}", ["migrations"])
    assert (await migrator.migrate()).ids == [first.stem, created.id]
    assert (await migrator.rollback(all=True)).ids == [created.id, first.stem]


def test_depends_on_unknown_or_ambiguous_is_an_error(cli: Cli, tmp_path: Path) -> None:
    cli("create", "one")
    cli("create", "two")
    unknown = cli("create", "three", "--depends-on", "42_nothing")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: unknown migration id '42_nothing'\n"
    ambiguous = cli("create", "three", "--depends-on", "1")
    assert ambiguous.exit_code == 1
    assert ambiguous.stderr.startswith("error: ambiguous migration id '1': matches ")
    assert len(list((tmp_path / "migrations").iterdir())) == 2


def test_create_goes_to_the_first_directory(cli: Cli, tmp_path: Path) -> None:
    result = cli("-d", "first", "-d", "second", "create", "where", "--type", "sql")
    assert result.stdout.startswith("first/")
    assert (tmp_path / result.stdout.strip()).is_file()
    assert not (tmp_path / "second").exists()


async def test_created_python_migration_runs_through_the_cli_on_every_engine(
    db: TestDatabase, cli: Cli
) -> None:
    created = await cli.run("create", "add user profiles", "--type", "python", "-d", "./migrations")
    migration_id = Path(created.stdout.strip()).stem
    migrated = await cli.run("migrate", "-u", db.url)
    assert migrated.exit_code == 0, migrated.output
    assert f"Applying {migration_id} ... " in migrated.stdout
    assert await version_rows(db) == [migration_id]
    rolled = await cli.run("rollback", "-u", db.url)
    assert rolled.exit_code == 0, rolled.output
    assert await version_rows(db) == []
    actions = await db.fetch("SELECT action FROM uno_migrations_log ORDER BY seq")
    assert actions == [("apply",), ("revert",)]

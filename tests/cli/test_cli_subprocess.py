"""Real processes: ``python -m uno_migrations``, ``python -m uno_migrations.cli`` and the
``uno-migrations`` script, against every engine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ENTRY_POINTS, SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, version_rows

from uno_migrations import Migrator


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_the_seed_command_line_creates_a_python_migration(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "uno_migrations.cli", "create", "add user profiles", "--type", "python",
         "--directory", "./migrations"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    printed = completed.stdout.strip()
    assert re.fullmatch(r"migrations/\d{10}_add_user_profiles\.py", printed), printed
    text = (tmp_path / printed).read_text()
    assert text.startswith("# Migration: add user profiles\n")
    assert "async def up(context: MigrationContext) -> None:" in text
    assert "async def down(context: MigrationContext) -> None:" in text


async def test_every_entry_point_drives_every_engine(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    directory = make_migrations(SIMPLE_MIGRATIONS)
    env = {"UNO_MIGRATIONS_DATABASE_URL": db.url, "UNO_MIGRATIONS_DIRECTORY": str(directory)}

    migrated = await cli.process("module", "migrate", "--steps", "2", env=env)
    assert migrated.exit_code == 0, migrated.stderr
    assert re.search(r"^Applied 2 migrations in \d+ ms$", migrated.stdout, re.M)
    assert await version_rows(db) == SIMPLE_IDS[:2]

    status = await cli.process("cli module", "status", "--json", "--exit-code", env=env)
    assert status.exit_code == 3, status.stderr
    assert [m["status"] for m in json.loads(status.stdout)["migrations"]] == ["applied", "applied", "pending"]

    rolled = await cli.process("script", "rollback", "--all", env=env)
    assert rolled.exit_code == 0, rolled.stderr
    assert "Reverted 2 migrations" in rolled.stdout
    assert await version_rows(db) == []
    assert await db.tables() == {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
async def test_entry_points_exit_codes_and_masked_errors(
    cli: Cli, entry: str, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(SIMPLE_MIGRATIONS, name="migrations")
    help_text = await cli.process(entry, "--help")
    assert help_text.exit_code == 0
    assert help_text.stdout.startswith("Usage: uno-migrations [OPTIONS] COMMAND [ARGS]...")

    usage = await cli.process(entry, "migrate", "--steps", "many")
    assert usage.exit_code == 2 and "Invalid value for '--steps'" in usage.stderr

    failed = await cli.process(entry, "-vv", "-u", "postgresql://postgres:s3cr3t@127.0.0.1:1/nope", "status")
    assert failed.exit_code == 1
    assert "s3cr3t" not in failed.stdout + failed.stderr
    assert failed.stderr.splitlines()[-1].startswith(
        "error: cannot connect to postgresql+asyncpg://postgres:***@"
    )


async def test_a_long_run_through_the_script(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    files = {
        f"{n:02d}_table.sql": f"CREATE TABLE t{n} (id INTEGER);\n-- DOWN\nDROP TABLE t{n};\n"
        for n in range(22)
    }
    directory = make_migrations(files)
    result = await cli.process("script", "-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("Applying ") == 22  # not a terminal: one line each, no progress bar
    assert len(await Migrator(db.url, [directory]).history()) == 22

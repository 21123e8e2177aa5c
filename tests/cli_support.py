"""Helpers for the command-line tests: run the program in-process (CliRunner) or as a process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TestDatabase

from uno_migrations.cli import program
from uno_migrations.cli.config import ENV_CONFIG

#: How each entry point is started as a real process.
ENTRY_POINTS = {
    "module": [sys.executable, "-m", "uno_migrations"],
    "cli module": [sys.executable, "-m", "uno_migrations.cli"],
    "script": [str(Path(sys.executable).with_name("uno-migrations"))],
}


def only(engine: str) -> pytest.MarkDecorator:
    """Run a test that takes ``db`` on one engine (still skipped when that engine is unreachable)."""
    return pytest.mark.parametrize("engine_name", [engine], indirect=True)


SIMPLE_MIGRATIONS = {
    "1000_create_users.sql": """
        -- Migration: Create users
        -- Description: The users table
        -- Tags: auth
        CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));

        -- DOWN

        DROP TABLE users;
    """,
    "1001_add_posts.py": """
        # Migration: Add posts
        dependencies = ["1000_create_users"]


        async def up(context):
            await context.execute_sql("CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(50))")


        async def down(context):
            await context.execute_sql("DROP TABLE posts")
    """,
    "1002_seed_users.sql": """
        INSERT INTO users (id, name) VALUES (1, 'ada');
        INSERT INTO users (id, name) VALUES (2, 'grace');
        -- DOWN
        DELETE FROM users;
    """,
}
SIMPLE_IDS = ["1000_create_users", "1001_add_posts", "1002_seed_users"]


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """Runs ``uno-migrations`` with no configuration leaking in from the environment.

    ``cli(...)`` runs in-process; ``await cli.run(...)`` does the same on a worker thread, for
    async tests (the command calls ``asyncio.run``); ``await cli.process(...)`` starts a real
    process through one of :data:`ENTRY_POINTS`.
    """

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, env: Mapping[str, str] | None = None, color: bool = False) -> Result:
        clean: dict[str, str | None] = {name: None for name in ENV_CONFIG}
        clean["NO_COLOR"] = None  # a developer's own setting must not change what tests see
        clean.update(env or {})
        result = CliRunner().invoke(
            program, list(args), env=clean, catch_exceptions=False, color=color, prog_name="uno-migrations"
        )
        return Result(result.exit_code, result.stdout, result.stderr)

    async def run(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        return await asyncio.to_thread(self, *args, env=env)

    async def process(self, entry: str, *args: str, env: Mapping[str, str] | None = None) -> Result:
        environment = {k: v for k, v in os.environ.items() if k not in ENV_CONFIG}
        environment.update(env or {})
        completed = await asyncio.to_thread(
            subprocess.run,
            [*ENTRY_POINTS[entry], *args],
            cwd=self.cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)


async def version_rows(db: TestDatabase, table: str = "uno_migrations") -> list[str]:
    """Ids in the version table, sorted."""
    return [row[0] for row in await db.fetch(f"SELECT id FROM {table} ORDER BY id")]


_PROBE = """
import sys
from uno_migrations.cli import main
for args in {runs!r}:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
    print("imported:" + ",".join(name for name in {modules!r} if name in sys.modules))
"""


def imported_after(runs: list[list[str]], modules: list[str], cwd: Path) -> list[list[str]]:
    """Run the CLI with each of ``runs`` in turn, in one new interpreter; after each, which of
    ``modules`` it had imported."""
    probe = _PROBE.format(runs=runs, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    found = [
        line.removeprefix("imported:") for line in done.stdout.splitlines() if line.startswith("imported:")
    ]
    return [line.split(",") if line else [] for line in found]

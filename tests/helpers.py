"""The test suite's shared helpers: the engines, a database of a test's own, and the command line.

Tests import them from here (``from helpers import TestDatabase, Cli``); tests/conftest.py holds
only the fixtures and hooks, built on these. Engines: SQLite always; PostgreSQL and MySQL from
``UNO_TEST_POSTGRESQL_URL`` / ``UNO_TEST_MYSQL_URL`` (defaults: the local servers). An engine that
cannot be reached is skipped with the reason, unless ``UNO_TEST_REQUIRE_ENGINES`` names it: then
the test fails.

``unopg`` is a third-party engine (tests/dialects/plugin_site: PostgreSQL under another name,
registered by entry points only), run only when ``UNO_TEST_ENGINES`` names it: its directory is
then put on sys.path, and its database is a PostgreSQL one opened as ``unopg+asyncpg://``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from uno_migrations.cli import program
from uno_migrations.cli.config import ENV_CONFIG

ENGINES = ("sqlite", "postgresql", "mysql")
DEFAULT_URLS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+aiomysql://root@127.0.0.1:3306/test",
}
SELECTED = {e.strip() for e in os.environ.get("UNO_TEST_ENGINES", ",".join(ENGINES)).split(",") if e.strip()}
REQUIRED = {e.strip() for e in os.environ.get("UNO_TEST_REQUIRE_ENGINES", "").split(",") if e.strip()}
#: Engines of installed packages, on the server of a built-in one; never in the default set.
PLUGIN_ENGINES = {"unopg": "postgresql"}
PLUGIN_SITE = Path(__file__).parent / "dialects" / "plugin_site"
if SELECTED & set(PLUGIN_ENGINES):
    sys.path.insert(0, str(PLUGIN_SITE))  # before anything reads the entry points
_reachable: dict[str, str | None] = {}


def server_url(engine: str) -> str:
    engine = PLUGIN_ENGINES.get(engine, engine)
    return os.environ.get(f"UNO_TEST_{engine.upper()}_URL", DEFAULT_URLS[engine])


async def _probe(url: str) -> str | None:
    engine = create_async_engine(url, poolclass=NullPool, connect_args=_timeout_args(url))
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means "unreachable", with its reason
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        await engine.dispose()


def _timeout_args(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"timeout": 5}
    if url.startswith("mysql"):
        return {"connect_timeout": 5}
    return {}


def unreachable_reason(engine: str) -> str | None:
    if engine == "sqlite":
        return None
    if engine not in _reachable:
        _reachable[engine] = asyncio.run(_probe(server_url(engine)))
    return _reachable[engine]


def require_engine(engine: str) -> None:
    reason = unreachable_reason(engine)
    if reason is None:
        return
    message = f"{engine} unreachable at {make_url(server_url(engine)).render_as_string()}: {reason}"
    if engine in REQUIRED:
        pytest.fail(f"{message} (required by UNO_TEST_REQUIRE_ENGINES)", pytrace=False)
    pytest.skip(message)


@dataclass
class TestDatabase:
    """A database of the test's own: ``url`` to give the code under test, helpers to look inside."""

    __test__ = False

    dialect: str
    url: str
    engine: AsyncEngine

    async def tables(self) -> set[str]:
        async with self.engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        return set(names)

    async def columns(self, table: str) -> set[str]:
        async with self.engine.connect() as connection:
            cols = await connection.run_sync(lambda c: inspect(c).get_columns(table))
        return {c["name"] for c in cols}

    async def fetch(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(text(sql), params)).all()
        return [tuple(row) for row in rows]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(text(sql), params)

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(sql), params)


async def _create_database(dialect: str, tmp_path: Path) -> tuple[str, Callable[[], Any]]:
    """Make a fresh database; return its URL and a coroutine function that drops it."""
    if dialect == "sqlite":
        path = tmp_path / f"test-{uuid.uuid4().hex[:8]}.db"

        async def drop_file() -> None:
            path.unlink(missing_ok=True)

        return f"sqlite+aiosqlite:///{path}", drop_file
    name = f"uno_test_{uuid.uuid4().hex[:12]}"
    server = make_url(server_url(dialect))
    plugin, dialect = dialect, PLUGIN_ENGINES.get(dialect, dialect)
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    quote = '"' if dialect == "postgresql" else "`"
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))

    async def drop() -> None:
        async with admin.connect() as connection:
            if dialect == "postgresql":
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                await connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        await admin.dispose()

    url = server.set(database=name)
    if plugin != dialect:
        url = url.set(drivername=f"{plugin}+{url.get_driver_name()}")
    return url.render_as_string(hide_password=False), drop


@contextlib.asynccontextmanager
async def fresh_database(dialect: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh database on ``dialect``'s server (a file in ``tmp_path`` for SQLite), dropped after."""
    url, drop = await _create_database(dialect, tmp_path)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        yield TestDatabase(dialect, url, engine)
    finally:
        await engine.dispose()
        await drop()


# -- the command line ------------------------------------------------------------------------------


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

"""Test engines (SPEC §9): SQLite always; PostgreSQL and MySQL from UNO_TEST_*_URL.

Every test that takes ``db`` gets a database of its own, created for it and dropped after. An
engine that cannot be reached is skipped with the reason, unless UNO_TEST_REQUIRE_ENGINES names
it: then the test errors.

``unopg`` is a third-party engine (tests/dialects/plugin_site: PostgreSQL under another name,
registered by entry points only), run only when UNO_TEST_ENGINES names it: its directory is then
put on sys.path, and its ``db`` is a PostgreSQL database opened as ``unopg+asyncpg://``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """UNO_TEST_ENGINES (tox's per-engine environments) keeps the tests of those engines only."""
    if SELECTED >= set(ENGINES):
        return
    kept, dropped = [], []
    for item in items:
        engines = _engines_of(item)
        (kept if not engines or engines & SELECTED else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _engines_of(item: pytest.Item) -> set[str]:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    fixtures = set(getattr(item, "fixturenames", ()))
    engines = {v for k, v in params.items() if k in ("engine_name", "_transactional") and isinstance(v, str)}
    if "pg_db" in fixtures:
        engines.add("postgresql")
    if "mysql_db" in fixtures:
        engines.add("mysql")
    return engines


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


@pytest.fixture(params=(*ENGINES, *(e for e in PLUGIN_ENGINES if e in SELECTED)))
def engine_name(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over the three engines (and a plugin engine UNO_TEST_ENGINES names),
    skipping (or failing) unreachable ones."""
    name: str = request.param
    require_engine(name)
    return name


@pytest.fixture
async def db(engine_name: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh, empty database on each engine."""
    async with _database(engine_name, tmp_path) as database:
        yield database


# The engine checks are sync fixtures: probing runs its own event loop, which must not nest.
@pytest.fixture
def _postgresql() -> str:
    require_engine("postgresql")
    return "postgresql"


@pytest.fixture
def _mysql() -> str:
    require_engine("mysql")
    return "mysql"


@pytest.fixture(params=("sqlite", "postgresql"))
def _transactional(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_engine(name)
    return name


@pytest.fixture
async def pg_db(_postgresql: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh PostgreSQL database, for what the seed guide shows in PostgreSQL's dialect."""
    async with _database(_postgresql, tmp_path) as database:
        yield database


@pytest.fixture
async def mysql_db(_mysql: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh MySQL/MariaDB database, for what only MySQL does (implicit DDL commits)."""
    async with _database(_mysql, tmp_path) as database:
        yield database


@pytest.fixture
async def tx_db(_transactional: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh database on each engine with transactional DDL."""
    async with _database(_transactional, tmp_path) as database:
        yield database


@contextlib.asynccontextmanager
async def _database(dialect: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    url, drop = await _create_database(dialect, tmp_path)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        yield TestDatabase(dialect, url, engine)
    finally:
        await engine.dispose()
        await drop()


@pytest.fixture
def make_migrations(tmp_path: Path) -> Callable[..., Path]:
    """Write a migrations directory from ``{file name: content}``; content is dedented."""
    counter = iter(range(1_000_000))

    def make(files: dict[str, str], name: str | None = None) -> Path:
        directory = tmp_path / (name or f"migrations_{next(counter)}")
        directory.mkdir(parents=True, exist_ok=True)
        for filename, content in files.items():
            (directory / filename).write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return directory

    return make


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The command line, in-process, run from ``tmp_path`` with no settings from the environment."""
    from cli_support import Cli

    from uno_migrations.cli.config import ENV_CONFIG

    monkeypatch.chdir(tmp_path)
    for name in ENV_CONFIG:
        monkeypatch.delenv(name, raising=False)
    return Cli(tmp_path)

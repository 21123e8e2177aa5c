"""Fixtures: a database of the test's own on each engine, migrations directories, the CLI.

Every test that takes ``db`` gets a fresh database on each engine (tests/helpers.py says how the
engines are chosen and reached), created for it and dropped after.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import ENGINES, PLUGIN_ENGINES, SELECTED, Cli, TestDatabase, fresh_database, require_engine

from uno_migrations.cli.config import ENV_CONFIG


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
    async with fresh_database(engine_name, tmp_path) as database:
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
    async with fresh_database(_postgresql, tmp_path) as database:
        yield database


@pytest.fixture
async def mysql_db(_mysql: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh MySQL/MariaDB database, for what only MySQL does (implicit DDL commits)."""
    async with fresh_database(_mysql, tmp_path) as database:
        yield database


@pytest.fixture
async def tx_db(_transactional: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """A fresh database on each engine with transactional DDL."""
    async with fresh_database(_transactional, tmp_path) as database:
        yield database


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
    monkeypatch.chdir(tmp_path)
    for name in ENV_CONFIG:
        monkeypatch.delenv(name, raising=False)
    return Cli(tmp_path)

"""A test's database: its migrator, and the few statements a data-migration test needs.

The pytest plugin's ``uno_database`` fixture is a :class:`TestDatabase`. A data-migration test
migrates to the migration before the one it tests, inserts rows, migrates on and looks::

    await uno_database.migrate("1700000300_create_tags")
    await uno_database.insert("authors", [{"id": 1, "name": "Ann", "email": "ANN@EXAMPLE.COM"}])
    await uno_database.migrate("1700000400_normalize_author_emails")
    assert await uno_database.fetch("SELECT email FROM authors") == [{"email": "ann@example.com"}]

Each method connects, does its work and closes, so the database serves any event loop; a sync
test uses :attr:`TestDatabase.sync`, the same methods run to completion in a thread of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import column, insert, table, text
from sqlalchemy.engine import URL

from ..runtime.migrator import Migrator
from ..runtime.report import RunReport
from ..urls import create_engine, mask_url

T = TypeVar("T")
Parameters = Mapping[str, Any] | None


class TestDatabase:
    """A scratch database of one engine: ``url``, ``engine`` (the adapter's name:
    ``postgresql``, ``mysql`` or ``sqlite``) and ``migrator``, a :class:`Migrator` on it for the
    project's migrations."""

    __test__ = False  # not a test class, whatever pytest makes of its name

    def __init__(self, url: URL, migrator: Migrator) -> None:
        self.url = url
        self.migrator = migrator
        self.engine = migrator.dialect
        self.sync = SyncDatabase(self)

    def __repr__(self) -> str:
        return f"<TestDatabase {mask_url(self.url)}>"

    async def migrate(self, target: str | None = None) -> RunReport:
        """Apply the pending migrations, all or up to ``target`` (an id or a unique prefix)."""
        return await self.migrator.migrate(target=target)

    async def rollback(self, steps: int = 1) -> RunReport:
        """Revert the last ``steps`` applied migrations."""
        return await self.migrator.rollback(steps=steps)

    async def execute(self, sql: str, params: Parameters = None) -> int:
        """Run one statement (``:name`` parameters) in its own transaction; the rows it changed."""
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection, connection.begin():
                result = await connection.execute(text(sql), dict(params or {}))
                return int(result.rowcount)
        finally:
            await engine.dispose()

    async def insert(self, table_name: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``rows`` (each a mapping of column to value) into ``table_name``, in one
        transaction; the number inserted."""
        if not rows:
            return 0
        names = sorted({name for row in rows for name in row})
        statement = insert(table(table_name, *(column(name) for name in names)))
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection, connection.begin():
                await connection.execute(statement, [dict(row) for row in rows])
        finally:
            await engine.dispose()
        return len(rows)

    async def fetch(self, sql: str, params: Parameters = None) -> list[dict[str, Any]]:
        """The rows of a query (``:name`` parameters), each a dict of column name to value."""
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text(sql), dict(params or {}))
                return [dict(row) for row in result.mappings()]
        finally:
            await engine.dispose()

    async def scalar(self, sql: str, params: Parameters = None) -> Any:
        """The first column of the first row of a query, or None when it has no row."""
        rows = await self.fetch(sql, params)
        return next(iter(rows[0].values())) if rows else None


class SyncDatabase:
    """:class:`TestDatabase`'s methods for a sync test: each runs to completion before it returns."""

    __test__ = False

    def __init__(self, database: TestDatabase) -> None:
        self._database = database

    def migrate(self, target: str | None = None) -> RunReport:
        return run_sync(lambda: self._database.migrate(target))

    def rollback(self, steps: int = 1) -> RunReport:
        return run_sync(lambda: self._database.rollback(steps))

    def execute(self, sql: str, params: Parameters = None) -> int:
        return run_sync(lambda: self._database.execute(sql, params))

    def insert(self, table_name: str, rows: Sequence[Mapping[str, Any]]) -> int:
        return run_sync(lambda: self._database.insert(table_name, rows))

    def fetch(self, sql: str, params: Parameters = None) -> list[dict[str, Any]]:
        return run_sync(lambda: self._database.fetch(sql, params))

    def scalar(self, sql: str, params: Parameters = None) -> Any:
        return run_sync(lambda: self._database.scalar(sql, params))


def run_sync(work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` on an event loop of its own, in a thread of its own: callable from sync
    code whether or not a loop runs in this thread (a fixture of an async test)."""

    async def run() -> T:
        return await work()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()

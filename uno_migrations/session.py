"""One connection for a whole run, and the transactions and locks taken on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import URL

from .aio import is_async_connection
from .connection import create_engine, mask_secrets, mask_url
from .dialects import DialectAdapter, driver_message, get_adapter
from .dialects.base import DriverSQL
from .errors import DatabaseConnectionError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@dataclass
class Session:
    """The run's connection, its engine (for the lock's own connection) and its adapter.

    ``external_transaction``: the caller handed over a connection already in a transaction; the
    run then works in savepoints and never commits it.
    """

    connection: AsyncConnection
    engine: AsyncEngine
    adapter: DialectAdapter
    external_transaction: bool = False

    @asynccontextmanager
    async def transaction(self, write: bool = True, check: DriverSQL | None = None) -> AsyncIterator[Any]:
        """A transaction (a savepoint inside a caller's); ``write`` takes SQLite's write lock.

        ``check``: a compiled query run first thing in it; the block gets its value.
        """
        if self.external_transaction:
            async with self.connection.begin_nested():
                yield None if check is None else await self.adapter.fetch_value(self.connection, *check)
            return
        assert write or check is None, "a re-check belongs to a writing transaction"
        async with self.connection.begin():
            yield await self.adapter.begin(self.connection, check) if write else None

    @asynccontextmanager
    async def locked(self, key: str, timeout: float) -> AsyncIterator[None]:
        """Hold the run-wide lock ``key`` (on engines that have one) for the block."""
        lock = await self.adapter.lock(self.engine, key, timeout)
        try:
            yield
        finally:
            await lock.release()

    async def outside_transaction(self, step: Callable[[], Awaitable[Any]]) -> None:
        """Run ``step`` with every statement committed on its own (autocommit)."""
        connection = self.connection
        if connection.in_transaction():
            await connection.commit()
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await step()
        finally:
            if connection.in_transaction():
                await connection.commit()
            default = connection.dialect.default_isolation_level
            await connection.execution_options(isolation_level=default)


@asynccontextmanager
async def open_session(
    bind: AsyncEngine | AsyncConnection | URL, lock_timeout: float
) -> AsyncIterator[Session]:
    """A session on ``bind``; an engine made from a URL is disposed of afterwards."""
    if is_async_connection(bind):
        adapter = get_adapter(bind.dialect.name)
        yield Session(bind, bind.engine, adapter, bind.in_transaction())
        return
    engine = create_engine(bind) if isinstance(bind, URL) else cast("AsyncEngine", bind)
    try:
        try:
            connection = await engine.connect()
        except Exception as exc:  # drivers raise OSError, their own errors, or DBAPIError
            raise DatabaseConnectionError(
                f"cannot connect to {mask_url(engine.url)}: {mask_secrets(driver_message(exc))}"
            ) from exc
        try:
            adapter = get_adapter(connection.dialect.name)
            await adapter.prepare(connection, lock_timeout)
            yield Session(connection, engine, adapter)
        finally:
            await connection.close()
    finally:
        if engine is not bind:
            await engine.dispose()

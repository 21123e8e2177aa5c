"""One connection for a whole run, and the transactions and locks taken on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.engine import URL

from ..connections import is_async_connection
from ..dialects import DialectAdapter, driver_message, get_adapter
from ..dialects.base import DriverSQL, OnWait, RunLock
from ..errors import ConfigurationError, DatabaseConnectionError, LockLostError
from ..urls import create_engine, mask_secrets, mask_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from .version_table import VersionTable

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Session:
    """The run's connection, its engine (for a connection after the run's is lost), its adapter,
    and the run lock it holds.

    ``external_transaction``: the caller handed over a connection already in a transaction; the
    run then works in savepoints and never commits it.
    """

    connection: AsyncConnection
    engine: AsyncEngine
    adapter: DialectAdapter
    #: uno's tables, through this session's adapter.
    table: VersionTable
    external_transaction: bool = False
    #: The run lock while the run holds it.
    lock: RunLock | None = None
    #: The lock timeout and statement timeout the session's statements have now (None, None:
    #: the server's), and the settings the session had before the run changed them.
    waits: tuple[float | None, float | None] = (None, None)
    _original_waits: Any = None

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
    async def locked(
        self, table: str, schema: str | None, timeout: float, on_wait: OnWait | None = None
    ) -> AsyncIterator[None]:
        """Hold the run lock of the version table ``schema.table`` for the block, on the run's
        own connection (a file lock on SQLite); ``on_wait(holder)`` once it has waited a while."""
        if self.external_transaction and not self.adapter.transactional_ddl:
            raise ConfigurationError(
                f"the connection given is already in a transaction, and {self.adapter.title} commits "
                "DDL implicitly, so that transaction could not hold the migrations; pass the engine, "
                "or a connection outside a transaction"
            )
        lock = await self.adapter.lock(self.connection, table, schema, timeout, on_wait)
        self.lock = lock
        try:
            yield
        finally:
            self.lock = None
            await lock.release()

    async def set_lock_waits(self, timeout: float | None, statement_timeout: float | None) -> None:
        """Bound how long the session's statements wait for locks (and run), from here on: a
        round trip when that changes, none otherwise."""
        wanted = (timeout, statement_timeout)
        if wanted == self.waits:
            return
        previous = await self.adapter.set_lock_waits(self.connection, timeout, statement_timeout)
        if self._original_waits is None:
            self._original_waits = previous
        self.waits = wanted
        if not self.external_transaction and self.connection.in_transaction():
            await self.connection.commit()

    async def restore_lock_waits(self) -> None:
        """Give the connection back the lock waits it had before the run (a caller's)."""
        if self._original_waits is None:
            return
        await self.adapter.restore_lock_waits(self.connection, self._original_waits)
        self._original_waits, self.waits = None, (None, None)
        if not self.external_transaction and self.connection.in_transaction():
            await self.connection.commit()

    def lock_lost(self) -> str | None:
        """Why the run lock may be gone (its session ended or was replaced); None while held."""
        return None if self.lock is None else self.lock.lost()

    def check_lock(self, migration_id: str | None = None) -> None:
        """Raise LockLostError unless the run lock is still held: before each migration and
        before each record, so that nothing runs or is recorded unguarded."""
        reason = self.lock_lost()
        if reason is not None:
            raise LockLostError(reason, migration_id)

    async def read_back(self, read: Callable[[AsyncConnection], Awaitable[T]], wait: float = 10.0) -> T:
        """``read(connection)`` on a new connection, after the run's own session is lost: once
        the server has ended that session (whose last statement may still be running there),
        so what is read is what the lost session left behind."""
        lock = self.lock

        async def on_new_connection() -> T:
            if lock is not None and lock.session_id is not None:
                await self.adapter.session_gone(self.engine, lock.session_id, wait / 2)
            async with self.engine.connect() as connection:
                return await read(connection)

        return await asyncio.wait_for(on_new_connection(), wait)

    async def outside_transaction(self, step: Callable[[], Awaitable[Any]]) -> None:
        """Run ``step`` with every statement committed on its own (autocommit)."""
        connection = self.connection
        if connection.in_transaction():
            await connection.commit()
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await step()
        except BaseException:
            if self.lock_lost() is None:  # else the connection is gone: nothing to restore
                with contextlib.suppress(Exception):  # the step's own error is what matters
                    await self._end_autocommit()
            raise
        await self._end_autocommit()

    async def _end_autocommit(self) -> None:
        connection = self.connection
        if connection.in_transaction():
            await connection.commit()
        await connection.execution_options(isolation_level=connection.dialect.default_isolation_level)


@asynccontextmanager
async def open_session(
    bind: AsyncEngine | AsyncConnection | URL, lock_timeout: float, table: VersionTable | None = None
) -> AsyncIterator[Session]:
    """A session on ``bind`` with ``table`` through its adapter; an engine made from a URL is
    disposed of afterwards. Without ``table``, uno's tables under their default name."""
    if table is None:
        from .version_table import VersionTable

        table = VersionTable()
    if is_async_connection(bind):
        adapter = get_adapter(bind.dialect.name)
        external = bind.in_transaction()
        if external:
            await adapter.join_transaction(bind)
        async with adapter.attached(bind):
            session = Session(bind, bind.engine, adapter, table.on(adapter), external)
            try:
                yield session
            finally:
                if session.lock_lost() is None:  # else the connection is gone with its settings
                    try:
                        await session.restore_lock_waits()
                    except Exception:  # what the run raised, if anything, matters more
                        log.warning("could not give the connection back its lock timeouts", exc_info=True)
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
            async with adapter.attached(connection):
                yield Session(connection, engine, adapter, table.on(adapter))
        finally:
            await connection.close()
    finally:
        if engine is not bind:
            await engine.dispose()

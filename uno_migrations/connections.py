"""Awaitable access to SQLAlchemy connections for a run, without SQLAlchemy's asyncio extension.

``sqlalchemy.ext.asyncio`` imports SQLAlchemy's ORM along with its session classes, about a quarter
of what a command takes to start. A run opened from a URL therefore talks to the database through
the two small classes here: each call awaits SQLAlchemy's own synchronous ``Engine`` or
``Connection`` (made on the async driver) through SQLAlchemy's greenlet bridge,
``greenlet_spawn``, which is all ``AsyncEngine`` and ``AsyncConnection`` do for these calls. They
keep those classes' method names, so everything that takes a connection takes either: a caller's
own ``AsyncEngine`` or ``AsyncConnection`` is used as it is. A Python migration's
``context.connection`` is always a real ``AsyncConnection``, made when it is first used, over the
same synchronous connection (see :func:`async_connection`).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar, cast

from sqlalchemy.util import concurrency
from sqlalchemy.util.concurrency import greenlet_spawn

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection as SyncConnection
    from sqlalchemy.engine import Engine as SyncEngine
    from sqlalchemy.engine import RootTransaction
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

#: SQLAlchemy's ``await_`` (``await_only`` before 2.1; that name goes in 2.2).
_await: Callable[[Awaitable[Any]], Any] = getattr(concurrency, "await_", None) or concurrency.await_only


def await_(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` from synchronous code that runs inside :func:`greenlet_spawn` (a
    function given to ``run_sync``), as SQLAlchemy's async drivers do."""
    return cast(T, _await(awaitable))


def is_async_engine(value: object) -> TypeGuard[AsyncEngine]:
    """An ``AsyncEngine`` (SQLAlchemy's, which a caller can only have if it imported the
    extension) or this module's :class:`Engine`."""
    extension = sys.modules.get("sqlalchemy.ext.asyncio")
    return isinstance(value, Engine) or (extension is not None and isinstance(value, extension.AsyncEngine))


def is_async_connection(value: object) -> TypeGuard[AsyncConnection]:
    """An ``AsyncConnection`` or this module's :class:`Connection`."""
    extension = sys.modules.get("sqlalchemy.ext.asyncio")
    return isinstance(value, Connection) or (
        extension is not None and isinstance(value, extension.AsyncConnection)
    )


def async_connection(connection: AsyncConnection) -> AsyncConnection:
    """SQLAlchemy's own ``AsyncConnection`` for ``connection``: itself if it is one, else one made
    over the same synchronous connection (same transaction, same session)."""
    if not isinstance(connection, Connection):
        return connection
    if connection.proxy is None:
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

        engine = AsyncEngine(connection.sync_engine)
        connection.proxy = AsyncConnection(engine, connection.sync_connection)
    return connection.proxy


class Engine:
    """``AsyncEngine``'s ``connect`` and ``dispose`` over a synchronous engine on an async driver."""

    def __init__(self, sync_engine: SyncEngine) -> None:
        self.sync_engine = sync_engine

    @property
    def dialect(self) -> Any:
        return self.sync_engine.dialect

    @property
    def url(self) -> Any:
        return self.sync_engine.url

    def connect(self) -> _Opening:
        """A new connection: ``await engine.connect()`` or ``async with engine.connect() as c``."""
        return _Opening(self)

    async def dispose(self) -> None:
        await greenlet_spawn(self.sync_engine.dispose)


class _Opening:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    async def _open(self) -> Connection:
        sync = await greenlet_spawn(self.engine.sync_engine.connect)
        self.connection = Connection(self.engine, sync)
        return self.connection

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._open().__await__()

    async def __aenter__(self) -> Connection:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        if self.connection is not None:
            await self.connection.close()


class Connection:
    """``AsyncConnection``'s methods that a run uses, over a synchronous connection."""

    def __init__(self, engine: Engine, sync_connection: SyncConnection) -> None:
        self.engine = engine
        self.sync_engine = engine.sync_engine
        self.sync_connection = sync_connection
        #: SQLAlchemy's AsyncConnection over the same connection, once a migration asked for it.
        self.proxy: AsyncConnection | None = None

    @property
    def dialect(self) -> Any:
        return self.sync_connection.dialect

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return await greenlet_spawn(self.sync_connection.execute, statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        return await greenlet_spawn(self.sync_connection.exec_driver_sql, statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return await greenlet_spawn(self.sync_connection.scalar, statement, parameters, **kw)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        return cast(T, await greenlet_spawn(fn, self.sync_connection, *args, **kw))

    def begin(self) -> _Transaction:
        return _Transaction(self, nested=False)

    def begin_nested(self) -> _Transaction:
        return _Transaction(self, nested=True)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_connection.commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self.sync_connection.rollback)

    async def close(self) -> None:
        await greenlet_spawn(self.sync_connection.close)

    async def execution_options(self, **options: Any) -> Connection:
        await greenlet_spawn(self.sync_connection.execution_options, **options)
        return self

    async def get_raw_connection(self) -> Any:
        return await greenlet_spawn(getattr, self.sync_connection, "connection")


class _Transaction:
    """``async with connection.begin():`` (or ``begin_nested()``): commits, or rolls back on an
    exception, as ``AsyncTransaction`` does."""

    def __init__(self, connection: Connection, nested: bool) -> None:
        self.connection = connection
        self.nested = nested
        self.sync: RootTransaction | Any = None

    async def _begin(self) -> _Transaction:
        sync = self.connection.sync_connection
        self.sync = await greenlet_spawn(sync.begin_nested if self.nested else sync.begin)
        return self

    async def __aenter__(self) -> _Transaction:
        return await self._begin()

    async def __aexit__(self, kind: Any, value: Any, traceback: Any) -> None:
        await greenlet_spawn(self.sync.__exit__, kind, value, traceback)


def create(sync_engine: SyncEngine) -> AsyncEngine:
    """An :class:`Engine` over ``sync_engine``, typed as the ``AsyncEngine`` it stands in for."""
    return cast("AsyncEngine", Engine(sync_engine))

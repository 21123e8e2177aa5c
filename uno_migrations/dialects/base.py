"""The engine adapter interface: everything that differs between PostgreSQL, MySQL and SQLite.

An adapter class is importable without SQLAlchemy (its imports are made where they are used):
reading migration files asks an adapter for its :class:`~uno_migrations.sql.syntax.SQLSyntax`
on commands that never connect, and those do not pay for SQLAlchemy's import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..sql.params import bind_parameters
from ..sql.splitter import Statement, split_statements
from ..sql.syntax import GENERIC, SQLSyntax

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import URL, Connection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.pool import PoolProxiedConnection
    from sqlalchemy.types import TypeEngine

log = logging.getLogger(__name__)


class RunLock(Protocol):
    """A lock held for a whole migration run, in the run's own database session.

    ``lost()`` tells, without a round trip, whether the lock may be gone (its session closed,
    or replaced by a reconnect): the reason, or None while it is held. ``session_id`` is the
    server's id of the session holding it (PostgreSQL's backend pid, MySQL's connection id),
    when the engine has one. ``release`` is called once, and must not raise.
    """

    session_id: int | None

    def lost(self) -> str | None: ...

    async def release(self) -> None: ...


class RowStream(Protocol):
    """An open query whose rows are read a batch at a time, straight from the driver."""

    #: The column names (known once the query runs).
    keys: Sequence[str]

    async def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        """At most ``size`` more rows, as the driver gives them; empty at the end."""
        ...

    async def close(self) -> None: ...


class NoLock:
    """For a database no other process can reach (SQLite in memory)."""

    session_id: int | None = None

    def lost(self) -> str | None:
        return None

    async def release(self) -> None:
        return None


class SessionLock:
    """A lock that lives in the database session of the run's ``connection``: it is held for as
    long as that session is, and lost exactly when the session is (a dropped connection, a
    killed backend, a reconnect). ``unlock`` releases it while the session is still there.

    Holding it on the connection that runs the migrations, rather than on one of its own,
    means the lock and the work it guards end together: a run whose lock was taken from it
    has lost the connection its next statement needs, so it cannot go on unguarded.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        adapter: DialectAdapter,
        session_id: int | None,
        unlock: DriverSQL,
    ) -> None:
        sync = connection.sync_connection
        assert sync is not None
        self._connection = connection
        self._sync = sync
        self._adapter = adapter
        self._dbapi = sync.connection.dbapi_connection
        self.session_id = session_id
        self._unlock = unlock

    def lost(self) -> str | None:
        sync = self._sync
        if sync.closed or sync.invalidated:
            return "the connection holding it was closed"
        if sync.connection.dbapi_connection is not self._dbapi:
            return "the connection holding it was replaced by a new one"
        if self._adapter.driver_closed(sync.connection.driver_connection):
            return "the connection holding it was closed"
        return None

    async def release(self) -> None:
        if self.lost() is not None:
            return  # the lock ended with its session
        connection = self._connection
        began = not connection.in_transaction()
        try:
            await connection.exec_driver_sql(*self._unlock)
            if began:
                await connection.commit()
        except Exception as exc:  # the run's outcome matters more; the session's end frees it
            log.warning("could not release the migration lock: %s", driver_message(exc))


DriverSQL = tuple[str, tuple[Any, ...]]
#: Called with the lock's holder (when known) once a run has waited WAIT_NOTICE seconds for it.
OnWait = Callable[[str | None], None]
WAIT_NOTICE = 1.0


@dataclass(frozen=True)
class Script:
    """A transactional migration with its bookkeeping, for adapters that run it whole.

    ``statements`` (an SQL migration's) or ``body``, a synchronous function of a SQLAlchemy
    ``Connection`` on the migration's own connection (an Alembic revision's; SQLite runs it on
    the driver's thread, the other engines in one call through SQLAlchemy's greenlet).
    ``check``: a query whose value ``'applied'`` means another run applied the migration
    meanwhile (it is then skipped); ``record(ms)``: the statements that record it as applied;
    ``starting(index, sql)`` is called before each statement (it logs).
    """

    statements: Sequence[str]
    check: DriverSQL | None
    record: Callable[[int], Sequence[DriverSQL]]
    starting: Callable[[int, str], None]
    body: Callable[[Any], None] | None = None


class ScriptError(Exception):
    """Statement ``index`` of a script raised ``error`` (a DBAPIError); nothing of it was kept."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class URLParameterError(ValueError):
    """A query ``parameter`` of a URL the adapter cannot give its driver; ``remedy`` says how to
    write it."""

    def __init__(self, parameter: str, remedy: str) -> None:
        super().__init__(parameter, remedy)
        self.parameter = parameter
        self.remedy = remedy


class DialectAdapter:
    """Base adapter; subclasses set the class attributes and override the hooks they need.

    ``name`` is SQLAlchemy's ``dialect.name`` and the key the adapter is registered under
    (:mod:`.registry`); ``aliases`` are other names that mean the same engine, as URL schemes
    and as SQLAlchemy dialect names. ``syntax`` is how the engine reads SQL text. A URL of the
    engine runs on ``async_driver``; ``sync_drivers`` are the synchronous drivers a URL may name
    instead (from an Alembic or psycopg2 setup), which are replaced by it. ``database_is_file``:
    the URL's path is a file (SQLite), so a URL with a host is a mistake and connecting creates
    a missing file.

    ``transactional_ddl``: DDL can be rolled back, so a migration and its version row commit
    together. ``lock_per_migration``: the engine has no run-wide lock; each migration takes the
    write lock and re-checks the applied set. ``announces_attempts``: where DDL commits
    implicitly, the write-ahead row of the next SQL migration can be written by the statement
    that records the previous one (one upsert), and commits with it.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    syntax: ClassVar[SQLSyntax] = GENERIC
    async_driver: ClassVar[str]
    sync_drivers: ClassVar[frozenset[str]] = frozenset()
    database_is_file: ClassVar[bool] = False
    #: A version table's schema is created with it when missing (PostgreSQL's CREATE SCHEMA).
    creates_schemas: ClassVar[bool] = False
    #: The engine's name in messages.
    title: ClassVar[str]
    paramstyle: ClassVar[str]
    transactional_ddl: ClassVar[bool] = True
    lock_per_migration: ClassVar[bool] = False
    announces_attempts: ClassVar[bool] = False
    #: Statements' lock waits can be bounded (:meth:`set_lock_waits`), a timeout told from other
    #: errors (:meth:`is_lock_timeout`) and the sessions waited behind named (:meth:`blockers`).
    bounds_lock_waits: ClassVar[bool] = False
    _raw: tuple[AsyncConnection, PoolProxiedConnection] | None = None
    #: How the engine's own client runs a script of ``--sql`` (for the script's first lines).
    script_client: ClassVar[str] = "the engine's command-line client"
    #: What begins a transaction in such a script.
    script_begin: ClassVar[str] = "BEGIN;"

    async def raw_connection(self, connection: AsyncConnection) -> PoolProxiedConnection:
        """The pooled DBAPI connection under ``connection`` (``driver_connection`` is the driver's).

        SQLAlchemy's ``get_raw_connection`` is a trip through its greenlet each time; the answer
        is kept for as long as it is ``connection``'s and valid (closing or invalidating the
        connection takes the DBAPI connection from it), so a run asks once, not per statement.
        """
        kept = self._raw
        if kept is not None and kept[0] is connection and kept[1].is_valid:
            return kept[1]
        raw = await connection.get_raw_connection()
        self._raw = (connection, raw)
        return raw

    def split(self, sql: str) -> list[Statement]:
        return split_statements(sql, self.syntax)

    def bind(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        return bind_parameters(sql, params, self.paramstyle, self.syntax)

    @classmethod
    def connect_args(cls, url: URL) -> tuple[URL, dict[str, Any]]:
        """The URL to open and the driver's connect arguments, for a URL whose query holds what
        the async driver takes another way (libpq's ``options``, for asyncpg). Raises
        :class:`URLParameterError` for a parameter it cannot translate."""
        return url, {}

    async def prepare(self, connection: AsyncConnection, lock_timeout: float) -> None:
        """Set up a freshly opened run connection."""

    @asynccontextmanager
    async def attached(self, connection: AsyncConnection) -> AsyncIterator[None]:
        """For as long as a run has ``connection`` (its own or a caller's): what the engine's
        driver needs to run migrations written for the engine's usual synchronous driver, undone
        afterwards, so that a caller's connection is left as it was given."""
        yield

    def database_missing(self, url: URL) -> bool:
        """Whether the database ``url`` names does not exist yet, where connecting would create
        it (an SQLite file): read-only commands then read nothing rather than create it."""
        return False

    async def join_transaction(self, connection: AsyncConnection) -> None:
        """Make sure the transaction a caller's connection is in has begun on the server, so
        that every statement of the run, DDL included, is part of it."""

    async def begin(self, connection: AsyncConnection, check: DriverSQL | None = None) -> Any:
        """Called right after a migration's transaction begins, before its first statement.

        ``check``: a compiled query to run first thing in the transaction; its value is returned
        (None without one).
        """
        return None if check is None else await self.fetch_value(connection, *check)

    async def run_statement(self, connection: AsyncConnection, sql: str) -> None:
        """Run one statement of an SQL migration: no parameters, no result wanted."""
        await connection.exec_driver_sql(sql, execution_options={"no_parameters": True})

    async def run_script(self, connection: AsyncConnection, script: Script) -> str | None:
        """Run ``script`` in one transaction of its own: ``'applied'`` or ``'skipped'``.

        None: the adapter cannot, and the runner takes the general path. Raises ScriptError
        when a statement fails, after rolling the transaction back.

        Here: a script with a ``body`` and no re-check, in one call through SQLAlchemy's
        greenlet (its transaction, the body, its version rows, the commit), where the general
        path takes one per step.
        """
        if script.body is None or script.check is not None or connection.in_transaction():
            return None
        return await connection.run_sync(self._run_body, connection, script)

    def _run_body(self, sync: Connection, connection: AsyncConnection, script: Script) -> str:
        """The synchronous half of :meth:`run_script`, on ``connection``'s synchronous side."""
        from ..connections import await_

        body = script.body
        assert body is not None
        started = time.perf_counter()
        with sync.begin():
            body(sync)
            statements = script.record(int((time.perf_counter() - started) * 1000))
            await_(self.execute_batch(connection, statements))
        return "applied"

    async def execute_batch(self, connection: AsyncConnection, statements: Sequence[DriverSQL]) -> None:
        """Statements already compiled for the driver, in order (the version table's writes)."""
        for sql, args in statements:
            await connection.exec_driver_sql(sql, args)

    async def fetch_all(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
        """Every row of a compiled query, as the driver returns them (indexable rows)."""
        return (await connection.exec_driver_sql(sql, args)).all()

    async def open_stream(
        self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]
    ) -> RowStream | None:
        """Run a query (in the driver's paramstyle) for reading a batch at a time on the driver,
        without SQLAlchemy's result layer; None when this adapter cannot (the caller then
        streams through SQLAlchemy). A failing query raises DBAPIError, as through SQLAlchemy."""
        return None

    async def fetch_value(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Any:
        """The first column of the first row of a compiled query, or None."""
        rows = await self.fetch_all(connection, sql, args)
        return rows[0][0] if rows else None

    async def execute_many(self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """One statement, already in the driver's paramstyle, for many rows (executemany)."""
        result = await connection.exec_driver_sql(sql, list(rows))
        return result.rowcount

    def create_database_sql(self, quoted: str) -> str:
        """The statement that makes a database (a scratch one, ``uno-migrations test``)."""
        return f"CREATE DATABASE {quoted}"

    def drop_database_sql(self, quoted: str) -> str:
        """The statement that drops a database made so."""
        return f"DROP DATABASE IF EXISTS {quoted}"

    def copy_database_sql(self, quoted: str, template: str) -> str | None:
        """The statement that makes a database as a copy of the database ``template`` (the
        pytest plugin's migrated template), or None where the engine has none."""
        return None

    def literal(self, value: Any, dialect: Any) -> str:
        """``value`` written into SQL as the driver would bind it (``migrate --sql``), by
        SQLAlchemy's literal rendering for ``dialect``; ValueError when it has none."""
        from sqlalchemy import literal
        from sqlalchemy.exc import CompileError

        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.bytes_literal(bytes(value))
        try:
            text = str(literal(value).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        except (CompileError, NotImplementedError, TypeError) as exc:
            raise ValueError(f"cannot write {type(value).__name__} value {value!r} into SQL") from exc
        # A dialect whose driver formats with '%' doubles it in literals; the script is not formatted.
        return text.replace("%%", "%") if dialect.identifier_preparer._double_percents else text

    def script_statement(self, sql: str) -> str:
        """One statement as the engine's client reads it in a script: ending with ``;``."""
        text = sql.strip()
        return text if text.endswith(";") else text + ";"

    def bytes_literal(self, value: bytes) -> str:
        return f"X'{value.hex()}'"

    def commits_implicitly(self, sql: str) -> bool:
        """Whether the statement commits the transaction it runs in (MySQL's DDL)."""
        return False

    def timestamp_type(self) -> TypeEngine[Any]:
        """The version tables' timestamps: timezone-aware, to the microsecond (the apply order)."""
        from sqlalchemy import DateTime

        return DateTime(timezone=True)

    def announce_statement(self, table: Table) -> Any:
        """Where the adapter ``announces_attempts``: one statement that writes two rows of the
        version table ``table``, a migration's (its row exists: updated) and the next one's
        write-ahead row (inserted), with parameters ``<column>_1`` and ``<column>_2``."""
        raise NotImplementedError(f"{type(self).__name__} does not announce attempts")

    @asynccontextmanager
    async def reader(
        self, connection: AsyncConnection, in_transaction: bool
    ) -> AsyncIterator[AsyncConnection]:
        """The connection a migration's ``iterate`` streams from: its own, unless the engine
        cannot stream there (``in_transaction``: the migration runs in a transaction)."""
        yield connection

    def locks_tables(self, sql: str) -> bool | None:
        """True for a statement that locks tables for the session so that no other table may be
        written (MySQL's LOCK TABLES), False for one that ends that, None for any other."""
        return None

    async def unlock_tables(self, connection: AsyncConnection) -> None:
        """End a migration's table locks, so that uno's own tables can be written."""

    def savepoint(self, connection: AsyncConnection) -> AbstractAsyncContextManager[Any]:
        """A savepoint inside the current transaction (``execute_transaction``)."""
        return connection.begin_nested()

    async def lock(
        self,
        connection: AsyncConnection,
        table: str,
        schema: str | None,
        timeout: float,
        on_wait: OnWait | None = None,
    ) -> RunLock:
        """Take the run-wide lock of the version table ``schema.table`` on the run's own
        ``connection``, waiting at most ``timeout`` seconds (LockTimeoutError naming the holder
        when it runs out). The lock is named after the table as the database resolves it (the
        schema a missing ``schema`` stands for), so every spelling of one table takes one lock.
        ``on_wait(holder)`` is called once when the lock has not been had within
        :data:`WAIT_NOTICE` seconds, with the holder when the engine can tell.
        """
        return NoLock()

    def driver_closed(self, driver: Any) -> bool:
        """Whether the driver's connection knows it is closed (no round trip)."""
        return False

    async def session_gone(self, engine: AsyncEngine, session_id: int, wait: float) -> bool:
        """Wait at most ``wait`` seconds for the server to end the session ``session_id`` (a
        dead run's, whose last statement may still be running there); whether it has ended."""
        return True

    def hint(self, error: BaseException) -> str | None:
        """What to do about a statement's ``error``, when the engine's message does not say."""
        return None

    async def set_lock_waits(
        self, connection: AsyncConnection, timeout: float | None, statement_timeout: float | None
    ) -> Any:
        """Make each statement of the session wait at most ``timeout`` seconds for its locks
        (None: the server's default) and run at most ``statement_timeout`` seconds (None: no
        limit); the settings it had, to give :meth:`restore_lock_waits` (None where the engine
        has no such setting, as here). The caller commits (or, in its caller's transaction, not)."""
        return None

    async def restore_lock_waits(self, connection: AsyncConnection, previous: Any) -> None:
        """Give the session back the settings :meth:`set_lock_waits` returned."""

    def is_lock_timeout(self, error: BaseException) -> bool:
        """Whether ``error`` is a statement giving up waiting for a lock (its lock timeout)."""
        return False

    async def blockers(self, engine: AsyncEngine, session_id: int) -> list[str]:
        """The sessions that the session ``session_id``, waiting for a lock, waits behind, a line
        each (who, for how long its transaction has been open, its query); empty when it waits
        for none or the engine cannot tell."""
        return []

    #: What ``lint --observe`` calls the storage id :meth:`storage` reads, in its findings
    #: ("relfilenode"); None where the engine shows none, so rewrites cannot be observed.
    storage_name: ClassVar[str | None] = None

    async def storage(self, connection: AsyncConnection) -> dict[str, tuple[str, str, str]]:
        """The tables and indexes of ``connection``'s database (schema) as its session sees them,
        in the transaction it has open: an id of each (as :meth:`session_locks` names it) to its
        name, ``"table"`` or ``"index"``, and its storage id, which changes when a statement
        rewrites it (``lint --observe``). Empty where the engine shows none, as here."""
        return {}

    async def locks_unseen(self, connection: AsyncConnection) -> str | None:
        """Why the server of ``connection`` does not show the locks another session holds, or
        None when :meth:`session_locks` reads them (``lint --observe``)."""
        return f"{self.title} does not show the locks a session holds"

    async def session_locks(self, connection: AsyncConnection, session_id: int) -> set[tuple[str, str]]:
        """The locks the session ``session_id`` holds on tables and indexes, read on
        ``connection`` (another session): the object's id as :meth:`storage` gives it, and the
        lock's mode as the engine's manual names it (``ACCESS EXCLUSIVE``)."""
        return set()

    def error_position(self, error: BaseException) -> int | None:
        """The 1-based character position of the error inside the statement, when known."""
        return None

    def schema_objects(
        self, sync_connection: Connection, schema: str | None, ignored_tables: Collection[str] = ()
    ) -> dict[str, Any]:
        """The engine's schema objects besides tables and views, for a schema snapshot
        (:mod:`uno_migrations.testing`): ``enums``, a list of ``{"name", "labels"}``, and
        ``sequences``, a list of names, each where the engine has them (none here). What belongs
        to a table of ``ignored_tables`` (a serial column's sequence) is left out with it."""
        return {}

    def snapshot_default(self, default: str) -> str:
        """A column's server default as the inspector reports it, in the form a snapshot shows
        and compares (the engine's decoration of a plain literal taken off)."""
        return default

    async def read_sync(self, connection: AsyncConnection, read: Callable[[Connection], Any]) -> Any:
        """``read(sync_connection)``, a function that only reads (a schema snapshot), on a
        synchronous SQLAlchemy connection to the session of ``connection``, in as few trips to
        the driver as the engine allows; its value. Here: through SQLAlchemy's greenlet
        (``run_sync``), each statement a trip of its own."""
        return await connection.run_sync(read)

    def schema_fingerprints(
        self, sync_connection: Connection, schema: str | None
    ) -> tuple[dict[str, str], str] | None:
        """For a reader that snapshots one database again and again (``uno-migrations test``),
        read in a statement or two: for each table the inspector lists in the schema ``schema``
        (every one, by name, and no other), a text that differs whenever anything a snapshot
        holds of that table does, and one that differs whenever the snapshot's views, enums or
        sequences do. Equal texts let the reader keep what it read before; a text that says
        more than it must only costs a reading. None where the engine has no such texts (every
        snapshot reads everything), as here."""
        return None


def driver_message(error: BaseException) -> str:
    """The database's own message, without SQLAlchemy's SQL echo and documentation link."""
    orig = getattr(error, "orig", None) or error
    cause = orig.__cause__ if orig.__cause__ is not None else orig
    args: tuple[object, ...] = tuple(getattr(cause, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"{args[1]} (error {args[0]})"  # MySQL drivers: (code, message)
    text = str(cause) or type(cause).__name__
    if text.startswith("<class "):
        text = text.split(">: ", 1)[-1]
    return " ".join(text.split())


def walk_causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        nxt = getattr(current, "orig", None)
        current = nxt if isinstance(nxt, BaseException) else current.__cause__
    return seen

"""MigrationContext: what ``up``, ``down``, ``apply`` and ``revert`` receive."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, CursorResult, Row, result_tuple
from sqlalchemy.exc import DBAPIError, ResourceClosedError

from ..connections import async_connection
from ..dialects.base import driver_message
from ..errors import ExecutionError, MigrationError, ParameterError
from ..sql.params import check_values
from ..urls import mask_secrets
from .attempt import Attempt, Direction, FailedStatement

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..dialects import DialectAdapter
    from ..dialects.base import RowStream
    from ..files.migration import Migration
    from ..sql.splitter import Statement

log = logging.getLogger(__name__)
T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any] | None


class SQLResult:
    """The result of ``execute_sql``: rows are already fetched, methods are awaitable.

    >>> # rows = await (await context.execute_sql("SELECT id, name FROM users")).fetchall()
    """

    def __init__(self, result: CursorResult[Any] | None) -> None:
        self.rowcount: int = result.rowcount if result is not None else -1
        self._rows: list[Row[Any]] = []
        self._keys: list[str] = []
        if result is not None and result.returns_rows:
            self._keys = list(result.keys())
            self._rows = list(result.all())
        self._position = 0

    def keys(self) -> list[str]:
        return list(self._keys)

    async def fetchall(self) -> list[Row[Any]]:
        rows = self._rows[self._position :]
        self._position = len(self._rows)
        return rows

    async def fetchone(self) -> Row[Any] | None:
        if self._position >= len(self._rows):
            return None
        row = self._rows[self._position]
        self._position += 1
        return row

    async def scalar(self) -> Any:
        row = await self.fetchone()
        return None if row is None else row[0]

    def __aiter__(self) -> AsyncIterator[Row[Any]]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Row[Any]]:
        while (row := await self.fetchone()) is not None:
            yield row


class MigrationContext:
    """The connection and helpers a migration runs with.

    Statements run on ``connection`` inside the migration's transaction (unless the migration is
    not transactional). ``$1`` (with a list) and ``:name`` (with a dict) parameters work on every
    engine; the adapter rewrites them for the driver.
    """

    #: True while the migration is written out as SQL without a database (``migrate --sql``):
    #: statements are recorded, not run (see :mod:`.offline`).
    offline = False

    def __init__(self, connection: AsyncConnection, adapter: DialectAdapter, attempt: Attempt) -> None:
        self._connection = connection
        #: The engine's adapter: how statements are split, bound and run on this engine.
        self.adapter = adapter
        #: The runner's record of this attempt (see :class:`~uno_migrations.runtime.attempt.Attempt`).
        self.attempt = attempt

    @property
    def migration(self) -> Migration:
        """The migration being run."""
        return self.attempt.migration

    @property
    def direction(self) -> Direction:
        """``"up"`` while applying, ``"down"`` while reverting."""
        return self.attempt.direction

    @property
    def dialect(self) -> str:
        """The engine's SQLAlchemy dialect name, as ``connection.dialect.name`` gives it."""
        return self.adapter.name

    @property
    def url(self) -> URL:
        """The database's URL, as the run connects to it (its async driver named); unlike
        ``connection.engine.url``, reading it does not import SQLAlchemy's asyncio extension."""
        return self._connection.engine.url

    @property
    def connection(self) -> AsyncConnection:
        """The migration's connection, as SQLAlchemy's ``AsyncConnection`` (in its transaction)."""
        return async_connection(self._connection)

    def record_sql(self, sql: str) -> None:
        """Offline only: add SQL already written out (by Alembic's offline mode) to the script."""
        raise MigrationError("record_sql() is for a migration written out offline (migrate --sql)")

    @cached_property
    def logger(self) -> logging.Logger:
        """The migration's logger, ``uno_migrations.migration.<id>``; made when first used, so
        the migrations that never log (every SQL one) register no logger."""
        return logging.getLogger(f"uno_migrations.migration.{self.migration.base.id}")

    def split_for(self, sql: str, params: Params) -> list[Statement]:
        """The statements of ``execute_sql(sql, params)``: several only without parameters."""
        statements = self.adapter.split(sql)
        if params and len(statements) > 1:
            raise ParameterError(
                f"parameters given with {len(statements)} statements; "
                "pass parameters to one statement per execute_sql call"
            )
        return statements

    async def execute_sql(self, sql: str, params: Params = None) -> SQLResult:
        """Run one or several statements; return the last statement's result."""
        statements = self.split_for(sql, params)
        result: CursorResult[Any] | None = None
        for statement in statements:
            result = await self._run(statement.text, params)
        return SQLResult(result)

    async def run_statements(
        self, statements: Sequence[Statement], start: int = 0, first_line: int = 1
    ) -> None:
        """Run already-split statements (an SQL migration), skipping the first ``start``.

        ``first_line`` is the file line the statements' text starts on, so a failure can name
        the line of the statement in the file.
        """
        self.attempt.statements_done = recorded = start
        for statement in statements[start:]:
            if (
                self.attempt.on_implicit_commit is not None
                and not self.attempt.tables_locked
                and self.attempt.statements_done != recorded
                and (not self.attempt.in_transaction or self.adapter.commits_implicitly(statement.text))
            ):
                await self.attempt.on_implicit_commit(self.attempt.statements_done)
                recorded = self.attempt.statements_done
            self.log_statement(self.attempt.statements_done, statement.text)
            try:
                await self.adapter.run_statement(self._connection, statement.text)
            except Exception as exc:
                self.statement_failed(exc, statement.text, first_line + statement.line - 1)
                raise
            locks = self.adapter.locks_tables(statement.text)
            if locks is not None:
                self.attempt.tables_locked = locks
            await self._done()

    async def release_tables(self) -> None:
        """Unlock the tables the migration locked and left locked, before uno writes its own."""
        if self.attempt.tables_locked:
            await self.adapter.unlock_tables(self._connection)
            self.attempt.tables_locked = False

    async def _run(self, sql: str, params: Params) -> CursorResult[Any]:
        try:
            if params:
                try:
                    bound, args = self.adapter.bind(sql, params)
                except ParameterError as exc:
                    self.statement_failed(exc, sql)
                    raise
                result = await self._connection.exec_driver_sql(bound, args)
            else:
                options = {"no_parameters": True}
                result = await self._connection.exec_driver_sql(sql, execution_options=options)
        except DBAPIError as exc:
            self.statement_failed(exc, sql)
            raise
        await self._done()
        return result

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any] | Mapping[str, Any]]) -> int:
        """Run one statement for many parameter rows, as the driver's batch; returns the row count."""
        rows = list(rows)
        if not rows:
            return 0
        statements = self.adapter.split(sql)
        if len(statements) != 1:
            raise ParameterError(f"execute_many takes one statement, got {len(statements)}")
        text = statements[0].text
        first = rows[0]
        # Bind once with the row's own keys/positions as values to learn where each value goes.
        args: Sequence[Sequence[Any]]
        try:
            if isinstance(first, Mapping):
                bound, names = self.adapter.bind(text, {key: key for key in first})
                args = [tuple(row[name] for name in names) for row in rows]
            else:
                bound, positions = self.adapter.bind(text, list(range(len(first))))
                check_values(first)
                if positions != tuple(range(len(first))):
                    args = [tuple(row[i] for i in positions) for row in rows]
                elif all(type(row) is tuple for row in rows):
                    args = rows  # type: ignore[assignment]  # already as the driver takes them
                else:  # lists, or Rows from iterate(): drivers take a batch of tuples
                    args = [tuple(row) for row in rows]
        except ParameterError as exc:
            self.statement_failed(exc, text)
            raise
        try:
            count = await self.adapter.execute_many(self._connection, bound, args)
        except DBAPIError as exc:
            self.statement_failed(exc, text)
            raise
        await self._done()
        return count

    async def iterate(
        self, sql: str, params: Params = None, batch_size: int = 1000
    ) -> AsyncIterator[list[Row[Any]]]:
        """Stream a query's rows in lists of at most ``batch_size``, without loading them all."""
        statements = self.adapter.split(sql)
        if len(statements) != 1:
            raise ParameterError(f"iterate takes one statement, got {len(statements)}")
        text = statements[0].text
        bound, args = self.adapter.bind(text, params) if params else (text, ())
        options = {"stream_results": True, "max_row_buffer": batch_size}
        if not params:
            options["no_parameters"] = True

        def open_cursor(sync: Connection) -> CursorResult[Any]:
            return sync.exec_driver_sql(bound, args or None, execution_options=options)

        async with self._reader() as reader:
            try:
                stream = await self.adapter.open_stream(reader, bound, tuple(args))
            except DBAPIError as exc:
                self.statement_failed(exc, text)
                raise
            if stream is not None:
                async for rows in self._stream(stream, text, batch_size):
                    yield rows
                return
            try:
                result = await reader.run_sync(open_cursor)
            except DBAPIError as exc:
                self.statement_failed(exc, text)
                raise
            try:
                while True:
                    batch = await reader.run_sync(lambda _: result.fetchmany(batch_size))
                    if not batch:
                        break
                    yield list(batch)
            except ResourceClosedError:
                return
            finally:
                await reader.run_sync(lambda _: result.close())

    async def _stream(self, stream: RowStream, text: str, batch_size: int) -> AsyncIterator[list[Row[Any]]]:
        """The batches of a query the adapter runs on its driver, as SQLAlchemy Rows."""
        make_row: Callable[[Sequence[Any]], Row[Any]] | None = None
        try:
            while True:
                try:
                    rows = await stream.fetch(batch_size)
                except DBAPIError as exc:
                    self.statement_failed(exc, text)
                    raise
                if not rows:
                    return
                if make_row is None:
                    make_row = result_tuple(list(stream.keys))
                yield [make_row(row) for row in rows]
        finally:
            await stream.close()

    def _reader(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self.adapter.reader(self._connection, self.attempt.in_transaction)

    async def execute(self, statement: Any, parameters: Any = None) -> SQLResult:
        """Run a SQLAlchemy Core statement or DDL construct."""
        try:
            result = await self._connection.execute(statement, parameters)
        except DBAPIError as exc:
            self.statement_failed(exc, str(statement))
            raise
        await self._done()
        return SQLResult(result)

    def log_statement(self, index: int, statement: str) -> None:
        """Log (at DEBUG) that statement ``index`` (0-based) of an SQL migration starts."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: statement %d: %s", self.migration.id, index + 1, statement)

    def statement_failed(self, error: BaseException, statement: str, line: int | None = None) -> None:
        """Keep the statement that raised ``error`` (and its line in its file) for the runner."""
        self.attempt.failed = FailedStatement(error, statement, self.adapter.error_position(error), line)

    async def _done(self) -> None:
        self.attempt.statements_done += 1

    async def execute_transaction(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` atomically: a savepoint inside the migration's transaction, else a transaction."""
        if self.attempt.in_transaction:
            async with self.adapter.savepoint(self._connection):
                return await fn(*args, **kwargs)
        await self._connection.commit()
        await self._connection.execution_options(isolation_level=self._default_isolation())
        try:
            async with self._connection.begin():
                await self.adapter.begin(self._connection)
                self.attempt.in_transaction = True
                try:
                    return await fn(*args, **kwargs)
                finally:
                    self.attempt.in_transaction = False
        finally:
            await self._connection.execution_options(isolation_level="AUTOCOMMIT")

    def _default_isolation(self) -> str:
        return str(self._connection.dialect.default_isolation_level)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(sync_connection, *args)`` with a synchronous SQLAlchemy Connection."""
        return await self._connection.run_sync(fn, *args)

    async def has_table(self, name: str, schema: str | None = None) -> bool:
        return await self._connection.run_sync(lambda c: sa_inspect(c).has_table(name, schema=schema))

    async def has_column(self, table: str, column: str, schema: str | None = None) -> bool:
        def check(sync: Connection) -> bool:
            inspector = sa_inspect(sync)
            if not inspector.has_table(table, schema=schema):
                return False
            return any(c["name"] == column for c in inspector.get_columns(table, schema=schema))

        return await self._connection.run_sync(check)

    async def has_index(self, table: str, index: str, schema: str | None = None) -> bool:
        return await self._connection.run_sync(lambda c: sa_inspect(c).has_index(table, index, schema=schema))


def execution_error(
    migration: Migration, exc: BaseException, context: MigrationContext, *, connection_lost: bool = False
) -> ExecutionError:
    """The one error a failed migration raises, with the failing statement when there is one.

    ``connection_lost``: the run's connection was lost under the migration; the message says
    so first, then what the driver said.
    """
    if isinstance(exc, ExecutionError):
        return exc
    failed = context.attempt.failed
    lost = "the connection to the database was lost" if connection_lost else None
    if failed is not None and failed.error is exc:
        message = mask_secrets(driver_message(exc))
        return ExecutionError(
            migration.id,
            migration.base.path,
            f"{lost} ({message})" if lost else message,
            statement=failed.statement,
            position=failed.position,
            statements_done=context.attempt.statements_done,
            line=failed.line,
            hint=context.adapter.hint(exc),
        )
    if isinstance(exc, MigrationError):
        message = str(exc)
    elif isinstance(exc, SystemExit):
        message = f"the migration called sys.exit({exc.code!r})"
    elif isinstance(exc, DBAPIError):
        message = mask_secrets(driver_message(exc))
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if lost:
        message = f"{lost} ({message})"
    return ExecutionError(
        migration.id,
        migration.base.path,
        mask_secrets(message),
        statements_done=context.attempt.statements_done,
        line=line_in_file(exc, migration.base.path),
    )


def line_in_file(exc: BaseException, path: str | None) -> int | None:
    """The line of the migration's own file (a Python one) where ``exc`` was raised: its
    innermost frame there; a helper the migration defines counts, a library it calls does not."""
    if not path or not path.endswith(".py"):
        return None
    wanted = os.path.realpath(path)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path or os.path.realpath(frame.filename) == wanted:
            line = frame.lineno
    return line

"""Offline SQL: a plan written out as one script for the engine's own client (``migrate --sql``,
``rollback --sql``), for psql, mysql/mariadb or sqlite3 to run.

The script holds uno's tables when the database has none yet, then, for each migration, its
statements and its version-table rows, in a transaction of its own where it runs in one. The
statements of each kind of migration:

- an SQL migration: its statements, as the file has them;
- a Python migration: what it sends through its context, recorded by an :class:`OfflineContext`
  that runs nothing. One that reads (a result, ``iterate``, ``has_table``, ``run_sync``) cannot be
  written out without a database: it is written as a comment saying why, and the command fails;
- an Alembic revision: through Alembic's own offline mode (``alembic_compat``), with the same
  limits.

On a scratch database (``--scratch-url``) the plan runs for real, and the script holds what ran
there, values written in: migrations that read data are written out too, with what they read on
the scratch database (:class:`ScratchContext`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import MigrationError, OfflineError, ParameterError
from ..files.migration import Migration, SQLMigration
from ..sql.params import inline_parameters
from .attempt import Attempt, Direction
from .context import MigrationContext, Params, SQLResult
from .cursor_events import add_hook

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..dialects import DialectAdapter
    from ..sql.splitter import Statement
    from .version_table import VersionTable

T = TypeVar("T")


class Recorder:
    """The statements of one migration, as they go into the script, values written in."""

    def __init__(self, adapter: DialectAdapter, dialect: Dialect) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.statements: list[str] = []

    def literal(self, value: Any) -> str:
        try:
            return self.adapter.literal(value, self.dialect)
        except ValueError as exc:
            raise OfflineError(str(exc)) from exc

    def add(self, sql: str, args: Sequence[Any] = ()) -> None:
        """A statement in the driver's paramstyle, with its values."""
        paramstyle = self.dialect.paramstyle
        self.statements.append(inline_parameters(sql, args, paramstyle, self.adapter.syntax, self.literal))

    def bound(self, sql: str, params: Params) -> None:
        """A statement with ``$1`` or ``:name`` placeholders, as ``execute_sql`` takes it."""
        if params:
            bound, args = self.adapter.bind(sql, params)
            self.add(bound, args)
        else:
            self.statements.append(sql)

    def cursor(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        """SQLAlchemy's ``before_cursor_execute``: what SQLAlchemy sends, as it sends it."""
        for args in parameters if many else [parameters]:
            if isinstance(args, Mapping):
                raise OfflineError("cannot write named parameters into SQL")
            self.add(statement, tuple(args or ()))


class _NoDatabase:
    """What ``context.connection`` is while a migration is written out without a database: its
    ``dialect`` (``context.connection.dialect.name`` works, as migrations branch on it), and
    nothing that would need a connection."""

    def __init__(self, dialect: Dialect, url: URL) -> None:
        self.dialect = dialect
        self.url = url

    def __getattr__(self, name: str) -> Any:
        raise OfflineError(f"uses context.connection.{name}, which needs a database")


class _NoRows(SQLResult):
    """The result of a statement that was written out, not run: reading it needs a database."""

    def __init__(self, sql: str) -> None:
        super().__init__(None)
        self._sql = " ".join(sql.split())[:80]

    def _read(self) -> OfflineError:
        return OfflineError(f"reads the result of {self._sql!r}, which needs a database")

    def keys(self) -> list[str]:
        raise self._read()

    async def fetchall(self) -> list[Any]:
        raise self._read()

    async def fetchone(self) -> Any:
        raise self._read()

    def __aiter__(self) -> AsyncIterator[Any]:
        raise self._read()


class OfflineContext(MigrationContext):
    """The context of a migration written out without a database: what it sends is recorded,
    nothing runs, and whatever would read from the database raises :class:`OfflineError`."""

    offline = True

    def __init__(self, adapter: DialectAdapter, dialect: Dialect, url: URL, attempt: Attempt) -> None:
        super().__init__(_NoDatabase(dialect, url), adapter, attempt)  # type: ignore[arg-type]
        self.recorder = Recorder(adapter, dialect)

    @property
    def url(self) -> URL:
        return self._connection.url  # type: ignore[attr-defined, no-any-return]

    @property
    def connection(self) -> AsyncConnection:
        return self._connection

    def record_sql(self, sql: str) -> None:
        self.recorder.statements.append(sql)

    async def execute_sql(self, sql: str, params: Params = None) -> SQLResult:
        statements = self.split_for(sql, params)
        for statement in statements:
            self.recorder.bound(statement.text, params)
            await self._done()
        return _NoRows(statements[-1].text if statements else sql)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any] | Mapping[str, Any]]) -> int:
        statements = self.adapter.split(sql)
        if len(statements) != 1:
            raise ParameterError(f"execute_many takes one statement, got {len(statements)}")
        for row in rows:
            self.recorder.bound(statements[0].text, row)
        await self._done()
        return len(rows)

    async def execute(self, statement: Any, parameters: Any = None) -> SQLResult:
        dialect = self.recorder.dialect
        for row in parameters if isinstance(parameters, list) else [parameters]:
            keys = {"column_keys": list(row)} if row else {}
            compiled = statement.compile(dialect=dialect, **keys)
            names = getattr(compiled, "positiontup", None) or ()  # DDL has none
            values = compiled.construct_params(row or None) if names else {}
            args = []
            for name in names:
                process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                args.append(values[name] if process is None else process(values[name]))
            self.recorder.add(compiled.string, args)
        await self._done()
        return _NoRows(str(statement))

    async def execute_transaction(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return await fn(*args, **kwargs)

    def iterate(self, sql: str, params: Params = None, batch_size: int = 1000) -> AsyncIterator[Any]:
        raise OfflineError(f"reads rows with iterate({' '.join(sql.split())[:60]!r}), which needs a database")

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        raise OfflineError("runs synchronous SQLAlchemy code (run_sync), which needs a database")

    async def has_table(self, name: str, schema: str | None = None) -> bool:
        raise OfflineError(f"asks whether table {name!r} exists, which needs a database")

    async def has_column(self, table: str, column: str, schema: str | None = None) -> bool:
        raise OfflineError(f"asks whether column {table}.{column} exists, which needs a database")

    async def has_index(self, table: str, index: str, schema: str | None = None) -> bool:
        raise OfflineError(f"asks whether index {index!r} exists, which needs a database")


class ScratchContext(MigrationContext):
    """The context of a migration that runs on a scratch database for ``--sql --scratch-url``:
    it runs as ever, and every statement it sends is recorded as sent, values written in (what
    it reads on the scratch database included)."""

    def __init__(self, connection: AsyncConnection, adapter: DialectAdapter, attempt: Attempt) -> None:
        super().__init__(connection, adapter, attempt)
        self.recorder = Recorder(adapter, connection.dialect)

    async def run_statements(
        self, statements: Sequence[Statement], start: int = 0, first_line: int = 1
    ) -> None:
        for statement in statements[start:]:
            self.recorder.statements.append(statement.text)
        await super().run_statements(statements, start, first_line)

    async def _run(self, sql: str, params: Params) -> Any:
        result = await super()._run(sql, params)
        self.recorder.bound(sql, params)
        return result

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any] | Mapping[str, Any]]) -> int:
        rows = list(rows)
        count = await super().execute_many(sql, rows)
        text = self.adapter.split(sql)[0].text
        for row in rows:
            self.recorder.bound(text, row)
        return count

    @contextmanager
    def _sent(self) -> Iterator[None]:
        sync = self._connection.sync_connection
        assert sync is not None
        stop = add_hook(sync, "before_cursor_execute", self.recorder.cursor)
        try:
            yield
        finally:
            stop()

    async def execute(self, statement: Any, parameters: Any = None) -> SQLResult:
        with self._sent():
            return await super().execute(statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self._sent():
            return await super().run_sync(fn, *args)


@dataclass
class OfflineScript:
    """A plan written out: ``text``, and the migrations that could not be (``unrendered``:
    id and why), which the text holds as comments. ``statements``: what each migration written
    out sends (its own statements, as sent, without the version rows), and ``transactional``
    the ones that run in a transaction."""

    engine: str
    direction: Direction
    ids: list[str] = field(default_factory=list)
    unrendered: list[tuple[str, str]] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    statements: dict[str, list[str]] = field(default_factory=dict)
    transactional: set[str] = field(default_factory=set)

    @property
    def text(self) -> str:
        return "\n".join(self.parts) + "\n"


def _comment(text: str) -> str:
    return "\n".join(f"-- {line}".rstrip() for line in text.splitlines())


class ScriptWriter:
    """Writes the script of a plan: the version tables when missing, then each migration."""

    def __init__(
        self, adapter: DialectAdapter, dialect: Dialect, table: VersionTable, actor: str, direction: Direction
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.table = table
        self.actor = actor
        self.script = OfflineScript(adapter.name, direction)
        # What the version table's statements are compiled on: only its dialect is read.
        self._stand_in: Any = _NoDatabase(dialect, None)  # type: ignore[arg-type]
        verb = "migrate" if direction == "up" else "rollback"
        self.script.parts += [
            f"-- uno-migrations {verb} --sql, for {adapter.title}",
            f"-- run it with: {adapter.script_client}",
        ]

    def _recorder(self) -> Recorder:
        return Recorder(self.adapter, self.dialect)

    def version_tables(self) -> None:
        """uno's tables (and their schema) with the current layout, for a database without them."""
        from sqlalchemy import insert
        from sqlalchemy.schema import CreateIndex, CreateSchema, CreateTable

        from . import layout

        statements: list[Any] = []
        if self.table.schema and self.adapter.creates_schemas:
            statements.append(CreateSchema(self.table.schema, if_not_exists=True))
        for table in self.table.metadata.sorted_tables:
            statements.append(CreateTable(table))
            statements += [CreateIndex(index) for index in sorted(table.indexes, key=lambda i: str(i.name))]
        statements.append(insert(self.table.layout).values(version=layout.CURRENT))
        parts = ["", "-- uno-migrations' version tables"]
        for statement in statements:
            compiled = statement.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
            parts.append(self.adapter.script_statement(str(compiled)))
        self.script.parts += parts

    def migration(self, migration: Migration, statements: Sequence[str] | None, problem: str | None) -> None:
        """One migration's block: its statements (None with the ``problem`` that kept them from
        being written out) and its version rows, in a transaction where it runs in one."""
        base = migration.base
        direction = self.script.direction
        self.script.ids.append(migration.id)
        kind = base.kind or "sql"
        title = f"{migration.id} ({kind})" + (
            f": {base.name}" if base.name and base.name != migration.id else ""
        )
        parts = ["", f"-- {'Apply' if direction == 'up' else 'Revert'} {title}"]
        if statements is None:
            self.script.unrendered.append((migration.id, problem or "cannot be written out"))
            parts.append(
                _comment(f"NOT WRITTEN OUT: {migration.id} {problem}; give --scratch-url to run it there")
            )
            self.script.parts += parts
            return
        recorder = self._recorder()
        if direction == "up":
            rows = self.table.record_statements(
                self._stand_in,
                base,
                action="apply",
                execution_ms=0,
                actor=self.actor,
                existing=False,
            )
        else:
            rows = self.table.remove_statements(
                self._stand_in,
                migration.id,
                action="revert",
                execution_ms=0,
                actor=self.actor,
            )
        for sql, args in rows:
            recorder.add(sql, args)
        transactional = base.transactional
        own = [sql for sql in statements if sql.strip()]
        self.script.statements[migration.id] = own
        if transactional:
            self.script.transactional.add(migration.id)
            parts.append(self.adapter.script_begin)
        parts += [self.adapter.script_statement(sql) for sql in own]
        parts += [self.adapter.script_statement(sql) for sql in recorder.statements]
        if transactional:
            parts.append("COMMIT;")
        self.script.parts += parts


async def written_out(
    migration: Migration, direction: Direction, adapter: DialectAdapter, dialect: Dialect, url: URL
) -> tuple[list[str] | None, str | None]:
    """The statements of ``migration`` (``direction``) written out without a database, or None
    and why it cannot be."""
    if isinstance(migration, SQLMigration):
        statements = migration.up_statements if direction == "up" else migration.down_statements or []
        return [statement.text for statement in statements], None
    context = OfflineContext(adapter, dialect, url, Attempt(migration, direction))
    try:
        if direction == "up":
            await migration.apply(context)
        else:
            await migration.revert(context)
    except OfflineError as exc:
        return None, str(exc)
    except MigrationError:
        raise
    except Exception as exc:  # the migration's own error, in a mode it may not have expected
        return None, f"failed when written out: {type(exc).__name__}: {exc}"
    return context.recorder.statements, None

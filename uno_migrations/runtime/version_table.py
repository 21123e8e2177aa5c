"""The two version tables, as SQLAlchemy Core tables, and every read and write of them.

``<table>`` holds one row per applied (or failed) migration; ``<table>_log`` is the append-only
history of what happened. All SQL here is SQLAlchemy Core: portable, quoted, parameters bound.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.schema import CreateSchema

from ..dialects import DialectAdapter, adapter_class, portable_timestamp
from ..dialects.base import DriverSQL, Script
from ..files.migration import MigrationBase
from . import layout
from .compiled import DriverStatement
from .records import (
    ACTIONS,
    AppliedMigration,
    LogEntry,
    aware,
    row_of,
    timestamp_of,
    utcnow,
    validate_identifier,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

#: The version table's statements, as they go to the driver, at DEBUG (``-vvv`` shows them).
sql_log = logging.getLogger("uno_migrations.sql")
log = logging.getLogger(__name__)


class VersionTable:
    """The version table ``name`` and its log ``name_log``, in ``schema`` when given."""

    def __init__(
        self, name: str = "uno_migrations", schema: str | None = None, dialect: str | None = None
    ) -> None:
        self.name = validate_identifier(name, "table")
        self.schema = None if schema is None else validate_identifier(schema, "schema")
        self.metadata = MetaData(schema=self.schema)
        #: The engine's capabilities (column types, the upsert) until :meth:`on` gives the table
        #: the run's own adapter, through which a run reads and writes it.
        self.adapter: DialectAdapter = adapter_class(dialect)() if dialect else DialectAdapter()
        timestamp = self.adapter.timestamp_type() if dialect else portable_timestamp()
        self.migrations = Table(
            self.name,
            self.metadata,
            Column("id", String(255), primary_key=True),
            Column("name", String(255), nullable=False),
            Column("description", Text, nullable=False),
            Column("kind", String(16), nullable=False),
            Column("checksum", String(128), nullable=False),
            Column("status", String(16), nullable=False),
            Column("statements_done", Integer, nullable=False),
            Column("applied_at", timestamp, nullable=False),
            Column("execution_ms", Integer, nullable=False),
            Column("applied_by", String(255), nullable=False),
        )
        self.layout = layout.layout_table(self.name, self.metadata)
        self.log = Table(
            f"{self.name}_log",
            self.metadata,
            Column("seq", Integer, primary_key=True, autoincrement=True),
            Column("migration_id", String(255), nullable=False, index=True),
            Column("action", String(16), nullable=False),
            Column("at", timestamp, nullable=False),
            Column("execution_ms", Integer, nullable=True),
            Column("checksum", String(128), nullable=True),
            Column("actor", String(255), nullable=False),
        )

        # Every write (and the re-check of one row) is compiled once per dialect by SQLAlchemy
        # and run on the driver: a migration's bookkeeping then costs what the driver costs,
        # one round trip (one trip to aiosqlite's thread) a statement. The log's insert is
        # inline: the new seq is not read back.
        t = self.migrations
        by_id = t.c.id == bindparam("mid")
        row_keys = [c.key for c in t.columns]
        self._statements: dict[str, tuple[Any, list[str] | None]] = {
            "status_of": (select(t.c.status).where(by_id), None),
            "read_all": (select(t).order_by(t.c.applied_at, t.c.id), None),
            "insert_row": (insert(t), row_keys),
            "update_row": (update(t).where(by_id), [k for k in row_keys if k != "id"]),
            "delete_row": (delete(t).where(by_id), None),
            "set_done": (update(t).where(by_id).values(statements_done=bindparam("done")), None),
            "set_checksum": (update(t).where(by_id).values(checksum=bindparam("value")), None),
            "insert_log": (insert(self.log).inline(), [c.key for c in self.log.columns if c.key != "seq"]),
        }
        self._compiled: dict[tuple[Any, ...], dict[str, DriverStatement]] = {}

    async def exists(self, connection: AsyncConnection) -> bool:
        return await connection.run_sync(lambda c: inspect(c).has_table(self.name, schema=self.schema))

    async def alembic_manages(self, connection: AsyncConnection) -> bool:
        """Whether Alembic's version table is in this table's schema (asked on a first run)."""

        def has_it(sync: Any) -> bool:
            return bool(inspect(sync).has_table("alembic_version", schema=self.schema))

        return await connection.run_sync(has_it)

    async def create(self, connection: AsyncConnection) -> None:
        """Create the tables (and the schema, where the engine has them) when missing, with
        the current layout."""

        def create(sync: Any) -> None:
            if self.schema and self.adapter.creates_schemas:
                sync.execute(CreateSchema(self.schema, if_not_exists=True))
            self.metadata.create_all(sync, checkfirst=True)

        await connection.run_sync(create)
        await layout.write_version(connection, self.layout)

    async def layout_version(self, connection: AsyncConnection) -> int:
        """The layout of the existing tables; one newer than this release's is refused."""
        found = await layout.read_version(connection, self.layout)
        layout.check(self.name, found)
        return found

    def on(self, adapter: DialectAdapter) -> VersionTable:
        """This table as a run uses it: through the run's own ``adapter`` (the one holding its
        connection's state), sharing the statements compiled once for all runs."""
        bound = copy.copy(self)
        bound.adapter = adapter
        return bound

    async def upgrade_layout(self, connection: AsyncConnection, found: int) -> None:
        """Upgrade the existing tables from layout ``found`` to the current one."""
        for version in await layout.upgrade(connection, self.layout, found):
            log.info("upgraded the layout of %s to %d", self.name, version)

    async def read(self, connection: AsyncConnection) -> dict[str, AppliedMigration]:
        """Every row, in the order they were applied."""
        sql, args = self._prepare(connection, "read_all", {})
        rows = await self.adapter.fetch_all(connection, sql, args)
        return {
            r[0]: AppliedMigration(r[0], r[1], r[2], r[3], r[4], r[5], r[6], timestamp_of(r[7]), r[8], r[9])
            for r in rows
        }

    def _driver_statement(self, connection: AsyncConnection, name: str) -> DriverStatement:
        dialect = connection.dialect
        # Per kind of dialect, not per dialect object: each run may make a new engine.
        key = (type(dialect), dialect.name, dialect.paramstyle, dialect.server_version_info)
        compiled = self._compiled.get(key)
        if compiled is None:
            statements = dict(self._statements)
            if self.adapter.announces_attempts:
                statements["record_and_announce"] = (self.adapter.announce_statement(self.migrations), None)
            compiled = self._compiled[key] = {
                statement_name: DriverStatement.compile(statement, dialect, keys)
                for statement_name, (statement, keys) in statements.items()
            }
        return compiled[name]

    def _prepare(self, connection: AsyncConnection, name: str, values: Mapping[str, Any]) -> DriverSQL:
        statement = self._driver_statement(connection, name)
        args = statement.args(values)
        if sql_log.isEnabledFor(logging.DEBUG):
            sql_log.debug("%s %r", statement.sql, args)
        return statement.sql, args

    def script(
        self,
        connection: AsyncConnection,
        base: MigrationBase,
        statements: list[str],
        *,
        actor: str,
        check: bool,
        starting: Callable[[int, str], None],
        body: Callable[[Any], None] | None = None,
        written: Callable[[], bool] | None = None,
    ) -> Script:
        """``statements`` (or ``body``) with the bookkeeping of applying ``base``, for an adapter
        to run whole. ``written``: tells, once the body has run, whether it wrote the
        migration's row (a write-ahead row, where DDL commits implicitly)."""

        def record(ms: int) -> list[DriverSQL]:
            existing = written() if written is not None else False
            return self.record_statements(
                connection, base, action="apply", execution_ms=ms, actor=actor, existing=existing
            )

        check_sql = self.status_query(connection, base.id or "") if check else None
        return Script(statements, check_sql, record, starting, body)

    async def _run(self, connection: AsyncConnection, name: str, values: Mapping[str, Any]) -> None:
        await self.adapter.execute_batch(connection, [self._prepare(connection, name, values)])

    def status_query(self, connection: AsyncConnection, migration_id: str) -> DriverSQL:
        """The compiled query for the status of one migration (None when it has no row)."""
        return self._prepare(connection, "status_of", {"mid": migration_id})

    async def record(
        self,
        connection: AsyncConnection,
        base: MigrationBase,
        *,
        action: str | None,
        execution_ms: int,
        actor: str,
        status: str = "applied",
        statements_done: int = 0,
        existing: bool | None = None,
        announce: MigrationBase | None = None,
    ) -> None:
        """Write the migration's row and append ``action`` (if any) to the log.

        ``existing``: True when the row is known to exist (it is updated), False when it is
        known not to (it is inserted), None when unknown (any row is deleted first).
        ``announce`` (where the adapter ``announces_attempts``, with an existing row): the next
        migration, whose write-ahead row (``failed``, no statements done) the same statement
        inserts.
        """
        statements = self.record_statements(
            connection,
            base,
            action=action,
            execution_ms=execution_ms,
            actor=actor,
            status=status,
            statements_done=statements_done,
            existing=existing,
            announce=announce,
        )
        await self.adapter.execute_batch(connection, statements)

    def record_statements(
        self,
        connection: AsyncConnection,
        base: MigrationBase,
        *,
        action: str | None,
        execution_ms: int,
        actor: str,
        status: str = "applied",
        statements_done: int = 0,
        existing: bool | None = None,
        announce: MigrationBase | None = None,
    ) -> list[DriverSQL]:
        now = utcnow()
        row = row_of(base, status, statements_done, now, execution_ms, actor)
        if announce is not None:  # the upsert inserts this row or updates it, as the case may be
            attempt = row_of(announce, "failed", 0, now, 0, actor)
            values = {f"{key}_1": value for key, value in row.items()}
            values.update((f"{key}_2", value) for key, value in attempt.items())
            statements = [self._prepare(connection, "record_and_announce", values)]
        elif existing:
            statements = [self._prepare(connection, "update_row", row | {"mid": base.id})]
        else:
            statements = []
            if existing is None:
                statements.append(self._prepare(connection, "delete_row", {"mid": base.id}))
            statements.append(self._prepare(connection, "insert_row", row))
        if action is not None:
            entry = (base.id or "", action, actor, execution_ms, base.checksum, now)
            statements.append(self._log_statement(connection, *entry))
        return statements

    def attempt_statements(
        self, connection: AsyncConnection, base: MigrationBase, actor: str, done: int, existing: bool
    ) -> list[DriverSQL]:
        """The statements that record an attempt at ``base`` as ``failed`` (a write-ahead row)."""
        return self.record_statements(
            connection,
            base,
            action=None,
            execution_ms=0,
            actor=actor,
            status="failed",
            statements_done=done,
            existing=existing,
        )

    async def set_statements_done(self, connection: AsyncConnection, migration_id: str, done: int) -> None:
        await self._run(connection, "set_done", {"mid": migration_id, "done": done})

    async def forget(self, connection: AsyncConnection, migration_id: str) -> None:
        """Delete a row without logging (a write-ahead row of an attempt that changed nothing)."""
        await self._run(connection, "delete_row", {"mid": migration_id})

    async def remove(
        self, connection: AsyncConnection, migration_id: str, *, action: str, execution_ms: int, actor: str
    ) -> None:
        """Delete the migration's row (a revert, an unmark, a forgotten failure) and log it."""
        statements = self.remove_statements(
            connection, migration_id, action=action, execution_ms=execution_ms, actor=actor
        )
        await self.adapter.execute_batch(connection, statements)

    def remove_statements(
        self, connection: AsyncConnection, migration_id: str, *, action: str, execution_ms: int, actor: str
    ) -> list[DriverSQL]:
        """The statements of :meth:`remove`."""
        delete_row = self._prepare(connection, "delete_row", {"mid": migration_id})
        return [delete_row, self._log_statement(connection, migration_id, action, actor, execution_ms, None)]

    async def set_checksums(
        self, connection: AsyncConnection, checksums: Iterable[tuple[str, str]], actor: str
    ) -> None:
        for migration_id, value in checksums:
            update_row = self._prepare(connection, "set_checksum", {"mid": migration_id, "value": value})
            log = self._log_statement(connection, migration_id, "repair", actor, None, value)
            await self.adapter.execute_batch(connection, [update_row, log])

    async def append_log(
        self,
        connection: AsyncConnection,
        migration_id: str,
        action: str,
        actor: str,
        execution_ms: int | None,
        checksum: str | None,
    ) -> None:
        log = self._log_statement(connection, migration_id, action, actor, execution_ms, checksum)
        await self.adapter.execute_batch(connection, [log])

    def _log_statement(
        self,
        connection: AsyncConnection,
        migration_id: str,
        action: str,
        actor: str,
        execution_ms: int | None,
        checksum: str | None,
        at: datetime | None = None,
    ) -> DriverSQL:
        assert action in ACTIONS, action
        entry = {
            "migration_id": migration_id,
            "action": action,
            "at": at or utcnow(),
            "execution_ms": execution_ms,
            "checksum": checksum,
            "actor": actor[:255],
        }
        return self._prepare(connection, "insert_log", entry)

    async def layout_problem(self, connection: AsyncConnection) -> str | None:
        """Why an existing table of this name is not a version table uno can use, or None."""
        if connection.in_transaction():
            await connection.rollback()  # the failed read ended the transaction on some engines

        def columns(sync: Any) -> dict[str, set[str]]:
            inspector = inspect(sync)
            return {
                table.name: {c["name"] for c in inspector.get_columns(table.name, schema=self.schema)}
                if inspector.has_table(table.name, schema=self.schema)
                else set()
                for table in (self.migrations, self.log)
            }

        found = await connection.run_sync(columns)
        for table in (self.migrations, self.log):
            missing = sorted({c.name for c in table.columns} - found[table.name])
            if missing:
                return (
                    f"table {table.name} is not a version table of uno-migrations (no column "
                    f"{', '.join(missing)}); choose another name with --table"
                )
        return None

    async def describe_state(self, connection: AsyncConnection, migration_id: str) -> str:
        """Where one migration stands, in words (read after a run lost its connection)."""
        t = self.migrations
        query = select(t.c.status, t.c.statements_done).where(t.c.id == migration_id)
        row = (await connection.execute(query)).first()
        if row is None:
            return "is not applied"
        if row.status == "applied":
            return "is applied"
        return f"is recorded as {row.status} after {row.statements_done} statement(s)"

    async def history(self, connection: AsyncConnection) -> list[LogEntry]:
        t = self.log
        rows = (await connection.execute(select(t).order_by(t.c.seq))).all()
        return [
            LogEntry(
                seq=row.seq,
                migration_id=row.migration_id,
                action=row.action,
                at=aware(row.at),
                execution_ms=row.execution_ms,
                checksum=row.checksum,
                actor=row.actor,
            )
            for row in rows
        ]

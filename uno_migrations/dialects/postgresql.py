"""PostgreSQL (asyncpg): transactional DDL, a session advisory lock on a dedicated connection."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from ..errors import LockTimeoutError
from ..sql.syntax import SQLSyntax
from . import postgresql_statements as pg_statements
from .base import (
    WAIT_NOTICE,
    DialectAdapter,
    DriverSQL,
    OnWait,
    RowStream,
    RunLock,
    Script,
    SessionLock,
    URLParameterError,
    walk_causes,
)
from .postgresql_statements import ServerElapsed

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The lock's key is a 64-bit hash of the version table's name as the server resolves it: a run
# given --schema public and one given no schema (search_path's public) take the same lock.
_TRY_LOCK = (
    "SELECT pg_try_advisory_lock(k), k, pg_backend_pid() FROM (SELECT hashtextextended("
    "COALESCE($1::text, current_schema()::text, '') || '.' || $2::text, 0) AS k) AS lock_key"
)
_HOLDER = (
    "SELECT a.pid, a.usename, a.application_name, a.client_addr "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1"
)
# Server settings for the run's session (PostgreSQL 14 and later): the server checks every
# second that the client is still there while a statement runs, and cancels the statement if
# not, so a killed run's migration (sent whole, as one query) is rolled back within a second
# instead of running on, and committing, after its client and its lock are gone. Keepalives
# find a peer that vanished without closing its socket.
_SESSION_SETTINGS = (
    "SELECT set_config('client_connection_check_interval', '1000', false), "
    "set_config('tcp_keepalives_idle', '10', false), "
    "set_config('tcp_keepalives_interval', '5', false), "
    "set_config('tcp_keepalives_count', '3', false)"
)


# The session's lock waits: what they were, and the new values (milliseconds, 0: none).
_SET_WAITS = (
    "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), "
    "set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)"
)
_RESTORE_WAITS = "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)"
# Who the session $1 waits behind.
_BLOCKERS = (
    "SELECT pid, usename, application_name, EXTRACT(EPOCH FROM now() - xact_start)::integer, "
    "state, LEFT(query, 200) FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids($1)) ORDER BY xact_start"
)


def _ms(seconds: float | None) -> str:
    return "0" if seconds is None else str(max(1, round(seconds * 1000)))


def _blocker(pid: int, user: str, application: str, open_for: int | None, state: str, query: str) -> str:
    app = f", application {application}" if application else ""
    age = f", transaction open {open_for} s" if open_for is not None else ""
    return f"pid {pid} (user {user}{app}{age}, {state}): {' '.join((query or '').split())}"


class _PostgreSQLStream:
    def __init__(self, cursor: Any, mutex: Any, dbapi_error: Callable[[Exception], BaseException]) -> None:
        self.keys: Sequence[str] = ()
        self._cursor = cursor
        self._mutex = mutex
        self._dbapi_error = dbapi_error

    async def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        async with self._mutex:  # SQLAlchemy's guard against two calls at once on the connection
            try:
                rows = await self._cursor.fetch(size)
            except Exception as exc:
                raise self._dbapi_error(exc) from exc
        if rows and not self.keys:
            self.keys = list(rows[0].keys())
        return rows  # type: ignore[no-any-return]

    async def close(self) -> None:
        """asyncpg closes the cursor's portal with the transaction."""


_OPTION = re.compile(r"(?:-c\s*|--)([A-Za-z_][\w.]*)=((?:\\.|[^\s\\])*)")


# The dialects that listen for the statements of runs (see PostgreSQLAdapter.attached).
_listening: WeakSet[Any] = WeakSet()


class PostgreSQLAdapter(DialectAdapter):
    name = "postgresql"
    aliases = ("postgres",)
    syntax = SQLSyntax(
        escape_strings=True,
        dollar_quotes=True,
        nested_block_comments=True,
        parenthesised_semicolons=True,
    )
    async_driver = "asyncpg"
    sync_drivers = frozenset({"psycopg2", "psycopg", "pg8000"})
    title = "PostgreSQL"
    creates_schemas = True
    paramstyle = "numeric_dollar"
    transactional_ddl = True
    bounds_lock_waits = True

    @classmethod
    def connect_args(cls, url: URL) -> tuple[URL, dict[str, Any]]:
        # libpq's options parameter (?options=-csearch_path%3Dapp), which psycopg2 users put in
        # their URLs and asyncpg does not take, becomes asyncpg's server_settings.
        options = url.query.get("options")
        if url.get_driver_name() != cls.async_driver or options is None:
            return url, {}
        text = " ".join(options) if isinstance(options, tuple) else options
        settings = {name: re.sub(r"\\(.)", r"\1", value) for name, value in _OPTION.findall(text)}
        if not settings or _OPTION.sub("", text).strip():
            raise URLParameterError("options", "give settings as -c name=value (options=-csearch_path%3Dapp)")
        return url.difference_update_query(["options"]), {"server_settings": settings}

    @asynccontextmanager
    async def attached(self, connection: AsyncConnection) -> AsyncIterator[None]:
        """The statements SQLAlchemy sends for the run (an Alembic revision's, a migration's own
        Core statements) as psycopg2 runs them, where asyncpg differs (postgresql_statements.py)."""
        dialect = connection.dialect
        if dialect.driver != self.async_driver:
            yield
            return
        if dialect not in _listening:
            from sqlalchemy import event

            event.listen(dialect, "do_execute", functools.partial(pg_statements.execute, self.syntax))
            event.listen(
                dialect, "do_executemany", functools.partial(pg_statements.execute_many, self.syntax)
            )
            _listening.add(dialect)
        driver = (await self.raw_connection(connection)).driver_connection
        with pg_statements.attached(driver):
            yield

    script_client = "psql -v ON_ERROR_STOP=1 -f FILE"

    def drop_database_sql(self, quoted: str) -> str:
        return f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"  # a run's connection may linger

    def copy_database_sql(self, quoted: str, template: str) -> str:
        return f"CREATE DATABASE {quoted} TEMPLATE {template}"

    def bytes_literal(self, value: bytes) -> str:
        return f"'\\x{value.hex()}'::bytea"

    async def prepare(self, connection: AsyncConnection, lock_timeout: float) -> None:
        if (connection.dialect.server_version_info or (0,)) >= (14,):
            await connection.exec_driver_sql(_SESSION_SETTINGS)
            await connection.commit()

    async def lock(
        self,
        connection: AsyncConnection,
        table: str,
        schema: str | None,
        timeout: float,
        on_wait: OnWait | None = None,
    ) -> RunLock:
        # A session lock on the run's own connection: it outlives the per-migration
        # transactions, ends with the session (a killed run never leaves it behind), and cannot
        # be lost while the migrations go on, since they run in that same session.
        began = not connection.in_transaction()
        started = time.monotonic()
        deadline = started + timeout
        delay = 0.05
        while True:
            result = await connection.exec_driver_sql(_TRY_LOCK, (schema, table))
            row: Any = result.one()
            got, key, pid = row
            if began:
                await connection.commit()
            if got:
                return SessionLock(connection, self, pid, ("SELECT pg_advisory_unlock($1)", (key,)))
            now = time.monotonic()
            if now >= deadline or (on_wait is not None and now - started >= WAIT_NOTICE):
                holder = await self._holder(connection, key)
                if began:
                    await connection.commit()
                if now >= deadline:
                    raise LockTimeoutError(timeout, holder)
                if on_wait is not None:
                    on_wait(holder)
                    on_wait = None
            await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
            delay = min(delay * 2, 0.5)

    async def _holder(self, connection: AsyncConnection, key: int) -> str | None:
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        result = await connection.exec_driver_sql(_HOLDER, (unsigned >> 32, unsigned & 0xFFFFFFFF))
        row: Any = result.first()
        if row is None:
            return None
        pid, user, app, addr = row
        where = f" from {addr}" if addr else ""
        application = f" ({app})" if app else ""
        return f"PostgreSQL backend pid {pid}, user {user}{application}{where}"

    def driver_closed(self, driver: Any) -> bool:
        is_closed = getattr(driver, "is_closed", None)
        return bool(is_closed()) if is_closed is not None else False

    async def session_gone(self, engine: AsyncEngine, session_id: int, wait: float) -> bool:
        deadline = time.monotonic() + wait
        async with engine.connect() as connection:
            while True:
                result = await connection.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", (session_id,)
                )
                if not result.scalar():
                    return True
                await connection.rollback()
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(0.1)

    @asynccontextmanager
    async def _driver(self, connection: AsyncConnection) -> AsyncIterator[Any]:
        """asyncpg's connection, inside the transaction SQLAlchemy has begun on it.

        SQLAlchemy begins asyncpg's transaction lazily, on the first statement, so it is begun
        here first, under the adapter's own lock. Without that adapter: None (the portable path).
        """
        raw = await self.raw_connection(connection)
        adapted = raw.dbapi_connection
        start = getattr(adapted, "_start_transaction", None)
        mutex = getattr(adapted, "_execute_mutex", None)
        driver = raw.driver_connection
        if start is None or mutex is None or not hasattr(adapted, "_transaction") or driver is None:
            yield None
            return
        async with mutex:
            if getattr(adapted, "_transaction", None) is None:
                await start()
            yield driver

    @asynccontextmanager
    async def reader(
        self, connection: AsyncConnection, in_transaction: bool
    ) -> AsyncIterator[AsyncConnection]:
        if in_transaction:
            yield connection
            return
        # PostgreSQL keeps a cursor only inside a transaction, and a migration outside one
        # (transactional = False) commits each statement as it runs: the stream gets a
        # connection and a transaction of its own, which sees what the migration committed.
        async with connection.engine.connect() as reader, reader.begin():
            yield reader

    async def run_statement(self, connection: AsyncConnection, sql: str) -> None:
        # A statement of an SQL migration has no parameters and no result: asyncpg's simple
        # query protocol sends it in one round trip, where a prepared statement takes two.
        async with self._driver(connection) as driver:
            if driver is not None:
                await driver.execute(sql)
                return
        await super().run_statement(connection, sql)

    async def run_script(self, connection: AsyncConnection, script: Script) -> str | None:
        # The whole migration as one simple query, BEGIN to COMMIT, version rows included: one
        # round trip where the step-by-step path takes one per statement. A failure rolls it
        # all back and returns None: the runner then runs it again statement by statement,
        # which names the statement that fails (PostgreSQL does not say which one of many did).
        if script.body is not None:
            return await super().run_script(connection, script)
        if connection.in_transaction() or script.check is not None:
            return None
        record = [self._inline(statement) for statement in script.record(ServerElapsed(0))]
        raw = await self.raw_connection(connection)
        driver = raw.driver_connection
        if any(sql is None for sql in record) or driver is None or driver.is_in_transaction():
            return None
        for index, sql in enumerate(script.statements):
            script.starting(index, sql)
        query = ";\n".join(["BEGIN", *script.statements, *record, "COMMIT"])  # type: ignore[list-item]
        try:
            await driver.execute(query)
        except Exception as exc:
            if driver.is_closed():  # lost: running it again step by step would reconnect
                from sqlalchemy.exc import DBAPIError

                raise DBAPIError.instance(None, None, exc, Exception, connection_invalidated=True) from exc
            if driver.is_in_transaction():
                await driver.execute("ROLLBACK")
            return None
        return "applied"

    def _run_body(self, sync: Connection, connection: AsyncConnection, script: Script) -> str:
        """A script's ``body`` with its version rows, in one call through SQLAlchemy's greenlet
        (the step-by-step path takes one per step) and three round trips: BEGIN, the body's own
        statements, then the version rows with COMMIT as one simple query (SQLAlchemy's
        transaction would send its BEGIN and COMMIT alone, and the rows in a third).

        The body's statements go through SQLAlchemy as ever, with the driver connection's
        ``autocommit`` set for the call so that SQLAlchemy begins no transaction of its own
        around them: they run in the one begun here. On another driver, the general way.
        """
        from ..connections import await_

        body = script.body
        assert body is not None
        raw = sync.connection
        adapted, driver = raw.dbapi_connection, raw.driver_connection
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        if sync.dialect.driver != "asyncpg" or adapted is None or driver is None or adapted.autocommit:
            return super()._run_body(sync, connection, script)
        adapted.autocommit = True
        try:
            await_(driver.execute("BEGIN"))
            try:
                with sync.begin():  # SQLAlchemy's own account of the transaction: sends nothing
                    body(sync)
                statements = script.record(elapsed())
                inlined = [self._inline(statement) for statement in statements]
                if all(sql is not None for sql in inlined):
                    await_(driver.execute(";\n".join([*inlined, "COMMIT"])))  # type: ignore[list-item]
                else:
                    for sql, args in statements:
                        await_(driver.execute(sql, *args))
                    await_(driver.execute("COMMIT"))
            except BaseException:
                if driver.is_in_transaction():
                    await_(driver.execute("ROLLBACK"))
                raise
        finally:
            adapted.autocommit = False
        return "applied"

    async def execute_batch(self, connection: AsyncConnection, statements: Sequence[DriverSQL]) -> None:
        # Several statements (the version row and its log row) as one simple query, one round
        # trip, when their values can be written in as literals; else each as a prepared
        # statement, which asyncpg keeps: one round trip each from the second time on.
        inlined = [self._inline(statement) for statement in statements] if len(statements) > 1 else []
        async with self._driver(connection) as driver:
            if driver is not None:
                if inlined and all(sql is not None for sql in inlined):
                    await driver.execute(";\n".join(inlined))  # type: ignore[arg-type]
                else:
                    for sql, args in statements:
                        await driver.execute(sql, *args)
                return
        await super().execute_batch(connection, statements)

    def _inline(self, statement: DriverSQL) -> str | None:
        """One of uno's own statements with its values written in, or None (see
        :func:`.postgresql_statements.record_literal`)."""
        return pg_statements.inlined(*statement, self.syntax, pg_statements.record_literal)

    async def fetch_all(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
        async with self._driver(connection) as driver:
            if driver is not None:
                return list(await driver.fetch(sql, *args))
        return await super().fetch_all(connection, sql, args)

    async def open_stream(
        self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]
    ) -> RowStream | None:
        # An asyncpg cursor in the migration's transaction: each batch is one FETCH, and the
        # rows come as asyncpg's records, without SQLAlchemy's buffering of them one by one.
        raw = await self.raw_connection(connection)
        adapted = raw.dbapi_connection
        mutex = getattr(adapted, "_execute_mutex", None)
        dbapi = connection.dialect.loaded_dbapi
        # The dialect's translation of asyncpg's errors (it raises): a class method since
        # SQLAlchemy 2.1, the connection's own method in 2.0.
        per_class = getattr(type(adapted), "_handle_exception_no_connection", None)
        translate: Callable[[Exception], Any] | None = getattr(adapted, "_handle_exception", None)
        if per_class is not None:
            translate = functools.partial(per_class, dbapi)
        if translate is None or mutex is None:
            return None

        from sqlalchemy.exc import DBAPIError

        def dbapi_error(error: Exception) -> BaseException:
            # The error SQLAlchemy raises for the same failure: DBAPIError (ProgrammingError, ...)
            # around the dialect's own translation of asyncpg's.
            try:
                translate(error)
            except Exception as translated:
                return DBAPIError.instance(sql, args, translated, dbapi.Error)
            return error

        async with self._driver(connection) as driver:
            if driver is None or not driver.is_in_transaction():
                return None  # outside a transaction asyncpg has no cursor
            try:
                cursor = await driver.cursor(sql, *args)
            except Exception as exc:
                raise dbapi_error(exc) from exc
        return _PostgreSQLStream(cursor, mutex, dbapi_error)

    def hint(self, error: BaseException) -> str | None:
        if any(getattr(cause, "sqlstate", None) == "25001" for cause in walk_causes(error)):
            # active_sql_transaction: CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE
            return (
                "mark the migration '-- Transactional: false' (SQL) or 'transactional = False' "
                "(Python) to run it outside a transaction"
            )
        return None

    async def set_lock_waits(
        self, connection: AsyncConnection, timeout: float | None, statement_timeout: float | None
    ) -> Any:
        # One round trip: the settings as they are, and the new ones, for the session (false).
        row = (await connection.exec_driver_sql(_SET_WAITS, (_ms(timeout), _ms(statement_timeout)))).one()
        return tuple(row[:2])

    async def restore_lock_waits(self, connection: AsyncConnection, previous: Any) -> None:
        await connection.exec_driver_sql(_RESTORE_WAITS, tuple(previous))

    def is_lock_timeout(self, error: BaseException) -> bool:
        return any(getattr(cause, "sqlstate", None) == "55P03" for cause in walk_causes(error))

    async def blockers(self, engine: AsyncEngine, session_id: int) -> list[str]:
        async with engine.connect() as connection:
            rows: list[Any] = list((await connection.exec_driver_sql(_BLOCKERS, (session_id,))).all())
            await connection.rollback()
        return [_blocker(*row) for row in rows]

    # lint --observe: a rewrite gives a table (and each index) a new relfilenode, which its
    # session sees before it commits; pg_locks shows every session's locks, by object id.
    storage_name = "relfilenode"

    async def storage(self, connection: AsyncConnection) -> dict[str, tuple[str, str, str]]:
        rows: Any = await connection.exec_driver_sql(
            "SELECT c.oid::bigint, CASE WHEN n.nspname = current_schema() THEN c.relname "
            "ELSE n.nspname || '.' || c.relname END, c.relkind IN ('i', 'I'), c.relfilenode::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I') AND n.nspname <> 'information_schema' "
            "AND n.nspname NOT LIKE 'pg\\_%'"
        )
        return {str(oid): (name, "index" if index else "table", str(node)) for oid, name, index, node in rows}

    async def locks_unseen(self, connection: AsyncConnection) -> str | None:
        return None

    async def session_locks(self, connection: AsyncConnection, session_id: int) -> set[tuple[str, str]]:
        rows: Any = await connection.exec_driver_sql(
            "SELECT relation::bigint, mode FROM pg_locks WHERE pid = $1 AND locktype = 'relation' "
            "AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (session_id,),
        )
        # pg_locks says AccessExclusiveLock where the manual (and its error messages) say ACCESS EXCLUSIVE
        return {
            (str(oid), re.sub(r"(?<=[a-z])(?=[A-Z])", " ", mode.removesuffix("Lock")).upper())
            for oid, mode in rows
        }

    def error_position(self, error: BaseException) -> int | None:
        for cause in walk_causes(error):
            position = getattr(cause, "position", None)
            if position:
                try:
                    return int(position)
                except (TypeError, ValueError):
                    return None
        return None

    def schema_objects(
        self, sync_connection: Connection, schema: str | None, ignored_tables: Collection[str] = ()
    ) -> dict[str, Any]:
        """The schema's enum types (labels in their order) and sequences, by name; a sequence a
        table of ``ignored_tables`` owns (its serial or identity column's) is left out."""
        from sqlalchemy import inspect, text

        inspector: Any = inspect(sync_connection)
        enums = [
            {"name": enum["name"], "labels": list(enum["labels"])}
            for enum in inspector.get_enums(schema=schema)
        ]
        owned = sync_connection.execute(text(_OWNED_SEQUENCES), {"schema": schema})
        owners = {sequence: table for sequence, table in owned}
        names = inspector.get_sequence_names(schema=schema)
        sequences = sorted(name for name in names if owners.get(name) not in ignored_tables)
        return {"enums": sorted(enums, key=lambda enum: enum["name"]), "sequences": sequences}

    def snapshot_default(self, default: str) -> str:
        """A literal's cast is taken off (``'anon'::character varying`` is ``'anon'``): the
        column's type already says it."""
        cast = _CAST_LITERAL.fullmatch(default)
        return default if cast is None else cast["literal"]

    async def read_sync(self, connection: AsyncConnection, read: Callable[[Connection], Any]) -> Any:
        # A reading needs no transaction of its own (each statement sees what is committed, as in
        # one at READ COMMITTED): in autocommit, asyncpg sends no BEGIN and no ROLLBACK around
        # it, two of the three round trips of a snapshot of a schema the reader knows.
        if connection.in_transaction() or connection.dialect.driver != self.async_driver:
            return await super().read_sync(connection, read)
        driver = (await self.raw_connection(connection)).dbapi_connection
        previous = driver.autocommit  # type: ignore[union-attr]
        driver.autocommit = True  # type: ignore[union-attr]
        try:
            return await super().read_sync(connection, read)
        finally:
            driver.autocommit = previous  # type: ignore[union-attr]

    def schema_fingerprints(
        self, sync_connection: Connection, schema: str | None
    ) -> tuple[dict[str, str], str] | None:
        # One query: each table of the schema (the tables the inspector lists) as the catalog
        # describes it (columns with type, default, identity sequence, collation, comment;
        # constraints and indexes as PostgreSQL writes their definitions), and the rest, views
        # and sequences with their owners. Domains and enums go into every text: the inspector
        # takes a column's default and nullability from its domain. Records and arrays as text
        # (quoted, NULL told from empty), so that different catalogs never read the same.
        from sqlalchemy import text

        query = """
WITH shown AS (
    SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relpersistence <> 't' AND (
        CAST(:schema AS text) IS NULL AND pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'
        OR n.nspname = CAST(:schema AS text))
), types AS (
    SELECT CAST(array_agg(CAST(row(
        n.nspname, t.typname, t.typtype, pg_catalog.format_type(t.typbasetype, t.typtypmod),
        t.typnotnull, t.typdefault, t.typcollation,
        (SELECT array_agg(CAST(row(k.conname, pg_catalog.pg_get_constraintdef(k.oid, true)) AS text)
            ORDER BY k.conname) FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid),
        (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
            WHERE e.enumtypid = t.oid)) AS text) ORDER BY n.nspname, t.typname) AS text) AS description
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('d', 'e') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
)
SELECT s.relname, CAST(row(
    s.relkind, pg_catalog.obj_description(s.oid, 'pg_class'), types.description,
    (SELECT array_agg(CAST(row(
        a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
        a.attgenerated, a.attcollation, pg_catalog.pg_get_expr(d.adbin, d.adrelid), e.description,
        CASE WHEN a.attidentity <> '' THEN (
            SELECT array_agg(CAST(row(q.seqtypid, q.seqstart, q.seqincrement, q.seqmax, q.seqmin,
                q.seqcache, q.seqcycle) AS text) ORDER BY q.seqrelid)
            FROM pg_catalog.pg_depend p JOIN pg_catalog.pg_sequence q ON q.seqrelid = p.objid
            WHERE p.classid = 'pg_catalog.pg_class'::regclass
            AND p.refclassid = 'pg_catalog.pg_class'::regclass
            AND p.refobjid = s.oid AND p.refobjsubid = a.attnum AND p.deptype = 'i') END
        ) AS text) ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute a
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_catalog.pg_description e ON e.objoid = a.attrelid
            AND e.classoid = 'pg_catalog.pg_class'::regclass AND e.objsubid = a.attnum
        WHERE a.attrelid = s.oid AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT array_agg(CAST(row(
        k.conname, k.contype, pg_catalog.pg_get_constraintdef(k.oid, true), k.condeferrable,
        k.condeferred, k.convalidated, CAST(CAST(k.conindid AS regclass) AS text)) AS text)
        ORDER BY k.conname)
        FROM pg_catalog.pg_constraint k WHERE k.conrelid = s.oid),
    (SELECT array_agg(CAST(row(
        pg_catalog.pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary, i.indisvalid,
        i.indimmediate) AS text) ORDER BY x.relname)
        FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
        WHERE i.indrelid = s.oid)
    ) AS text)
FROM shown s, types WHERE s.relkind IN ('r', 'p')
UNION ALL
SELECT NULL, CAST(row(
    types.description,
    (SELECT array_agg(CAST(row(s.relname, s.relkind, pg_catalog.pg_get_viewdef(s.oid, true)) AS text)
        ORDER BY s.relname) FROM shown s WHERE s.relkind IN ('v', 'm')),
    (SELECT array_agg(CAST(row(n.nspname, q.relname,
        (SELECT array_agg(CAST(row(p.refobjid::regclass::text, p.refobjsubid, p.deptype) AS text)
            ORDER BY p.refobjid, p.refobjsubid)
            FROM pg_catalog.pg_depend p WHERE p.classid = 'pg_catalog.pg_class'::regclass
            AND p.objid = q.oid AND p.refclassid = 'pg_catalog.pg_class'::regclass)) AS text)
        ORDER BY n.nspname, q.relname)
        FROM pg_catalog.pg_class q JOIN pg_catalog.pg_namespace n ON n.oid = q.relnamespace
        WHERE q.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema'))
    ) AS text)
FROM types
"""
        tables: dict[str, str] = {}
        rest = ""
        for name, description in sync_connection.execute(text(query), {"schema": schema}):
            if name is None:
                rest = description
            else:
                tables[name] = description
        return tables, rest


#: A sequence of ``:schema`` (the current one when None), and the table that owns it.
_OWNED_SEQUENCES = """
SELECT s.relname, t.relname
FROM pg_class s
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S' AND n.nspname = COALESCE(:schema, current_schema())
"""
#: A string literal (or NULL) and its cast, as PostgreSQL writes a column's default.
_CAST_LITERAL = re.compile(r"(?P<literal>NULL|'(?:[^']|'')*')::[\w .\"\[\]]+", re.IGNORECASE | re.DOTALL)

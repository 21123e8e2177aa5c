"""MySQL and MariaDB (aiomysql): DDL commits implicitly; a named lock (GET_LOCK) per run."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import LockTimeoutError
from ..sql.syntax import SQLSyntax
from .base import WAIT_NOTICE, DialectAdapter, DriverSQL, OnWait, RunLock, SessionLock, walk_causes

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.types import TypeEngine

log = logging.getLogger(__name__)
_SAVEPOINTS = itertools.count(1)

# GET_LOCK names are server-wide and at most 64 characters: the digest of the version table's
# name as the server resolves it (the current database when no schema is given), so that every
# spelling of one table takes one lock.
_TRY_LOCK = (
    "SELECT GET_LOCK(n.name, %s), n.name, CONNECTION_ID() FROM (SELECT CONCAT('uno_migrations:', "
    "SHA1(CONCAT(COALESCE(%s, DATABASE(), ''), '/', %s))) AS name) AS n"
)
_HOLDER = "SELECT p.ID, p.USER, p.HOST FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(%s)"
# GET_LOCK takes its timeout in seconds; far larger values overflow and fail at once.
_LONGEST_WAIT = 365 * 24 * 3600
#: ER_LOCK_WAIT_TIMEOUT: a metadata lock or a row lock waited ``lock_wait_timeout`` for.
_LOCK_WAIT_TIMEOUT = 1205
_OPEN_TRANSACTIONS = (
    "SELECT p.ID, p.USER, p.HOST, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), p.COMMAND, "
    "LEFT(COALESCE(p.INFO, t.trx_query, ''), 200) FROM information_schema.INNODB_TRX t "
    "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
    "WHERE p.ID <> %s ORDER BY t.trx_started"
)


def _blocker(connection_id: int, user: str, host: str, open_for: int, command: str, query: str) -> str:
    state = "idle" if command == "Sleep" else command.lower()
    running = " ".join((query or "").split())
    return f"connection {connection_id} (user {user} from {host}, transaction open {open_for} s, {state})" + (
        f": {running}" if running else ""
    )


def _error_code(error: BaseException) -> object:
    args = getattr(error, "args", ())
    return args[0] if args else None


# Comments and blanks before a statement's first word; an executable comment (/*! ... */) is not
# skipped, it may hold anything.
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*(?!!)[\s\S]*?\*/)*")
_FIRST_WORD = re.compile(r"[A-Za-z]+")
# Statements that never commit implicitly; anything else is assumed to (DDL, LOCK TABLES, SET
# autocommit, administrative statements, CALL of a procedure that may run DDL, ...).
_KEEP_TRANSACTION = frozenset({"select", "insert", "update", "delete", "replace", "with", "values", "do"})
# aiomysql's connection methods a pipelined batch uses (see MySQLAdapter._pipeline).
_PIPELINE_API = (
    "_execute_command",
    "_read_query_result",
    "_next_seq_id",
    "escape",
    "get_autocommit",
    "closed",
)


def _first_word(sql: str) -> str | None:
    leading = _LEADING.match(sql)
    word = _FIRST_WORD.match(sql, leading.end() if leading else 0)
    return None if word is None else word.group().lower()


class MySQLAdapter(DialectAdapter):
    name = "mysql"
    # MariaDB speaks MySQL's protocol; using the mysql dialect keeps dialect.name == "mysql",
    # the one name migrations branch on for both servers.
    aliases = ("mariadb",)
    syntax = SQLSyntax(
        backslash_escapes=True,
        double_quoted_strings=True,
        backtick_identifiers=True,
        hash_comments=True,
        dash_comment_needs_space=True,
        executable_comments=True,
        delimiter_command=True,
    )
    async_driver = "aiomysql"
    sync_drivers = frozenset({"pymysql", "mysqldb", "mysqlconnector"})
    title = "MySQL"
    paramstyle = "format"
    # Every DDL statement commits on its own, so a failed migration can leave some statements
    # done: the runner records how many, for `migrate --resume`.
    transactional_ddl = False
    # INSERT ... ON DUPLICATE KEY UPDATE records a migration and announces the next in one
    # statement: its write-ahead row then costs neither a round trip nor a commit of its own.
    announces_attempts = True
    bounds_lock_waits = True

    def __init__(self) -> None:
        #: The server's max_allowed_packet: a longer statement would make it drop the connection.
        self.max_packet: int | None = None

    @asynccontextmanager
    async def attached(self, connection: AsyncConnection) -> AsyncIterator[None]:
        """Parameters rendered as PyMySQL renders them, where aiomysql fails: a sequence as
        ``(1,2,3)``, so that an Alembic revision's ``IN :names`` with a tuple runs as under
        PyMySQL (aiomysql: "tuple can not be used as parameter"), and bytes as ``X'...'``
        (aiomysql: "'str' object is not callable", with PyMySQL 1.1)."""
        driver: Any = (await self.raw_connection(connection)).driver_connection
        escape = getattr(driver, "escape", None)
        if escape is None or getattr(escape, "sequences", False):
            yield
            return

        def escape_sequences(value: Any, mapping: Any = None) -> str:
            if type(value) in (tuple, list, set, frozenset):
                return "(" + ",".join([escape_sequences(item) for item in value]) + ")"
            if isinstance(value, (bytes, bytearray)):
                # aiomysql's own escape calls a name PyMySQL 1.1 no longer has for bytes.
                return f"X'{bytes(value).hex()}'"
            return escape(value)  # type: ignore[no-any-return]

        escape_sequences.sequences = True  # type: ignore[attr-defined]
        driver.escape = escape_sequences
        try:
            yield
        finally:
            if driver.escape is escape_sequences:
                del driver.escape  # the class's own again

    async def prepare(self, connection: AsyncConnection, lock_timeout: float) -> None:
        result = await connection.exec_driver_sql("SELECT @@max_allowed_packet")
        self.max_packet = int(result.scalar() or 0) or None
        await connection.commit()

    def _check_size(self, sql: str, args: tuple[Any, ...] | None) -> None:
        limit = self.max_packet
        if limit is None or len(sql) * 4 < limit:
            return
        size = len(sql.encode())
        if size > limit:
            from pymysql.err import Error, OperationalError  # type: ignore[import-untyped]
            from sqlalchemy.exc import DBAPIError

            error = OperationalError(
                1153, f"statement of {size} bytes exceeds the server's max_allowed_packet ({limit} bytes)"
            )
            raise DBAPIError.instance(sql, args, error, Error)

    async def lock(
        self,
        connection: AsyncConnection,
        table: str,
        schema: str | None,
        timeout: float,
        on_wait: OnWait | None = None,
    ) -> RunLock:
        # A named lock on the run's own connection: held until released or the connection ends,
        # and lost only with the connection the migrations run on.
        began = not connection.in_transaction()
        wait = min(max(timeout, 0), _LONGEST_WAIT)
        try:
            first = min(wait, WAIT_NOTICE) if on_wait is not None else wait
            got, name, connection_id = await self._get_lock(connection, first, schema, table)
            if got != 1 and wait > first:
                assert on_wait is not None
                on_wait(await self._holder(connection, name))
                got, name, connection_id = await self._get_lock(connection, wait - first, schema, table)
            if got != 1:
                raise LockTimeoutError(timeout, await self._holder(connection, name))
        finally:
            if began and connection.in_transaction():
                await connection.commit()
        return SessionLock(connection, self, connection_id, ("SELECT RELEASE_LOCK(%s)", (name,)))

    async def _get_lock(
        self, connection: AsyncConnection, wait: float, schema: str | None, table: str
    ) -> tuple[Any, str, int]:
        one: Any = (await connection.exec_driver_sql(_TRY_LOCK, (wait, schema, table))).one()
        return one[0], one[1], one[2]

    async def _holder(self, connection: AsyncConnection, name: str) -> str | None:
        row: Any = (await connection.exec_driver_sql(_HOLDER, (name,))).first()
        return f"MySQL connection {row[0]}, user {row[1]} from {row[2]}" if row else None

    def driver_closed(self, driver: Any) -> bool:
        return bool(getattr(driver, "closed", False))

    async def session_gone(self, engine: AsyncEngine, session_id: int, wait: float) -> bool:
        deadline = time.monotonic() + wait
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            while True:
                result = await connection.exec_driver_sql(
                    "SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID = %s", (session_id,)
                )
                if not result.scalar():
                    return True
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(0.1)

    async def set_lock_waits(
        self, connection: AsyncConnection, timeout: float | None, statement_timeout: float | None
    ) -> Any:
        # Metadata locks (what DDL waits for) and InnoDB's row locks; whole seconds, at least one.
        # A statement timeout is MariaDB's max_statement_time (seconds), MySQL's
        # max_execution_time (milliseconds, SELECT statements only).
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        limit = "max_statement_time" if mariadb else "max_execution_time"
        read = f"SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout, @@SESSION.{limit}"
        previous = tuple((await connection.exec_driver_sql(read)).one())
        waits = "DEFAULT" if timeout is None else str(max(1, math.ceil(timeout)))
        if statement_timeout is None:
            most = "DEFAULT"
        else:
            most = str(statement_timeout) if mariadb else str(max(1, round(statement_timeout * 1000)))
        await connection.exec_driver_sql(
            f"SET SESSION lock_wait_timeout = {waits}, innodb_lock_wait_timeout = {waits}, {limit} = {most}"
        )
        return (limit, *previous)

    async def restore_lock_waits(self, connection: AsyncConnection, previous: Any) -> None:
        limit, waits, row_waits, most = previous
        await connection.exec_driver_sql(
            f"SET SESSION lock_wait_timeout = %s, innodb_lock_wait_timeout = %s, {limit} = %s",
            (waits, row_waits, most),
        )

    # lint --observe: an ALTER TABLE that copies or rebuilds a table makes a new InnoDB table
    # (its TABLE_ID), one done in place or instantly keeps it. Metadata locks (what DDL takes)
    # are shown only by performance_schema, off by default on MariaDB.
    storage_name = "InnoDB table id"

    async def storage(self, connection: AsyncConnection) -> dict[str, tuple[str, str, str]]:
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        view = "INNODB_SYS_TABLES" if mariadb else "INNODB_TABLES"
        rows: Any = await connection.exec_driver_sql(
            f"SELECT SUBSTRING(NAME, LENGTH(DATABASE()) + 2), TABLE_ID FROM information_schema.{view} "
            "WHERE NAME LIKE CONCAT(DATABASE(), '/%%') AND NAME NOT LIKE '%%#%%'"
        )
        return {name: (name, "table", str(table_id)) for name, table_id in rows}

    async def locks_unseen(self, connection: AsyncConnection) -> str | None:
        enabled = await connection.exec_driver_sql(
            "SELECT @@performance_schema AND EXISTS (SELECT 1 FROM performance_schema.setup_instruments "
            "WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES')"
        )
        if enabled.scalar():
            return None
        return (
            "the server does not show metadata locks: that needs performance_schema = ON and its "
            "wait/lock/metadata/sql/mdl instrument enabled (both off by default on MariaDB)"
        )

    async def session_locks(self, connection: AsyncConnection, session_id: int) -> set[tuple[str, str]]:
        rows: Any = await connection.exec_driver_sql(
            "SELECT m.OBJECT_NAME, m.LOCK_TYPE FROM performance_schema.metadata_locks m "
            "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
            "WHERE t.PROCESSLIST_ID = %s AND m.OBJECT_TYPE = 'TABLE' AND m.LOCK_STATUS = 'GRANTED' "
            "AND m.OBJECT_SCHEMA = DATABASE()",
            (session_id,),
        )
        return {(name, mode.replace("_", " ")) for name, mode in rows}

    def is_lock_timeout(self, error: BaseException) -> bool:
        return any(_error_code(cause) == _LOCK_WAIT_TIMEOUT for cause in walk_causes(error))

    async def blockers(self, engine: AsyncEngine, session_id: int) -> list[str]:
        # MySQL and MariaDB name the holder of a metadata lock only through optional plugins
        # (performance_schema, METADATA_LOCK_INFO): the sessions with a transaction open are
        # the ones a metadata lock can wait behind, oldest first.
        async with engine.connect() as connection:
            rows: list[Any] = list(
                (await connection.exec_driver_sql(_OPEN_TRANSACTIONS, (session_id,))).all()
            )
            await connection.rollback()
        return [_blocker(*row) for row in rows]

    def commits_implicitly(self, sql: str) -> bool:
        word = _first_word(sql)
        return word is None or word not in _KEEP_TRANSACTION

    script_client = "mysql DATABASE < FILE"
    script_begin = "START TRANSACTION;"

    def script_statement(self, sql: str) -> str:
        # The client ends a statement at the first ';': one that holds more (a trigger's body)
        # goes between DELIMITER lines.
        text = sql.strip()
        if ";" in text.rstrip(";"):
            return f"DELIMITER //\n{text.rstrip(';')}\n//\nDELIMITER ;"
        return super().script_statement(text)

    def literal(self, value: Any, dialect: Any) -> str:
        # As PyMySQL sends them: a sequence as "(a,b)", a datetime without its offset.
        if type(value) in (tuple, list, set, frozenset):
            return "(" + ",".join(self.literal(item, dialect) for item in value) + ")"
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return super().literal(value, dialect)

    def timestamp_type(self) -> TypeEngine[Any]:
        # MySQL's DATETIME keeps whole seconds unless told otherwise.
        from sqlalchemy.dialects.mysql import DATETIME

        return DATETIME(fsp=6)

    def announce_statement(self, table: Table) -> Any:
        # INSERT ... ON DUPLICATE KEY UPDATE of both rows.
        from sqlalchemy import bindparam
        from sqlalchemy.dialects.mysql import insert

        keys = [c.key for c in table.columns]
        rows: list[dict[str, Any]] = [{key: bindparam(f"{key}_{n}") for key in keys} for n in (1, 2)]
        statement = insert(table).values(rows)
        updates = {key: statement.inserted[key] for key in keys if key != "id"}
        return statement.on_duplicate_key_update(updates)

    @asynccontextmanager
    async def reader(
        self, connection: AsyncConnection, in_transaction: bool
    ) -> AsyncIterator[AsyncConnection]:
        # A MySQL connection cannot run the migration's UPDATEs while it streams a result, so
        # the stream gets a connection of its own; READ UNCOMMITTED lets it see the rows the
        # migration's still-open transaction wrote, without waiting on their locks.
        async with connection.engine.connect() as reader:
            await reader.execution_options(isolation_level="READ UNCOMMITTED")
            yield reader

    def locks_tables(self, sql: str) -> bool | None:
        # Under LOCK TABLES a session may touch only the tables it locked: uno's own tables
        # cannot be written until UNLOCK TABLES (or another LOCK TABLES) releases them.
        word = _first_word(sql)
        if word == "lock":
            return True
        if word == "unlock":
            return False
        return None

    async def unlock_tables(self, connection: AsyncConnection) -> None:
        await self.run_statement(connection, "UNLOCK TABLES")

    async def _execute(
        self, connection: AsyncConnection, sql: str, args: tuple[Any, ...] | None, fetch: bool = False
    ) -> Sequence[Any] | None:
        """One statement on aiomysql's own cursor (SQLAlchemy's result handling costs more than the
        round trip); its rows with ``fetch``. None without that driver (the portable path).
        Errors become SQLAlchemy's DBAPIError, as on the portable path."""
        from pymysql.err import Error
        from sqlalchemy.exc import DBAPIError

        raw = await self.raw_connection(connection)
        driver = raw.driver_connection
        if driver is None:
            return None
        self._check_size(sql, args)
        cursor = await driver.cursor()
        try:
            await cursor.execute(sql, args)
            rows: Sequence[Any] = await cursor.fetchall() if fetch else ()
        except Error as exc:
            raise DBAPIError.instance(sql, args, exc, Error) from exc
        finally:
            await cursor.close()
        return rows

    async def run_statement(self, connection: AsyncConnection, sql: str) -> None:
        if await self._execute(connection, sql, None) is None:
            await super().run_statement(connection, sql)

    async def execute_batch(self, connection: AsyncConnection, statements: Sequence[DriverSQL]) -> None:
        if len(statements) > 1 and await self._pipeline(connection, statements):
            return
        for index, (sql, args) in enumerate(statements):
            if await self._execute(connection, sql, args) is None:
                await super().execute_batch(connection, statements[index:])
                return

    async def _pipeline(self, connection: AsyncConnection, statements: Sequence[DriverSQL]) -> bool:
        """Send every statement before reading the first reply: the batch costs one round trip,
        not one per statement (the version row and its log row: three trips per migration in
        all, with its own statement and the commit, as Alembic's). MySQL connections take one
        statement per query, but the server reads the queries that wait on the socket in turn.

        Only inside a transaction (autocommit off): a statement after a failing one still runs,
        and the caller's rollback takes it back. Every reply is read, so the connection stays
        in step after an error; the first error is raised, as SQLAlchemy's DBAPIError. False
        (nothing sent) without aiomysql's connection or in autocommit mode.
        """
        from pymysql.constants import COMMAND  # type: ignore[import-untyped]
        from pymysql.err import Error, OperationalError
        from sqlalchemy.exc import DBAPIError

        raw = await self.raw_connection(connection)
        driver = raw.driver_connection
        if driver is None or not all(hasattr(driver, name) for name in _PIPELINE_API):
            return False
        if driver.get_autocommit():
            return False
        failure: tuple[int, Exception] | None = None
        queries = [sql if args is None else sql % tuple(map(driver.escape, args)) for sql, args in statements]
        try:
            for query in queries:
                await driver._execute_command(COMMAND.COM_QUERY, query)
        except Error as exc:  # the connection is closed or lost: nothing to read
            raise DBAPIError.instance(statements[0][0], statements[0][1], exc, Error) from exc
        for index in range(len(queries)):
            if driver.closed:  # lost: no more replies to read
                failure = failure or (index, OperationalError(2013, "Lost connection to MySQL server"))
                break
            driver._next_seq_id = 1  # each reply's packets are numbered from 1
            try:
                await driver._read_query_result()
            except Error as exc:
                failure = failure or (index, exc)
        if failure is not None:
            sql, args = statements[failure[0]]
            raise DBAPIError.instance(sql, args, failure[1], Error) from failure[1]
        return True

    async def fetch_all(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
        rows = await self._execute(connection, sql, args, fetch=True)
        return rows if rows is not None else await super().fetch_all(connection, sql, args)

    def schema_fingerprints(
        self, sync_connection: Any, schema: str | None
    ) -> tuple[dict[str, str], str] | None:
        # The inspector reads a table (or a view) from its SHOW CREATE TABLE alone, except where
        # SQLAlchemy corrects a foreign key from the table it refers to (MySQL 8 before 8.0.14,
        # or lower_case_table_names=2): there, every snapshot reads everything. The statements
        # go together, in one round trip where aiomysql allows it (see _pipeline).
        from ..connections import await_

        dialect = sync_connection.dialect
        if getattr(dialect, "_is_mysql", True) and getattr(dialect, "_needs_correct_for_88718_96365", True):
            return None
        quote = dialect.identifier_preparer.quote_identifier
        database = quote(schema or dialect.default_schema_name)
        listed = sync_connection.exec_driver_sql(f"SHOW FULL TABLES FROM {database}").all()
        shown = [(name, kind) for name, kind in listed if kind in ("BASE TABLE", "VIEW", "SYSTEM VIEW")]
        queries = [f"SHOW CREATE TABLE {database}.{quote(name)}" for name, _ in shown]
        driver = sync_connection.connection.driver_connection
        if queries and all(hasattr(driver, name) for name in _PIPELINE_API):
            results = await_(self._fetch_pipelined(driver, queries))
        else:
            results = [sync_connection.exec_driver_sql(query).all() for query in queries]
        tables: dict[str, str] = {}
        views: list[str] = []
        for (name, kind), rows in zip(shown, results, strict=True):
            text = repr([tuple(row) for row in rows])
            if kind == "BASE TABLE":
                tables[name] = text
            else:
                views.append(repr((name, text)))
        return tables, "\n".join(sorted(views))

    async def _fetch_pipelined(self, driver: Any, queries: Sequence[str]) -> list[Sequence[Any]]:
        """The rows of each query, all sent before the first reply is read (as :meth:`_pipeline`
        sends a batch): queries that only read, so that one failing changes nothing. Every
        reply is read, so the connection stays in step; the first error is raised."""
        from pymysql.constants import COMMAND
        from pymysql.err import Error
        from sqlalchemy.exc import DBAPIError

        for query in queries:
            await driver._execute_command(COMMAND.COM_QUERY, query)
        results: list[Sequence[Any]] = []
        failure: tuple[str, Exception] | None = None
        for query in queries:
            driver._next_seq_id = 1  # each reply's packets are numbered from 1
            try:
                await driver._read_query_result()
                results.append(driver._result.rows or ())
            except Error as exc:
                failure = failure or (query, exc)
                results.append(())
        if failure is not None:
            raise DBAPIError.instance(failure[0], None, failure[1], Error) from failure[1]
        return results

    @asynccontextmanager
    async def savepoint(self, connection: AsyncConnection) -> AsyncIterator[None]:
        # DDL commits implicitly and ends the savepoint with it; SQLAlchemy's nested transaction
        # would then be left unusable, so the savepoint is handled here and its loss tolerated.
        from sqlalchemy.exc import DBAPIError

        name = f"uno_savepoint_{next(_SAVEPOINTS)}"
        await connection.exec_driver_sql(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            try:
                await connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
            except DBAPIError:
                log.warning("could not roll back to %s: a DDL statement had committed it", name)
            raise
        try:
            await connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
        except DBAPIError:
            log.debug("%s was already released by an implicit commit", name)

"""SQLite (aiosqlite): transactional DDL, the database's write lock taken per migration."""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import LockTimeoutError, MigrationError
from ..sql.syntax import SQLSyntax
from .base import (
    WAIT_NOTICE,
    DialectAdapter,
    DriverSQL,
    NoLock,
    OnWait,
    RowStream,
    RunLock,
    Script,
    ScriptError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection
    from sqlalchemy.ext.asyncio import AsyncConnection


class SQLiteAdapter(DialectAdapter):
    name = "sqlite"
    syntax = SQLSyntax(backtick_identifiers=True, bracket_identifiers=True)
    async_driver = "aiosqlite"
    sync_drivers = frozenset({"pysqlite"})
    database_is_file = True
    title = "SQLite"
    paramstyle = "qmark"
    transactional_ddl = True
    lock_per_migration = True
    script_client = "sqlite3 -bail DATABASE < FILE"

    def __init__(self) -> None:
        self.lock_timeout = 60.0
        self._borrowed: tuple[sqlite3.Connection, Connection] | None = None

    async def prepare(self, connection: AsyncConnection, lock_timeout: float) -> None:
        # Waiting for another process's write lock is SQLite's busy timeout.
        self.lock_timeout = lock_timeout
        await connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        await connection.commit()

    async def lock(
        self,
        connection: AsyncConnection,
        table: str,
        schema: str | None,
        timeout: float,
        on_wait: OnWait | None = None,
    ) -> RunLock:
        # SQLite has no named locks, and its write lock cannot be held for a whole run (a
        # non-transactional migration writes outside any transaction, and other connections
        # must still write): the run lock is an operating-system lock on a file beside the
        # database, which the system frees when the process ends, however it ends.
        path = _database_file(connection.engine.url.database, connection.engine.url.query)
        if path is None:
            return NoLock()  # in memory: no other process can reach it
        name = f"{schema}.{table}" if schema else table
        return await FileLock.acquire(f"{os.path.realpath(path)}.{name}.lock", timeout, on_wait)

    def database_missing(self, url: URL) -> bool:
        # Only where connecting would create it: a file in a directory that does not exist is
        # an error to report (most likely a typo), not an empty database.
        path = _database_file(url.database, url.query)
        if path is None or os.path.exists(path):
            return False
        return os.path.isdir(os.path.dirname(os.path.abspath(path)))

    async def join_transaction(self, connection: AsyncConnection) -> None:
        # Python's sqlite3 begins a transaction only before INSERT/UPDATE/DELETE: a caller's
        # transaction may exist for SQLAlchemy alone, and DDL (or a SAVEPOINT, whose release
        # would then commit) would run outside it. BEGIN makes it real.
        await self._on_thread(connection, _join)

    async def run_statement(self, connection: AsyncConnection, sql: str) -> None:
        # Straight to aiosqlite: one trip to its thread instead of SQLAlchemy's three (cursor,
        # execute, close). The transaction is the sqlite3 connection's own, so nothing is lost.
        raw = await self.raw_connection(connection)
        cursor = await raw.driver_connection.execute(sql)  # type: ignore[union-attr]
        if cursor.description is not None:
            await cursor.close()

    async def _on_thread(self, connection: AsyncConnection, fn: Any, *args: Any) -> tuple[bool, Any]:
        """Run ``fn(sqlite3_connection, *args)`` on aiosqlite's thread, in one trip.

        Every call into aiosqlite is a trip to its thread and back, which costs more than
        SQLite's own work on a small statement; this is how several statements share one. It
        takes aiosqlite's internal hook for it; without the hook, ``(False, None)``. sqlite3's
        errors become SQLAlchemy's DBAPIError, as on the portable path.
        """
        from sqlalchemy.exc import DBAPIError

        raw = await self.raw_connection(connection)
        driver = raw.driver_connection
        submit = getattr(driver, "_execute", None)
        if driver is None or submit is None or not hasattr(type(driver), "_conn"):
            return False, None
        try:
            return True, await submit(lambda: fn(driver._conn, *args))
        except sqlite3.Error as exc:
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc

    async def run_script(self, connection: AsyncConnection, script: Script) -> str | None:
        # The whole migration (lock, re-check, statements, version rows, commit) in one trip.
        from sqlalchemy.exc import DBAPIError, OperationalError

        if connection.in_transaction():
            return None
        try:
            done, outcome = await self._on_thread(connection, _run_script, script, self._sync_connection)
        except _StatementError as exc:
            sql = script.statements[exc.index]
            error = DBAPIError.instance(sql, None, exc.error, sqlite3.Error)
            raise ScriptError(exc.index, error) from exc.error
        except OperationalError as exc:
            self._raise_if_locked(exc)
            raise
        return outcome if done else None

    def _sync_connection(self, db: sqlite3.Connection) -> Connection:
        """A synchronous SQLAlchemy Connection on aiosqlite's own sqlite3 connection, for a
        script's ``body`` on aiosqlite's thread (where it is made, on first use, outside any
        transaction: SQLAlchemy ends its first connect with a rollback). The transaction is the
        sqlite3 connection's, begun and ended by the script."""
        if self._borrowed is None or self._borrowed[0] is not db:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import StaticPool

            engine = create_engine(
                "sqlite://", creator=lambda: db, poolclass=StaticPool, pool_reset_on_return=None
            )
            self._borrowed = (db, engine.connect())
        return self._borrowed[1]

    async def begin(self, connection: AsyncConnection, check: DriverSQL | None = None) -> Any:
        # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so DDL would run
        # outside one. An explicit BEGIN IMMEDIATE makes the whole migration one transaction and
        # takes the write lock up front, before the runner re-checks the applied set (in the
        # same trip to aiosqlite's thread).
        from sqlalchemy.exc import OperationalError

        try:
            done, value = await self._on_thread(connection, _begin, check)
            if done:
                return value
            await self.run_statement(connection, "BEGIN IMMEDIATE")
        except (OperationalError, sqlite3.OperationalError) as exc:
            self._raise_if_locked(exc)
            raise
        return await super().begin(connection, check)

    async def execute_batch(self, connection: AsyncConnection, statements: Sequence[DriverSQL]) -> None:
        done, _ = await self._on_thread(connection, _execute_all, statements)
        if not done:
            await super().execute_batch(connection, statements)

    async def fetch_all(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
        done, rows = await self._on_thread(connection, lambda db: db.execute(sql, args).fetchall())
        return rows if done else await super().fetch_all(connection, sql, args)

    async def execute_many(self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        # sqlite3's executemany, in one trip.
        done, count = await self._on_thread(connection, lambda db: db.executemany(sql, rows).rowcount)
        return count if done else await super().execute_many(connection, sql, rows)

    async def open_stream(
        self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]
    ) -> RowStream | None:
        # sqlite3 steps through a query's rows as they are asked for: each batch is one trip
        # to aiosqlite's thread, and the rows come as sqlite3 gives them.
        done, cursor = await self._on_thread(connection, lambda db: db.execute(sql, args))
        return _SQLiteStream(self, connection, cursor) if done else None

    async def read_sync(self, connection: AsyncConnection, read: Callable[[Connection], Any]) -> Any:
        # Through aiosqlite each statement is a trip to its thread and back, and SQLAlchemy's
        # inspector sends about ten a table: the whole reading runs on that thread instead, in
        # one trip, on a synchronous connection over aiosqlite's own sqlite3 connection. Not in
        # a transaction: that connection's first use ends with a rollback, and so does a reading.
        def on_thread(db: sqlite3.Connection) -> tuple[bool, Any]:
            if db.in_transaction:
                return False, None
            sync = self._sync_connection(db)
            try:
                return True, read(sync)
            finally:
                sync.rollback()  # SQLAlchemy's note of a transaction: sqlite3 began none to read

        if not connection.in_transaction():
            done, outcome = await self._on_thread(connection, on_thread)
            if done and outcome[0]:
                return outcome[1]
        return await super().read_sync(connection, read)

    def schema_fingerprints(
        self, sync_connection: Connection, schema: str | None
    ) -> tuple[dict[str, str], str] | None:
        # SQLite keeps a schema as the text of its CREATE statements (sqlite_master), and every
        # PRAGMA the inspector runs and every parse it makes reads that text: a table's own,
        # its indexes' and triggers', and for a foreign key that names no columns, that of the
        # table it refers to, whose primary key the inspector reads for it. Without a schema a
        # name is looked up in the temporary schema too: its statements count as well.
        quote = sync_connection.dialect.identifier_preparer.quote_identifier
        driver = sync_connection.connection.driver_connection
        # sqlite3's own cursor where the reading runs on its thread (read_sync): no result layer.
        execute = (
            driver.execute if isinstance(driver, sqlite3.Connection) else sync_connection.exec_driver_sql
        )
        first = schema or "main"
        texts: dict[str, list[str]] = {}
        refers: dict[str, set[str]] = {}
        names: list[str] = []
        views: list[str] = []
        for name in [first] if schema else [first, "temp"]:
            master = f"{quote(name)}.sqlite_master"
            for kind, object_name, table, sql in execute(f"SELECT type, name, tbl_name, sql FROM {master}"):
                text = repr((name, kind, object_name, table, sql))
                texts.setdefault(table.lower(), []).append(text)
                if kind == "view":
                    views.append(text)
                elif kind == "table" and name == first and not object_name.lower().startswith("sqlite_"):
                    names.append(object_name)  # as the inspector lists them: not SQLite's own
            implicit = execute(
                f'SELECT m.tbl_name, f."table" FROM {master} AS m, pragma_foreign_key_list(m.name, ?) AS f '
                "WHERE m.type = 'table' AND f.\"to\" IS NULL",
                (name,),
            )
            for table, target in implicit:
                refers.setdefault(table.lower(), set()).add(target.lower())

        def own(table: str) -> str:
            return "\n".join(sorted(texts.get(table, ())))

        def described(table: str) -> str:
            return "\n-> ".join([own(table), *(own(target) for target in sorted(refers.get(table, ())))])

        return {name: described(name.lower()) for name in names}, "\n".join(sorted(views))

    def _raise_if_locked(self, error: BaseException) -> None:
        """The busy timeout ran out waiting for another connection's write lock."""
        if "locked" in str(error):
            holder = "another connection writing to this database"
            raise LockTimeoutError(self.lock_timeout, holder) from error


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # getuser raises various errors when no user name is set
        return "unknown"


def _database_file(database: str | None, query: Any) -> str | None:
    """The file of a SQLite URL's database; None for a database in memory."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename (uri=true)
        path, _, options = database[5:].partition("?")
        if "mode=memory" in options or "mode=memory" in str(query.get("mode", "")) or not path:
            return None
        return path
    return database


class FileLock:
    """An exclusive lock on a file (``flock``), held by the open file: two runs in one process
    exclude each other as two processes do. The file holds the holder's description, for the
    message of a run that waits in vain. It is never deleted: a waiting run may have it open,
    and deleting it would let a third run lock a new file beside the held one."""

    session_id: int | None = None

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._inode = os.fstat(fd).st_ino

    @classmethod
    async def acquire(cls, path: str, timeout: float, on_wait: OnWait | None = None) -> FileLock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise MigrationError(f"cannot open the lock file {path}: {exc.strerror}") from exc
            try:
                await _wait_for_lock(fd, deadline, timeout, on_wait)
                lock = cls(path, fd)
                if lock.lost() is None:
                    _describe(fd)
                    return lock
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the file was removed while this run waited: lock the new one

    def lost(self) -> str | None:
        try:
            if os.stat(self.path).st_ino == self._inode:
                return None
        except OSError:
            pass
        return f"its lock file {self.path} was removed"

    async def release(self) -> None:
        os.close(self._fd)  # closing the file releases the lock


async def _wait_for_lock(fd: int, deadline: float, timeout: float, on_wait: OnWait | None) -> None:
    delay = 0.01
    notice = time.monotonic() + WAIT_NOTICE
    while not _try_lock(fd):
        now = time.monotonic()
        if now >= deadline:
            raise LockTimeoutError(timeout, _holder(fd))
        if on_wait is not None and now >= notice:
            on_wait(_holder(fd))
            on_wait = None
        await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.005)))
        delay = min(delay * 2, 0.25)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _describe(fd: int) -> None:
        return None  # the locked byte cannot be read by the others

    def _holder(fd: int) -> str | None:
        return "another process"

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _describe(fd: int) -> None:
        text = f"process {os.getpid()} of user {_user()} on {socket.gethostname()}".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, text, 0)

    def _holder(fd: int) -> str | None:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        return text or None


class _SQLiteStream:
    def __init__(self, adapter: SQLiteAdapter, connection: AsyncConnection, cursor: sqlite3.Cursor) -> None:
        self.keys: Sequence[str] = [column[0] for column in cursor.description or ()]
        self._adapter = adapter
        self._connection = connection
        self._cursor = cursor

    async def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        _, rows = await self._adapter._on_thread(self._connection, lambda _db: self._cursor.fetchmany(size))
        return rows or ()

    async def close(self) -> None:
        await self._adapter._on_thread(self._connection, lambda _db: self._cursor.close())


class _StatementError(Exception):
    def __init__(self, index: int, error: sqlite3.Error) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def _begin(db: sqlite3.Connection, check: DriverSQL | None) -> Any:
    """BEGIN IMMEDIATE (the write lock), then the value of ``check``, if given."""
    db.execute("BEGIN IMMEDIATE")
    if check is None:
        return None
    try:
        row = db.execute(*check).fetchone()
    except BaseException:
        db.rollback()
        raise
    return None if row is None else row[0]


def _join(db: sqlite3.Connection) -> None:
    if not db.in_transaction:
        db.execute("BEGIN")


def _execute_all(db: sqlite3.Connection, statements: Sequence[DriverSQL]) -> None:
    for sql, args in statements:
        db.execute(sql, args)


def _run_script(
    db: sqlite3.Connection, script: Script, sync_connection: Callable[[sqlite3.Connection], Connection]
) -> str:
    """The script in one BEGIN IMMEDIATE ... COMMIT: ``'applied'``, or ``'skipped'``."""
    sync = None if script.body is None else sync_connection(db)
    if _begin(db, script.check) == "applied":
        db.rollback()
        return "skipped"
    try:
        started = time.perf_counter()
        if sync is not None and script.body is not None:
            script.body(sync)
        for index, sql in enumerate(script.statements):
            script.starting(index, sql)
            try:
                db.execute(sql).close()
            except sqlite3.Error as exc:
                raise _StatementError(index, exc) from exc
        _execute_all(db, script.record(int((time.perf_counter() - started) * 1000)))
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        if sync is not None and sync.in_transaction():
            # SQLAlchemy's note of the transaction it saw the body begin; the sqlite3
            # connection's own is over (committed or rolled back above): this changes nothing.
            sync.rollback()
    return "applied"

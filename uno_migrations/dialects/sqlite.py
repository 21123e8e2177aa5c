"""SQLite (aiosqlite): transactional DDL, the database's write lock taken per migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import LockTimeoutError
from .base import DialectAdapter


class SQLiteAdapter(DialectAdapter):
    name = "sqlite"
    paramstyle = "qmark"
    transactional_ddl = True
    lock_per_migration = True

    def __init__(self) -> None:
        self.lock_timeout = 60.0

    async def prepare(self, connection: AsyncConnection, lock_timeout: float) -> None:
        # Waiting for another process's write lock is SQLite's busy timeout.
        self.lock_timeout = lock_timeout
        await connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        await connection.commit()

    async def run_statement(self, connection: AsyncConnection, sql: str) -> None:
        # Straight to aiosqlite: one trip to its thread instead of SQLAlchemy's three (cursor,
        # execute, close). The transaction is the sqlite3 connection's own, so nothing is lost.
        raw = await connection.get_raw_connection()
        cursor = await raw.driver_connection.execute(sql)  # type: ignore[union-attr]
        if cursor.description is not None:
            await cursor.close()

    async def execute_driver(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> None:
        raw = await connection.get_raw_connection()
        try:
            await raw.driver_connection.execute(sql, args)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc

    async def fetch_value(self, connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Any:
        raw = await connection.get_raw_connection()
        try:
            rows = await raw.driver_connection.execute_fetchall(sql, args)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc
        return next(iter(rows), (None,))[0]

    async def execute_many(self, connection: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        # sqlite3's executemany on aiosqlite's thread, in one trip; errors still reach the
        # migration as SQLAlchemy's DBAPIError, as everywhere else.
        raw = await connection.get_raw_connection()
        try:
            cursor = await raw.driver_connection.executemany(sql, rows)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc
        count: int = cursor.rowcount
        await cursor.close()
        return count

    async def begin(self, connection: AsyncConnection) -> None:
        # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so DDL would run
        # outside one. An explicit BEGIN IMMEDIATE makes the whole migration one transaction and
        # takes the write lock up front, before the runner re-checks the applied set.
        try:
            await self.run_statement(connection, "BEGIN IMMEDIATE")
        except (OperationalError, sqlite3.OperationalError) as exc:
            if "locked" in str(exc):
                raise LockTimeoutError(
                    self.lock_timeout, "another connection writing to this database"
                ) from exc
            raise

"""Adapters keep the driver connection they ask SQLAlchemy for, and only while it is the one;
they stream query results on the driver where they can."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import TestDatabase
from sqlalchemy import literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from uno_migrations.dialects import get_adapter


async def test_raw_connection_is_asked_for_once_per_connection(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = get_adapter(db.engine.dialect.name)
    asked: list[AsyncConnection] = []
    ask = AsyncConnection.get_raw_connection

    async def counted(self: AsyncConnection) -> Any:
        asked.append(self)
        return await ask(self)

    async with db.engine.connect() as first:
        own = (await first.get_raw_connection()).driver_connection
        monkeypatch.setattr(AsyncConnection, "get_raw_connection", counted)
        kept = await adapter.raw_connection(first)
        assert kept.driver_connection is own
        assert await adapter.raw_connection(first) is kept
        assert asked == [first]
        async with db.engine.connect() as second:
            other = await adapter.raw_connection(second)
            assert other.driver_connection is not own
            assert asked == [first, second]
        # Back to the first: its own again, not the second's (closed with it).
        assert (await adapter.raw_connection(first)).driver_connection is own


async def test_raw_connection_is_not_kept_past_an_invalidation(db: TestDatabase) -> None:
    adapter = get_adapter(db.engine.dialect.name)
    async with db.engine.connect() as connection:
        stale = (await adapter.raw_connection(connection)).driver_connection
        await connection.invalidate()
        await connection.rollback()
        # SQLAlchemy gives the connection a new DBAPI connection; the adapter follows it.
        assert await connection.scalar(select(literal(1))) == 1
        fresh = await adapter.raw_connection(connection)
        assert fresh.driver_connection is not stale
        assert fresh.driver_connection is (await connection.get_raw_connection()).driver_connection


async def test_streams_run_on_the_driver_on_sqlite_and_postgresql(db: TestDatabase) -> None:
    adapter = get_adapter(db.engine.dialect.name)
    async with db.engine.connect() as connection:
        await connection.begin()
        stream = await adapter.open_stream(
            connection, "SELECT 1 AS one, 'a' AS two UNION ALL SELECT 2, 'b'", ()
        )
        if db.dialect == "mysql":
            # MySQL streams through SQLAlchemy, on a connection of its own (see Context.iterate).
            assert stream is None
            return
        assert stream is not None
        assert [tuple(row) for row in await stream.fetch(1)] == [(1, "a")]
        assert list(stream.keys) == ["one", "two"]
        assert [tuple(row) for row in await stream.fetch(5)] == [(2, "b")]
        assert not await stream.fetch(5)
        await stream.close()
        with pytest.raises(DBAPIError, match="no_such_table"):
            await adapter.open_stream(connection, "SELECT * FROM no_such_table", ())


async def test_postgresql_streams_through_sqlalchemy_outside_a_transaction(pg_db: TestDatabase) -> None:
    adapter = get_adapter("postgresql")
    async with pg_db.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        assert await adapter.open_stream(connection, "SELECT 1", ()) is None


# The key clash, as each engine words it (asyncpg's own errors come through on PostgreSQL).
_DUPLICATE = r"(?i)duplicate|unique"


async def _batch_table(connection: AsyncConnection) -> None:
    await connection.exec_driver_sql("CREATE TABLE batched (id INTEGER PRIMARY KEY, note VARCHAR(40))")
    await connection.commit()


async def _batched(connection: AsyncConnection) -> list[tuple[Any, ...]]:
    return [
        tuple(row) for row in await connection.exec_driver_sql("SELECT id, note FROM batched ORDER BY id")
    ]


async def test_a_batch_in_a_transaction_runs_in_order_and_a_failure_is_rolled_back(db: TestDatabase) -> None:
    """The version table's writes go as a batch (on MySQL sent all at once, then every reply
    read): values are quoted as the driver quotes them, the first error is raised, the
    connection stays in step, and the rollback takes back what ran after the failure."""
    adapter = get_adapter(db.engine.dialect.name)
    insert = "INSERT INTO batched (id, note) VALUES ($1, $2)"
    async with db.engine.connect() as connection:
        await _batch_table(connection)
        await connection.begin()
        await adapter.execute_batch(
            connection, [adapter.bind(insert, [1, "it's 50%"]), adapter.bind(insert, [2, "back\\slash"])]
        )
        await connection.commit()
        assert await _batched(connection) == [(1, "it's 50%"), (2, "back\\slash")]
        await connection.rollback()

        await connection.begin()
        clash, after = adapter.bind(insert, [1, "again"]), adapter.bind(insert, [3, "after"])
        with pytest.raises(Exception, match=_DUPLICATE) as info:
            await adapter.execute_batch(connection, [clash, after])
        if db.dialect == "mysql":  # the first failure is the one raised, with its statement
            assert isinstance(info.value, DBAPIError) and info.value.statement == clash[0]
        await connection.rollback()
        # In step: each query gets its own answer, not a reply left over from the batch.
        assert await connection.scalar(select(literal(7))) == 7
        assert await _batched(connection) == [(1, "it's 50%"), (2, "back\\slash")]


async def test_a_batch_outside_a_transaction_stops_at_its_first_failure(db: TestDatabase) -> None:
    adapter = get_adapter(db.engine.dialect.name)
    insert = "INSERT INTO batched (id, note) VALUES ($1, $2)"
    async with db.engine.connect() as connection:
        await _batch_table(connection)
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await adapter.execute_batch(connection, [adapter.bind(insert, [1, "one"])])
        with pytest.raises(Exception, match=_DUPLICATE):
            await adapter.execute_batch(
                connection, [adapter.bind(insert, [1, "clash"]), adapter.bind(insert, [2, "two"])]
            )
        assert await _batched(connection) == [(1, "one")]

"""Adapters keep the driver connection they ask SQLAlchemy for, and only while it is the one."""

from __future__ import annotations

from conftest import TestDatabase
from sqlalchemy import literal, select

from uno_migrations.dialects import get_adapter


async def test_raw_connection_is_asked_for_once_per_connection(db: TestDatabase) -> None:
    adapter = get_adapter(db.engine.dialect.name)
    async with db.engine.connect() as first:
        kept = await adapter.raw_connection(first)
        assert kept.driver_connection is (await first.get_raw_connection()).driver_connection
        assert await adapter.raw_connection(first) is kept
        async with db.engine.connect() as second:
            other = await adapter.raw_connection(second)
            assert other.driver_connection is (await second.get_raw_connection()).driver_connection
            assert other.driver_connection is not kept.driver_connection
        # Back to the first: its own again, not the second's (closed with it).
        assert (await adapter.raw_connection(first)).driver_connection is kept.driver_connection


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

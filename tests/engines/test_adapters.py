"""Adapters keep the driver connection they ask SQLAlchemy for, and only while it is the one."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TestDatabase
from sqlalchemy import literal, select
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

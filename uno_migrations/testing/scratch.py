"""Scratch databases: made for a block and dropped afterwards (``uno-migrations test``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from ..dialects import get_adapter
from ..urls import async_url, create_engine


@asynccontextmanager
async def scratch_database(url: str | URL, folder: str) -> AsyncIterator[URL]:
    """A new, empty database on the server of ``url`` for the block, dropped afterwards; on an
    engine whose database is a file (SQLite), a new file in ``folder``, removed afterwards with
    the lock files beside it."""
    server = async_url(url)
    adapter = get_adapter(server.get_backend_name())
    name = f"uno_scratch_{uuid.uuid4().hex[:12]}"
    if adapter.database_is_file:
        path = Path(folder) / f"{name}.db"
        try:
            yield server.set(database=str(path))
        finally:
            for leftover in (path, *path.parent.glob(f"{path.name}.*.lock")):
                leftover.unlink(missing_ok=True)
        return
    admin = create_engine(server)
    quoted = admin.dialect.identifier_preparer.quote(name)

    async def run(sql: str) -> None:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(sql)

    try:
        await run(adapter.create_database_sql(quoted))
        try:
            yield server.set(database=name)
        finally:
            await run(adapter.drop_database_sql(quoted))
    finally:
        await admin.dispose()

"""Scratch databases: made for a test or a check and dropped afterwards.

:class:`ScratchServer` makes them on one server (an SQLite file in a folder, where the database is
a file), empty or as a copy of a template database: a file copy, or the engine's own copy
(PostgreSQL's ``CREATE DATABASE ... TEMPLATE``) where it has one, so that a test starts from a
migrated database without running the migrations again. :func:`scratch_database` is one empty
database for a block (``uno-migrations test``).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from ..dialects import get_adapter
from ..urls import async_url, create_engine


class ScratchServer:
    """Where scratch databases are made: the server of ``url``, or ``folder`` for a file engine.

    Every operation opens its own connection and closes it, so one server serves any event loop.
    """

    def __init__(self, url: str | URL, folder: str | Path) -> None:
        self.url = async_url(url)
        self.folder = Path(folder)
        self.adapter = get_adapter(self.url.get_backend_name())
        self._quote = self.url.get_dialect()().identifier_preparer.quote

    @property
    def copies(self) -> bool:
        """A database can be made as a copy of another (else :meth:`create` ignores ``template``)."""
        return self.adapter.database_is_file or self.adapter.copy_database_sql("a", "b") is not None

    async def create(self, template: URL | None = None) -> URL:
        """A new database, empty or (where :attr:`copies`) a copy of ``template``, which nothing
        may be connected to; its URL."""
        name = f"uno_scratch_{uuid.uuid4().hex[:12]}"
        if self.adapter.database_is_file:
            path = self.folder / f"{name}.db"
            if template is not None:
                shutil.copyfile(str(template.database), path)
            return self.url.set(database=str(path))
        quote = self._quote
        sql = self.adapter.create_database_sql(quote(name))
        if template is not None and self.copies:
            sql = self.adapter.copy_database_sql(quote(name), quote(str(template.database))) or sql
        await self._run(sql)
        return self.url.set(database=name)

    async def drop(self, database: URL) -> None:
        """Drop a database :meth:`create` made (remove the file, and the lock files beside it)."""
        if self.adapter.database_is_file:
            path = Path(str(database.database))
            for leftover in (path, *path.parent.glob(f"{path.name}.*.lock")):
                leftover.unlink(missing_ok=True)
            return
        await self._run(self.adapter.drop_database_sql(self._quote(str(database.database))))

    async def _run(self, sql: str) -> None:
        admin = create_engine(self.url)
        try:
            async with admin.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.exec_driver_sql(sql)
        finally:
            await admin.dispose()


@asynccontextmanager
async def scratch_database(url: str | URL, folder: str | Path) -> AsyncIterator[URL]:
    """A new, empty database on the server of ``url`` for the block, dropped afterwards; on an
    engine whose database is a file (SQLite), a new file in ``folder``, removed afterwards with
    the lock files beside it."""
    server = ScratchServer(url, folder)
    database = await server.create()
    try:
        yield database
    finally:
        await server.drop(database)

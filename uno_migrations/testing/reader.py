"""Snapshots of one database, taken again and again on one connection: ``uno-migrations test``
takes three for each migration, and most of what each reads is what an earlier one read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..dialects import get_adapter
from .snapshot import (
    Snapshot,
    ignored_names,
    read_on,
    read_others,
    read_snapshot,
    read_tables,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection


class SchemaReader:
    """Snapshots of the database of ``connection`` (of its ``schema``), equal to what
    :func:`~.snapshot.take_snapshot` reads then (``table`` and ``ignore`` as there), for a
    database no one else changes meanwhile (the checks' scratch database).

    Where the engine's adapter describes each table in a statement or two
    (``schema_fingerprints``), a table whose description is one read before is not read again,
    nor the views, enums and sequences when theirs is: the snapshot after a down step, or after
    a migration applied again, mostly reads those descriptions alone. Snapshots share what they
    kept: read them, do not change them (:meth:`Snapshot.to_dict` gives a copy to change).
    """

    def __init__(
        self,
        connection: AsyncConnection,
        *,
        schema: str | None = None,
        table: str = "uno_migrations",
        ignore: Iterable[str] = (),
    ) -> None:
        self.connection = connection
        self.adapter = get_adapter(connection.dialect.name)
        self.schema = schema
        self.ignored = ignored_names(table, ignore)
        #: (name, description) -> the table as a snapshot holds it.
        self._tables: dict[tuple[str, str], dict[str, Any]] = {}
        #: description -> the views, enums and sequences.
        self._others: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]] = {}

    async def snapshot(self) -> Snapshot:
        """The schema now."""
        return await read_on(self.connection, self._read, self.adapter)

    def _read(self, sync_connection: Connection) -> Snapshot:
        from sqlalchemy import inspect

        described = self.adapter.schema_fingerprints(sync_connection, self.schema)
        if described is None:
            return read_snapshot(sync_connection, self.schema, self.ignored)
        descriptions, rest = described
        inspector = inspect(sync_connection)
        names = sorted(name for name in descriptions if name not in self.ignored)
        keys = {name: (name, descriptions[name]) for name in names}
        found = read_tables(
            inspector, [name for name in names if keys[name] not in self._tables], self.schema
        )
        for name, table in found.items():
            self._tables[keys[name]] = table
        tables = [self._tables[keys[name]] for name in names]
        others = self._others.get(rest)
        if others is None:
            others = self._others[rest] = read_others(inspector, self.schema, self.ignored)
        return Snapshot(tables, *others)

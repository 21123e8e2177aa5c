"""The layout of uno's own tables, its version, and the steps that upgrade it in place.

A database keeps its version tables for as long as it lives, across releases of uno-migrations.
The layout's version is stored beside them (``<table>_layout``, one row), so that a release
can tell what it is reading: an older layout is upgraded in place, step by step, by the first
run that writes (under the run lock, each step in a transaction where the engine allows); a
newer one, written by a later release, is refused, since this release cannot know what it
means. Read-only commands read an older layout as it is.

Layouts:

1. the version table and its log (releases before the layout was stored);
2. the same, with ``<table>_layout`` recording the version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, Table, delete, insert, inspect, select

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

#: The layout this release writes.
CURRENT = 2


class LayoutError(ConfigurationError):
    """The version tables have a layout this release cannot use."""

    def __init__(self, table: str, found: int) -> None:
        self.table = table
        self.found = found
        super().__init__(
            f"the version tables of {table} have layout {found}, written by a newer "
            f"uno-migrations; this release knows layouts up to {CURRENT}: upgrade uno-migrations"
        )


def layout_table(name: str, metadata: MetaData) -> Table:
    """``<name>_layout``: one row, the layout's version."""
    return Table(f"{name}_layout", metadata, Column("version", Integer, nullable=False))


async def read_version(connection: AsyncConnection, table: Table) -> int:
    """The stored layout of the version tables whose layout table is ``table`` (they exist)."""

    def read(sync: Any) -> int:
        if not inspect(sync).has_table(table.name, schema=table.schema):
            return 1
        version = sync.execute(select(table.c.version)).scalar()
        return int(version) if version is not None else 1

    return await connection.run_sync(read)


async def write_version(connection: AsyncConnection, table: Table, version: int = CURRENT) -> None:
    def write(sync: Any) -> None:
        table.create(sync, checkfirst=True)
        sync.execute(delete(table))
        sync.execute(insert(table).values(version=version))

    await connection.run_sync(write)


Step = Callable[["AsyncConnection", Table], Awaitable[None]]


async def _record_the_layout(connection: AsyncConnection, table: Table) -> None:
    """1 -> 2: the layout table itself."""
    await write_version(connection, table, 2)


#: ``STEPS[n]`` upgrades layout ``n`` to ``n + 1``.
STEPS: dict[int, Step] = {1: _record_the_layout}


def check(table: str, found: int) -> None:
    """Refuse a layout newer than this release's."""
    if found > CURRENT:
        raise LayoutError(table, found)


async def upgrade(connection: AsyncConnection, table: Table, found: int) -> list[int]:
    """Bring layout ``found`` to :data:`CURRENT`; the versions passed through."""
    check(table.name.removesuffix("_layout"), found)
    done = []
    for version in range(found, CURRENT):
        await STEPS[version](connection, table)
        done.append(version + 1)
    return done

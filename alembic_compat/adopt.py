"""Adopt a database that Alembic manages: record what ``alembic_version`` says is applied.

The revisions named in Alembic's version table, and every revision they depend on, are
recorded as applied in uno's version table without running anything: as ``migrate --fake``
does, logged as ``mark``. Alembic's own table is read, never changed. Running it again records
nothing new.

>>> # report = await adopt("postgresql://app@db/app", ["alembic/versions"])
>>> # report.marked
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, String, Table, inspect, select

from uno_migrations.files.migration import Migration, MigrationBase
from uno_migrations.runtime.migrator import Bind, Listener, Migrator
from uno_migrations.runtime.records import validate_identifier
from uno_migrations.runtime.report import RunReport
from uno_migrations.runtime.run_session import open_session
from uno_migrations.urls import async_url, mask_url

from .errors import AdoptError
from .source import AlembicSource

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

DEFAULT_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class AdoptReport:
    """What :func:`adopt` found and did.

    ``current`` lists the revisions in Alembic's version table; ``marked`` what this call recorded
    as applied (oldest first); ``already`` what was recorded before.
    """

    version_table: str
    current: tuple[str, ...]
    marked: tuple[str, ...]
    already: tuple[str, ...]
    run: RunReport


class _Only:
    """A source limited to some of another source's migrations."""

    def __init__(self, source: AlembicSource, ids: set[str]) -> None:
        self.source = source
        self.ids = ids

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        return [m for m in self.source.discover(dialect) if m.id in self.ids]

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        return self.source.load(base, dialect)


async def adopt(
    target: Migrator | Bind,
    alembic_directories: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    version_table: str = DEFAULT_VERSION_TABLE,
    version_table_schema: str | None = None,
    table: str = "uno_migrations",
    schema: str | None = None,
    lock_timeout: float = 60.0,
    listener: Listener | None = None,
) -> AdoptReport:
    """Mark the revisions Alembic applied, and their ancestors, as applied in uno's table.

    ``target`` is a :class:`~uno_migrations.Migrator` (its database, version table and lock
    timeout are used) or what a Migrator takes: an engine, a connection or a URL, with
    ``table``/``schema`` naming uno's version table. ``version_table`` (in
    ``version_table_schema``) is Alembic's. Raises :class:`~alembic_compat.errors.AdoptError`
    when that table is missing or names a revision the directories do not have.
    """
    directories = (
        [os.fspath(alembic_directories)]
        if isinstance(alembic_directories, (str, os.PathLike))
        else [os.fspath(d) for d in alembic_directories]
    )
    if isinstance(target, Migrator):
        table, schema = target.version_table.name, target.version_table.schema
        lock_timeout, listener = target.lock_timeout, listener or target.listener
        bind: Bind = target.bind
    else:
        bind = target
    source = AlembicSource(directories)
    graph = source.graph()
    current = await read_alembic_version(bind, version_table, version_table_schema, lock_timeout)
    unknown = [revision for revision in current if revision not in graph]
    if unknown:
        names = ", ".join(repr(r) for r in unknown)
        raise AdoptError(
            f"{version_table} names {names}, not found in {', '.join(directories)}: "
            "point --alembic-directory at the versions directory this database was migrated with",
            version_table,
            unknown,
        )
    wanted = graph.ancestors(current)
    marker = Migrator(
        bind,
        [],
        table=table,
        schema=schema,
        lock_timeout=lock_timeout,
        listener=listener,
        sources=[_Only(source, wanted)],
    )
    run = await marker.migrate(fake=True)
    marked = tuple(run.ids)
    already = tuple(sorted(wanted - set(marked)))
    return AdoptReport(version_table, tuple(current), marked, already, run)


async def read_alembic_version(
    bind: Bind,
    version_table: str = DEFAULT_VERSION_TABLE,
    schema: str | None = None,
    lock_timeout: float = 60.0,
) -> list[str]:
    """The revision ids in Alembic's version table (sorted); an error if there is no such table."""
    name = validate_identifier(version_table, "Alembic version table")
    schema = None if schema is None else validate_identifier(schema, "schema")
    versions = Table(name, MetaData(schema=schema), Column("version_num", String(255)))
    async with open_session(async_url(bind) if isinstance(bind, str) else bind, lock_timeout) as session:
        connection: AsyncConnection = session.connection
        exists = await connection.run_sync(lambda c: inspect(c).has_table(name, schema=schema))
        if not exists:
            where = mask_url(connection.engine.url)
            raise AdoptError(
                f"no table {name} in {where}: Alembic has not migrated this database "
                "(or its version table has another name: give it with --version-table)",
                name,
            )
        rows = (await connection.execute(select(versions.c.version_num))).scalars().all()
        if connection.in_transaction() and not session.external_transaction:
            await connection.rollback()
    return sorted(str(row) for row in rows)

"""Drift: how a live database differs from what its applied migrations make (``uno-migrations diff``).

The migrations applied on the database are applied, in plan order, on a scratch database of the
same engine, and the two schemas compared (:mod:`.snapshot`, :mod:`.diff`): the scratch database
is what is expected, the live one what is there, so a column added by hand reads ``added`` and an
index dropped by hand ``missing``. Beside the differences come the applied migrations the scratch
database cannot reproduce as they ran: those whose file is gone (the tables they made show up as
added), those whose file changed since (the scratch database runs the file as it is now) and
those that failed part-way. The live database is only read: its version rows as ``status``
reads them, its schema as a snapshot.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Collection, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import URL

from ..connections import is_async_connection
from ..dialects import adapter_class, driver_message, get_adapter
from ..errors import ConfigurationError, DatabaseConnectionError
from ..files.sources import MigrationSource
from ..runtime.migrator import Bind, Directories, Migrator
from ..runtime.report import MigrationState, MigrationStatus, Problem
from ..runtime.status import problems
from ..urls import async_url, mask_secrets, mask_url
from .diff import snapshot_diff
from .scratch import scratch_database
from .snapshot import take_snapshot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: The states of a migration with a file and a version row saying it ran to the end.
_RAN = (MigrationStatus.APPLIED, MigrationStatus.MODIFIED)


@dataclass
class DriftReport:
    """What :func:`schema_drift` found on ``database`` (its URL, password masked).

    ``applied``: the applied migrations that have a file, in plan order: what ran on the scratch
    database. ``differences``: how the live schema differs from the scratch one, a line each.
    ``problems``: the applied migrations that are ``missing`` (no file), ``modified`` (the file
    changed since it ran) or ``failed`` (part-way), as ``verify`` reports them. ``not_run``:
    pending migrations ordered before an applied one, recorded on the scratch database without
    running, as they have not run on the live one.
    """

    database: str
    applied: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The live schema is what its applied migrations make, and each of them is as it ran."""
        return not (self.differences or self.problems)

    @property
    def lines(self) -> list[str]:
        """A line per difference, then one per problem migration; empty when :attr:`ok`."""
        found = [f"migration {p.migration_id}: {p.kind} ({p.message})" for p in self.problems]
        return [*self.differences, *found]

    def ids(self, kind: str) -> list[str]:
        """The problem migrations of one ``kind`` (``missing``, ``modified`` or ``failed``)."""
        return [problem.migration_id for problem in self.problems if problem.kind == kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": list(self.applied),
            "differences": list(self.differences),
            **{kind: self.ids(kind) for kind in ("missing", "modified", "failed")},
            "not_run": list(self.not_run),
        }


async def schema_drift(
    live: Bind,
    directories: Directories = "migrations",
    *,
    sources: Sequence[MigrationSource] = (),
    table: str = "uno_migrations",
    schema: str | None = None,
    scratch_server: str | URL | None = None,
    folder: str | None = None,
) -> DriftReport:
    """How the database ``live`` differs from what its applied migrations (in ``directories``
    and ``sources``, recorded in ``schema.table``) make on a scratch database.

    The scratch database is made on ``scratch_server`` (default: ``live``'s own server; an
    SQLite file in ``folder``, default a temporary one) and dropped afterwards. Nothing is
    written on ``live``: an SQLite file that does not exist is an error, not created.
    """
    migrator = Migrator(live, directories, table=table, schema=schema, sources=sources)
    server = async_url(scratch_server) if scratch_server is not None else _url_of(migrator.bind)
    _refuse_other_engine(server, migrator.dialect)
    _refuse_missing_file(migrator)
    states = await migrator.status()
    actual = await take_snapshot(migrator.bind, table=table)
    report = DriftReport(migrator.url, problems=problems(states))
    report.applied = [state.id for state in states if _ran(state)]
    async with AsyncExitStack() as stack:
        where = folder or stack.enter_context(tempfile.TemporaryDirectory(prefix="uno-diff-"))
        scratch = await _scratch(stack, server, where)
        # The version table in the scratch database itself: a ``schema`` is where the live
        # database keeps it, on MySQL another database of the same server.
        other = Migrator(scratch, directories, table=table, sources=sources)
        report.not_run = await _apply_exactly(other, set(report.applied))
        expected = await take_snapshot(scratch, table=table)
    report.differences = snapshot_diff(expected, actual)
    return report


def _ran(state: MigrationState) -> bool:
    """Its file is there and a version row says it ran to the end (a file that no longer
    parses, too: the scratch database then stops on it)."""
    return state.status in _RAN or (state.status == MigrationStatus.INVALID and state.applied_at is not None)


async def _apply_exactly(migrator: Migrator, applied: Collection[str]) -> list[str]:
    """Apply ``applied`` on ``migrator``'s database, and nothing else, in plan order.

    ``migrate`` applies every pending migration up to its target, so a pending one ordered
    before an applied one (merged late, ``status``'s "out of order") is recorded with ``fake``,
    without running; those are returned.
    """
    ids = [str(base.id) for base in migrator.plan().migrations]
    last = max((index for index, mid in enumerate(ids) if mid in applied), default=-1)
    not_run: list[str] = []
    for ran, run in itertools.groupby(ids[: last + 1], key=lambda mid: mid in applied):
        run_ids = list(run)
        await migrator.migrate(target=run_ids[-1], fake=not ran)
        if not ran:
            not_run += run_ids
    return not_run


async def _scratch(stack: AsyncExitStack, server: URL, folder: str) -> URL:
    """A scratch database on ``server`` until ``stack`` closes; one that cannot be made is an
    error that says where."""
    try:
        return await stack.enter_async_context(scratch_database(server, folder))
    except Exception as exc:  # drivers raise OSError, their own errors, or DBAPIError
        raise DatabaseConnectionError(
            f"cannot make a scratch database on {mask_url(server)}: {mask_secrets(driver_message(exc))}"
        ) from exc


def _url_of(bind: AsyncEngine | AsyncConnection | URL) -> URL:
    """The URL an engine, a connection or a URL opens (its password kept, to connect with)."""
    if isinstance(bind, URL):
        return bind
    engine = bind.engine if is_async_connection(bind) else cast("AsyncEngine", bind)
    return async_url(engine.url)


def _refuse_other_engine(server: URL, dialect: str) -> None:
    """Snapshots of two engines are not comparable: each names types in its own words."""
    engine = adapter_class(server.get_backend_name()).name
    if engine != dialect:
        raise ConfigurationError(
            f"the scratch server {mask_url(server)} is {engine}, not {dialect} like the database: "
            "give a server of the database's engine"
        )


def _refuse_missing_file(migrator: Migrator) -> None:
    bind = migrator.bind
    if isinstance(bind, URL) and get_adapter(migrator.dialect).database_missing(bind):
        raise DatabaseConnectionError(f"{migrator.url} does not exist: there is no database to compare")

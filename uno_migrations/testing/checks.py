"""The built-in checks of a project's migrations, on an empty database (``uno-migrations test``).

In order, each on the one database:

- ``graph``: the plan can be made (no cycle, no unmet dependency) and every migration loads;
- ``upgrade``: every migration applies, from the empty database to the last one, one at a time;
- ``roundtrip``: for each migration in plan order, once it is applied: its down step run, the
  schema must be what it was before the migration (a snapshot, :mod:`.snapshot`); applied again,
  the schema must be what the migration made the first time. A migration without a down step is
  not rolled back (and the ``rollback`` check stops at it);
- ``checksums``: nothing applied reads as modified once everything is;
- ``rollback``: reverting everything leaves only uno's tables (the schema of the empty database);
- ``models``, given the application's ``MetaData``: once everything is applied again, the schema
  matches it, by Alembic's comparison (as ``uno-migrations check``; needs the ``alembic`` extra).

A failure names the migration and, for a schema that differs, each difference
(:func:`~.diff.snapshot_diff`). A check that cannot go on (a migration that fails) stops the run:
what comes after it would be checked on a database in an unknown state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import URL

from ..connections import is_async_connection
from ..dialects import driver_message, get_adapter
from ..errors import DatabaseConnectionError, MigrationError
from ..files.migration import Migration, MigrationBase
from ..files.sources import MigrationSource
from ..runtime.migrator import Bind, Directories, Migrator
from ..urls import create_engine, mask_secrets, mask_url
from .diff import snapshot_diff
from .reader import SchemaReader
from .snapshot import Snapshot

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: ``(check, migration id or None, outcome)``, called as each step ends: outcome ``ok``,
#: ``failed`` or ``skipped``.
Progress = Callable[[str, str | None, str], None]
CHECKS = ("graph", "upgrade", "roundtrip", "checksums", "rollback", "models")


@dataclass(frozen=True)
class Finding:
    """One failed check: ``check``, the migration it is about (None for the project as a whole),
    ``message``, and ``differences``, one line each, where two schemas differ."""

    check: str
    migration_id: str | None
    message: str
    differences: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        where = f"{self.migration_id}: " if self.migration_id else ""
        return [f"{self.check}: {where}{self.message}", *(f"  {line}" for line in self.differences)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "migration": self.migration_id,
            "message": self.message,
            "differences": list(self.differences),
        }


@dataclass
class CheckReport:
    """What :func:`check_migrations` found: ``findings`` (empty when all is well), the
    ``migrations`` checked in plan order, and the ``skipped`` roundtrips (no down step)."""

    migrations: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


class _Stop(Exception):
    """A check failed in a way the later ones cannot go on from."""


async def check_migrations(
    bind: Bind,
    directories: Directories = "migrations",
    *,
    sources: Sequence[MigrationSource] = (),
    table: str = "uno_migrations",
    schema: str | None = None,
    metadata: MetaData | str | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Run the built-in checks of the migrations in ``directories`` (and ``sources``) on the
    empty database ``bind``, which they leave migrated to the last migration; with
    ``metadata`` (a ``MetaData``, or ``module:attribute`` naming one) the models check too.

    Once the plan is made, everything runs on one connection (``bind``, or one opened for the
    checks): each step a call of a :class:`Migrator` on it, each snapshot read on it by one
    :class:`~.reader.SchemaReader`, which reads again only what changed.
    """
    report = CheckReport()
    planner = Migrator(bind, directories, table=table, schema=schema, sources=sources)
    if isinstance(metadata, str):  # a reference that does not import fails before anything runs
        from alembic_compat.autogenerate import load_metadata

        metadata = load_metadata(metadata)

    def done(check: str, migration_id: str | None, outcome: str = "ok") -> None:
        if progress is not None:
            progress(check, migration_id, outcome)

    def failed(check: str, migration_id: str | None, message: str, differences: Sequence[str] = ()) -> None:
        report.findings.append(Finding(check, migration_id, message, tuple(differences)))
        done(check, migration_id, "failed")

    try:
        report.migrations = _plan(planner, failed)
        async with _connection(bind, planner.lock_timeout) as connection:
            migrator = Migrator(connection, directories, table=table, schema=schema, sources=sources)
            await _graph(migrator, done, failed)
            # The steps of the roundtrip find the files as they were when it began, read once.
            steps = Migrator(connection, [], table=table, schema=schema, sources=_once(migrator.sources))
            reader = SchemaReader(connection, table=table)
            await _up_and_back(steps, reader, report, done, failed)
            problems = [p for p in await migrator.verify() if p.kind == "modified"]
            for problem in problems:
                failed("checksums", problem.migration_id, problem.message)
            if not problems:
                done("checksums", None)
            await _rollback_all(migrator, reader, report, done, failed)
            if metadata is not None:
                await _models(migrator, metadata, done, failed, table)
    except _Stop:
        pass
    return report


def _plan(migrator: Migrator, failed: Any) -> list[str]:
    """The migrations in plan order (the graph check's first half, before anything connects)."""
    try:
        plan = migrator.plan()
    except MigrationError as exc:
        failed("graph", None, str(exc))
        raise _Stop from exc
    return [str(base.id) for base in plan.migrations]


async def _graph(migrator: Migrator, done: Any, failed: Any) -> None:
    """The graph check's second half: every migration loads."""
    invalid = [p for p in await migrator.verify() if p.kind == "invalid"]
    for problem in invalid:
        failed("graph", problem.migration_id, f"does not load: {problem.message}")
    if invalid:
        raise _Stop
    done("graph", None)


async def _up_and_back(
    migrator: Migrator, reader: SchemaReader, report: CheckReport, done: Any, failed: Any
) -> None:
    """Each migration up, down, up again, with the schema compared at each step."""
    plan = migrator.plan()
    before = await reader.snapshot()
    for base in plan.migrations:
        migration_id = str(base.id)
        await _apply(migrator, migration_id, "upgrade", failed)
        done("upgrade", migration_id)
        after = await reader.snapshot()
        if not base.reversible:
            report.skipped.append(migration_id)
            done("roundtrip", migration_id, "skipped")
            before = after
            continue
        try:
            await migrator.rollback(steps=1)
        except MigrationError as exc:
            failed("roundtrip", migration_id, f"its down step failed: {exc}")
            raise _Stop from exc
        undone = snapshot_diff(before, await reader.snapshot())
        if undone:  # applied again, it would meet what its down step left: nothing to learn
            failed("roundtrip", migration_id, "its down step does not undo its up step", undone)
            raise _Stop
        await _apply(migrator, migration_id, "roundtrip", failed)
        again = snapshot_diff(after, await reader.snapshot())
        if again:
            message = "applied again after its down step, it makes another schema"
            failed("roundtrip", migration_id, message, again)
            raise _Stop
        done("roundtrip", migration_id)
        before = after


async def _rollback_all(
    migrator: Migrator, reader: SchemaReader, report: CheckReport, done: Any, failed: Any
) -> None:
    """Everything reverted (back to the last migration without a down step, if any)."""
    if report.skipped:
        done("rollback", None, "skipped")
        return
    try:
        await migrator.rollback(all=True)
    except MigrationError as exc:
        failed("rollback", None, f"reverting everything failed: {exc}")
        raise _Stop from exc
    left = snapshot_diff(Snapshot.from_dict({}), await reader.snapshot())
    if left:
        failed("rollback", None, "reverting everything leaves more than uno's tables", left)
    else:
        done("rollback", None)
    await migrator.migrate()


async def _models(migrator: Migrator, metadata: MetaData, done: Any, failed: Any, table: str) -> None:
    """The migrated schema against the models, as ``uno-migrations check`` compares them."""
    from alembic_compat.autogenerate import ignored_tables, schema_differences

    found = await schema_differences(migrator.bind, metadata, ignored_tables(table))
    if found:
        message = "the migrated schema differs from the models"
        failed("models", None, message, [difference.line for difference in found])
    else:
        done("models", None)


async def _apply(migrator: Migrator, migration_id: str, check: str, failed: Any) -> None:
    try:
        await migrator.migrate(target=migration_id)
    except MigrationError as exc:
        failed(check, migration_id, f"does not apply: {exc}")
        raise _Stop from exc


@asynccontextmanager
async def _connection(bind: Bind, lock_timeout: float) -> AsyncIterator[AsyncConnection]:
    """The connection the checks run on: ``bind`` when it is one, else a new one of the engine
    ``bind`` is or of one made from the URL (disposed of afterwards), set up as a run's own."""
    if is_async_connection(bind):
        yield bind
        return
    engine = create_engine(bind) if isinstance(bind, (str, URL)) else cast("AsyncEngine", bind)
    try:
        try:
            connection = await engine.connect()
        except Exception as exc:  # drivers raise OSError, their own errors, or DBAPIError
            raise DatabaseConnectionError(
                f"cannot connect to {mask_url(engine.url)}: {mask_secrets(driver_message(exc))}"
            ) from exc
        try:
            await get_adapter(connection.dialect.name).prepare(connection, lock_timeout)
            yield connection
        finally:
            await connection.close()
    finally:
        if engine is not bind:
            await engine.dispose()


def _once(sources: Sequence[MigrationSource]) -> list[MigrationSource]:
    return [_Discovered(source) for source in sources]


class _Discovered:
    """A source whose migrations are discovered once (per engine): a step of the roundtrip, a
    :class:`Migrator` call, would otherwise read every file again, 300 times for 100 files."""

    def __init__(self, source: MigrationSource) -> None:
        self.source = source
        self._found: dict[str | None, list[MigrationBase]] = {}

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        if dialect not in self._found:
            self._found[dialect] = self.source.discover(dialect)
        return list(self._found[dialect])

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        return self.source.load(base, dialect)

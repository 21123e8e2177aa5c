"""Migrator: take the lock, plan, run, record. The public async methods of the library."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Union

from sqlalchemy.engine import URL

from ..connections import is_async_connection, is_async_engine
from ..dialects import adapter_class
from ..errors import (
    ConfigurationError,
    ExecutionError,
    FailedMigrationError,
    IrreversibleMigrationError,
    MigrationError,
)
from ..files.migration import Migration, MigrationBase
from ..files.planning import (
    MigrationPlan,
    RunPhase,
    check_phase,
    order,
    plan_migrate,
    plan_phase,
    plan_rollback,
)
from ..files.sources import DirectorySource, MigrationSource, discover_sources
from ..urls import async_url, mask_url
from . import layout
from .attempt import Attempt, Direction
from .context import MigrationContext
from .executor import Executor, resume_point
from .lock_waits import LockWaits
from .offline import OfflineScript, ScratchContext, ScriptWriter, written_out
from .records import AppliedMigration, LogEntry, current_actor
from .report import EventKind, MigrationEvent, MigrationState, Problem, RunReport, planned_run
from .run_session import Session, open_session
from .status import current_checksum, migration_states, problems, refuse_modified
from .version_table import VersionTable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from ..dialects import DialectAdapter

log = logging.getLogger(__name__)

Bind = Union["AsyncEngine", "AsyncConnection", str, URL]
Directories = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
Listener = Callable[[MigrationEvent], None]


def _directories(value: Directories) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    return [os.fspath(v) for v in value]


class Migrator:
    """Applies and reverts the migrations in ``directories`` on one database.

    ``bind`` is an ``AsyncEngine``, an ``AsyncConnection`` or a URL (sync URLs get the async
    driver). Every method is a coroutine; none prints.

    >>> # migrator = Migrator("sqlite:///app.db", directories=["migrations"])
    >>> # report = await migrator.migrate()
    """

    def __init__(
        self,
        bind: Bind,
        directories: Directories = "migrations",
        *,
        table: str = "uno_migrations",
        schema: str | None = None,
        lock_timeout: float = 60.0,
        listener: Listener | None = None,
        sources: Sequence[MigrationSource] = (),
        lock_waits: LockWaits | None = None,
    ) -> None:
        self._url: URL | None = None
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        if isinstance(bind, (str, URL)):
            self._url = async_url(bind)
        elif is_async_engine(bind):
            self._engine = bind
        elif is_async_connection(bind):
            self._connection = bind
        else:
            raise MigrationError(
                f"Migrator needs an AsyncEngine, an AsyncConnection or a URL, not {type(bind).__name__}"
            )
        self.directories = _directories(directories)
        self.sources: list[MigrationSource] = [DirectorySource(self.directories), *sources]
        self._source_of: dict[str, MigrationSource] = {}
        self.version_table = VersionTable(table, schema, self.dialect)
        self.lock_timeout = lock_timeout
        self.listener = listener
        self.actor = current_actor()
        #: How long each statement of a migration waits for its locks, and the retries of a
        #: migration that timed out (:class:`~.lock_waits.LockWaits`; by default 2 s, 5 retries).
        self.lock_waits = LockWaits() if lock_waits is None else lock_waits
        self._executor = Executor(self.actor, self._emit, waits=self.lock_waits)

    @property
    def dialect(self) -> str:
        """The adapter name: ``postgresql``, ``mysql`` or ``sqlite``."""
        if self._url is not None:
            name = self._url.get_backend_name()
        elif self._engine is not None:
            name = self._engine.dialect.name
        else:
            assert self._connection is not None
            name = self._connection.dialect.name
        return adapter_class(name).name

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        if self._url is not None:
            return mask_url(self._url)
        engine = self._engine or (self._connection.engine if self._connection else None)
        return mask_url(engine.url) if engine is not None else ""

    @property
    def bind(self) -> AsyncEngine | AsyncConnection | URL:
        """What the migrator connects through: the engine or connection given, or the async URL."""
        bind = self._connection or self._engine or self._url
        assert bind is not None
        return bind

    def plan(self) -> MigrationPlan:
        """Read every source and order all migrations; touches no database."""
        found, self._source_of = discover_sources(self.sources, self.dialect)
        return order(found)

    def _session(self) -> AbstractAsyncContextManager[Session]:
        bind = self._connection or self._engine or self._url
        assert bind is not None
        return open_session(bind, self.lock_timeout, self.version_table)

    async def _read(self, session: Session, upgrade: bool = False) -> dict[str, AppliedMigration]:
        """The version table's rows; ``upgrade`` (a run that writes, under the lock): an older
        layout of uno's tables is upgraded in place first. A newer layout is refused."""
        table = session.table
        async with session.transaction(write=False):
            if not await table.exists(session.connection):
                return {}
            found = await table.layout_version(session.connection)
            try:
                rows = await table.read(session.connection)
            except Exception as exc:  # the driver's error, or SQLAlchemy's around it
                problem = await table.layout_problem(session.connection)
                if problem is None:
                    raise
                raise ConfigurationError(problem) from exc
        if upgrade and found < layout.CURRENT:
            async with session.transaction():
                await table.upgrade_layout(session.connection, found)
        return rows

    def _locked(self, session: Session, direction: Direction = "up") -> AbstractAsyncContextManager[None]:
        def waiting(holder: str | None) -> None:
            if self.listener is not None:
                self.listener(MigrationEvent("wait", "", direction, 0, 0, holder=holder))

        table = self.version_table
        return session.locked(table.name, table.schema, self.lock_timeout, waiting)

    def _emit(
        self,
        kind: EventKind,
        migration_id: str,
        direction: Direction,
        index: int,
        total: int,
        ms: int | None = None,
        *,
        holder: str | None = None,
        attempt: int | None = None,
    ) -> None:
        if self.listener is not None:
            self.listener(MigrationEvent(kind, migration_id, direction, index, total, ms, holder, attempt))

    # -- migrate ----------------------------------------------------------------------------

    async def migrate(
        self,
        target: str | None = None,
        steps: int | None = None,
        *,
        fake: bool = False,
        dry_run: bool = False,
        resume: bool = False,
        sql: bool = False,
        scratch: Bind | None = None,
        phase: RunPhase | None = None,
    ) -> RunReport:
        """Apply pending migrations in plan order; all, up to ``target``, or the next ``steps``.

        ``sql``: change nothing, and write the plan out as an SQL script instead (the report's
        ``script``; see :mod:`.offline`), run on the ``scratch`` database when given.
        ``phase``: ``"pre"`` (before a deploy) stops before the first pending post-deploy
        migration (the report's ``stopped_before``); ``"post"`` or None applies every one.
        """
        check_phase(phase)
        plan = self.plan()
        if target is not None:
            plan.resolve(target)
        report = RunReport("up", dry_run=dry_run)
        async with self._session() as session:
            async with self._locked(session):
                applied = await self._read(session, upgrade=not dry_run)
                refuse_modified(migration_states(plan, applied, self._checksum_of(session.adapter.name)))
                failed = {mid: row for mid, row in applied.items() if row.status == "failed"}
                if failed and not (resume or fake):
                    first = next(iter(failed.values()))
                    raise FailedMigrationError(first.id, first.statements_done, first.kind == "sql")
                done = [mid for mid, row in applied.items() if row.status == "applied"]
                todo, stopped = plan_phase(plan_migrate(plan, done, target, steps), phase)
                report.stopped_before = None if stopped is None else stopped.id
                loaded = [self._load(base, session.adapter.name) for base in todo]
                if session.external_transaction and not (dry_run or fake):
                    outside = next((m for m in loaded if not m.base.transactional), None)
                    if outside is not None:
                        raise MigrationError(
                            f"migration {outside.id} runs outside a transaction, so it cannot run in "
                            "the transaction the connection given is in; pass the engine, or a "
                            "connection outside a transaction"
                        )
                if dry_run or sql:
                    report.runs = [planned_run(m, "up") for m in loaded]
                    if sql:
                        report.script = await self._write_out(session, loaded, "up", done, scratch)
                    return report
                if resume and not fake:
                    gone = next((mid for mid in failed if mid not in plan.position), None)
                    if gone is not None:
                        raise MigrationError(
                            f"cannot resume {gone}: its file is missing; restore it, or undo what "
                            f"it did by hand and 'repair {gone}'"
                        )
                    for migration in loaded:  # refuse before anything runs, not half-way
                        if migration.id in failed:
                            resume_point(migration, failed[migration.id])
                alembic = False
                if todo and not applied:
                    async with session.transaction():
                        alembic = await session.table.alembic_manages(session.connection)
                        await session.table.create(session.connection)
                try:
                    await self._apply_all(session, loaded, failed, fake, report)
                except ExecutionError as exc:
                    if not alembic:
                        raise
                    raise exc.with_hint(
                        "Alembic manages this database (it has an alembic_version table): take its "
                        "history over first with 'uno-migrations alembic adopt'"
                    ) from exc
        return report

    async def _apply_all(
        self,
        session: Session,
        loaded: list[Migration],
        failed: dict[str, AppliedMigration],
        fake: bool,
        report: RunReport,
    ) -> None:
        for index, migration in enumerate(loaded):
            row = failed.get(migration.id)
            following = loaded[index + 1] if index + 1 < len(loaded) else None
            if following is not None and following.id in failed:
                following = None
            run = await self._executor.apply(session, migration, index, len(loaded), fake, row, following)
            if run is None:
                report.skipped.append(migration.id)
            else:
                report.runs.append(run)

    def _load(self, base: MigrationBase, dialect: str) -> Migration:
        return self._source_of[str(base.id)].load(base, dialect)

    def _checksum_of(self, dialect: str) -> Callable[[MigrationBase], str]:
        return current_checksum(lambda base: self._load(base, dialect))

    # -- rollback ---------------------------------------------------------------------------

    async def rollback(
        self,
        steps: int | None = None,
        target: str | None = None,
        all: bool = False,  # noqa: A002 - mirrors the --all option
        *,
        fake: bool = False,
        dry_run: bool = False,
        sql: bool = False,
        scratch: Bind | None = None,
    ) -> RunReport:
        """Revert the last ``steps`` (default 1) applied, all after ``target``, or ``all``;
        ``sql`` and ``scratch`` as for :meth:`migrate`."""
        plan = self.plan()
        report = RunReport("down", dry_run=dry_run)
        async with self._session() as session:
            async with self._locked(session, "down"):
                applied = await self._read(session, upgrade=not dry_run)
                # --fake removes records: a failed attempt's too (its newest), as `repair ID` does.
                records = ("applied", "failed") if fake else ("applied",)
                chronological = sorted(
                    (row for row in applied.values() if row.status in records),
                    key=lambda row: (row.applied_at, plan.position.get(row.id, len(plan))),
                )
                ids = plan_rollback(
                    plan,
                    [row.id for row in chronological],
                    steps=steps,
                    target=target,
                    everything=all,
                )
                targets = [self._revertible(plan, mid, session.adapter.name, fake) for mid in ids]
                if dry_run or sql:
                    report.runs = [planned_run(m, "down") for m in targets]
                    if sql:
                        done = [row.id for row in chronological if row.status == "applied"]
                        report.script = await self._write_out(session, targets, "down", done, scratch)
                    return report
                for index, migration in enumerate(targets):
                    run = await self._executor.revert(session, migration, index, len(targets), fake)
                    if run is None:
                        report.skipped.append(migration.id)
                    else:
                        report.runs.append(run)
        return report

    async def _write_out(
        self,
        session: Session,
        migrations: list[Migration],
        direction: Direction,
        applied: list[str],
        scratch: Bind | None,
    ) -> OfflineScript:
        """The script of ``migrations`` run ``direction`` on the session's database, where
        ``applied`` are applied (in the order they were)."""
        connection, adapter = session.connection, session.adapter
        writer = ScriptWriter(adapter, connection.dialect, session.table, self.actor, direction)
        if not await session.table.exists(connection):
            writer.version_tables()
        if scratch is not None:
            ran = await self._run_on_scratch(scratch, migrations, direction, applied)
            for migration in migrations:
                writer.migration(migration, ran[migration.id], None)
            return writer.script
        url = connection.engine.url
        for migration in migrations:
            statements, problem = await written_out(migration, direction, adapter, connection.dialect, url)
            writer.migration(migration, statements, problem)
        return writer.script

    async def _run_on_scratch(
        self, scratch: Bind, migrations: list[Migration], direction: Direction, applied: list[str]
    ) -> dict[str, list[str]]:
        """Run ``migrations`` on the ``scratch`` database, first brought to the state of this one
        (``applied``, applied there unrecorded); what each sent, values written in."""
        table = self.version_table
        other = Migrator(
            scratch,
            [],
            table=table.name,
            schema=table.schema,
            lock_timeout=self.lock_timeout,
            sources=self.sources,
        )
        if other.dialect != self.dialect:
            raise ConfigurationError(
                f"the scratch database is {other.dialect}, not {self.dialect} like the database"
            )
        plan = other.plan()
        recorders: dict[str, list[str]] = {}

        def recording(
            connection: AsyncConnection, adapter: DialectAdapter, attempt: Attempt
        ) -> MigrationContext:
            context = ScratchContext(connection, adapter, attempt)
            recorders[attempt.migration.id] = context.recorder.statements
            return context

        async with other._session() as session, other._locked(session, direction):
            rows = await other._read(session, upgrade=True)
            failed = next((row.id for row in rows.values() if row.status != "applied"), None)
            extra = sorted(set(rows) - set(applied))
            if failed is not None or extra:
                raise ConfigurationError(
                    f"the scratch database has {failed or extra[0]} {'failed' if failed else 'applied'}, "
                    "which the database has not: give an empty database, or a copy of this one"
                )
            if not rows:
                async with session.transaction():
                    await session.table.create(session.connection)
            catch_up = []
            for mid in applied:
                base = plan.get(mid)
                if base is None:
                    raise MigrationError(
                        f"cannot bring the scratch database to this one's state: the file of {mid} is missing"
                    )
                if mid not in rows:
                    catch_up.append(other._load(base, self.dialect))
            for index, migration in enumerate(catch_up):
                await other._executor.apply(session, migration, index, len(catch_up), False, None)
            executor = Executor(self.actor, lambda *_, **__: None, context=recording, whole=False)
            for index, migration in enumerate(migrations):
                if direction == "up":
                    await executor.apply(session, migration, index, len(migrations), False, None)
                else:
                    await executor.revert(session, migration, index, len(migrations), False)
        return recorders

    def _revertible(self, plan: MigrationPlan, migration_id: str, dialect: str, fake: bool) -> Migration:
        base = plan.get(migration_id)
        if base is None:
            if fake:
                return Migration(MigrationBase(id=migration_id, name=migration_id))
            raise MigrationError(
                f"cannot revert {migration_id}: its file is missing; restore it, or use --fake"
            )
        if fake:
            return Migration(base)
        migration = self._load(base, dialect)
        if not migration.reversible:
            raise IrreversibleMigrationError(migration_id)
        return migration

    # -- read-only views and repair ---------------------------------------------------------

    def _database_missing(self) -> bool:
        """A database that connecting would create (an SQLite file) does not exist yet."""
        return self._url is not None and adapter_class(self.dialect)().database_missing(self._url)

    async def status(self) -> list[MigrationState]:
        """Every migration with where it stands: files in plan order, then missing ones.

        Reads only: a database that does not exist yet is not created (everything is pending).
        """
        plan = self.plan()
        if self._database_missing():
            return migration_states(plan, {}, self._checksum_of(self.dialect))
        async with self._session() as session:
            applied = await self._read(session)
            return migration_states(plan, applied, self._checksum_of(session.adapter.name))

    async def history(self) -> list[LogEntry]:
        """The log, oldest first."""
        if self._database_missing():
            return []
        async with self._session() as session:
            async with session.transaction(write=False):
                if not await session.table.exists(session.connection):
                    return []
                await session.table.layout_version(session.connection)  # a newer one is refused
                return await session.table.history(session.connection)

    async def verify(self) -> list[Problem]:
        """Modified, missing and failed migrations, and every migration, applied or pending,
        that does not load: an SQL file that does not parse or split, a Python file that does
        not import or defines neither ``up`` nor a Migration class (the checks ``migrate``
        makes before it runs anything). An empty list means all is well. Reads only, as
        ``status`` does."""
        plan = self.plan()
        dialect, applied = self.dialect, {}
        if not self._database_missing():
            async with self._session() as session:
                dialect, applied = session.adapter.name, await self._read(session)
        invalid: dict[str, Problem] = {}
        for base in plan.migrations:
            try:
                self._load(base, dialect)
            except MigrationError as exc:
                reason = getattr(exc, "reason", str(exc))
                invalid[str(base.id)] = Problem(str(base.id), "invalid", base.path, reason)
        checksum_of = self._checksum_of(dialect)

        def current(base: MigrationBase) -> str:
            if base.custom_checksum and str(base.id) in invalid:
                return applied[str(base.id)].checksum  # its get_checksum() cannot run: unknown
            return checksum_of(base)

        found: list[Problem] = []
        for state in migration_states(plan, applied, current):
            found.extend(problems([state]))
            if state.id in invalid:
                found.append(invalid[state.id])
        return found

    async def repair(self, ids: Sequence[str] | None = None) -> list[str]:
        """Record current checksums of modified migrations and forget failed attempts."""
        plan = self.plan()
        async with self._session() as session:
            async with self._locked(session):
                applied = await self._read(session, upgrade=True)
                states = {
                    s.id: s for s in migration_states(plan, applied, self._checksum_of(session.adapter.name))
                }
                wanted = None if ids is None else {plan.resolve(i, applied) for i in ids}
                repaired = []
                async with session.transaction():
                    for state in states.values():
                        if wanted is not None and state.id not in wanted:
                            continue
                        if state.status == "modified" and state.checksum:
                            await session.table.set_checksums(
                                session.connection, [(state.id, state.checksum)], self.actor
                            )
                            repaired.append(state.id)
                        elif state.status == "failed":
                            await session.table.remove(
                                session.connection,
                                state.id,
                                action="repair",
                                execution_ms=0,
                                actor=self.actor,
                            )
                            repaired.append(state.id)
                return repaired

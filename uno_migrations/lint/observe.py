"""``lint --observe``: what each statement of the plan did when it ran on a scratch database,
the locks it took and the tables it rewrote, so that a rule's verdict is backed by the engine.

The plan's migrations run one at a time, through the runner (:class:`~..runtime.executor.Executor`)
as ``migrate`` runs them, each statement on its own, in the migration's transaction where it has
one. Before each migration, every empty table gets a few rows (:mod:`.rows`). After each
statement, the migration's own session reads the storage ids of the tables and indexes (its
uncommitted changes included: PostgreSQL's relfilenode, InnoDB's table id), and a second
connection reads the locks that session holds; that connection also samples them while the
statement runs, which is how the locks of a statement outside a transaction, gone when it ends,
are seen. A statement's locks are those it added to what its session already held.

A Python migration is observed at each statement it sends through ``execute_sql`` and
``execute_many``; what it does through ``context.connection`` is seen only as the rewrites
found when the migration ends. :func:`~.observed.observed_findings` turns what was seen into
findings.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

from ..errors import ExecutionError
from ..files.sources import discover_sources
from ..runtime.context import MigrationContext
from ..runtime.executor import Executor
from ..runtime.run_session import open_session
from ..runtime.version_table import VersionTable
from ..urls import async_url
from .rows import fill_empty_tables

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine import CursorResult
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..dialects import DialectAdapter
    from ..files.migration import Migration, MigrationBase
    from ..files.planning import MigrationPlan
    from ..runtime.attempt import Attempt
    from ..runtime.migrator import Bind, Migrator
    from ..runtime.run_session import Session
    from ..sql.splitter import Statement

Storage = dict[str, tuple[str, str, str]]
Lock = tuple[str, str]
#: How often the second connection reads the locks while a statement runs, in seconds.
SAMPLE_EVERY = 0.002


@dataclass
class Observed:
    """What one statement did: its ``index`` among the migration's statements (as split, or as
    sent), its text, the table locks it took (table, mode) and what it rewrote (name, kind)."""

    index: int | None
    text: str
    locks: list[Lock]
    rewritten: list[tuple[str, str]]


@dataclass
class MigrationObserved:
    """What a migration did, a statement at a time: ``existing``, the tables it found;
    ``unfilled``, the tables left empty before it ran, with why; ``failure``, where it failed."""

    migration: Migration
    existing: set[str]
    unfilled: dict[str, str]
    statements: list[Observed] = field(default_factory=list)
    failure: ExecutionError | None = None


@dataclass
class PlanObserved:
    """What the plan's migrations did, in plan order, and why locks were not read, if not."""

    engine: str
    storage_name: str | None
    locks_unseen: str | None
    migrations: list[MigrationObserved] = field(default_factory=list)


class _Sampler:
    """The locks the session ``session_id`` holds, read on a second connection: on demand, and
    every :data:`SAMPLE_EVERY` seconds into :attr:`seen` for as long as it is :meth:`running`."""

    def __init__(self, observer: AsyncConnection, adapter: DialectAdapter, session_id: int) -> None:
        self.observer, self.adapter, self.session_id = observer, adapter, session_id
        self.seen: set[Lock] = set()
        self._turn = asyncio.Lock()  # one query at a time on the connection

    async def read(self) -> set[Lock]:
        async with self._turn:
            return await self.adapter.session_locks(self.observer, self.session_id)

    def take(self) -> set[Lock]:
        """The locks sampled since the last call."""
        seen, self.seen = self.seen, set()
        return seen

    async def _poll(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.seen |= await self.read()
            await asyncio.sleep(SAMPLE_EVERY)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # Stopped between two reads, not cancelled: a query cancelled half-way loses its connection.
        stop = asyncio.Event()
        task = asyncio.ensure_future(self._poll(stop))
        try:
            yield
        finally:
            stop.set()
            await task


class _Watch:
    """One migration under observation: the storage and locks as they were before its next
    statement, and what each statement changed."""

    def __init__(
        self, adapter: DialectAdapter, sampler: _Sampler | None, storage: Storage, ignored: Collection[str]
    ) -> None:
        self.adapter, self.sampler, self.ignored = adapter, sampler, ignored
        self.storage = storage
        self.held: set[Lock] = set()
        self.statements: list[Observed] = []
        if sampler is not None:
            sampler.take()

    def _tables(self, locks: set[Lock], names: Storage) -> list[Lock]:
        found = {(names[key][0], mode) for key, mode in locks if key in names and names[key][1] == "table"}
        return sorted((name, mode) for name, mode in found if name not in self.ignored)

    def _rewritten(self, after: Storage) -> list[tuple[str, str]]:
        """What has new storage: a table or index under its id, or an index under its name (a
        column type change drops and re-creates the indexes on the column)."""
        indexes = {name: stored for name, kind, stored in self.storage.values() if kind == "index"}
        return [
            (name, kind)
            for key, (name, kind, stored) in after.items()
            if name not in self.ignored
            and (
                (key in self.storage and self.storage[key][2] != stored)
                or (key not in self.storage and kind == "index" and indexes.get(name, stored) != stored)
            )
        ]

    async def done(self, connection: AsyncConnection, index: int | None, text: str) -> None:
        """Statement ``index`` (``text``) ran on ``connection``: what it did, from what changed."""
        after = await self.adapter.storage(connection)
        locks: list[Lock] = []
        if self.sampler is not None:
            now = await self.sampler.read()
            locks = self._tables((self.sampler.take() | now) - self.held, {**self.storage, **after})
            self.held = now
        self.statements.append(Observed(index, text, locks, self._rewritten(after)))
        self.storage = after

    def ended(self, after: Storage) -> None:
        """The migration committed with ``after``: rewrites its observed statements did not
        make (a Python migration's, through ``context.connection``), as one of no statement."""
        rewritten = self._rewritten(after)
        if rewritten:
            self.statements.append(Observed(None, "", [], rewritten))


class ObservingContext(MigrationContext):
    """A migration's context that has each statement observed by its :class:`_Watch` as it ends."""

    def __init__(
        self, connection: AsyncConnection, adapter: DialectAdapter, attempt: Attempt, watch: _Watch
    ) -> None:
        super().__init__(connection, adapter, attempt)
        self._watch = watch
        self._split: list[str] | None = None
        self._sending = ""

    async def run_statements(
        self, statements: Sequence[Statement], start: int = 0, first_line: int = 1
    ) -> None:
        self._split = [statement.text for statement in statements]
        await super().run_statements(statements, start, first_line)

    async def _run(self, sql: str, params: Any) -> CursorResult[Any]:
        self._sending = sql
        return await super()._run(sql, params)

    async def execute_many(self, sql: str, rows: Sequence[Any]) -> int:
        self._sending = sql
        return await super().execute_many(sql, rows)

    async def _done(self) -> None:
        index = self.attempt.statements_done
        await super()._done()
        if self._split is not None:
            await self._watch.done(self._connection, index, self._split[index])
        else:
            await self._watch.done(self._connection, None, self._sending)


class _Contexts:
    """Makes each migration's context: an observing one while :attr:`watch` is set."""

    def __init__(self) -> None:
        self.watch: _Watch | None = None

    def __call__(
        self, connection: AsyncConnection, adapter: DialectAdapter, attempt: Attempt
    ) -> MigrationContext:
        if self.watch is None:
            return MigrationContext(connection, adapter, attempt)
        return ObservingContext(connection, adapter, attempt, self.watch)


def _base(plan: MigrationPlan, migration_id: str) -> MigrationBase:
    base = plan.get(migration_id)
    assert base is not None, migration_id
    return base


async def _to_run(
    migrator: Migrator,
    plan: MigrationPlan,
    target: str | None,
    steps: int | None,
    paths: Collection[str] | None,
) -> tuple[list[str], set[str]]:
    """What to run on the scratch database: the migrations the database has applied (to catch
    up, unobserved), then what ``migrate`` would apply, up to the last one of ``paths``; and
    the ids of those to observe."""
    applied = [s.id for s in await migrator.status() if s.status in ("applied", "modified") and s.path]
    pending = (await migrator.migrate(target=target, steps=steps, dry_run=True)).ids
    wanted = [
        mid for mid in pending if paths is None or os.path.normpath(str(_base(plan, mid).path)) in paths
    ]
    last = pending.index(wanted[-1]) + 1 if wanted else 0
    return applied + pending[:last], set(wanted)


async def observe_plan(
    migrator: Migrator,
    scratch: Bind,
    *,
    target: str | None = None,
    steps: int | None = None,
    paths: Collection[str] | None = None,
) -> PlanObserved:
    """Run what ``migrator.migrate(target=..., steps=...)`` would apply on ``scratch`` (an empty
    database on the same engine), one migration at a time, and observe each statement (see the
    module's text); ``paths``: observe only the migrations of these files (those before them
    run all the same). A migration that fails stops the run; it is the last observed.

    >>> # seen = await observe_plan(Migrator(url, "migrations"), scratch_url)
    """
    engine, plan = migrator.dialect, migrator.plan()
    wanted_paths = None if paths is None else {os.path.normpath(path) for path in paths}
    run, wanted = await _to_run(migrator, plan, target, steps, wanted_paths)
    _, source_of = discover_sources(migrator.sources, engine)
    loaded = [source_of[mid].load(_base(plan, mid), engine) for mid in run]
    table = VersionTable(migrator.version_table.name, migrator.version_table.schema, engine)
    bind = async_url(scratch) if isinstance(scratch, (str, URL)) else scratch
    async with open_session(bind, migrator.lock_timeout, table) as session:
        async with session.locked(table.name, table.schema, migrator.lock_timeout):
            async with session.transaction():
                await session.table.create(session.connection)
            async with session.engine.connect() as helper, session.engine.connect() as reader:
                for connection in (helper, reader):
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                return await _observe(session, helper, reader, migrator.actor, loaded, wanted)


async def _observe(
    session: Session,
    helper: AsyncConnection,
    reader: AsyncConnection,
    actor: str,
    loaded: list[Migration],
    wanted: set[str],
) -> PlanObserved:
    """Run ``loaded`` on the session, observing those ``wanted``: ``helper`` fills the tables
    and reads their storage between migrations, ``reader`` reads the session's locks."""
    adapter = session.adapter
    seen = PlanObserved(adapter.name, adapter.storage_name, await adapter.locks_unseen(reader))
    session_id = None if session.lock is None else session.lock.session_id
    sampler = None if seen.locks_unseen or session_id is None else _Sampler(reader, adapter, session_id)
    ignored = {t.name for t in session.table.metadata.tables.values()}
    contexts = _Contexts()
    executor = Executor(actor, lambda *_, **__: None, context=contexts, whole=False)
    for index, migration in enumerate(loaded):
        if migration.id not in wanted:
            await executor.apply(session, migration, index, len(loaded), False, None)
            continue
        unfilled = await helper.run_sync(fill_empty_tables, ignored)
        before = await adapter.storage(helper)
        contexts.watch = watch = _Watch(adapter, sampler, before, ignored)
        existing = {name for name, kind, _ in before.values() if kind == "table"}
        observed = MigrationObserved(migration, existing, unfilled, watch.statements)
        seen.migrations.append(observed)
        try:
            async with sampler.running() if sampler is not None else nullcontext():
                await executor.apply(session, migration, index, len(loaded), False, None)
        except ExecutionError as exc:
            observed.failure = exc
            break
        finally:
            contexts.watch = None
        watch.ended(await adapter.storage(helper))
    return seen

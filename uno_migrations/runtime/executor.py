"""Applying and reverting one migration: its transaction, its bookkeeping, its events.

The migrator (:mod:`.migrator`) decides what runs; the :class:`Executor` runs one migration at a
time: whole where the engine's adapter can send it at once, else statement by statement, with the
write-ahead record of attempts where DDL commits implicitly (:mod:`.implicit_commits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from ..dialects.base import DriverSQL, ScriptError, driver_message, walk_causes
from ..errors import ExecutionError, LockLostError, LockTimeoutError, MigrationError
from ..files.migration import Migration, SQLMigration
from ..urls import mask_secrets
from .attempt import Attempt, Direction
from .context import MigrationContext, execution_error
from .implicit_commits import ImplicitCommits
from .lock_waits import NO_LOCK_WAITS, LockWaits
from .records import AppliedMigration
from .report import MigrationRun, RunAction
from .run_session import Session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from ..dialects import DialectAdapter

Emit = Callable[..., None]
ContextFactory = Callable[["AsyncConnection", "DialectAdapter", Attempt], MigrationContext]
log = logging.getLogger(__name__)


def resume_point(migration: Migration, row: AppliedMigration) -> int:
    """Where ``migrate --resume`` continues a failed attempt: after its completed statements."""
    if not isinstance(migration, SQLMigration):
        raise MigrationError(
            f"cannot resume Python migration {migration.id}: undo what it did by hand, then "
            f"'repair {migration.id}' and migrate again"
        )
    return row.statements_done


class Executor:
    """Applies and reverts single migrations on a session, recording them in its ``table``
    on behalf of ``actor``; ``emit(kind, id, direction, index, total, ms=None)`` reports events.
    """

    def __init__(
        self,
        actor: str,
        emit: Emit,
        *,
        context: ContextFactory = MigrationContext,
        whole: bool = True,
        waits: LockWaits = NO_LOCK_WAITS,
    ) -> None:
        self.actor = actor
        self._emit = emit
        #: How long statements wait for locks, and how a migration that timed out is retried.
        self.waits = waits
        #: Makes each migration's context (a recording one for ``--sql --scratch-url``).
        self._context = context
        #: Whether a migration may run whole, with its bookkeeping, where the adapter can; else
        #: every migration goes statement by statement through its context.
        self._whole = whole
        self._implicit = ImplicitCommits(actor)
        #: The migration whose write-ahead row the last one recorded wrote (MySQL).
        self._announced: str | None = None

    async def apply(
        self,
        session: Session,
        migration: Migration,
        index: int,
        total: int,
        fake: bool,
        failed_row: AppliedMigration | None,
        following: Migration | None = None,
    ) -> MigrationRun | None:
        """Apply (with ``fake``, mark) ``migration``, number ``index`` of ``total`` in the run.

        None when another run applied it meanwhile (SQLite); a failure is recorded and raised as
        ExecutionError. ``failed_row``: the row of an earlier failed attempt (MySQL).
        ``following``: the migration the run applies next, if it has no row yet.

        Its statements wait for locks as :attr:`waits` says; a migration that timed out waiting
        and left nothing behind is tried again after a pause (:mod:`.lock_waits`).
        """
        if fake:
            return await self._apply_once(session, migration, index, total, fake, failed_row, following)
        waits = self.waits
        timeout = waits.timeout_for(getattr(migration.base, "lock_timeout", None))
        await session.set_lock_waits(timeout, waits.statement_timeout)
        blockers: list[str] = []
        for attempt in itertools.count(1):
            watcher = self._watch(session, timeout, blockers)
            try:
                return await self._apply_once(
                    session, migration, index, total, fake, failed_row, following, attempt, blockers
                )
            except _TryAgain:
                delay = waits.delay(attempt)
                log.info(
                    "%s waited %s for a lock and gave up (attempt %d of %d); trying again in %.1f s",
                    migration.id,
                    _seconds(timeout),
                    attempt,
                    waits.retries + 1,
                    delay,
                )
                holder = blockers[0] if blockers else None
                self._emit(
                    "retry",
                    migration.id,
                    "up",
                    index,
                    total,
                    int(delay * 1000),
                    holder=holder,
                    attempt=attempt,
                )
                await asyncio.sleep(delay)
            finally:
                if watcher is not None:
                    watcher()
        raise AssertionError("unreachable")

    def _watch(
        self, session: Session, timeout: float | None, blockers: list[str]
    ) -> Callable[[], None] | None:
        """While a statement waits for a lock, who it waits behind, into ``blockers``: looked up
        once on another connection, halfway through the lock timeout, should the attempt still
        run; returns the function that stops it. Until then only a timer: a migration that does
        not wait costs no task."""
        lock = session.lock
        if (
            timeout is None
            or not session.adapter.bounds_lock_waits
            or lock is None
            or lock.session_id is None
        ):
            return None
        session_id = lock.session_id
        task: asyncio.Task[None] | None = None

        async def look() -> None:
            try:
                found = await session.adapter.blockers(session.engine, session_id)
            except Exception:  # a help for the message only: never a failure of its own
                log.debug("could not read who the migration waits behind", exc_info=True)
                return
            if found:
                blockers[:] = found

        def start() -> None:
            nonlocal task
            task = asyncio.ensure_future(look())

        timer = asyncio.get_running_loop().call_later(timeout / 2, start)

        def stop() -> None:
            timer.cancel()
            if task is not None:
                task.cancel()

        return stop

    async def _apply_once(
        self,
        session: Session,
        migration: Migration,
        index: int,
        total: int,
        fake: bool,
        failed_row: AppliedMigration | None,
        following: Migration | None,
        attempt: int = 1,
        blockers: Sequence[str] = (),
    ) -> MigrationRun | None:
        """One attempt of :meth:`apply`; raises :class:`_TryAgain` when the migration timed out
        waiting for a lock, left nothing behind, and may be tried again."""
        base = migration.base
        action: RunAction = "mark" if fake else "apply"
        session.check_lock(migration.id)
        if attempt == 1:
            self._emit("start", migration.id, "up", index, total)
        resume_from = 0 if failed_row is None or fake else resume_point(migration, failed_row)
        context = self._context(
            session.connection, session.adapter, Attempt(migration, "up", resume_from=resume_from)
        )
        started = time.perf_counter()
        try:
            outcome = None
            if failed_row is None and not fake and self._whole and self._announced != migration.id:
                outcome = await self._run_whole(session, migration, context)
            if outcome is None:
                outcome = await self._run_migration(
                    session, context, fake, failed_row is not None, started, following
                )
            if outcome == "skipped":
                self._emit("skip", migration.id, "up", index, total)
                return None
        except LockTimeoutError:
            raise
        except BaseException as exc:
            timed_out = not fake and session.adapter.is_lock_timeout(exc)
            retry = (
                timed_out
                and attempt <= self.waits.retries
                and self._left_nothing(session, migration, context)
            )
            failure = await self._failure(session, context, exc, "up", index, total, started, emit=not retry)
            if failure is None:
                raise
            error, lost = failure
            if not lost:
                with contextlib.suppress(Exception):  # else recording the failure says why
                    await context.release_tables()
                await self._implicit.record_failure(session, migration, error, _ms(started))
            if retry and not lost:
                raise _TryAgain from exc
            if timed_out:
                error = error.with_hint(self._lock_hint(session, migration, error, attempt, blockers))
            raise error from exc
        ms = _ms(started)
        log.info("%s %s in %d ms", "marked" if fake else "applied", migration.id, ms)
        self._emit("done", migration.id, "up", index, total, ms)
        return MigrationRun(migration.id, base.name, "up", action, ms, kind=base.kind)

    def _left_nothing(self, session: Session, migration: Migration, context: MigrationContext) -> bool:
        """Whether a failed attempt left nothing of its own work: it ran in a transaction that
        rolled back, or, where DDL commits implicitly, it failed on its first statement (which
        gave up before it changed anything). A migration outside a transaction may have left
        work (``CREATE INDEX CONCURRENTLY``'s invalid index): never tried again."""
        if not migration.base.transactional:
            return False
        if session.adapter.transactional_ddl:
            return True
        return context.attempt.statements_done == 0 and context.attempt.resume_from == 0

    def _lock_hint(
        self,
        session: Session,
        migration: Migration,
        error: ExecutionError,
        attempt: int,
        blockers: Sequence[str],
    ) -> str:
        """What the final lock-timeout failure says: how long it waited, how often, behind whom."""
        timeout = session.waits[0]
        tries = f"{attempt} attempts" if attempt > 1 else "1 attempt"
        text = f"it waited {_seconds(timeout)} for a lock ({tries})"
        if blockers:
            text += "; waiting behind " + "; ".join(blockers)
        if attempt <= self.waits.retries:  # not tried again: it had left work behind
            if error.statements_done:
                text += (
                    f"; not tried again: its first {error.statements_done} statement(s) are committed, "
                    "'migrate --resume' continues after them once the lock is free"
                )
            else:
                text += "; not tried again: it runs outside a transaction"
        return text

    async def _failure(
        self,
        session: Session,
        context: MigrationContext,
        exc: BaseException,
        direction: Direction,
        index: int,
        total: int,
        started: float,
        emit: bool = True,
    ) -> tuple[ExecutionError, bool] | None:
        """What a migration's failure ``exc`` is reported as: its ExecutionError, and whether the
        run's connection (and with it the lock) was lost, after which nothing may be recorded
        and the migration's real state is read back instead. None: ``exc`` goes on as it is (a
        lost lock, reported here too; Ctrl-C; the run cancelled)."""
        migration_id = context.migration.id
        if isinstance(exc, LockLostError):
            self._emit("fail", migration_id, direction, index, total, _ms(started))
            await self._report_state(session, migration_id)
            return None
        if not _failure_of_migration(exc):
            return None
        if emit:
            self._emit("fail", migration_id, direction, index, total, _ms(started))
        lost = (session.lock_lost() or _connection_lost(exc)) is not None
        if lost:
            await self._report_state(session, migration_id)
        return execution_error(context.migration, exc, context, connection_lost=lost), lost

    async def _report_state(self, session: Session, migration_id: str) -> None:
        """After the run's connection (and with it the lock) is lost: nothing can be recorded;
        warn with the migration's real state, read back on a new connection."""
        try:
            state = await session.read_back(lambda c: session.table.describe_state(c, migration_id))
        except Exception as exc:  # the server may be out of reach: say so, keep the real error
            state = f"could not be read back ({mask_secrets(driver_message(exc)) or type(exc).__name__})"
        log.warning(
            "the connection holding the migration lock was lost, so nothing more was recorded; "
            "read back on a new connection, %s %s",
            migration_id,
            state,
        )

    async def _run_migration(
        self,
        session: Session,
        context: MigrationContext,
        fake: bool,
        has_row: bool,
        started: float,
        following: Migration | None,
    ) -> str:
        """Apply (or mark) a migration statement by statement: ``'applied'``, or ``'skipped'`` when another
        run applied it meanwhile (SQLite)."""
        migration = context.migration
        base = migration.base
        action: RunAction = "mark" if fake else "apply"
        # Where a migration's work can outlast a failure (DDL that commits implicitly, or a
        # migration outside a transaction, whose every statement commits), a row records the
        # attempt before it starts, with the count of statements done: a run that dies half-way
        # leaves a trace that stops the next run, instead of a migration run twice.
        write_ahead = not fake and (not session.adapter.transactional_ddl or not base.transactional)
        announced = self._announced == migration.id and not has_row
        self._announced = None
        # Where the adapter can, the write-ahead row of the next SQL migration (resumable from
        # its first statement should the run stop before it) goes in with this one's row.
        announce = (
            following.base
            if write_ahead and session.adapter.announces_attempts and isinstance(following, SQLMigration)
            else None
        )

        async def record(existing: bool | None) -> None:
            session.check_lock(migration.id)
            await context.release_tables()
            await session.table.record(
                session.connection,
                base,
                action=action,
                execution_ms=_ms(started),
                actor=self.actor,
                existing=existing,
                announce=announce,
            )

        if fake or base.transactional:
            failure: Exception | None = None
            async with session.transaction(check=self._recheck(session, migration.id)) as status:
                if status == "applied":
                    return "skipped"
                row_exists: Callable[[], bool] | None = None
                if write_ahead:
                    row_exists = await self._implicit.write_ahead(session, context, has_row, announced)
                try:
                    if not fake:
                        failure = await self._implicit.run_keeping_progress(session, context, migration.apply)
                finally:
                    existing = has_row if row_exists is None else row_exists()
                if failure is None:
                    await record(existing=existing)
            if failure is not None:
                raise failure
        else:
            if write_ahead:
                async with session.transaction():
                    await self._implicit.write_ahead(
                        session, context, has_row, announced, in_transaction=False
                    )
            context.attempt.in_transaction = False
            await session.outside_transaction(lambda: migration.apply(context))
            async with session.transaction():
                await record(existing=True if write_ahead or has_row else None)
        if announce is not None:
            self._announced = announce.id
        return "applied"

    def _recheck(self, session: Session, migration_id: str) -> DriverSQL | None:
        """Where each migration takes the lock (SQLite), the query that re-checks its status."""
        if not session.adapter.lock_per_migration:
            return None
        return session.table.status_query(session.connection, migration_id)

    async def _run_whole(
        self, session: Session, migration: Migration, context: MigrationContext
    ) -> str | None:
        """A migration with its bookkeeping in one go, where the adapter can; else None.

        SQL migrations go as their statements, migrations with a synchronous form (Alembic
        revisions) as that function."""
        if not migration.base.transactional or session.external_transaction:
            return None
        body = None
        if isinstance(migration, SQLMigration):
            statements = [statement.text for statement in migration.up_statements]
        else:
            statements, body = [], migration.sync_apply(context)
            if body is None:
                return None
        check = session.adapter.lock_per_migration
        # Where DDL commits implicitly, a body gets its write-ahead row as on the general path:
        # right before its first statement that commits implicitly, if it sends one.
        written = None
        if body is not None and not session.adapter.transactional_ddl:
            written = self._implicit.watch(session, context)
        script = session.table.script(
            session.connection,
            migration.base,
            statements,
            actor=self.actor,
            check=check,
            starting=context.log_statement,
            body=body,
            written=written,
        )
        try:
            return await session.adapter.run_script(session.connection, script)
        except ScriptError as exc:
            assert isinstance(migration, SQLMigration)
            statement = migration.up_statements[exc.index]
            context.attempt.statements_done = exc.index
            context.statement_failed(
                exc.error, statement.text, migration.line_offsets[0] + statement.line - 1
            )
            raise exc.error from exc
        finally:
            if written is not None:
                written()  # stops watching, should the adapter not have run the body

    async def revert(
        self, session: Session, migration: Migration, index: int, total: int, fake: bool
    ) -> MigrationRun | None:
        """Revert (with ``fake``, unmark) ``migration``; None when another run reverted it."""
        action: RunAction = "unmark" if fake else "revert"
        session.check_lock(migration.id)
        if not fake:  # a down step's statements wait as long as an up step's (without retries)
            own = getattr(migration.base, "lock_timeout", None)
            await session.set_lock_waits(self.waits.timeout_for(own), self.waits.statement_timeout)
        self._emit("start", migration.id, "down", index, total)
        context = self._context(session.connection, session.adapter, Attempt(migration, "down"))
        started = time.perf_counter()

        async def remove() -> None:
            session.check_lock(migration.id)
            await session.table.remove(
                session.connection, migration.id, action=action, execution_ms=_ms(started), actor=self.actor
            )

        try:
            if fake or migration.base.transactional:
                async with session.transaction(check=self._recheck(session, migration.id)) as status:
                    recorded = ("applied", "failed") if fake else ("applied",)  # --fake: a failed attempt too
                    if session.adapter.lock_per_migration and status not in recorded:
                        self._emit("skip", migration.id, "down", index, total)
                        return None
                    if not fake:
                        await migration.revert(context)
                    await remove()
            else:
                context.attempt.in_transaction = False
                await session.outside_transaction(lambda: migration.revert(context))
                async with session.transaction():
                    await remove()
        except LockTimeoutError:
            raise
        except BaseException as exc:
            failure = await self._failure(session, context, exc, "down", index, total, started)
            if failure is None:
                raise
            raise failure[0] from exc
        ms = _ms(started)
        log.info("%s %s in %d ms", "unmarked" if fake else "reverted", migration.id, ms)
        self._emit("done", migration.id, "down", index, total, ms)
        return MigrationRun(migration.id, migration.base.name, "down", action, ms, kind=migration.base.kind)


def _failure_of_migration(exc: BaseException) -> bool:
    """Whether ``exc`` is the migration's own failure, to record and report as such: any error,
    and also a ``sys.exit()`` or an ``asyncio.CancelledError`` the migration raised itself (not
    a cancellation of the run, nor Ctrl-C, which stop the run as they are)."""
    if isinstance(exc, Exception) or isinstance(exc, SystemExit):
        return True
    if isinstance(exc, asyncio.CancelledError):
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)  # Python 3.11 and later
        return cancelling is not None and cancelling() == 0
    return False


def _connection_lost(exc: BaseException) -> str | None:
    """A database error that says the connection is gone."""
    for cause in walk_causes(exc):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return "the connection was lost"
    return None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _seconds(value: float | None) -> str:
    return "without limit" if value is None else f"{value:g} s"


class _TryAgain(Exception):
    """An attempt timed out waiting for a lock, left nothing behind, and may be tried again."""

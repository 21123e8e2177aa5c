"""What a migration attempt leaves in the version table where DDL commits implicitly (MySQL).

There a failed migration cannot be rolled back: its row records how far it got, so that
``status`` shows it, ``migrate`` refuses to pass it and ``migrate --resume`` continues after the
statements that completed. On engines with transactional DDL only the log records a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError

from ..dialects.base import DriverSQL
from ..errors import ExecutionError
from ..files.migration import Migration, SQLMigration
from .context import MigrationContext
from .cursor_events import add_hook
from .run_session import Session

log = logging.getLogger(__name__)


class ImplicitCommits:
    """The protocol for engines whose DDL commits on its own (MySQL): each attempt of a migration
    is recorded in the session's ``table``, on behalf of ``actor``, before anything of it can
    commit, and its count of statements done as they commit."""

    def __init__(self, actor: str) -> None:
        self.actor = actor

    async def run_keeping_progress(
        self, session: Session, context: MigrationContext, run: Callable[[MigrationContext], Any]
    ) -> Exception | None:
        """Run ``run`` (the migration's ``apply``) inside its transaction.

        Where DDL commits implicitly (MySQL), a failing SQL migration returns its error instead of
        raising, so that the statements before the failing one are committed together with the
        count of them: the database then holds exactly the first ``statements_done`` statements,
        and ``migrate --resume`` continues after them.
        """
        keep_done = not session.adapter.transactional_ddl and isinstance(context.migration, SQLMigration)
        if not keep_done:
            await run(context)
            return None
        try:
            await run(context)
        except DBAPIError as exc:
            if exc.connection_invalidated or session.lock_lost() is not None:
                raise  # nothing can be recorded on a lost connection
            await context.release_tables()
            await session.table.set_statements_done(
                session.connection, context.migration.id, context.attempt.statements_done
            )
            return exc
        return None

    async def write_ahead(
        self,
        session: Session,
        context: MigrationContext,
        existing: bool,
        announced: bool = False,
        in_transaction: bool = True,
    ) -> Callable[[], bool]:
        """Where DDL commits implicitly, record the attempt as ``failed`` before it starts.

        The row is written in the migration's transaction: the first DDL statement commits it
        (a run killed after that leaves a row that ``status`` shows and ``migrate`` refuses to
        pass), and a migration that changed nothing before failing takes it back with it. SQL
        migrations also update the count in the row before each statement that commits
        implicitly, so every implicit commit carries the count of what it commits.
        ``announced``: the row was already written and committed with the previous migration's.

        A Python migration in a transaction gets its row only when it needs one: right before
        its first statement that commits implicitly, on its own cursor (that commit then
        carries the row); one that sends no such statement stays atomic and needs no row until
        it is recorded. Returns a function to call once the migration has run: it stops
        watching and tells whether the row exists.
        """
        migration = context.migration
        statements = session.table.attempt_statements(
            session.connection, migration.base, self.actor, context.attempt.resume_from, existing
        )
        lazy = in_transaction and not announced and not isinstance(migration, SQLMigration)
        if not announced and not lazy:
            await session.adapter.execute_batch(session.connection, statements)
        if isinstance(migration, SQLMigration):
            connection, table = session.connection, session.table

            async def progress(done: int) -> None:
                await table.set_statements_done(connection, migration.id, done)

            context.attempt.on_implicit_commit = progress
        return _write_before_implicit_commit(session, statements, existing) if lazy else lambda: True

    def watch(self, session: Session, context: MigrationContext) -> Callable[[], bool]:
        """For a Python migration run whole in its transaction where DDL commits implicitly:
        its write-ahead row goes in on its own cursor right before its first statement that
        commits implicitly (as :meth:`write_ahead` does on the general path). Returns a function
        to call once it has run (more than once is fine): it stops watching and tells whether
        the row exists."""
        statements = session.table.attempt_statements(
            session.connection, context.migration.base, self.actor, context.attempt.resume_from, False
        )
        return _write_before_implicit_commit(session, statements, False)

    async def record_failure(
        self, session: Session, migration: Migration, error: ExecutionError, ms: int
    ) -> None:
        """Log the failure; where DDL commits implicitly, keep the row of a partial attempt."""
        try:
            if session.connection.in_transaction() and not session.external_transaction:
                await session.connection.rollback()
            async with session.transaction():
                if not session.adapter.transactional_ddl or not migration.base.transactional:
                    if error.statements_done == 0:
                        await session.table.forget(session.connection, migration.id)
                    else:
                        # Kept only if the attempt committed something (its row went with it).
                        await session.table.set_statements_done(
                            session.connection, migration.id, error.statements_done
                        )
                await session.table.append_log(
                    session.connection, migration.id, "fail", self.actor, ms, migration.base.checksum
                )
        except Exception:  # the original failure matters more than a failure to record it
            log.warning("could not record the failure of %s", migration.id, exc_info=True)


def _write_before_implicit_commit(
    session: Session, statements: Sequence[DriverSQL], existing: bool
) -> Callable[[], bool]:
    """Send ``statements`` on the migration's cursor before its first statement (through
    SQLAlchemy) that commits implicitly; the returned function stops that and tells whether
    the row exists."""
    written = existing
    commits_implicitly = session.adapter.commits_implicitly

    def before(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        nonlocal written
        if not written and commits_implicitly(statement):
            written = True
            for sql, args in statements:
                cursor.execute(sql, args)

    sync = session.connection.sync_connection
    assert sync is not None
    stop = add_hook(sync, "before_cursor_execute", before)

    def finish() -> bool:
        stop()
        return written

    return finish

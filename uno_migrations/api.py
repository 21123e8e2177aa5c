"""One-call entry points for application start-up: ``migrate`` and ``migrate_sync``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from .connections import is_async_engine
from .files.planning import RunPhase
from .files.sources import MigrationSource
from .runtime.lock_waits import LockWaits
from .runtime.migrator import Bind, Directories, Listener, Migrator
from .runtime.report import RunReport


async def migrate(
    bind: Bind,
    directories: Directories = "migrations",
    *,
    target: str | None = None,
    steps: int | None = None,
    fake: bool = False,
    dry_run: bool = False,
    resume: bool = False,
    sql: bool = False,
    scratch: Bind | None = None,
    phase: RunPhase | None = None,
    table: str = "uno_migrations",
    schema: str | None = None,
    lock_timeout: float = 60.0,
    listener: Listener | None = None,
    sources: Sequence[MigrationSource] = (),
    lock_waits: LockWaits | None = None,
) -> RunReport:
    """Apply pending migrations in ``directories``: :class:`Migrator` (``table`` to
    ``sources``) and its :meth:`~Migrator.migrate` (``target`` to ``phase``) in one call.

    >>> # await uno_migrations.migrate(engine, "migrations")
    """
    migrator = Migrator(
        bind,
        directories,
        table=table,
        schema=schema,
        lock_timeout=lock_timeout,
        listener=listener,
        sources=sources,
        lock_waits=lock_waits,
    )
    return await migrator.migrate(
        target, steps, fake=fake, dry_run=dry_run, resume=resume, sql=sql, scratch=scratch, phase=phase
    )


def migrate_sync(
    bind: Bind | Engine,
    directories: Directories = "migrations",
    *,
    target: str | None = None,
    steps: int | None = None,
    fake: bool = False,
    dry_run: bool = False,
    resume: bool = False,
    sql: bool = False,
    scratch: Bind | None = None,
    phase: RunPhase | None = None,
    table: str = "uno_migrations",
    schema: str | None = None,
    lock_timeout: float = 60.0,
    listener: Listener | None = None,
    sources: Sequence[MigrationSource] = (),
    lock_waits: LockWaits | None = None,
) -> RunReport:
    """:func:`migrate` for synchronous code, with the same keywords; also takes a sync ``Engine``
    (its URL is reused).

    Inside a running event loop (a notebook, an async test) the call runs on a helper thread
    with its own loop, so it never nests loops.
    """
    if isinstance(bind, Engine):
        bind = bind.url

    async def run() -> RunReport:
        try:
            return await migrate(
                bind,
                directories,
                target=target,
                steps=steps,
                fake=fake,
                dry_run=dry_run,
                resume=resume,
                sql=sql,
                scratch=scratch,
                phase=phase,
                table=table,
                schema=schema,
                lock_timeout=lock_timeout,
                listener=listener,
                sources=sources,
                lock_waits=lock_waits,
            )
        finally:
            if is_async_engine(bind):
                # Pooled connections belong to this call's event loop; don't leave them behind.
                await bind.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    outcome: dict[str, Any] = {}

    def in_thread() -> None:
        try:
            outcome["report"] = asyncio.run(run())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=in_thread, name="uno-migrations")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    report: RunReport = outcome["report"]
    return report

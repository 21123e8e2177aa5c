"""One-call entry points for application start-up: ``migrate`` and ``migrate_sync``."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy.engine import Engine

from .aio import is_async_engine
from .report import RunReport
from .runner import Bind, Directories, Migrator


async def migrate(bind: Bind, directories: Directories = "migrations", **options: Any) -> RunReport:
    """Apply every pending migration in ``directories``; ``options`` go to :class:`Migrator`.

    >>> # await uno_migrations.migrate(engine, "migrations")
    """
    run_options = {k: options.pop(k) for k in ("target", "steps", "fake", "dry_run") if k in options}
    return await Migrator(bind, directories, **options).migrate(**run_options)


def migrate_sync(bind: Bind | Engine, directories: Directories = "migrations", **options: Any) -> RunReport:
    """:func:`migrate` for synchronous code; also takes a sync ``Engine`` (its URL is reused).

    Inside a running event loop (a notebook, an async test) the call runs on a helper thread
    with its own loop, so it never nests loops.
    """
    if isinstance(bind, Engine):
        bind = bind.url

    async def run() -> RunReport:
        try:
            return await migrate(bind, directories, **options)
        finally:
            if is_async_engine(bind):
                # Pooled connections belong to this call's event loop; don't leave them behind.
                await bind.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["report"] = asyncio.run(run())
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="uno-migrations")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    report: RunReport = outcome["report"]
    return report

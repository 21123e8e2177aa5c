"""Lock timeouts with retries (docs/safety.md, "Lock timeouts and retries"), on PostgreSQL and
MySQL: a migration blocked by a long transaction on another connection gives up after its lock
timeout, so that the queries behind it go on; it is tried again, and applies once the blocker
ends; after the last attempt the error names the session it waited behind; on MySQL a migration
that committed a statement before it timed out is not tried again; a caller's connection gets
its own settings back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from helpers import TestDatabase, version_rows
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from uno_migrations import Migrator
from uno_migrations.cli.config import load_settings
from uno_migrations.dialects import get_adapter
from uno_migrations.errors import ExecutionError
from uno_migrations.runtime.lock_waits import LockWaits
from uno_migrations.runtime.report import MigrationEvent

MakeDir = Callable[..., Path]
both = pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)

#: The shortest timeout each engine takes: PostgreSQL counts milliseconds, MySQL whole seconds.
TIMEOUT = {"postgresql": 0.3, "mysql": 1.0}
FILES = {
    "1000_items.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20));\n-- DOWN\nDROP TABLE items;\n",
    "1001_price.sql": "ALTER TABLE items ADD COLUMN price INTEGER;\n-- DOWN\nALTER TABLE items DROP COLUMN price;\n",
}


@asynccontextmanager
async def reading_items(db: TestDatabase) -> AsyncIterator[tuple[AsyncConnection, int]]:
    """Another connection in a transaction that has read ``items``: it holds a lock that
    ``ALTER TABLE items`` waits for, until it ends. Gives the connection and its session id."""
    async with db.engine.connect() as blocker:
        own = "SELECT pg_backend_pid()" if db.dialect == "postgresql" else "SELECT CONNECTION_ID()"
        session_id = int(await blocker.scalar(text(own)))
        await blocker.execute(text("SELECT * FROM items"))
        try:
            yield blocker, session_id
        finally:
            if blocker.in_transaction():
                await blocker.rollback()


async def _migrator(
    db: TestDatabase, directory: Path, waits: LockWaits, events: list[MigrationEvent]
) -> Migrator:
    migrator = Migrator(db.url, directory, lock_waits=waits, listener=events.append)
    await migrator.migrate(target="1000")
    return migrator


@both
async def test_a_blocked_migration_gives_up_fast_is_retried_and_applies_once_the_blocker_ends(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    timeout = TIMEOUT[db.dialect]
    events: list[MigrationEvent] = []
    waits = LockWaits(timeout=timeout, retries=8, backoff=0.2, max_backoff=0.4)
    migrator = await _migrator(db, make_migrations(FILES), waits, events)
    async with reading_items(db) as (blocker, _):
        run = asyncio.create_task(migrator.migrate())
        # A query that comes while the migration waits queues behind it: never longer than the
        # lock timeout, since the migration gives up then and lets it through.
        await asyncio.sleep(timeout / 3)
        started = time.monotonic()
        async with db.engine.connect() as reader:
            assert await reader.scalar(text("SELECT COUNT(*) FROM items")) == 0
        waited = time.monotonic() - started
        assert waited < timeout + 0.75, f"a SELECT waited {waited:.2f} s behind the migration"
        while not any(event.kind == "retry" for event in events):
            assert not run.done(), run
            await asyncio.sleep(0.05)
        await blocker.rollback()
        report = await asyncio.wait_for(run, 30)
    assert report.ids == ["1001_price"]
    assert "price" in await db.columns("items")
    assert await version_rows(db) == ["1000_items", "1001_price"]
    retries = [event for event in events if event.kind == "retry"]
    assert [event.attempt for event in retries] == list(range(1, len(retries) + 1))
    assert all(event.migration_id == "1001_price" and event.execution_ms is not None for event in retries)
    assert not any(event.kind == "fail" for event in events)


@both
async def test_after_the_last_attempt_the_error_names_the_session_waited_behind(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    timeout = TIMEOUT[db.dialect]
    events: list[MigrationEvent] = []
    waits = LockWaits(timeout=timeout, retries=1, backoff=0.1)
    migrator = await _migrator(db, make_migrations(FILES), waits, events)
    async with reading_items(db) as (_, session_id):
        started = time.monotonic()
        with pytest.raises(ExecutionError) as failed:
            await migrator.migrate()
        took = time.monotonic() - started
    assert took < 2 * timeout + 2.0, f"two attempts took {took:.2f} s"
    message = str(failed.value)
    assert message.startswith("migration 1001_price (")
    assert f"it waited {timeout:g} s for a lock (2 attempts); waiting behind " in message
    if db.dialect == "postgresql":  # its last query, even when idle in its transaction
        assert (
            f"pid {session_id} (user postgres" in message
            and "idle in transaction): SELECT * FROM items" in message
        )
    else:  # MySQL shows the query of a session only while it runs
        assert f"connection {session_id} (user root from " in message and "s, idle)" in message
    assert [event.kind for event in events if event.migration_id == "1001_price"] == [
        "start",
        "retry",
        "fail",
    ]
    assert await version_rows(db) == ["1000_items"]
    assert "price" not in await db.columns("items")


@pytest.mark.parametrize("engine_name", ["mysql"], indirect=True)
async def test_on_mysql_a_migration_that_committed_a_statement_is_not_tried_again(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """Its first DDL statement is committed: running it again would run that twice. It says so,
    and ``--resume`` continues after it once the lock is free."""
    two = {
        **FILES,
        "1001_price.sql": "CREATE TABLE prices (id INTEGER PRIMARY KEY);\nALTER TABLE items ADD COLUMN price INTEGER;\n",
    }
    events: list[MigrationEvent] = []
    migrator = await _migrator(db, make_migrations(two), LockWaits(timeout=1, retries=3), events)
    async with reading_items(db):
        with pytest.raises(ExecutionError) as failed:
            await migrator.migrate()
    assert "(1 attempt); waiting behind connection" in str(failed.value)
    assert "not tried again: its first 1 statement(s) are committed, 'migrate --resume'" in str(failed.value)
    assert not any(event.kind == "retry" for event in events)
    assert (await migrator.migrate(resume=True)).ids == ["1001_price"]
    assert {"prices", "items"} <= await db.tables() and "price" in await db.columns("items")


@both
async def test_a_caller_s_connection_gets_its_own_lock_timeout_back(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(FILES)
    show = "SHOW lock_timeout" if db.dialect == "postgresql" else "SELECT @@SESSION.lock_wait_timeout"
    own = "SET lock_timeout = '7s'" if db.dialect == "postgresql" else "SET SESSION lock_wait_timeout = 7"
    async with db.engine.connect() as connection:
        await connection.execute(text(own))
        await connection.commit()
        before = await connection.scalar(text(show))
        await connection.commit()
        await Migrator(connection, directory, lock_waits=LockWaits(timeout=0.5)).migrate()
        assert await connection.scalar(text(show)) == before
    assert await version_rows(db) == ["1000_items", "1001_price"]


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
async def test_a_statement_timeout_stops_a_long_statement_without_a_retry(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    slow = {"1000_slow.sql": "SELECT pg_sleep(5);\nCREATE TABLE done (id INTEGER);\n"}
    events: list[MigrationEvent] = []
    migrator = Migrator(
        db.url, make_migrations(slow), lock_waits=LockWaits(statement_timeout=0.3), listener=events.append
    )
    started = time.monotonic()
    with pytest.raises(ExecutionError, match="canceling statement due to statement timeout"):
        await migrator.migrate()
    assert time.monotonic() - started < 3
    assert not any(event.kind == "retry" for event in events)
    assert "done" not in await db.tables()


def test_the_pause_between_attempts_doubles_with_jitter_up_to_its_cap() -> None:
    import random

    waits = LockWaits(backoff=0.5, max_backoff=3.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [waits.delay(attempt, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # spread, so blocked runs come back apart
    assert LockWaits().timeout == 2.0 and LockWaits().retries == 5  # on by default
    assert (LockWaits().backoff, LockWaits().max_backoff, LockWaits().statement_timeout) == (0.5, 30.0, None)
    settings = load_settings({}, environ={}, cwd="/")
    assert (settings.statement_lock_timeout, settings.lock_retries, settings.statement_timeout) == (
        2.0,
        5,
        None,
    )
    assert waits.timeout_for(0.25) == 0.25 and waits.timeout_for(None) == waits.timeout


@both
async def test_a_down_step_waits_as_long_without_retries(db: TestDatabase, make_migrations: MakeDir) -> None:
    events: list[MigrationEvent] = []
    migrator = Migrator(
        db.url,
        make_migrations(FILES),
        lock_waits=LockWaits(timeout=TIMEOUT[db.dialect], retries=3),
        listener=events.append,
    )
    await migrator.migrate()
    async with reading_items(db):
        with pytest.raises(ExecutionError, match=r"(?i)lock"):
            await migrator.rollback()
    assert not any(event.kind == "retry" for event in events)
    assert await version_rows(db) == ["1000_items", "1001_price"]


@pytest.mark.parametrize("engine_name", ["mysql"], indirect=True)
async def test_mysql_counts_whole_seconds_and_rounds_a_fraction_up(db: TestDatabase) -> None:
    async with db.engine.connect() as connection:
        await get_adapter("mysql").set_lock_waits(connection, 0.3, None)
        waits = (
            await connection.execute(
                text("SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout")
            )
        ).one()
    assert tuple(waits) == (1, 1)

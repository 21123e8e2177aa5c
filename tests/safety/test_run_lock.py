"""The run lock and what a run reports when its connection, or the migration itself, gives way
(docs/safety.md: "Concurrent deploys", "A lost connection", "When a migration fails").

The lock lives in the session of the connection that runs the migrations (a file lock beside the
database on SQLite), is named after the version table as the database resolves it, and a run
whose session ends under it stops at once, records nothing, and says what the database holds.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase, only

from uno_migrations import MigrationEvent, Migrator

MakeDir = Callable[..., Path]
SCRIPT = str(Path(sys.executable).with_name("uno-migrations"))

# A transactional migration that does its work, then has the server end the run's own session
# from another connection, before uno records it: the record cannot be written.
_CUT_OWN_SESSION = """\
from pathlib import Path

from sqlalchemy import text

SESSION_ID = {{"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}}
END_SESSION = {{"postgresql": "SELECT pg_terminate_backend(:id)", "mysql": "KILL :id"}}


async def up(context):
    await context.execute_sql("CREATE TABLE cut_short (id INTEGER)")
    marker = Path({marker!r})
    if marker.exists():
        return
    marker.write_text("cut")
    dialect = context.connection.dialect.name
    session = await (await context.execute_sql(SESSION_ID[dialect])).scalar()
    async with context.connection.engine.connect() as other:
        await other.execute(text(END_SESSION[dialect]), {{"id": session}})
        await other.commit()
"""


_PROJECT_FILES = {
    "001_first.sql": "CREATE TABLE first (id INTEGER);\n-- DOWN\nDROP TABLE first;\n",
    "009_last.sql": "CREATE TABLE last (id INTEGER);\n-- DOWN\nDROP TABLE last;\n",
}


def _project(make_migrations: MakeDir, extra: dict[str, str]) -> Path:
    return make_migrations({**_PROJECT_FILES, **extra})


async def _log(db: TestDatabase) -> list[tuple[str, str]]:
    return [
        (m, a) for m, a in await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    ]


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
async def test_a_run_whose_session_ends_records_nothing_and_says_what_the_database_holds(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir, tmp_path: Path
) -> None:
    marker = tmp_path / "cut"
    directory = _project(make_migrations, {"002_cut.py": _CUT_OWN_SESSION.format(marker=str(marker))})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "migration 002_cut" in errors[0]
    assert "Traceback" not in result.stderr
    # The second line says what is true, read back on a new connection: 002 is not applied
    # (its transaction died with the session; on MySQL its CREATE TABLE had committed, and its
    # write-ahead row says so).
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("read back on a new connection, 002_cut" in line for line in warnings), result.stderr
    assert "009_last" not in result.stdout, "nothing runs after the lock is lost"
    assert ("002_cut", "apply") not in await _log(db)
    if db.dialect == "postgresql":
        assert "002_cut is not applied" in result.stderr
        assert "cut_short" not in await db.tables()
        again = await cli.run("-u", db.url, "-d", str(directory), "migrate")
        assert again.exit_code == 0, again.output
    else:
        assert "002_cut is recorded as failed" in result.stderr
        assert await db.fetch("SELECT status FROM uno_migrations WHERE id = '002_cut'") == [("failed",)]
        refused = await cli.run("-u", db.url, "-d", str(directory), "migrate")
        assert refused.exit_code == 1 and "failed earlier" in refused.stderr, refused.output
        await db.execute("DROP TABLE cut_short")
        assert (await cli.run("-u", db.url, "-d", str(directory), "repair", "002_cut")).exit_code == 0
        again = await cli.run("-u", db.url, "-d", str(directory), "migrate")
        assert again.exit_code == 0, again.output
    applies = [m for m, a in await _log(db) if a == "apply"]
    assert sorted(applies) == ["001_first", "002_cut", "009_last"]


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
async def test_one_version_table_has_one_lock_however_its_schema_is_spelled(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    marker = tmp_path / "inside"
    directory = make_migrations(
        {
            "001_slow.py": f"""\
                import asyncio
                from pathlib import Path


                async def up(context):
                    Path({str(marker)!r}).write_text("inside")
                    await asyncio.sleep(30)
            """
        }
    )
    spelled = "public" if db.dialect == "postgresql" else db.url.rsplit("/", 1)[1]
    holder = subprocess.Popen([SCRIPT, "-u", db.url, "-d", str(directory), "migrate"])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        waiting = await asyncio.to_thread(
            subprocess.run,
            [
                SCRIPT,
                "-u",
                db.url,
                "-d",
                str(directory),
                "--schema",
                spelled,
                "migrate",
                "--lock-timeout",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert waiting.returncode == 1, waiting.stdout + waiting.stderr
        assert waiting.stderr.startswith("error: could not take the migration lock within 1 s (held by")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)


async def test_two_migrators_in_one_process_take_turns(db: TestDatabase, make_migrations: MakeDir) -> None:
    """The lock excludes runs of one process as it does runs of two (SQLite's file lock included)."""
    directory = make_migrations(
        {
            "001_counter.sql": "CREATE TABLE counter (n INTEGER);",
            "002_backfill.py": """\
                import asyncio

                transactional = False


                async def up(context):
                    await context.execute_sql("INSERT INTO counter (n) VALUES (1)")
                    await asyncio.sleep(0.3)
            """,
        }
    )
    reports = await asyncio.gather(
        *(Migrator(db.url, [directory], lock_timeout=30).migrate() for _ in range(3))
    )
    assert sorted(len(report.runs) for report in reports) == [0, 0, 2]
    assert await db.fetch("SELECT count(*) FROM counter") == [(1,)]


@only("postgresql")
async def test_a_killed_client_s_migration_does_not_finish_on_the_server(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """The whole migration goes to the server as one query; the server notices within a second
    that its client is gone, and rolls it back instead of committing it after the kill."""
    directory = make_migrations(
        {
            "001_a.sql": "CREATE TABLE a1 (a INTEGER);",
            "002_b.sql": "CREATE TABLE a2 (a INTEGER); SELECT pg_sleep(6); INSERT INTO a2 VALUES (1);",
        }
    )
    run = subprocess.Popen([SCRIPT, "-u", db.url, "-d", str(directory), "migrate"], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not await db.fetch(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND pid <> pg_backend_pid()"
        ):
            assert run.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    killed = time.monotonic()
    after = await asyncio.to_thread(
        subprocess.run,
        [SCRIPT, "-u", db.url, "-d", str(directory), "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    waited = time.monotonic() - killed
    assert after.returncode == 0, after.stderr
    assert "Applying 002_b" in after.stdout, "the dead run's migration was not committed"
    assert waited < 6 + 3, (
        f"the next run waited {waited:.1f} s: it started only once the dead statement ended"
    )
    assert await _log(db) == [("001_a", "apply"), ("002_b", "apply")]
    assert await db.fetch("SELECT a FROM a2") == [(1,)]


async def test_sys_exit_in_a_migration_is_its_failure(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = _project(
        make_migrations,
        {
            "002_exits.py": """\
                import sys


                async def up(context):
                    await context.execute_sql("CREATE TABLE before_exit (id INTEGER)")
                    sys.exit(5)
            """
        },
    )
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1, result.output
    assert (
        result.stderr.splitlines()[-1].startswith("error: migration 002_exits")
        and "the migration called sys.exit(5)" in result.stderr
    ), result.stderr
    assert ("002_exits", "fail") in await _log(db)
    if db.dialect != "mysql":
        assert "before_exit" not in await db.tables()
        assert await db.fetch("SELECT id FROM uno_migrations ORDER BY id") == [("001_first",)]


async def test_a_migration_raising_cancelled_error_fails_in_one_line(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("a migration's own CancelledError is told from a cancelled run on Python 3.11+")
    directory = _project(
        make_migrations,
        {
            "002_cancels.py": "import asyncio\n\n\nasync def up(context):\n    raise asyncio.CancelledError()\n"
        },
    )
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: migration 002_cancels ({directory / '002_cancels.py'}:5) failed: CancelledError"
    )
    assert ("002_cancels", "fail") in await _log(db)


async def test_a_table_of_another_layout_under_uno_s_name_is_one_clear_error(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    await db.execute("CREATE TABLE uno_migrations (id VARCHAR(20), other INTEGER)")
    directory = _project(make_migrations, {})
    for command in (["migrate"], ["status"]):
        result = await cli.run("-u", db.url, "-d", str(directory), *command)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (
            "error: table uno_migrations is not a version table of uno-migrations (no column applied_at, "
            "applied_by, checksum, description, execution_ms, kind, name, statements_done, status); "
            "choose another name with --table"
        )
    assert await db.tables() == {"uno_migrations"}


@only("mysql")
async def test_lock_tables_in_a_migration_is_recorded(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "001_t.sql": "CREATE TABLE t (a INTEGER);",
            "002_locked.sql": "LOCK TABLES t WRITE;\nINSERT INTO t VALUES (1);\nUNLOCK TABLES;\n",
            "003_left_locked.sql": "LOCK TABLES t WRITE;\nINSERT INTO t VALUES (2);\n",
            "004_fails_locked.sql": "LOCK TABLES t WRITE;\nINSERT INTO t VALUES (3);\nINSERT INTO missing VALUES (4);\n",
        }
    )
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    assert "migration 004_fails_locked" in result.stderr and "missing" in result.stderr, result.stderr
    assert await db.fetch("SELECT id, status, statements_done FROM uno_migrations ORDER BY id") == [
        ("001_t", "applied", 0),
        ("002_locked", "applied", 0),
        ("003_left_locked", "applied", 0),
        ("004_fails_locked", "failed", 2),
    ]
    assert await db.fetch("SELECT a FROM t ORDER BY a") == [(1,), (2,), (3,)]
    assert [a for m, a in await _log(db) if m == "004_fails_locked"] == ["fail"]


@only("mysql")
async def test_a_statement_longer_than_the_server_takes_is_named(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    limit = int(await db.scalar("SELECT @@max_allowed_packet"))
    directory = make_migrations({"001_big.sql": "SELECT '" + "x" * (limit + 10) + "';\n"})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    size = len(f"SELECT '{'x' * (limit + 10)}'")
    assert (
        f"failed: statement of {size} bytes exceeds the server's max_allowed_packet ({limit} bytes)"
        in result.stderr
    )
    assert "[statement: SELECT 'xxx" in result.stderr


async def test_a_huge_lock_timeout_waits_rather_than_failing(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = _project(make_migrations, {})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--lock-timeout", "1e19")
    assert result.exit_code == 0, result.output
    assert [m for m, a in await _log(db) if a == "apply"] == ["001_first", "009_last"]


async def test_a_run_that_waits_for_the_lock_says_who_holds_it(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/cli.md: a run waiting for another's lock says so after a second, naming the holder."""
    directory = make_migrations(
        {"001_slow.py": "import asyncio\n\n\nasync def up(context):\n    await asyncio.sleep(2.5)\n"}
    )
    events: list[MigrationEvent] = []
    first = asyncio.ensure_future(Migrator(db.url, [directory]).migrate())
    await asyncio.sleep(0.8)
    second = await Migrator(db.url, [directory], listener=events.append, lock_timeout=30).migrate()
    assert len((await first).runs) == 1 and second.runs == []
    waits = [event for event in events if event.kind == "wait"]
    assert len(waits) == 1, events
    holder = {"sqlite": "process ", "postgresql": "PostgreSQL backend pid ", "mysql": "MySQL connection "}
    assert waits[0].holder is not None and waits[0].holder.startswith(holder[db.dialect])


async def test_reading_a_sqlite_database_that_does_not_exist_creates_nothing(
    make_migrations: MakeDir, tmp_path: Path
) -> None:
    directory = make_migrations(_PROJECT_FILES)
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    migrator = Migrator(url, [directory])
    assert [state.status for state in await migrator.status()] == ["pending", "pending"]
    assert await migrator.history() == [] and await migrator.verify() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [directory.name]


@only("postgresql")
async def test_the_run_s_session_checks_its_client_and_keeps_alive(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/safety.md, A killed run: the run's session checks every second that its client is
    there (PostgreSQL 14+) and sends TCP keepalives."""
    directory = make_migrations(
        {
            "001_settings.py": """\
                async def up(context):
                    await context.execute_sql("CREATE TABLE seen (name VARCHAR(60), value VARCHAR(20))")
                    for name in ("client_connection_check_interval", "tcp_keepalives_idle",
                                 "tcp_keepalives_interval", "tcp_keepalives_count"):
                        value = await (await context.execute_sql(f"SHOW {name}")).scalar()
                        await context.execute_sql("INSERT INTO seen VALUES ($1, $2)", [name, value])
            """
        }
    )
    await Migrator(db.url, [directory]).migrate()
    assert dict(await db.fetch("SELECT name, value FROM seen")) == {
        "client_connection_check_interval": "1s",
        "tcp_keepalives_idle": "10",
        "tcp_keepalives_interval": "5",
        "tcp_keepalives_count": "3",
    }

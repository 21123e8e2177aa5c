"""SPEC §4: a migration and its version row commit together; failures; non-transactional runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import TestDatabase

from uno_migrations import ExecutionError, FailedMigrationError, MigrationEvent, Migrator

MakeDir = Callable[..., Path]

FAILING_SQL = {
    "1_ok.sql": "CREATE TABLE kept (id INTEGER);\n-- DOWN\nDROP TABLE kept;\n",
    "2_breaks.sql": """\
        CREATE TABLE half (id INTEGER);
        INSERT INTO half (id) VALUES (1);
        INSERT INTO no_such_table (id) VALUES (1);
        -- DOWN
        DROP TABLE half;
    """,
    "3_never.sql": "CREATE TABLE never (id INTEGER);\n",
}


async def test_failing_last_statement_leaves_nothing_on_transactional_engines(
    tx_db: TestDatabase, make_migrations: MakeDir
) -> None:
    db = tx_db
    directory = make_migrations(FAILING_SQL)
    migrator = Migrator(db.url, directories=[directory])
    with pytest.raises(ExecutionError) as info:
        await migrator.migrate()
    error = info.value
    assert error.migration_id == "2_breaks"
    assert error.path and error.path.endswith("2_breaks.sql")
    assert error.statement == "INSERT INTO no_such_table (id) VALUES (1)"
    assert error.line == 3 and "2_breaks.sql:3" in str(error)
    assert "no_such_table" in str(error)
    # The earlier migration stays; the failing one left no table and no row; the next never ran.
    tables = await db.tables()
    assert "kept" in tables and "half" not in tables and "never" not in tables
    assert await db.fetch("SELECT id, status FROM uno_migrations") == [("1_ok", "applied")]
    actions = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert actions == [("1_ok", "apply"), ("2_breaks", "fail")]


async def test_python_migration_that_raises_is_rolled_back(
    tx_db: TestDatabase, make_migrations: MakeDir
) -> None:
    db = tx_db
    directory = make_migrations(
        {
            "1_raises.py": """\
                async def up(context):
                    await context.execute_sql("CREATE TABLE partial (id INTEGER)")
                    await context.execute_sql("INSERT INTO partial (id) VALUES (1)")
                    raise ValueError("boom")
            """
        }
    )
    with pytest.raises(ExecutionError, match="ValueError: boom"):
        await Migrator(db.url, directories=[directory]).migrate()
    assert "partial" not in await db.tables()
    assert await db.scalar("SELECT count(*) FROM uno_migrations") == 0


async def test_a_migration_whose_row_cannot_be_written_is_not_applied(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """The version row fails to go in (here the migration took its id first): its data changes
    are rolled back with the log row written beside it, and the failure is on record."""
    await db.execute("CREATE TABLE kept (id INTEGER)")
    directory = make_migrations(
        {
            "1_clash.py": """\
                async def up(context):
                    await context.execute_sql("INSERT INTO kept (id) VALUES (1)")
                    await context.execute_sql(
                        "INSERT INTO uno_migrations (id, name, description, kind, checksum, status,"
                        " statements_done, applied_at, execution_ms, applied_by) VALUES"
                        " ('1_clash', 'clash', '', 'python', 'x', 'applied', 0,"
                        " '2026-01-01 00:00:00', 0, 'me')"
                    )
            """
        }
    )
    migrator = Migrator(db.url, directories=[directory])
    with pytest.raises(ExecutionError, match="1_clash"):
        await migrator.migrate()
    assert await db.fetch("SELECT id FROM kept") == []
    assert await db.scalar("SELECT count(*) FROM uno_migrations WHERE status = 'applied'") == 0
    actions = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert actions == [("1_clash", "fail")]
    assert [state.status for state in await migrator.status()] == ["pending"]


async def test_mysql_keeps_a_failed_row_and_resumes(mysql_db: TestDatabase, make_migrations: MakeDir) -> None:
    db = mysql_db
    directory = make_migrations(FAILING_SQL)
    migrator = Migrator(db.url, directories=[directory])
    with pytest.raises(ExecutionError) as info:
        await migrator.migrate()
    assert info.value.statements_done == 2
    assert "half" in await db.tables()
    assert await db.fetch("SELECT id, status, statements_done FROM uno_migrations ORDER BY id") == [
        ("1_ok", "applied", 0),
        ("2_breaks", "failed", 2),
    ]
    states = {s.id: s.status for s in await migrator.status()}
    assert states == {"1_ok": "applied", "2_breaks": "failed", "3_never": "pending"}

    with pytest.raises(FailedMigrationError, match="--resume"):
        await migrator.migrate()

    # Fix the file and resume: the two completed statements are not run again.
    (directory / "2_breaks.sql").write_text(
        FAILING_SQL["2_breaks.sql"].replace("no_such_table", "half").replace("        ", "")
    )
    report = await migrator.migrate(resume=True)
    assert report.ids == ["2_breaks", "3_never"]
    assert await db.fetch("SELECT id FROM half ORDER BY id") == [(1,), (1,)]
    assert await db.scalar("SELECT status FROM uno_migrations WHERE id = '2_breaks'") == "applied"


async def test_mysql_commits_the_next_attempt_with_the_previous_row(
    mysql_db: TestDatabase, make_migrations: MakeDir
) -> None:
    """The write-ahead row of the next SQL migration is written by the statement that records the
    previous one and commits with it: it is there, for every connection to see, before the next
    migration has run any statement (no round trip or commit of its own)."""
    directory = make_migrations(
        {
            "1_first.sql": "CREATE TABLE a (id INTEGER);\n",
            "2_waits.sql": "SELECT SLEEP(2);\nCREATE TABLE b (id INTEGER);\n",
        }
    )
    run = asyncio.ensure_future(Migrator(mysql_db.url, directories=[directory]).migrate())
    seen = None
    while not run.done() and seen is None:
        if "uno_migrations" in await mysql_db.tables():
            rows = await mysql_db.fetch("SELECT id, status, statements_done FROM uno_migrations ORDER BY id")
            if ("1_first", "applied", 0) in rows:
                seen, tables_then = rows, await mysql_db.tables()
        await asyncio.sleep(0.05)
    await run
    assert seen == [("1_first", "applied", 0), ("2_waits", "failed", 0)]
    assert "b" not in tables_then  # seen before the second migration got to its CREATE
    rows = await mysql_db.fetch("SELECT id, status, statements_done FROM uno_migrations ORDER BY id")
    assert rows == [("1_first", "applied", 0), ("2_waits", "applied", 0)]
    log = await mysql_db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert log == [("1_first", "apply"), ("2_waits", "apply")]


async def test_run_stopped_between_migrations_resumes(db: TestDatabase, make_migrations: MakeDir) -> None:
    """A run that stops right after a migration committed (here its listener raises, as a kill
    there would stop it): where DDL commits implicitly the next SQL migration is on record as an
    attempt with no statements done, ``migrate`` refuses to pass it and ``--resume`` runs it from
    its first statement; elsewhere nothing of it is on record."""
    directory = make_migrations(
        {
            "1_first.sql": "CREATE TABLE a (id INTEGER);\n",
            "2_second.sql": "CREATE TABLE b (id INTEGER);\nINSERT INTO b (id) VALUES (1);\n",
            "3_third.sql": "CREATE TABLE c (id INTEGER);\n",
        }
    )

    def stop_after_first(event: MigrationEvent) -> None:
        if event.kind == "done" and event.migration_id == "1_first":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await Migrator(db.url, directories=[directory], listener=stop_after_first).migrate()
    rows = await db.fetch("SELECT id, status, statements_done FROM uno_migrations ORDER BY id")
    migrator = Migrator(db.url, directories=[directory])
    if db.dialect == "mysql":
        assert rows == [("1_first", "applied", 0), ("2_second", "failed", 0)]
        assert {s.id: s.status for s in await migrator.status()}["2_second"] == "failed"
        with pytest.raises(FailedMigrationError, match="--resume"):
            await migrator.migrate()
        report = await migrator.migrate(resume=True)
    else:
        assert rows == [("1_first", "applied", 0)]
        report = await migrator.migrate()
    assert report.ids == ["2_second", "3_third"]
    assert await db.fetch("SELECT id FROM b") == [(1,)]
    rows = await db.fetch("SELECT id, status FROM uno_migrations ORDER BY id")
    assert rows == [("1_first", "applied"), ("2_second", "applied"), ("3_third", "applied")]


DDL_WAYS = {
    "execute_sql": 'await context.execute_sql("CREATE TABLE made (id INTEGER)")',
    "connection": 'await context.connection.execute(sa.text("CREATE TABLE made (id INTEGER)"))',
    "run_sync": 'await context.run_sync(lambda c: c.exec_driver_sql("CREATE TABLE made (id INTEGER)"))',
}


@pytest.mark.parametrize("way", sorted(DDL_WAYS))
async def test_mysql_python_migration_is_on_record_before_its_ddl_commits(
    mysql_db: TestDatabase, make_migrations: MakeDir, way: str
) -> None:
    """A Python migration's attempt row is written right before its first statement that commits
    implicitly, however that statement is sent: by the time the table exists for another
    connection, so does the row (a crash from then on leaves it on record)."""
    directory = make_migrations(
        {
            "1_ddl.py": f"""\
                import asyncio

                import sqlalchemy as sa


                async def up(context):
                    await context.execute_sql("CREATE TABLE counted (id INTEGER)")
                    await context.execute_sql("INSERT INTO counted (id) VALUES (1)")
                    {DDL_WAYS[way]}
                    await asyncio.sleep(1.5)
            """
        }
    )
    run = asyncio.ensure_future(Migrator(mysql_db.url, directories=[directory]).migrate())
    seen = None
    while not run.done() and seen is None:
        if "made" in await mysql_db.tables():
            seen = await mysql_db.fetch("SELECT id, status FROM uno_migrations")
        await asyncio.sleep(0.05)
    await run
    assert seen == [("1_ddl", "failed")]
    assert await mysql_db.fetch("SELECT id, status FROM uno_migrations") == [("1_ddl", "applied")]


async def test_mysql_python_migration_without_ddl_is_atomic(
    mysql_db: TestDatabase, make_migrations: MakeDir
) -> None:
    """Without a statement that commits implicitly, a failing Python migration leaves nothing: not
    its rows, not a row of its attempt (only the log says it failed)."""
    await mysql_db.execute("CREATE TABLE kept (id INTEGER)")
    directory = make_migrations(
        {
            "1_dml.py": """\
                async def up(context):
                    await context.execute_sql("INSERT INTO kept (id) VALUES (1)")
                    await context.execute_sql("UPDATE kept SET id = 2")
                    raise ValueError("boom")
            """
        }
    )
    with pytest.raises(ExecutionError, match="ValueError: boom"):
        await Migrator(mysql_db.url, directories=[directory]).migrate()
    assert await mysql_db.fetch("SELECT id FROM kept") == []
    assert await mysql_db.fetch("SELECT id FROM uno_migrations") == []
    assert await mysql_db.fetch("SELECT migration_id, action FROM uno_migrations_log") == [("1_dml", "fail")]


async def test_repair_forgets_a_failed_attempt(mysql_db: TestDatabase, make_migrations: MakeDir) -> None:
    db = mysql_db
    directory = make_migrations(FAILING_SQL)
    migrator = Migrator(db.url, directories=[directory])
    with pytest.raises(ExecutionError):
        await migrator.migrate()
    assert await migrator.repair(["2_br"]) == ["2_breaks"]
    assert await db.fetch("SELECT id FROM uno_migrations") == [("1_ok",)]
    history = [(e.migration_id, e.action) for e in await migrator.history()]
    assert history == [("1_ok", "apply"), ("2_breaks", "fail"), ("2_breaks", "repair")]


async def test_non_transactional_migrations_run_outside_a_transaction(
    pg_db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "1_table.sql": "CREATE TABLE big (id INTEGER, email VARCHAR(100));\n",
            "2_index.sql": """\
                -- Transactional: false
                CREATE INDEX CONCURRENTLY idx_big_email ON big (email);
                -- DOWN
                DROP INDEX CONCURRENTLY idx_big_email;
            """,
            "3_python.py": """\
                transactional = False

                async def up(context):
                    await context.execute_sql("CREATE INDEX CONCURRENTLY idx_big_id ON big (id)")

                    async def atomic():
                        await context.execute_sql("INSERT INTO big (id) VALUES (1)")
                        raise RuntimeError("rolled back")

                    try:
                        await context.execute_transaction(atomic)
                    except RuntimeError:
                        pass

                async def down(context):
                    await context.execute_sql("DROP INDEX CONCURRENTLY idx_big_id")
            """,
        }
    )
    migrator = Migrator(pg_db.url, directories=[directory])
    await migrator.migrate()
    indexes = await pg_db.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'big' ORDER BY 1")
    assert indexes == [("idx_big_email",), ("idx_big_id",)]
    assert await pg_db.scalar("SELECT count(*) FROM big") == 0
    assert await pg_db.scalar("SELECT count(*) FROM uno_migrations") == 3
    await migrator.rollback(steps=2)
    assert await pg_db.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'big'") == []


async def test_non_transactional_migration_on_every_engine(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "1_nontx.sql": """\
                -- migrate:up transaction:false
                CREATE TABLE outside (id INTEGER);
                INSERT INTO outside (id) VALUES (7);
                -- migrate:down
                DROP TABLE outside;
            """,
        }
    )
    migrator = Migrator(db.url, directories=[directory])
    await migrator.migrate()
    assert await db.fetch("SELECT id FROM outside") == [(7,)]
    await migrator.rollback()
    assert "outside" not in await db.tables()


async def test_sqlite_runs_an_sql_migration_in_one_go(tmp_path: Path) -> None:
    """SQLite runs a whole SQL migration in one trip to aiosqlite's thread; if a new aiosqlite
    took that away, the runner would silently fall back to the slower path, so it is checked."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from uno_migrations.dialects import get_adapter
    from uno_migrations.dialects.base import Script, ScriptError

    adapter = get_adapter("sqlite")
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'whole.db'}")
    check = ("SELECT status FROM v WHERE id = ?", ("m",))
    started: list[int] = []

    def script(*statements: str) -> Script:
        record = [("INSERT INTO v (id, status) VALUES (?, ?)", ("m", "applied"))]
        return Script(list(statements), check, lambda ms: record, lambda i, sql: started.append(i))

    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("CREATE TABLE v (id TEXT PRIMARY KEY, status TEXT)")
            await connection.commit()
            with pytest.raises(ScriptError) as failed:
                await adapter.run_script(
                    connection, script("CREATE TABLE a (id INTEGER)", "INSERT INTO nope VALUES (1)")
                )
            assert failed.value.index == 1 and "no such table: nope" in str(failed.value.error)
            assert started == [0, 1]
            applied = await adapter.run_script(
                connection, script("CREATE TABLE a (id INTEGER)", "INSERT INTO a VALUES (1)")
            )
            assert applied == "applied"
            assert await adapter.run_script(connection, script("CREATE TABLE b (id INTEGER)")) == "skipped"
            tables = await connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
            assert sorted(row[0] for row in tables) == ["a", "v"]  # nothing of the failed or skipped runs
            assert (await connection.exec_driver_sql("SELECT status FROM v")).scalar() == "applied"
    finally:
        await engine.dispose()


async def test_sqlite_runs_a_synchronous_body_in_one_go(tmp_path: Path) -> None:
    """An Alembic revision's ``upgrade()`` is synchronous: SQLite runs it on aiosqlite's thread,
    with a SQLAlchemy connection on the same sqlite3 connection, inside the one BEGIN IMMEDIATE
    ... COMMIT that also re-checks and records the migration."""
    import threading

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    from uno_migrations.dialects import get_adapter
    from uno_migrations.dialects.base import Script

    adapter = get_adapter("sqlite")
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'body.db'}")
    check = ("SELECT status FROM v WHERE id = ?", ("m",))
    threads: list[threading.Thread] = []

    def script(*statements: str) -> Script:
        def body(connection: Any) -> None:
            threads.append(threading.current_thread())
            for statement in statements:
                connection.execute(text(statement))

        record = [("INSERT INTO v (id, status) VALUES (?, ?)", ("m", "applied"))]
        return Script([], check, lambda ms: record, lambda i, sql: None, body)

    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("CREATE TABLE v (id TEXT PRIMARY KEY, status TEXT)")
            await connection.commit()
            with pytest.raises(DBAPIError, match="no such table: nope"):
                await adapter.run_script(
                    connection, script("CREATE TABLE a (id INTEGER)", "INSERT INTO nope VALUES (1)")
                )
            applied = await adapter.run_script(
                connection, script("CREATE TABLE a (id INTEGER)", "INSERT INTO a VALUES (1)")
            )
            assert applied == "applied"
            assert await adapter.run_script(connection, script("CREATE TABLE b (id INTEGER)")) == "skipped"
            assert threading.main_thread() not in threads and len(threads) == 2
            tables = await connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
            assert sorted(row[0] for row in tables) == ["a", "v"]
            assert (await connection.exec_driver_sql("SELECT id FROM a")).all() == [(1,)]
        async with engine.connect() as connection:  # committed, seen from a new connection
            assert (await connection.exec_driver_sql("SELECT status FROM v")).scalar() == "applied"
    finally:
        await engine.dispose()


async def test_postgresql_sends_an_sql_migration_in_one_go(
    pg_db: TestDatabase, make_migrations: MakeDir
) -> None:
    """PostgreSQL gets a whole SQL migration with its version rows as one query; the duration is
    measured by the server, quotes in the recorded text survive, and a migration that fails is
    run again statement by statement, so the error still names the statement and its line."""
    from uno_migrations.dialects import get_adapter
    from uno_migrations.dialects.base import Script

    async with pg_db.engine.connect() as connection:
        script = Script(["CREATE TABLE probe (id INTEGER)"], None, lambda ms: [], lambda i, sql: None)
        assert await get_adapter("postgresql").run_script(connection, script) == "applied"
        assert not connection.in_transaction()
    directory = make_migrations(
        {
            "1_slow.sql": "-- Description: Bob's 'quoted' table\nCREATE TABLE slow (id INTEGER);\nSELECT pg_sleep(0.2);\n",
            "2_breaks.sql": "CREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
        }
    )
    migrator = Migrator(pg_db.url, directories=[directory])
    with pytest.raises(ExecutionError) as info:
        await migrator.migrate()
    assert info.value.migration_id == "2_breaks" and info.value.line == 2
    assert info.value.statement == "INSERT INTO nowhere VALUES (1)"
    rows = await pg_db.fetch("SELECT id, description, execution_ms FROM uno_migrations")
    assert [(mid, text) for mid, text, _ in rows] == [("1_slow", "Bob's 'quoted' table")]
    assert 200 <= rows[0][2] < 5000
    assert {"slow", "probe"} <= await pg_db.tables() and "half" not in await pg_db.tables()
    log = await pg_db.fetch("SELECT migration_id, action, execution_ms FROM uno_migrations_log ORDER BY seq")
    assert [(m, a) for m, a, _ in log] == [("1_slow", "apply"), ("2_breaks", "fail")] and log[0][2] >= 200


async def test_postgresql_records_python_migrations_with_quoted_text(
    pg_db: TestDatabase, make_migrations: MakeDir
) -> None:
    """A step-by-step migration's version row and log row go to PostgreSQL as one query, values
    written in as literals: quotes survive; a backslash sends them as bound parameters instead."""
    directory = make_migrations(
        {
            "1_quotes.py": "# Migration: Bob's 'table'\n\nasync def up(context):\n"
            '    await context.execute_sql("CREATE TABLE q (id INTEGER)")\n',
            "2_backslash.py": "# Migration: C:\\\\temp\\\\x\n\nasync def up(context):\n"
            '    await context.execute_sql("SELECT 1")\n',
        }
    )
    await Migrator(pg_db.url, directories=[directory]).migrate()
    rows = await pg_db.fetch("SELECT id, name FROM uno_migrations ORDER BY id")
    assert rows == [("1_quotes", "Bob's 'table'"), ("2_backslash", "C:\\\\temp\\\\x")]
    log = await pg_db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert log == [("1_quotes", "apply"), ("2_backslash", "apply")]


async def test_mysql_commits_the_count_with_each_implicit_commit(
    mysql_db: TestDatabase, make_migrations: MakeDir
) -> None:
    """Before a statement that commits implicitly, the attempt's row gets the count of what that
    commit carries: once the second CREATE is visible to another connection, so is the count of
    the two statements before it (a crash from then on leaves an exact record)."""
    directory = make_migrations(
        {
            "1_steps.sql": "CREATE TABLE a (id INTEGER);\nINSERT INTO a (id) VALUES (1);\n"
            "CREATE TABLE b (id INTEGER);\nSELECT SLEEP(2);\n"
        }
    )
    run = asyncio.ensure_future(Migrator(mysql_db.url, directories=[directory]).migrate())
    seen = None
    while not run.done() and seen is None:
        if "b" in await mysql_db.tables():
            seen = await mysql_db.fetch("SELECT status, statements_done FROM uno_migrations")
        await asyncio.sleep(0.05)
    await run
    assert seen == [("failed", 2)]
    assert await mysql_db.fetch("SELECT status FROM uno_migrations") == [("applied",)]

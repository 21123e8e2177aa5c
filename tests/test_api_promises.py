"""What the Python API and migrations promise, tried as a user would (docs/python-migrations.md,
docs/safety.md, docs/cli.md): parameters, a caller's transaction, errors that name their line,
logging levels, targets that cannot be reached, and failed migrations whose file is gone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase, only
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import uno_migrations
from uno_migrations import ExecutionError, MigrationError, Migrator

MakeDir = Callable[..., Path]

_TABLE = {"001_t.sql": "CREATE TABLE t (a VARCHAR(20), b VARCHAR(20));\n-- DOWN\nDROP TABLE t;\n"}


async def test_execute_many_takes_lists_and_rows_from_iterate(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            **_TABLE,
            "002_fill.py": """\
                async def up(context):
                    await context.execute_many("INSERT INTO t (a, b) VALUES ($1, $2)", [["m1", "x"], ["m2", "y"]])
                    await context.execute_sql("CREATE TABLE copy (a VARCHAR(20), b VARCHAR(20))")
                    async for rows in context.iterate("SELECT a, b FROM t ORDER BY a", batch_size=1):
                        await context.execute_many("INSERT INTO copy (a, b) VALUES ($1, $2)", rows)
                    await context.execute_many("INSERT INTO copy (b, a) VALUES ($2, $1)", [("m3", "z")])
            """,
        }
    )
    await Migrator(db.url, [directory]).migrate()
    assert await db.fetch("SELECT a, b FROM t ORDER BY a") == [("m1", "x"), ("m2", "y")]
    assert await db.fetch("SELECT a, b FROM copy ORDER BY a") == [("m1", "x"), ("m2", "y"), ("m3", "z")]


async def test_a_row_given_as_a_parameter_is_a_clear_error(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            **_TABLE,
            "002_rows.py": """\
                async def up(context):
                    await context.execute_sql("INSERT INTO t (a) VALUES ('u1')")
                    users = await (await context.execute_sql("SELECT a FROM t")).fetchall()
                    for user_id in users:
                        await context.execute_sql("INSERT INTO t (a, b) VALUES ($1, 'copy')", [user_id])
            """,
        }
    )
    with pytest.raises(ExecutionError) as info:
        await Migrator(db.url, [directory]).migrate()
    message = str(info.value)
    assert "parameter $1 is a Row ('u1',), not a value; pass one of its values, e.g. row[0]" in message, (
        message
    )
    assert "[statement: INSERT INTO t (a, b) VALUES ($1, 'copy')]" in message
    if db.dialect != "mysql":
        assert "t" not in await db.tables() or await db.fetch("SELECT count(*) FROM t") == [(0,)]
    else:
        assert await db.fetch("SELECT a, b FROM t WHERE b = 'copy'") == []


async def test_a_parameter_error_names_its_statement(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            **_TABLE,
            "002_params.py": 'async def up(context):\n    await context.execute_sql("INSERT INTO t (a, b) VALUES ($1, $2)", ["x"])\n',
        }
    )
    with pytest.raises(ExecutionError) as info:
        await Migrator(db.url, [directory]).migrate()
    assert str(info.value).endswith(
        "failed: statement uses $2 but 1 parameter was given [statement: INSERT INTO t (a, b) VALUES ($1, $2)]"
    )


async def test_a_python_migration_s_error_names_its_line(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "001_breaks.py": """\
                def helper(values):
                    return values[3]


                async def up(context):
                    helper([1, 2])
            """
        }
    )
    with pytest.raises(ExecutionError) as info:
        await Migrator(db.url, [directory]).migrate()
    path = directory / "001_breaks.py"
    assert str(info.value) == f"migration 001_breaks ({path}:2) failed: IndexError: list index out of range"
    assert info.value.line == 2


async def test_module_level_migrate_takes_every_option_of_migrator_migrate(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations({**_TABLE, "002_more.sql": "CREATE TABLE more (id INTEGER);"})
    report = await uno_migrations.migrate(db.url, directory, target="001_t", resume=True, lock_timeout=5)
    assert report.ids == ["001_t"]
    report = await uno_migrations.migrate(db.url, directory, steps=1, dry_run=True)
    assert report.ids == ["002_more"] and report.dry_run
    with pytest.raises(TypeError):
        await uno_migrations.migrate(db.url, directory, no_such_option=True)  # type: ignore[call-arg]


async def test_the_caller_s_transaction_is_the_unit(db: TestDatabase, make_migrations: MakeDir) -> None:
    """Migrating on a connection already in a transaction: the caller's rollback takes everything
    back (PostgreSQL, SQLite); MySQL, whose DDL commits implicitly, refuses before anything runs."""
    directory = make_migrations({**_TABLE, "002_row.sql": "INSERT INTO t (a) VALUES ('x');"})
    engine = create_async_engine(db.url, poolclass=NullPool)
    try:
        with pytest.raises((RuntimeError, MigrationError)) as info:
            async with engine.begin() as connection:
                await Migrator(connection, directories=[directory]).migrate()
                raise RuntimeError("the caller changes its mind")
        if db.dialect == "mysql":
            assert isinstance(info.value, MigrationError)
            assert "already in a transaction" in str(info.value) and "commits DDL implicitly" in str(
                info.value
            )
        else:
            assert isinstance(info.value, RuntimeError)
        assert await db.tables() == set()
        if db.dialect != "mysql":  # and without the rollback, it all stays
            async with engine.begin() as connection:
                await Migrator(connection, directories=[directory]).migrate()
            assert await db.fetch("SELECT a FROM t") == [("x",)]
    finally:
        await engine.dispose()


async def test_a_non_transactional_migration_inside_a_caller_s_transaction_is_refused(
    tx_db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {**_TABLE, "002_outside.sql": "-- Transactional: false\nINSERT INTO t (a) VALUES ('x');\n"}
    )
    engine = create_async_engine(tx_db.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.begin()
            with pytest.raises(MigrationError, match="002_outside runs outside a transaction"):
                await Migrator(connection, directories=[directory]).migrate()
            await connection.rollback()
    finally:
        await engine.dispose()
    assert await tx_db.tables() == set()


async def test_version_table_sql_is_logged_at_debug_and_each_migration_at_info(
    db: TestDatabase, make_migrations: MakeDir, caplog: pytest.LogCaptureFixture
) -> None:
    directory = make_migrations(
        {**_TABLE, "002_row.sql": "INSERT INTO t (a) VALUES ('x');\n-- DOWN\nDELETE FROM t;\n"}
    )
    with caplog.at_level(logging.INFO, logger="uno_migrations"):
        await Migrator(db.url, [directory]).migrate()
    info = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage().split(" in ")[0] for r in info] == ["applied 001_t", "applied 002_row"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="uno_migrations"):
        await Migrator(db.url, [directory]).rollback(all=True)
    assert any(r.name == "uno_migrations.sql" and r.levelno == logging.DEBUG for r in caplog.records)


# -- targets that cannot be reached as asked --------------------------------------------------

_THREE = {
    "001_a.sql": "CREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n",
    "002_b.sql": "CREATE TABLE b (id INTEGER);\n-- DOWN\nDROP TABLE b;\n",
    "003_c.sql": "CREATE TABLE c (id INTEGER);\n-- DOWN\nDROP TABLE c;\n",
}


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["rollback", "--target", "003_c"], "error: cannot roll back to 003_c: it is not applied"),
        (["rollback", "--steps", "5"], "error: cannot roll back 5 migrations: only 2 are applied"),
        (["migrate", "--steps", "5"], "error: cannot apply 5 migrations: only 1 is pending"),
        (
            ["migrate", "--target", "001_a"],
            "error: cannot migrate to 001_a: it is applied, and so is 002_b after it; use 'rollback --target 001_a' to go back to it",
        ),
    ],
)
async def test_a_target_that_cannot_be_reached_is_an_error(
    command: list[str], message: str, db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(_THREE)
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate", "--steps", "2")).exit_code == 0
    result = await cli.run("-u", db.url, "-d", str(directory), *command)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == message
    assert sorted(r[0] for r in await db.fetch("SELECT id FROM uno_migrations")) == ["001_a", "002_b"]


# -- a failed migration whose file is gone ----------------------------------------------------


@only("mysql")
async def test_a_failed_migration_whose_file_was_deleted_can_be_repaired(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "001_a.sql": "CREATE TABLE a (id INTEGER);",
            "002_b.sql": "CREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
        }
    )
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate")).exit_code == 1
    (directory / "002_b.sql").unlink()
    status = await cli.run("-u", db.url, "-d", str(directory), "status", "--exit-code")
    assert status.exit_code == 3, status.output
    assert "failed" in status.stdout
    resumed = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--resume")
    assert resumed.exit_code == 1
    assert "cannot resume 002_b: its file is missing" in resumed.stderr
    repaired = await cli.run("-u", db.url, "-d", str(directory), "repair", "002_b")
    assert repaired.exit_code == 0 and "Forgot the failed attempt of 002_b" in repaired.stdout
    assert await db.fetch("SELECT id FROM uno_migrations") == [("001_a",)]


async def test_status_exit_code_counts_a_missing_migration(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(_THREE)
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate")).exit_code == 0
    assert (await cli.run("-u", db.url, "-d", str(directory), "status", "--exit-code")).exit_code == 0
    (directory / "003_c.sql").unlink()
    assert (await cli.run("-u", db.url, "-d", str(directory), "status", "--exit-code")).exit_code == 3


# -- hints -------------------------------------------------------------------------------------


@only("postgresql")
async def test_concurrently_in_a_transaction_hints_at_the_header(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "001_t.sql": "CREATE TABLE t (a INTEGER);",
            "002_index.sql": "CREATE INDEX CONCURRENTLY t_a ON t (a);",
        }
    )
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    assert "cannot run inside a transaction block" in result.stderr
    assert "mark the migration '-- Transactional: false'" in result.stderr


async def test_migrate_on_a_database_alembic_manages_hints_at_adopt(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    await db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    await db.execute("CREATE TABLE t (a INTEGER)")
    directory = make_migrations({"001_t.sql": "CREATE TABLE t (a INTEGER);"})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    assert (
        "Alembic manages this database" in result.stderr and "uno-migrations alembic adopt" in result.stderr
    )


@only("postgresql")
async def test_libpq_options_in_the_url_set_the_search_path(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/alembic.md: settings env.py would make go in the URL, as libpq's options parameter."""
    await db.execute("CREATE SCHEMA tenant")
    directory = make_migrations({"001_t.sql": "CREATE TABLE t (a INTEGER);"})
    url = f"{db.url}?options=-csearch_path%3Dtenant"
    result = await cli.run("-u", url, "-d", str(directory), "migrate")
    assert result.exit_code == 0, result.output
    assert await db.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('t', 'uno_migrations')"
        " ORDER BY table_name"
    ) == [("tenant", "t"), ("tenant", "uno_migrations")]
    bad = await cli.run("-u", f"{db.url}?options=nonsense", "-d", str(directory), "migrate")
    assert bad.exit_code == 1 and "cannot read the options parameter" in bad.stderr

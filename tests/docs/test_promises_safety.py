"""What docs/safety.md promises and quotes, tried on real databases through the command line.

The outputs the page quotes from settings its own examples cannot make (a second run holding the
lock, a MySQL failure, a session ended under a run, a newer layout) are read from the page
(``<!-- output test=... -->``) and compared with what the command prints, normalised as the docs
harness normalises every quoted output.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from helpers import Cli, Result, TestDatabase, only
from test_docs import normalise, quoted_output

MakeDir = Callable[..., Path]
HERE = "tests/docs/test_promises_safety.py::"

INVOICES = {
    "1730000000_create_invoices.sql": """
        CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
        -- DOWN
        DROP TABLE invoices;
    """,
    "1730000100_add_invoice_lines.sql": """
        CREATE TABLE invoice_lines (id INTEGER PRIMARY KEY, invoice_id INTEGER);
        INSERT INTO invoice_lines (id, invoice_id) VALUES (1, 1);
        INSERT INTO invoice_line (id, invoice_id) VALUES (2, 1);
    """,
}


def _holder_free(lines: list[str]) -> list[str]:
    """Who holds the lock is whoever runs the test: backend pid, user and address vary."""
    return [
        re.sub(r"pid \d+, user \w+ (\(.*?\) )?from [\w.:]+", r"pid N, user U \1from HOST", x) for x in lines
    ]


def _waiting_migration(tmp_path: Path) -> str:
    """A migration that says it has started, then waits until told to go on."""
    return f"""
        import asyncio
        from pathlib import Path


        async def up(context):
            Path({str(tmp_path / "inside")!r}).write_text("")
            while not Path({str(tmp_path / "go")!r}).exists():
                await asyncio.sleep(0.02)
            await context.execute_sql("INSERT INTO counter VALUES (2)")
    """


async def _started(tmp_path: Path, task: asyncio.Task[Result]) -> None:
    for _ in range(1000):
        if (tmp_path / "inside").exists() or task.done():
            return
        await asyncio.sleep(0.01)


@only("postgresql")
async def test_a_lock_timeout_names_the_holder(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, "Concurrent deploys": "`--lock-timeout SECONDS` (default 60) bounds the
    wait. When it runs out, the run fails with one line naming the holder when the engine can
    tell" -- the line quoted there."""
    directory = make_migrations(
        {
            "001_counter.sql": "CREATE TABLE counter (n INTEGER);",
            "002_backfill.py": _waiting_migration(tmp_path),
        }
    )
    holder = asyncio.create_task(cli.run("-u", db.url, "-d", str(directory), "migrate"))
    await _started(tmp_path, holder)
    try:
        waiting = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--lock-timeout", "1")
    finally:
        (tmp_path / "go").write_text("")
        assert (await holder).exit_code == 0
    assert waiting.exit_code == 1 and waiting.stdout == "", waiting.output
    [quoted] = quoted_output("safety.md", HERE + "test_a_lock_timeout_names_the_holder")
    assert _holder_free(normalise(waiting.stderr.splitlines())) == _holder_free(normalise(quoted))
    assert await db.fetch("SELECT n FROM counter") == [(2,)]  # the holder's run went on


@only("postgresql")
async def test_a_lost_connection_says_what_the_database_holds(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, "A lost connection": the run stops with the migration's own error, naming
    the statement that was running, and a warning that says what the database holds; "Nothing is
    written after the loss: no `fail` entry in the log, no version row" -- the output quoted
    there, with `pg_terminate_backend` ending the run's session while `002_backfill` ran."""
    make_migrations(
        {
            "001_counter.sql": "CREATE TABLE counter (n INTEGER);",
            "002_backfill.py": _waiting_migration(tmp_path),
        },
        name="migrations",
    )
    run = asyncio.create_task(cli.run("-u", db.url, "-d", "migrations", "migrate"))
    await _started(tmp_path, run)
    await db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    (tmp_path / "go").write_text("")
    result = await run
    assert result.exit_code == 1, result.output
    [quoted] = quoted_output("safety.md", HERE + "test_a_lost_connection_says_what_the_database_holds")
    assert normalise(result.output.splitlines()) == normalise(quoted)
    assert await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq") == [
        ("001_counter", "apply")
    ]
    assert await db.fetch("SELECT id FROM uno_migrations") == [("001_counter",)]


@only("mysql")
async def test_a_failed_mysql_migration_is_shown_and_refused(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/safety.md, "After a failure on MySQL": "the same failure leaves `invoice_lines`
    created and its first row inserted, and a row in the version table" (the `status` line
    quoted), and "`uno-migrations migrate` now refuses to pass it, and says which way out to
    take" (the error quoted)."""
    make_migrations(INVOICES, name="broken")
    first = await cli.run("-u", db.url, "-d", "broken", "migrate")
    assert first.exit_code == 1, first.output
    assert await db.fetch("SELECT id, invoice_id FROM invoice_lines") == [(1, 1)]
    status_line, refusal = quoted_output(
        "safety.md", HERE + "test_a_failed_mysql_migration_is_shown_and_refused"
    )
    status = await cli.run("-u", db.url, "-d", "broken", "status")
    shown = [line for line in status.stdout.splitlines() if line.startswith("1730000100")]
    assert normalise(shown) == normalise(status_line), status.stdout
    refused = await cli.run("-u", db.url, "-d", "broken", "migrate")
    assert (refused.exit_code, refused.stdout) == (1, ""), refused.output
    assert refused.stderr.splitlines() == refusal
    assert await db.fetch("SELECT status, statements_done FROM uno_migrations") == [
        ("applied", 0),
        ("failed", 2),
    ]


async def test_a_newer_layout_is_refused_by_every_command(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/safety.md, "uno's own tables": "a database written by a newer release, with a layout
    this release does not know, is refused by every command, changing nothing" -- the error
    quoted there."""
    directory = str(make_migrations(INVOICES))
    assert (await cli.run("-u", db.url, "-d", directory, "migrate", "--target", "1730000000")).exit_code == 0
    await db.execute("UPDATE uno_migrations_layout SET version = 99")
    [quoted] = quoted_output("safety.md", HERE + "test_a_newer_layout_is_refused_by_every_command")
    for command in (["status"], ["history"], ["verify"], ["migrate"], ["rollback"], ["repair"]):
        result = await cli.run("-u", db.url, "-d", directory, *command)
        assert (result.exit_code, result.stdout) == (1, ""), (command, result.output)
        assert result.stderr.splitlines() == quoted, command
    assert await db.fetch("SELECT id FROM uno_migrations") == [("1730000000_create_invoices",)]
    assert await db.fetch("SELECT version FROM uno_migrations_layout") == [(99,)]
    assert "invoice_lines" not in await db.tables()

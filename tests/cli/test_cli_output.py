"""Errors, exit codes, password masking, logging levels and the progress display."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, only, version_rows

from uno_migrations.cli.progress import LoggingSetup, RunPrinter
from uno_migrations.runtime.report import MigrationEvent

UNREACHABLE = "postgresql://postgres:s3cr3t@127.0.0.1:1/nope"


@pytest.fixture
def project(make_migrations: Callable[..., Path]) -> Path:
    return make_migrations(SIMPLE_MIGRATIONS, name="migrations")


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"], ["-vvv"]])
def test_connection_error_never_shows_the_password(cli: Cli, project: Path, verbosity: list[str]) -> None:
    result = cli("-u", UNREACHABLE, *verbosity, "status")
    assert result.exit_code == 1
    assert "s3cr3t" not in result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: cannot connect to postgresql+asyncpg://postgres:***@127.0.0.1:1/nope")
    assert ("Traceback (most recent call last)" in result.stderr) == bool(verbosity)
    if verbosity:
        assert "uno_migrations.cli info: database: postgresql+asyncpg://postgres:***@127.0.0.1:1/nope" in (
            result.stderr
        )


@only("postgresql")
async def test_status_and_logs_mask_a_real_password(db: TestDatabase, cli: Cli, project: Path) -> None:
    # The test server trusts local connections, so any password in the URL is accepted.
    url = db.url.replace("postgres@", "postgres:s3cr3t@", 1)
    masked = db.url.replace("postgres@", "postgres:***@", 1)
    result = await cli.run("-vv", "-u", url, "migrate")
    assert result.exit_code == 0, result.output
    table = await cli.run("-u", url, "status", "-vv")
    document = json.loads((await cli.run("-u", url, "status", "--json")).stdout)
    history = json.loads((await cli.run("-u", url, "history", "--json")).stdout)
    for output in (result.output, table.output, json.dumps(document), json.dumps(history)):
        assert "s3cr3t" not in output
    assert table.stdout.startswith(f"Database: {masked}\n")
    assert document["database"] == masked == history["database"]
    assert await version_rows(db) == SIMPLE_IDS


async def test_migration_log_records_go_to_stderr_masked_with_verbose(
    cli: Cli, make_migrations: Callable[..., Path], tmp_path: Path
) -> None:
    directory = make_migrations(
        {
            "1_talk.py": """
            async def up(context):
                context.logger.info("copying from %s", "mysql://app:hunter2@old-db/app")
                context.logger.debug("a detail")
        """
        }
    )
    base = ["-u", f"sqlite:///{tmp_path / 'talk.db'}", "-d", str(directory)]
    quiet = await cli.run(*base, "migrate", "--dry-run")
    assert quiet.stderr == ""
    verbose = await cli.run(*base, "-v", "migrate")
    assert verbose.exit_code == 0, verbose.output
    assert "uno_migrations.migration.1_talk info: copying from mysql://app:***@old-db/app" in verbose.stderr
    assert "hunter2" not in verbose.output
    # The start is logged, and the line printed whole once done: log lines never split it.
    assert "uno_migrations.cli info: Applying 1_talk\n" in verbose.stderr
    assert re.fullmatch(r"Applying 1_talk \.\.\. \d+ ms\nApplied 1 migration in \d+ ms\n", verbose.stdout)
    assert "a detail" not in verbose.stderr
    await cli.run(*base, "rollback", "--fake")
    debug = await cli.run(*base, "-vv", "migrate")
    assert "uno_migrations.migration.1_talk debug: a detail" in debug.stderr


def test_logging_filter_masks_arguments_and_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("uno_migrations.test_masking")
    with LoggingSetup(verbose=1, quiet=False):
        logger.info("url %s", "postgresql://u:pw1@h/db")
        try:
            raise RuntimeError("failed on mysql://root:pw2@h/db")
        except RuntimeError:
            logger.exception("it broke")
    logger.warning("after the command: not ours to print")
    err = capsys.readouterr().err
    assert "url postgresql://u:***@h/db" in err
    assert "RuntimeError: failed on mysql://root:***@h/db" in err
    assert "pw1" not in err and "pw2" not in err
    assert "not ours to print" not in err
    assert not any(isinstance(h, logging.StreamHandler) and h.filters for h in logging.getLogger().handlers)


async def test_library_warnings_show_by_default_and_hide_with_quiet(
    cli: Cli, make_migrations: Callable[..., Path], tmp_path: Path
) -> None:
    directory = make_migrations({"1_tx.sql": "BEGIN;\nCREATE TABLE t (id INTEGER);\nCOMMIT;\n"})
    base = ["-u", f"sqlite:///{tmp_path / 'tx.db'}", "-d", str(directory)]
    shown = await cli.run(*base, "migrate", "--dry-run")
    assert shown.exit_code == 0
    assert shown.stderr.startswith("warning: ignored transaction control statement(s) on line(s) 1, 3")
    hidden = await cli.run(*base, "migrate", "-q")
    assert (hidden.exit_code, hidden.stdout, hidden.stderr) == (0, "", "")


async def test_sql_echo_with_three_v(cli: Cli, project: Path, tmp_path: Path) -> None:
    result = await cli.run("-vvv", "-u", f"sqlite:///{tmp_path / 'echo.db'}", "migrate", "--steps", "1")
    assert result.exit_code == 0
    # SQLAlchemy's statements, the version table's (run on the driver) and each migration statement.
    assert (
        "sqlalchemy.engine.Engine info: " in result.stderr
        and "CREATE TABLE uno_migrations (" in result.stderr
    )
    assert re.search(r"uno_migrations\.sql (info|debug): INSERT INTO uno_migrations_log", result.stderr)
    assert (
        "uno_migrations.runtime.context debug: 1000_create_users: statement 1: CREATE TABLE users"
        in result.stderr
    )


def test_verbose_counts_before_and_after_the_command(cli: Cli, project: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    once = cli("-v", "-u", url, "status")
    assert "uno_migrations.cli info: database: sqlite+aiosqlite:///" in once.stderr
    assert " debug: " not in once.stderr
    twice = cli("-v", "-u", url, "status", "-v")
    assert (
        "uno_migrations.cli debug: settings: directories=['migrations'] table=uno_migrations" in twice.stderr
    )


def test_colour_only_on_a_terminal(cli: Cli, project: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    plain = cli("-u", url, "status")
    assert "\x1b[" not in plain.stdout and "1000_create_users  pending" in plain.stdout
    coloured = cli("-u", url, "status", color=True)  # what a terminal gets
    assert "\x1b[33mpending" in coloured.stdout
    failing = cli("-u", url, "migrate", "--target", "x", color=True)
    assert failing.stderr.startswith("\x1b[31m\x1b[1merror:\x1b[0m unknown migration id")


def test_missing_url_unknown_command_and_bad_option(cli: Cli, project: Path) -> None:
    for command in ("migrate", "rollback", "status", "history", "verify", "repair"):
        result = cli(command)
        assert (result.exit_code, result.stdout) == (1, ""), command
        assert (
            result.stderr
            == "error: no database URL: pass --database-url or set UNO_MIGRATIONS_DATABASE_URL\n"
        )
    unknown = cli("frobnicate")
    assert unknown.exit_code == 2 and "No such command 'frobnicate'" in unknown.stderr
    bad = cli("status", "--colour")
    assert bad.exit_code == 2 and "No such option" in bad.stderr


def test_help_lists_the_commands_in_order(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == [
        "init",
        "create",
        "migrate",
        "rollback",
        "status",
        "info",
        "history",
        "verify",
        "repair",
        "graph",
        "test",
        "diff",
        "lint",
        "check",
        "alembic",
    ]
    create_help = cli("create", "--help").stdout
    assert "--depends-on ID" in create_help and "--database-url URL" in create_help


def _events(count: int) -> list[MigrationEvent]:
    events = []
    for index in range(count):
        mid = f"{index:03d}_step"
        events.append(MigrationEvent("start", mid, "up", index, count))
        events.append(MigrationEvent("done", mid, "up", index, count, 5))
    return events


@pytest.mark.parametrize(("count", "bar"), [(20, False), (21, True)])
def test_long_runs_on_a_terminal_show_a_progress_bar(
    capsys: pytest.CaptureFixture[str], count: int, bar: bool
) -> None:
    printer = RunPrinter("up", False, tty=True)
    for event in _events(count):
        printer(event)
    printer.close()
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.endswith("... 5 ms")]
    assert len(lines) == (0 if bar else count)
    assert out.startswith("Applying")


def test_progress_lines_for_skips_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    printer = RunPrinter("down", False, tty=False)
    printer(MigrationEvent("start", "1_a", "down", 0, 3))
    printer(MigrationEvent("skip", "1_a", "down", 0, 3))
    printer(MigrationEvent("start", "2_b", "down", 1, 3))
    printer(MigrationEvent("fail", "2_b", "down", 1, 3, 7))
    printer(MigrationEvent("start", "3_c", "down", 2, 3))
    printer.close()
    assert capsys.readouterr().out == (
        "Reverting 1_a ... skipped (reverted by another run)\nReverting 2_b ... failed\nReverting 3_c ... \n"
    )

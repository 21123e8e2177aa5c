"""How the command line behaves around its output (issue #16): a closed stdout, the progress
line beside log records, NO_COLOR, bad option values, database URLs, the config file's SQLite
path, the --json documents of every command, and the titles in ``status``.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import ENTRY_POINTS, SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, only, version_rows

from uno_migrations.cli import program
from uno_migrations.cli.config import ENV_CONFIG
from uno_migrations.cli.progress import RunPrinter
from uno_migrations.runtime.report import MigrationEvent

MakeDir = Callable[..., Path]
ANSI = "\x1b["


@pytest.fixture
def project(make_migrations: MakeDir) -> Path:
    return make_migrations(SIMPLE_MIGRATIONS, name="migrations")


def _environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ENV_CONFIG and k != "NO_COLOR"}
    environment.update(extra)
    return environment


# -- 11: a reader that closes stdout early ----------------------------------------------------


def _closed_early(cwd: Path, *args: str) -> tuple[int, str]:
    """Run the program with its stdout read by nobody: the pipe's reader closes at once, before
    the program writes anything. Returns the exit code and stderr."""
    process = subprocess.Popen(
        [*ENTRY_POINTS["module"], *args],
        cwd=cwd,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


async def test_a_closed_stdout_ends_the_output_quietly_and_the_work_goes_on(
    db: TestDatabase, project: Path, tmp_path: Path
) -> None:
    base = ("-u", db.url)
    assert _closed_early(tmp_path, *base, "status", "--exit-code") == (3, "")  # the exit code stays
    assert _closed_early(tmp_path, *base, "migrate", "--dry-run") == (0, "")
    assert await db.tables() == set()
    # The run is not stopped by its printing: every migration is applied.
    assert _closed_early(tmp_path, *base, "migrate") == (0, "")
    assert await version_rows(db) == SIMPLE_IDS
    for command in (["status"], ["history"], ["info"], ["info", "1000"], ["verify"], ["history", "--json"]):
        assert _closed_early(tmp_path, *base, *command) == (0, ""), command
    assert _closed_early(tmp_path, *base, "rollback", "--all") == (0, "")
    assert await version_rows(db) == []


# -- 12: the progress line, log records, the lock ---------------------------------------------

TALKING = {
    "1_talk.py": """
        async def up(context):
            await context.execute_sql("CREATE TABLE talk (id INTEGER)")
            context.logger.warning("half-way through")
            context.logger.info("a detail")


        async def down(context):
            await context.execute_sql("DROP TABLE talk")
    """,
    "2_quiet.sql": "CREATE TABLE quiet (id INTEGER);\n-- DOWN\nDROP TABLE quiet;\n",
}


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"]])
async def test_log_records_never_share_a_line_with_the_progress(
    db: TestDatabase,
    make_migrations: MakeDir,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    verbosity: list[str],
) -> None:
    directory = make_migrations(TALKING)
    monkeypatch.chdir(tmp_path)
    for name in ENV_CONFIG:
        monkeypatch.delenv(name, raising=False)
    # stdout and stderr as a terminal shows them: interleaved in the order they were written.
    args = [*verbosity, "-u", db.url, "-d", str(directory), "migrate"]
    result = await asyncio.to_thread(CliRunner().invoke, program, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    warning = next(line for line in lines if "half-way through" in line)
    assert warning.endswith("warning: half-way through") and "Applying" not in warning
    for line in lines:
        if line.startswith("Applying"):
            assert re.fullmatch(r"Applying \d_\w+ \.\.\. (\d+ ms)?", line), line
    progress = result.stdout.splitlines()
    assert re.fullmatch(r"Applying 1_talk \.\.\. \d+ ms", progress[-3]), progress
    assert re.fullmatch(r"Applying 2_quiet \.\.\. \d+ ms", progress[-2]), progress
    assert await db.tables() >= {"talk", "quiet"}


def _on_a_terminal(cwd: Path, *args: str) -> str:
    """Run the program with stdout and stderr on a pseudo-terminal; all it wrote there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*ENTRY_POINTS["module"], *args],
        cwd=cwd,
        env=_environment(COLUMNS="150", TERM="xterm"),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=10) == 0
    return b"".join(chunks).decode()


SLOW = "import asyncio\n\n\nasync def up(context):\n    context.logger.warning('still going')\n    await asyncio.sleep(1.7)\n"


@only("sqlite")
def test_on_a_terminal_the_line_shows_the_running_migration_and_its_time(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    few = make_migrations({"1_fast.sql": "CREATE TABLE fast (id INTEGER);\n", "2_slow.py": SLOW})
    screen = _on_a_terminal(tmp_path, "-u", db.url, "-d", str(few), "migrate")
    # Each \r rewrites the line: what it showed in turn.
    shown = [part for line in screen.split("\r\n") for part in line.split("\r")]
    assert "Applying 2_slow ... 1 s" in [part.rstrip() for part in shown], shown
    assert "warning: still going" in [part.strip() for part in shown], shown
    assert re.search(r"Applying 2_slow \.\.\. \x1b\[32m\d{4} ms", screen), screen

    many = {f"{n:02d}_step.sql": f"CREATE TABLE t{n} (id INTEGER);\n" for n in range(1, 22)}
    lots = make_migrations({**many, "22_slow.py": SLOW})
    bar = _on_a_terminal(tmp_path, "-u", db.url.replace(".db", "-2.db"), "-d", str(lots), "migrate")
    frames = [part.rstrip() for part in bar.replace("\r\n", "\r").split("\r")]
    # The bar names the migration running now (not the one before it), with its time so far.
    assert any(re.fullmatch(r"Applying \[#+-*\] 21/22  22_slow", frame) for frame in frames), frames
    assert any(re.fullmatch(r"Applying \[#+-*\] 21/22  22_slow \(1 s\)", frame) for frame in frames), frames
    assert "Applying [##############################] 22/22" in frames
    assert "Applied 22 migrations in " in bar


def test_waiting_for_the_lock_is_said_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    printer = RunPrinter("up", False, tty=False)
    printer(MigrationEvent("wait", "", "up", 0, 0, holder="PostgreSQL backend pid 7, user app"))
    printer(MigrationEvent("start", "1_a", "up", 0, 1))
    printer(MigrationEvent("done", "1_a", "up", 0, 1, 3))
    printer.close()
    captured = capsys.readouterr()
    assert captured.err == "waiting for the migration lock (held by PostgreSQL backend pid 7, user app)...\n"
    assert captured.out == "Applying 1_a ... 3 ms\n"


# -- 13: NO_COLOR -------------------------------------------------------------------------------


async def test_no_color_turns_every_colour_off(db: TestDatabase, cli: Cli, project: Path) -> None:
    base = ("-u", db.url)
    runs = [
        ("migrate", "--steps", "2"),  # the progress lines and the summary
        ("status",),
        ("info", "1000"),
        ("migrate", "--dry-run"),
        ("migrate", "--target", "nope"),  # the error line
    ]
    # An empty NO_COLOR counts as unset; any other value turns colours off, even on a terminal.
    for env, coloured in (({"NO_COLOR": ""}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": "no"}, False)):
        await cli.run(*base, "rollback", "--all", "-q")
        for args in runs:
            result = await asyncio.to_thread(cli, *base, *args, env=env, color=True)  # as on a terminal
            assert (ANSI in result.output) == coloured, (args, env, result.output)
    failing = await asyncio.to_thread(
        cli, *base, "migrate", "--target", "nope", env={"NO_COLOR": "1"}, color=True
    )
    assert failing.stderr == "error: unknown migration id 'nope'\n"


# -- 14: bad option values ------------------------------------------------------------------------

USAGE_ERRORS = [
    (
        ["--lock-timeout", "-5", "migrate"],
        "Invalid value for '--lock-timeout': must be a finite number of seconds >= 0, not '-5'",
    ),
    (
        ["migrate", "--lock-timeout", "abc"],
        "Invalid value for '--lock-timeout': must be a number of seconds, not 'abc'",
    ),
    (
        ["--lock-timeout", "nan", "status"],
        "Invalid value for '--lock-timeout': must be a finite number of seconds >= 0",
    ),
    (
        ["--lock-timeout", "inf", "rollback"],
        "Invalid value for '--lock-timeout': must be a finite number of seconds >= 0",
    ),
    (
        ["--lock-timeout", "", "repair"],
        "Invalid value for '--lock-timeout': must be a number of seconds, not ''",
    ),
    (["migrate", "--steps", "0"], "Invalid value for '--steps': 0 is not in the range x>=1."),
    (["migrate", "--steps", "-2"], "Invalid value for '--steps': -2 is not in the range x>=1."),
    (["migrate", "--steps", "1.5"], "Invalid value for '--steps': '1.5' is not a valid integer range."),
    (["rollback", "--steps", "0"], "Invalid value for '--steps': 0 is not in the range x>=1."),
]


async def test_bad_option_values_are_usage_errors_and_change_nothing(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    for args, message in USAGE_ERRORS:
        result = await cli.run("-u", db.url, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert result.stderr.startswith("Usage: uno-migrations "), result.stderr
        assert result.stderr.splitlines()[-1].startswith(f"Error: {message}"), result.stderr
    assert await db.tables() == set()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("-5", "must be a finite number of seconds >= 0, not '-5'"),
        ("soon", "must be a number of seconds, not 'soon'"),
    ],
)
async def test_bad_values_from_the_environment_or_the_file_name_their_source(
    db: TestDatabase, cli: Cli, project: Path, tmp_path: Path, value: str, problem: str
) -> None:
    from_env = await cli.run("-u", db.url, "migrate", env={"UNO_MIGRATIONS_LOCK_TIMEOUT": value})
    assert (from_env.exit_code, from_env.stdout) == (1, "")
    assert from_env.stderr == f"error: UNO_MIGRATIONS_LOCK_TIMEOUT {problem}\n"
    written = value if value.startswith("-") else f"'{value}'"
    (tmp_path / "pyproject.toml").write_text(f"[tool.uno_migrations]\nlock_timeout = {written}\n")
    from_file = await cli.run("-u", db.url, "migrate")
    assert (from_file.exit_code, from_file.stdout) == (1, "")
    shown = problem.replace("'-5'", "-5")  # a TOML number is shown as the number it is
    assert from_file.stderr == f"error: pyproject.toml: lock_timeout {shown}\n"
    assert await db.tables() == set()


# -- 15: database URLs ---------------------------------------------------------------------------


@only("sqlite")
def test_a_sqlite_url_without_the_third_slash_is_named_as_typed(
    db: TestDatabase, cli: Cli, project: Path, tmp_path: Path
) -> None:
    expected = (
        "error: invalid SQLite URL sqlite://app.db: write the file's path after three slashes, "
        "sqlite:///relative.db or sqlite:////absolute.db (sqlite:// alone is a database in memory)\n"
    )
    for command in ("status", "migrate", "history"):
        given = cli("-u", "sqlite://app.db", command)
        assert (given.exit_code, given.stdout, given.stderr) == (1, "", expected), command
    from_env = cli("status", env={"DATABASE_URL": "sqlite://app.db"})
    assert (from_env.exit_code, from_env.stderr) == (1, expected)
    assert not (tmp_path / "app.db").exists()


SYNC_DRIVERS = {"postgresql": "psycopg2", "mysql": "pymysql", "sqlite": "pysqlite"}
ASYNC_DRIVERS = {"postgresql": "asyncpg", "mysql": "aiomysql", "sqlite": "aiosqlite"}


async def test_a_synchronous_driver_is_replaced_with_a_notice(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    sync, async_ = SYNC_DRIVERS[db.dialect], ASYNC_DRIVERS[db.dialect]
    url = db.url.replace(f"+{async_}", f"+{sync}", 1)
    result = await cli.run("-u", url, "migrate")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"warning: using {db.dialect}+{async_} instead of the synchronous driver {sync} "
        "(uno-migrations runs on async drivers)\n"
    )
    assert await version_rows(db) == SIMPLE_IDS
    quiet = await cli.run("-u", url, "status", "-q")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    plain = await cli.run("-u", url.replace(f"+{sync}", "", 1), "status")
    assert (plain.exit_code, plain.stderr) == (0, "")


@only("sqlite")
def test_read_only_commands_do_not_create_a_missing_sqlite_file(
    db: TestDatabase, cli: Cli, project: Path, tmp_path: Path
) -> None:
    url = "sqlite:///nothing-here.db"
    status = cli("-u", url, "status")
    assert status.exit_code == 0, status.output
    assert re.findall(r"^(\d+_\w+) +pending +- ", status.stdout, re.M) == SIMPLE_IDS
    assert status.stdout.endswith("\n3 pending (nothing-here.db does not exist yet)\n")
    document = json.loads(cli("-u", url, "status", "--json").stdout)
    assert {m["status"] for m in document["migrations"]} == {"pending"}
    assert document["database"] == "sqlite+aiosqlite:///nothing-here.db"
    expected = {
        ("history",): "Database: sqlite+aiosqlite:///nothing-here.db\nNo history yet\n",
        ("verify",): "All 3 migrations verified (0 applied, 3 pending)\n",
        ("info", "1000"): None,
        ("rollback",): "Nothing to roll back\n",
        ("rollback", "--all", "--dry-run"): "Nothing to roll back\nDry run: nothing was changed.\n",
        ("repair",): "Nothing to repair\n",
        ("migrate", "--dry-run", "--steps", "1"): None,
    }
    for args, stdout in expected.items():
        result = cli("-u", url, *args)
        assert result.exit_code == 0, (args, result.output)
        if stdout is not None:
            assert result.stdout == stdout, args
    assert cli("-u", url, "migrate", "--dry-run").stdout.startswith("Would apply 3 migrations:\n")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_dir()) == [], "nothing may be created"

    migrated = cli("-u", url, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert (tmp_path / "nothing-here.db").is_file()
    assert cli("-u", url, "status").stdout.endswith("\n3 applied\n")


# -- 16: the config file's SQLite path --------------------------------------------------------


@only("sqlite")
def test_a_relative_sqlite_path_in_the_config_file_is_beside_the_file(
    db: TestDatabase, cli: Cli, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uno_migrations]\ndatabase_url = "sqlite:///app.db"\ndirectories = ["migrations"]\n'
    )
    assert cli("migrate").exit_code == 0
    assert (tmp_path / "app.db").is_file()
    below = tmp_path / "src" / "deeper"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert status.stdout.startswith(f"Database: sqlite+aiosqlite:///{tmp_path / 'app.db'}\n")
    assert status.stdout.endswith("\n3 applied\n")
    assert cli("rollback").exit_code == 0
    assert cli("migrate").stdout.startswith("Applying 1002_seed_users ... ")
    # A URL given on the command line or in the environment is relative to the current directory.
    for given in (["-u", "sqlite:///app.db"], []):
        env = {} if given else {"DATABASE_URL": "sqlite:///app.db"}
        here = cli(*given, "status", env=env)
        assert here.stdout.startswith("Database: sqlite+aiosqlite:///app.db\n"), here.output
        assert here.stdout.endswith("\n3 pending (app.db does not exist yet)\n")
    assert list(below.iterdir()) == []


# -- 17: --json on every command that reports ----------------------------------------------------

RUN_KEYS = {"id", "name", "kind", "direction", "action", "ms", "statements"}
RUN_DOCUMENT = {
    "command", "database", "direction", "dry_run", "fake", "runs", "skipped", "failed", "stopped_before",
    "elapsed_ms", "error",
}  # fmt: skip


async def _json(cli: Cli, *args: str, exit_code: int = 0) -> dict[str, Any]:
    result = await cli.run(*args)
    assert result.exit_code == exit_code, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


async def test_every_reporting_command_prints_one_json_schema(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    base = ("-u", db.url)
    plan = await _json(cli, *base, "migrate", "--dry-run", "--json")
    assert set(plan) == RUN_DOCUMENT
    assert (plan["command"], plan["database"], plan["error"]) == ("migrate", db.url, None)
    assert plan["dry_run"] is True and [run["id"] for run in plan["runs"]] == SIMPLE_IDS
    assert plan["runs"][0]["statements"] == ["CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50))"]
    assert plan["runs"][1]["statements"] is None  # a Python migration: its statements are code

    applied = await _json(cli, *base, "migrate", "--json")
    assert set(applied) == RUN_DOCUMENT and applied["dry_run"] is False and applied["failed"] is None
    assert [(r["id"], r["action"], r["direction"]) for r in applied["runs"]] == [
        (i, "apply", "up") for i in SIMPLE_IDS
    ]
    first = applied["runs"][0]
    assert set(first) == RUN_KEYS and (first["name"], first["kind"]) == ("Create users", "sql")
    assert isinstance(first["ms"], int) and isinstance(applied["elapsed_ms"], int)
    assert await version_rows(db) == SIMPLE_IDS

    status = await _json(cli, *base, "status", "--json")
    assert list(status) == ["command", "database", "migrations", "error"]
    users = status["migrations"][0]
    assert users["description"] == "The users table" and isinstance(users["statements_done"], int)

    history = await _json(cli, *base, "history", "--json")
    assert list(history) == ["command", "database", "entries", "error"] and len(history["entries"]) == 3

    every = await _json(cli, *base, "info", "--json")
    assert (every["command"], every["database"], every["error"]) == ("info", db.url, None)
    assert [m["id"] for m in every["migrations"]] == SIMPLE_IDS
    assert every["migrations"][1]["dependencies"] == ["1000_create_users"]
    one = (await _json(cli, *base, "info", "1000", "--json"))["migrations"]
    assert len(one) == 1 and one[0]["tags"] == ["auth"] and one[0]["reversible"] is True
    assert one[0]["statements"] == {
        "split_for": db.dialect,
        "up": [{"line": 4, "sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50))"}],
        "down": [{"line": 8, "sql": "DROP TABLE users"}],
    }
    assert every["migrations"][0]["statements"] is None  # the list does not parse the files

    verified = await _json(cli, *base, "verify", "--json")
    assert verified == {
        "command": "verify",
        "database": db.url,
        "migrations": 3,
        "applied": 3,
        "pending": 0,
        "problems": [],
        "error": None,
    }

    seed = project / "1002_seed_users.sql"
    seed.write_text(seed.read_text() + "-- changed\n")
    problems = await cli.run(*base, "verify", "--json")
    assert problems.exit_code == 1 and problems.stderr == "error: verify found 1 problem\n"
    document = json.loads(problems.stdout)
    assert document["error"] == "verify found 1 problem"
    assert document["problems"] == [
        {"id": "1002_seed_users", "status": "modified", "path": str(seed.relative_to(project.parent)),
         "message": "changed since it was applied"},
    ]  # fmt: skip

    repaired = await _json(cli, *base, "repair", "--json")
    assert repaired == {
        "command": "repair", "database": db.url, "repaired": [{"id": "1002_seed_users", "status": "modified"}],
        "error": None,
    }  # fmt: skip

    reverted = await _json(cli, *base, "rollback", "--steps", "2", "--json")
    assert [(r["id"], r["action"], r["direction"]) for r in reverted["runs"]] == [
        ("1002_seed_users", "revert", "down"),
        ("1001_add_posts", "revert", "down"),
    ]
    assert reverted["command"] == "rollback" and await version_rows(db) == SIMPLE_IDS[:1]
    quiet = await _json(cli, *base, "-q", "rollback", "--fake", "--json")
    assert [(r["id"], r["action"]) for r in quiet["runs"]] == [("1000_create_users", "unmark")] and quiet[
        "fake"
    ]


async def test_a_failing_command_still_prints_its_json_document(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            "1_ok.sql": "CREATE TABLE ok (id INTEGER);\n-- DOWN\nDROP TABLE ok;\n",
            "2_broken.sql": "INSERT INTO no_such_table VALUES (1);\n",
        }
    )
    base = ("-u", db.url, "-d", str(directory))
    result = await cli.run(*base, "migrate", "--json")
    assert result.exit_code == 1
    line = result.stderr.removeprefix("error: ").rstrip("\n")
    assert line.startswith("migration 2_broken (") and "\n" not in line
    document = json.loads(result.stdout)
    assert set(document) == RUN_DOCUMENT and document["error"] == line
    assert [(r["id"], r["name"], r["kind"], r["action"]) for r in document["runs"]] == [
        ("1_ok", "ok", "sql", "apply")
    ]
    assert document["failed"] == "2_broken"
    assert await version_rows(db) == ["1_ok"]

    unknown = await cli.run(*base, "rollback", "--target", "9", "--json")
    assert unknown.exit_code == 1 and unknown.stderr == "error: unknown migration id '9'\n"
    assert json.loads(unknown.stdout)["error"] == "unknown migration id '9'"

    for command in ("status", "history", "verify", "repair", "migrate", "rollback"):
        missing = await cli.run(command, "--json")
        assert missing.exit_code == 1, command
        assert json.loads(missing.stdout) == {
            "command": command,
            "database": None,
            "error": "no database URL: pass --database-url or set UNO_MIGRATIONS_DATABASE_URL",
        }
    assert (await cli.run(*base, "info", "7", "--json")).stdout.endswith(
        '"error": "unknown migration id \'7\'"\n}\n'
    )


@only("mysql")
async def test_status_json_counts_the_statements_of_a_failed_migration(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {"1_two_steps.sql": "-- Description: Two steps, the second fails\nCREATE TABLE first_step (id INTEGER);\n"
         "INSERT INTO later_table VALUES (1);\n"}
    )  # fmt: skip
    base = ("-u", db.url, "-d", str(directory))
    assert (await cli.run(*base, "migrate")).exit_code == 1
    (entry,) = (await _json(cli, *base, "status", "--json"))["migrations"]
    assert (entry["status"], entry["statements_done"]) == ("failed", 1)
    assert entry["description"] == "Two steps, the second fails"


# -- 19: titles in status --------------------------------------------------------------------------


async def test_status_shows_each_migration_title_cut_to_a_readable_width(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    long_title = "Move every order of the old shop into the new ledger, keeping their totals"
    directory = make_migrations(
        {
            "1_short.sql": "-- Migration: Create orders\nCREATE TABLE orders (id INTEGER);\n",
            "2_long.sql": f"-- Migration: {long_title}\nCREATE TABLE ledger (id INTEGER);\n",
            "3_untitled.sql": "CREATE TABLE later (id INTEGER);\n",
        }
    )
    base = ("-u", db.url, "-d", str(directory))
    await cli.run(*base, "migrate", "--steps", "1")
    lines = (await cli.run(*base, "status")).stdout.splitlines()
    assert re.split(r"\s{2,}", lines[2]) == ["ID", "STATUS", "APPLIED AT", "NAME"]
    assert re.fullmatch(r"1_short +applied +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +Create orders", lines[3])
    assert re.fullmatch(r"2_long +pending +- +Move every order of the old shop into\.\.\.", lines[4])
    assert len(lines[4].split("  ")[-1].strip()) <= 40
    assert re.fullmatch(r"3_untitled +pending +- +untitled", lines[5])
    document = await _json(cli, *base, "status", "--json")
    assert document["migrations"][1]["name"] == long_title  # the document has it whole

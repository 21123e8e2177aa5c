"""Every command and option through CliRunner, on every engine, checked against the database."""

from __future__ import annotations

import asyncio
import gc
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, only, version_rows

STATUS_KEYS = {
    "id",
    "name",
    "description",
    "kind",
    "status",
    "out_of_order",
    "applied_at",
    "execution_ms",
    "statements_done",
    "checksum",
    "path",
    "problem",
    "phase",
}
HISTORY_KEYS = {"seq", "migration_id", "action", "at", "execution_ms", "checksum", "actor"}
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@pytest.fixture
def project(make_migrations: Callable[..., Path]) -> Path:
    return make_migrations(SIMPLE_MIGRATIONS, name="migrations")


async def test_migrate_prints_a_line_per_migration_and_applies_them(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    result = await cli.run("-u", db.url, "migrate")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for line, mid in zip(lines, SIMPLE_IDS, strict=False):
        assert re.fullmatch(rf"Applying {mid} \.\.\. \d+ ms", line), line
    assert re.fullmatch(r"Applied 3 migrations in \d+ ms", lines[3])
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal
    assert await version_rows(db) == SIMPLE_IDS
    assert await db.fetch("SELECT name FROM users ORDER BY id") == [("ada",), ("grace",)]
    assert "posts" in await db.tables()

    again = await cli.run("migrate", "-u", db.url)
    assert again.exit_code == 0
    assert again.stdout == "Nothing to migrate\n"


async def test_migrate_target_and_steps(db: TestDatabase, cli: Cli, project: Path) -> None:
    result = await cli.run("-u", db.url, "migrate", "--target", "1001")
    assert result.exit_code == 0, result.output
    assert "Applied 2 migrations" in result.stdout
    assert await version_rows(db) == SIMPLE_IDS[:2]

    result = await cli.run("-u", db.url, "migrate", "--steps", "1")
    assert "Applying 1002_seed_users" in result.stdout
    assert await version_rows(db) == SIMPLE_IDS

    bad = await cli.run("-u", db.url, "migrate", "--steps", "0")
    assert bad.exit_code == 2
    unknown = await cli.run("-u", db.url, "migrate", "--target", "9999")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: unknown migration id '9999'\n"


async def test_migrate_dry_run_prints_the_plan_and_sql_and_changes_nothing(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    result = await cli.run("-u", db.url, "migrate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Would apply 3 migrations:",
        "  1. 1000_create_users (sql)",
        "       CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));",
        "  2. 1001_add_posts (python)",
        "  3. 1002_seed_users (sql)",
        "       INSERT INTO users (id, name) VALUES (1, 'ada');",
        "       INSERT INTO users (id, name) VALUES (2, 'grace');",
        "Dry run: nothing was changed.",
    ]
    assert await db.tables() == set()


async def test_migrate_fake_records_without_running(db: TestDatabase, cli: Cli, project: Path) -> None:
    result = await cli.run("-u", db.url, "migrate", "--fake")
    assert result.exit_code == 0, result.output
    assert "Marking 1000_create_users ... " in result.stdout
    assert re.search(r"Marked 3 migrations in \d+ ms \(fake: recorded only, nothing ran\)", result.stdout)
    assert await db.tables() == {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
    assert await version_rows(db) == SIMPLE_IDS
    actions = await db.fetch("SELECT action FROM uno_migrations_log ORDER BY seq")
    assert actions == [("mark",)] * 3


async def test_rollback_default_steps_target_all(db: TestDatabase, cli: Cli, project: Path) -> None:
    await cli.run("-u", db.url, "migrate")

    one = await cli.run("-u", db.url, "rollback")
    assert one.exit_code == 0, one.output
    assert re.match(r"Reverting 1002_seed_users \.\.\. \d+ ms\nReverted 1 migration in \d+ ms\n$", one.stdout)
    assert await db.scalar("SELECT COUNT(*) FROM users") == 0
    assert await version_rows(db) == SIMPLE_IDS[:2]

    await cli.run("-u", db.url, "migrate")
    target = await cli.run("-u", db.url, "rollback", "--target", "1000_create_users")
    assert "Reverted 2 migrations" in target.stdout
    assert await version_rows(db) == SIMPLE_IDS[:1]
    assert "posts" not in await db.tables()

    await cli.run("-u", db.url, "migrate")
    steps = await cli.run("-u", db.url, "rollback", "--steps", "2")
    assert steps.stdout.index("Reverting 1002_seed_users") < steps.stdout.index("Reverting 1001_add_posts")
    assert await version_rows(db) == SIMPLE_IDS[:1]

    everything = await cli.run("-u", db.url, "rollback", "--all")
    assert "Reverted 1 migration in" in everything.stdout
    assert await db.tables() == {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
    nothing = await cli.run("-u", db.url, "rollback")
    assert nothing.stdout == "Nothing to roll back\n"


async def test_rollback_fake_dry_run_and_exclusive_options(db: TestDatabase, cli: Cli, project: Path) -> None:
    await cli.run("-u", db.url, "migrate")

    dry = await cli.run("-u", db.url, "rollback", "--all", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would revert 3 migrations:" in dry.stdout
    assert "       DELETE FROM users;" in dry.stdout
    assert "       DROP TABLE users;" in dry.stdout
    assert "Dry run: nothing was changed." in dry.stdout
    assert await version_rows(db) == SIMPLE_IDS

    fake = await cli.run("-u", db.url, "rollback", "--fake", "--steps", "2")
    assert "Unmarking 1002_seed_users" in fake.stdout
    assert "Unmarked 2 migrations" in fake.stdout
    assert await version_rows(db) == SIMPLE_IDS[:1]
    assert await db.scalar("SELECT COUNT(*) FROM users") == 2  # nothing ran
    actions = await db.fetch("SELECT action FROM uno_migrations_log ORDER BY seq")
    assert actions[-2:] == [("unmark",), ("unmark",)]

    both = await cli.run("-u", db.url, "rollback", "--all", "--steps", "1")
    assert both.exit_code == 2
    assert "give only one of --steps, --target and --all" in both.stderr
    assert await version_rows(db) == SIMPLE_IDS[:1]


async def test_status_table_json_and_exit_code(db: TestDatabase, cli: Cli, project: Path) -> None:
    await cli.run("-u", db.url, "migrate", "--steps", "2")
    table = await cli.run("-u", db.url, "status")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == f"Database: {db.url}"
    assert lines[2].split() == ["ID", "STATUS", "APPLIED", "AT", "NAME"]
    assert re.fullmatch(
        r"1000_create_users +applied +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +Create users", lines[3]
    )
    assert re.fullmatch(r"1002_seed_users +pending +- +seed users", lines[5])
    assert lines[-1] == "2 applied, 1 pending"

    assert (await cli.run("-u", db.url, "status", "--exit-code")).exit_code == 3
    document = json.loads((await cli.run("-u", db.url, "status", "--json")).stdout)
    assert document["database"] == db.url
    assert [m["id"] for m in document["migrations"]] == SIMPLE_IDS
    first, _, last = document["migrations"]
    assert set(first) == STATUS_KEYS
    assert first["status"] == "applied" and first["kind"] == "sql" and first["name"] == "Create users"
    assert ISO_8601.fullmatch(first["applied_at"]) and isinstance(first["execution_ms"], int)
    assert len(first["checksum"]) == 64 and first["path"].endswith("1000_create_users.sql")
    assert last["status"] == "pending" and last["applied_at"] is None and last["execution_ms"] is None
    assert last["out_of_order"] is False

    await cli.run("-u", db.url, "migrate")
    assert (await cli.run("-u", db.url, "status", "--exit-code")).exit_code == 0


async def test_status_out_of_order_modified_missing_and_verify_repair(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    await cli.run("-u", db.url, "migrate")
    (project / "0999_merged_late.sql").write_text(
        "CREATE TABLE late (id INTEGER);\n-- DOWN\nDROP TABLE late;\n"
    )
    seed = project / "1002_seed_users.sql"
    seed.write_text(seed.read_text() + "\n-- a comment changes the checksum\n")
    (project / "1001_add_posts.py").unlink()

    document = json.loads((await cli.run("-u", db.url, "status", "--json")).stdout)
    states = {m["id"]: m for m in document["migrations"]}
    assert states["0999_merged_late"]["status"] == "pending"
    assert states["0999_merged_late"]["out_of_order"] is True
    assert states["1002_seed_users"]["status"] == "modified"
    assert states["1001_add_posts"]["status"] == "missing"
    assert states["1001_add_posts"]["path"] is None
    table = await cli.run("-u", db.url, "status", "--exit-code")
    assert table.exit_code == 3
    assert "pending (out of order)" in table.stdout

    refused = await cli.run("-u", db.url, "migrate")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: applied migrations were modified since they were applied")
    assert "late" not in await db.tables()

    verify = await cli.run("-u", db.url, "verify")
    assert verify.exit_code == 1
    assert re.search(r"^modified  1002_seed_users \(.*1002_seed_users\.sql\): changed", verify.stdout, re.M)
    assert re.search(r"^missing  1001_add_posts: applied, but its file is missing", verify.stdout, re.M)
    assert verify.stderr == "error: verify found 2 problems\n"

    repair = await cli.run("-u", db.url, "repair")
    assert repair.exit_code == 0, repair.output
    assert repair.stdout == "Recorded the new checksum of 1002_seed_users\n"
    assert (await cli.run("-u", db.url, "repair")).stdout == "Nothing to repair\n"
    checksum = await db.scalar("SELECT checksum FROM uno_migrations WHERE id = '1002_seed_users'")
    assert checksum == states["1002_seed_users"]["checksum"]

    await cli.run("-u", db.url, "rollback", "--fake", "--target", "1000")  # forget the missing one
    (project / "0999_merged_late.sql").unlink()
    verified = await cli.run("-u", db.url, "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.stdout == "All 2 migrations verified (1 applied, 1 pending)\n"


async def test_history_table_and_json(db: TestDatabase, cli: Cli, project: Path) -> None:
    empty = await cli.run("-u", db.url, "history")
    assert empty.stdout == f"Database: {db.url}\nNo history yet\n"
    await cli.run("-u", db.url, "migrate", "--steps", "1")
    await cli.run("-u", db.url, "rollback")

    table = await cli.run("-u", db.url, "history")
    lines = table.stdout.splitlines()
    assert lines[2].split() == ["SEQ", "AT", "ACTION", "MIGRATION", "TIME", "ACTOR"]
    assert re.match(
        r"1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +apply +1000_create_users +\d+ ms +\S+@", lines[3]
    )
    assert re.match(r"2 +.* revert +1000_create_users", lines[4])

    document = json.loads((await cli.run("-u", db.url, "history", "--json")).stdout)
    assert document["database"] == db.url
    entries = document["entries"]
    assert [(e["seq"], e["migration_id"], e["action"]) for e in entries] == [
        (1, "1000_create_users", "apply"),
        (2, "1000_create_users", "revert"),
    ]
    assert all(set(e) == HISTORY_KEYS for e in entries)
    assert ISO_8601.fullmatch(entries[0]["at"]) and len(entries[0]["checksum"]) == 64
    assert "@" in entries[0]["actor"]


async def test_failed_migration_is_one_line_error_and_traceback_only_with_verbose(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    directory = make_migrations(
        {
            "1_ok.sql": "CREATE TABLE ok (id INTEGER);\n-- DOWN\nDROP TABLE ok;\n",
            "2_broken.sql": "INSERT INTO no_such_table VALUES (1);\n",
        }
    )
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    assert re.match(r"Applying 1_ok \.\.\. \d+ ms\nApplying 2_broken \.\.\. failed\n$", result.stdout)
    assert result.stderr.startswith("error: migration 2_broken (")
    assert "no_such_table" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert await version_rows(db) == ["1_ok"]
    fails = await db.fetch("SELECT migration_id FROM uno_migrations_log WHERE action = 'fail'")
    assert fails == [("2_broken",)]

    verbose = await cli.run("-u", db.url, "-d", str(directory), "migrate", "-v")
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.splitlines()[-1].startswith("error: ")


@only("mysql")
async def test_failed_sql_migration_on_mysql_resume_and_repair(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    # Only MySQL keeps a failed row: its DDL commits as it runs.
    directory = make_migrations(
        {
            "1_two_steps.sql": "CREATE TABLE first_step (id INTEGER);\nINSERT INTO later_table VALUES (1);\n"
            "-- DOWN\nDROP TABLE first_step;\n",
        }
    )
    args = ("-u", db.url, "-d", str(directory))
    assert (await cli.run(*args, "migrate")).exit_code == 1
    status = json.loads((await cli.run(*args, "status", "--json")).stdout)
    assert status["migrations"][0]["status"] == "failed"
    assert (await cli.run(*args, "status", "--exit-code")).exit_code == 3
    again = await cli.run(*args, "migrate")
    assert again.exit_code == 1 and "--resume" in again.stderr

    repaired = await cli.run(*args, "repair", "1_two")
    assert repaired.stdout == "Forgot the failed attempt of 1_two_steps\n"
    assert await version_rows(db) == []

    await db.execute("DROP TABLE first_step")
    assert (await cli.run(*args, "migrate")).exit_code == 1
    await db.execute("CREATE TABLE later_table (id INTEGER)")
    resumed = await cli.run(*args, "migrate", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert await db.fetch("SELECT id FROM later_table") == [(1,)]
    assert await version_rows(db) == ["1_two_steps"]


async def test_quiet_prints_nothing_but_errors(db: TestDatabase, cli: Cli, project: Path) -> None:
    result = await cli.run("-q", "-u", db.url, "migrate")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert await version_rows(db) == SIMPLE_IDS
    status = await cli.run("-u", db.url, "status", "-q", "--exit-code")
    assert (status.exit_code, status.stdout) == (0, "")
    failing = await cli.run("-u", db.url, "-q", "migrate", "--target", "nope")
    assert failing.exit_code == 1
    assert (failing.stdout, failing.stderr) == ("", "error: unknown migration id 'nope'\n")


async def test_table_option_names_the_version_tables(db: TestDatabase, cli: Cli, project: Path) -> None:
    result = await cli.run("-u", db.url, "--table", "schema_versions", "migrate", "--steps", "1")
    assert result.exit_code == 0, result.output
    assert {"schema_versions", "schema_versions_log"} <= await db.tables()
    assert "uno_migrations" not in await db.tables()
    assert await version_rows(db, "schema_versions") == ["1000_create_users"]
    status = json.loads(
        (await cli.run("-u", db.url, "status", "--json", "--table", "schema_versions")).stdout
    )
    assert [m["status"] for m in status["migrations"]] == ["applied", "pending", "pending"]
    invalid = await cli.run("-u", db.url, "--table", "bad name", "status")
    assert invalid.exit_code == 1 and "invalid table name 'bad name'" in invalid.stderr


async def test_many_migrations_print_one_line_each_off_a_terminal(
    cli: Cli, make_migrations: Callable[..., Path], tmp_path: Path
) -> None:
    files = {
        f"{n:03d}_step.sql": f"CREATE TABLE t{n} (id INTEGER);\n-- DOWN\nDROP TABLE t{n};\n"
        for n in range(25)
    }
    directory = make_migrations(files)
    url = f"sqlite:///{tmp_path / 'many.db'}"
    result = await cli.run("-u", url, "-d", str(directory), "migrate")
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if line.startswith("Applying ")]) == 25
    assert "Applied 25 migrations" in result.stdout


@only("postgresql")
async def test_schema_option_puts_the_version_tables_in_a_postgresql_schema(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    result = await cli.run("migrate", "-u", db.url, "--schema", "audit")
    assert result.exit_code == 0, result.output
    rows = await db.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit' ORDER BY 1"
    )
    assert rows == [("uno_migrations",), ("uno_migrations_layout",), ("uno_migrations_log",)]
    assert "uno_migrations" not in await db.tables()
    status = json.loads((await cli.run("status", "--json", "-u", db.url, "--schema", "audit")).stdout)
    assert {m["status"] for m in status["migrations"]} == {"applied"}
    elsewhere = json.loads((await cli.run("status", "--json", "-u", db.url)).stdout)
    assert {m["status"] for m in elsewhere["migrations"]} == {"pending"}


@only("postgresql")
async def test_lock_timeout_option_bounds_the_wait_for_another_run(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    from uno_migrations import Migrator

    directory = make_migrations(
        {"1_slow.py": "import asyncio\n\n\nasync def up(context):\n    await asyncio.sleep(1.5)\n"}
    )
    holder = asyncio.create_task(Migrator(db.url, [directory]).migrate())
    query = (
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    for _ in range(100):
        if await db.scalar(query):
            break
        await asyncio.sleep(0.02)
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--lock-timeout", "0.2")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not take the migration lock within 0.2 s")
    assert (await holder).ids == ["1_slow"]
    assert await version_rows(db) == ["1_slow"]

    invalid = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--lock-timeout", "soon")
    assert invalid.exit_code == 2
    negative = await cli.run("-u", db.url, "-d", str(directory), "migrate", "--lock-timeout", "-1")
    assert negative.exit_code == 2
    assert "Invalid value for '--lock-timeout': must be a finite number of seconds >= 0" in negative.stderr


@only("sqlite")
async def test_commands_run_with_what_was_alive_frozen_and_leave_the_collector_as_it_was(
    db: TestDatabase, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    """The objects alive before a run (SQLAlchemy's modules) are frozen for the garbage collector
    during it, so its full collections skip them; afterwards the process is as it was."""
    make_migrations(
        {
            "1_frozen.py": """
                import gc


                async def up(context):
                    await context.execute_sql("CREATE TABLE frozen (n INTEGER)")
                    await context.execute_sql("INSERT INTO frozen (n) VALUES ($1)", [gc.get_freeze_count()])
            """
        },
        name="migrations",
    )
    assert gc.get_freeze_count() == 0
    result = await cli.run("-u", db.url, "migrate")
    assert result.exit_code == 0, result.output
    assert (await db.scalar("SELECT n FROM frozen")) > 10_000
    assert gc.get_freeze_count() == 0

    # A process that froze objects itself keeps those frozen (less any freed meanwhile), and
    # nothing more.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert (await cli.run("-u", db.url, "status")).exit_code == 0
        assert frozen - 1_000 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()

"""``migrate --phase pre|post`` and the deploy phase in ``status``, ``info`` and their ``--json``, on
every engine: the pre-deploy run says where it stopped and what to run next; a project without
post-deploy migrations prints its tables as before."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, version_rows

MakeDir = Callable[..., Path]

PHASED = {
    "1000_create_people.sql": """
        CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50));
        -- DOWN
        DROP TABLE people;
    """,
    "1001_add_full_name.sql": """
        -- Lock-timeout: 500ms
        ALTER TABLE people ADD COLUMN full_name VARCHAR(50);
        UPDATE people SET full_name = name;
        -- DOWN
        ALTER TABLE people DROP COLUMN full_name;
    """,
    "1002_drop_name.py": """
        phase = "post-deploy"
        lock_timeout = 2


        async def up(context):
            await context.execute_sql("ALTER TABLE people DROP COLUMN name")
    """,
    "1003_create_audit.sql": """
        CREATE TABLE audit (id INTEGER PRIMARY KEY);
        -- DOWN
        DROP TABLE audit;
    """,
}
IDS = ["1000_create_people", "1001_add_full_name", "1002_drop_name", "1003_create_audit"]
STOPPED = "Stopped before 1002_drop_name (post-deploy): run 'migrate --phase post' after the deploy\n"
MS = re.compile(r"\d+ ms")


@pytest.fixture
def phased(make_migrations: MakeDir) -> Path:
    return make_migrations(PHASED, name="migrations")


def _lines(text: str) -> list[str]:
    return [MS.sub("N ms", line) for line in text.splitlines()]


def _rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line) for line in text.splitlines()]


async def _json(cli: Cli, *args: str) -> dict[str, Any]:
    result = await cli.run(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


async def test_pre_then_post_applies_each_migration_once_in_order(
    db: TestDatabase, cli: Cli, phased: Path
) -> None:
    pre = await cli.run("-u", db.url, "migrate", "--phase", "pre")
    assert pre.exit_code == 0, pre.output
    assert _lines(pre.stdout) == [
        "Applying 1000_create_people ... N ms",
        "Applying 1001_add_full_name ... N ms",
        "Applied 2 migrations in N ms",
        STOPPED.rstrip(),
    ]
    assert await version_rows(db) == IDS[:2]

    again = await cli.run("-u", db.url, "migrate", "--phase", "pre")
    assert (again.exit_code, again.stdout) == (0, "Nothing to migrate\n" + STOPPED)

    post = await cli.run("-u", db.url, "migrate", "--phase", "post")
    assert post.exit_code == 0, post.output
    assert _lines(post.stdout) == [
        "Applying 1002_drop_name ... N ms",
        "Applying 1003_create_audit ... N ms",
        "Applied 2 migrations in N ms",
    ]
    assert await db.columns("people") == {"id", "full_name"}

    done = await cli.run("-u", db.url, "migrate", "--phase", "pre")
    assert (done.exit_code, done.stdout) == (0, "Nothing to migrate\n")
    assert await version_rows(db) == IDS


async def test_status_shows_the_phase_column_and_json_field(db: TestDatabase, cli: Cli, phased: Path) -> None:
    assert (await cli.run("-u", db.url, "migrate", "--phase", "pre", "--quiet")).stdout == ""
    result = await cli.run("-u", db.url, "status")
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows[2] == ["ID", "STATUS", "PHASE", "APPLIED AT", "NAME"]
    assert [(r[0], r[1], r[2]) for r in rows[3:7]] == [
        ("1000_create_people", "applied", "pre-deploy"),
        ("1001_add_full_name", "applied", "pre-deploy"),
        ("1002_drop_name", "pending", "post-deploy"),
        ("1003_create_audit", "pending", "pre-deploy"),
    ]
    document = await _json(cli, "-u", db.url, "status")
    assert [(m["id"], m["phase"]) for m in document["migrations"]] == [
        (mid, "post-deploy" if mid == "1002_drop_name" else "pre-deploy") for mid in IDS
    ]


async def test_without_post_deploy_migrations_status_is_as_before(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    make_migrations(SIMPLE_MIGRATIONS, name="migrations")
    result = await cli.run("-u", db.url, "status")
    assert result.stdout.splitlines()[2].split() == ["ID", "STATUS", "APPLIED", "AT", "NAME"]
    assert "pre-deploy" not in result.stdout
    document = await _json(cli, "-u", db.url, "status")
    assert [m["phase"] for m in document["migrations"]] == ["pre-deploy"] * len(SIMPLE_IDS)
    info = await cli.run("info")
    assert info.stdout.splitlines()[0].split() == ["ID", "KIND", "DEPENDS", "ON", "NAME"]
    detail = await cli.run("info", "1000")
    assert "phase:" not in detail.stdout and "lock timeout:" not in detail.stdout


async def test_migrate_json_dry_run_and_sql_say_where_the_run_stopped(
    db: TestDatabase, cli: Cli, phased: Path
) -> None:
    plan = await _json(cli, "-u", db.url, "migrate", "--phase", "pre", "--dry-run")
    assert [run["id"] for run in plan["runs"]] == IDS[:2] and plan["stopped_before"] == "1002_drop_name"

    dry = await cli.run("-u", db.url, "migrate", "--phase", "pre", "--dry-run")
    assert dry.stdout.startswith("Would apply 2 migrations:\n") and dry.stdout.endswith(
        "Dry run: nothing was changed.\n" + STOPPED
    )

    script = await cli.run("-u", db.url, "migrate", "--phase", "pre", "--sql")
    assert script.exit_code == 0, script.output
    assert "ADD COLUMN full_name" in script.stdout and "DROP COLUMN name" not in script.stdout
    assert "Stopped" not in script.stdout and script.stderr == STOPPED  # the script stays clean
    assert await db.tables() == set()

    applied = await _json(cli, "-u", db.url, "migrate", "--phase", "post")
    assert [run["id"] for run in applied["runs"]] == IDS and applied["stopped_before"] is None


def test_info_shows_the_phase_and_the_lock_timeout(cli: Cli, phased: Path) -> None:
    table = cli("info")
    assert _rows(table.stdout)[0] == ["ID", "KIND", "PHASE", "DEPENDS ON", "NAME"]
    assert _rows(table.stdout)[3] == ["1002_drop_name", "python", "post-deploy", "-", "drop name"]
    detail = cli("info", "1002")
    assert "  reversible:    no\n  phase:         post-deploy\n  lock timeout:  2 s\n" in detail.stdout
    timeout = cli("info", "1001")
    assert "  phase:" not in timeout.stdout and "  lock timeout:  0.5 s\n" in timeout.stdout
    document = json.loads(cli("info", "--json").stdout)
    assert [(m["phase"], m["lock_timeout"]) for m in document["migrations"]] == [
        ("pre-deploy", None),
        ("pre-deploy", 0.5),
        ("post-deploy", 2.0),
        ("pre-deploy", None),
    ]


def test_phase_takes_only_pre_or_post(cli: Cli, phased: Path) -> None:
    result = cli("migrate", "--phase", "post-deploy")
    assert result.exit_code == 2
    assert "'post-deploy' is not one of 'pre', 'post'" in result.stderr
    assert "--phase [pre|post]" in cli("migrate", "--help").stdout

"""What docs/getting-started.md promises in its prose, tried on every engine through the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase

MakeDir = Callable[..., Path]

TASKS = {
    "1717000000_create_tasks.sql": """
        -- Migration: Create tasks
        -- Description: The tasks table
        CREATE TABLE tasks (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL);
        -- DOWN
        DROP TABLE tasks;
    """,
    "1717000100_add_example_tasks.py": """
        dependencies = ["1717000000_create_tasks"]


        async def up(context):
            await context.execute_sql("INSERT INTO tasks (id, title) VALUES ($1, $2)", [1, "Write docs"])


        async def down(context):
            await context.execute_sql("DELETE FROM tasks")
    """,
    "1717000200_add_done.sql": """
        CREATE TABLE done_tasks (id INTEGER);
        -- DOWN
        DROP TABLE done_tasks;
    """,
}


async def test_options_come_before_or_after_the_command(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/getting-started.md, "Apply them from the command line": "Options may come before or
    after the command (`uno-migrations -u sqlite:///app.db status` works too)"."""
    directory = str(make_migrations(TASKS))
    before = await cli.run("-u", db.url, "-d", directory, "migrate", "--target", "1717000000")
    assert before.exit_code == 0, before.output
    after = await cli.run("status", "-u", db.url, "-d", directory)
    mixed = await cli.run("-u", db.url, "status", "-d", directory)
    assert after.exit_code == mixed.exit_code == 0, after.output + mixed.output
    assert after.stdout == mixed.stdout
    states = {
        line.split()[0]: line.split()[1] for line in after.stdout.splitlines() if line.startswith("1717")
    }
    assert states == {
        "1717000000_create_tasks": "applied",
        "1717000100_add_example_tasks": "pending",
        "1717000200_add_done": "pending",
    }


async def test_the_title_and_description_are_shown_and_recorded(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/getting-started.md, "A first SQL migration": the headers are "a title, which `status`
    shows beside the id, and a description, which `info` shows; the version table records
    both"."""
    directory = str(make_migrations(TASKS))
    assert (await cli.run("-u", db.url, "-d", directory, "migrate")).exit_code == 0
    status = await cli.run("-u", db.url, "-d", directory, "status")
    [line] = [x for x in status.stdout.splitlines() if x.startswith("1717000000_create_tasks")]
    assert line.split()[1] == "applied" and line.endswith("Create tasks"), line
    info = await cli.run("-u", db.url, "-d", directory, "info", "1717000000")
    assert info.exit_code == 0, info.output
    assert "  description:   The tasks table" in info.stdout.splitlines()
    assert await db.fetch(
        "SELECT name, description FROM uno_migrations WHERE id = '1717000000_create_tasks'"
    ) == [("Create tasks", "The tasks table")]


async def test_rollback_steps_and_all_go_newest_first(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/getting-started.md, "Roll back": "`rollback` reverts the most recently applied
    migration; `--steps N` reverts the last N and `--all` reverts everything, newest first"."""
    directory = str(make_migrations(TASKS))
    base = ["-u", db.url, "-d", directory]
    assert (await cli.run(*base, "migrate")).exit_code == 0
    assert (await cli.run(*base, "rollback")).exit_code == 0
    assert [row[0] for row in await db.fetch("SELECT id FROM uno_migrations ORDER BY id")] == [
        "1717000000_create_tasks",
        "1717000100_add_example_tasks",
    ]
    assert (await cli.run(*base, "migrate")).exit_code == 0
    assert (await cli.run(*base, "rollback", "--steps", "2")).exit_code == 0
    assert [row[0] for row in await db.fetch("SELECT id FROM uno_migrations")] == ["1717000000_create_tasks"]
    assert (await cli.run(*base, "migrate")).exit_code == 0
    assert (await cli.run(*base, "rollback", "--all")).exit_code == 0
    assert await db.fetch("SELECT id FROM uno_migrations") == []
    reverts = await db.fetch(
        "SELECT migration_id FROM uno_migrations_log WHERE action = 'revert' ORDER BY seq"
    )
    assert [row[0] for row in reverts][-3:] == [
        "1717000200_add_done",
        "1717000100_add_example_tasks",
        "1717000000_create_tasks",
    ]
    assert "tasks" not in await db.tables()

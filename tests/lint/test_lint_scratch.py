"""Python migrations linted from what they send on a scratch database, on every engine; and
:func:`lint_plan`, what ``migrate --lint`` calls: only what ``migrate`` would apply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase, fresh_database, only, server_url

from uno_migrations import Migrator
from uno_migrations.lint import lint_plan

MIGRATIONS = {
    "1000_create_accounts.sql": """
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(50));
        -- DOWN
        DROP TABLE accounts;
    """,
    "1001_rename_everyone.py": """
        async def up(context):
            await context.execute_sql("INSERT INTO accounts (id, name) VALUES (:id, 'ada')", {"id": 1})
            await context.execute_sql("UPDATE accounts SET name = upper(name)")
            # uno:allow delete-without-where because the table was filled just above
            await context.execute_sql("DELETE FROM accounts")


        async def down(context):
            pass
    """,
}


def _findings(result_stdout: str) -> list[tuple[str, str, int | None, bool]]:
    return [
        (Path(f["path"]).name, f["rule"], f["line"], f["suppressed"])
        for f in json.loads(result_stdout)["findings"]
    ]


async def test_a_python_migration_is_linted_from_what_it_sends(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(MIGRATIONS, name="migrations")
    result = await cli.run(
        "lint", "--json", "--scratch-url", server_url(engine_name) if engine_name != "sqlite" else "sqlite://"
    )
    assert result.exit_code == 0, result.output  # a warning and a suppressed error
    assert _findings(result.stdout) == [
        ("1001_rename_everyone.py", "update-without-where", 3, False),
        ("1001_rename_everyone.py", "delete-without-where", 5, True),
    ]
    document = json.loads(result.stdout)
    assert (document["engine"], document["files"], document["error"]) == (engine_name, 2, None)


def test_without_a_scratch_database_a_python_migration_is_a_note(
    cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(MIGRATIONS, name="migrations")
    result = cli("lint")
    assert result.exit_code == 0
    assert result.stdout == (
        "migrations/1001_rename_everyone.py: info [not-linted] not linted: what a Python migration sends "
        "is known only when it runs (--scratch-url)\n"
        "No errors in 2 migration files: 1 note\n"
    )


async def test_a_migration_that_fails_on_the_scratch_database_is_a_finding(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    files = {
        **MIGRATIONS,
        "1002_read_a_missing_table.py": """
            async def up(context):
                await context.execute_sql("SELECT * FROM no_such_table")
        """,
    }
    make_migrations(files, name="migrations")
    url = server_url(engine_name) if engine_name != "sqlite" else "sqlite://"
    result = await cli.run("lint", "--json", "--scratch-url", url)
    assert result.exit_code == 1
    assert _findings(result.stdout) == [
        ("1001_rename_everyone.py", "not-linted", None, False),
        ("1002_read_a_missing_table.py", "fails-on-scratch", None, False),
    ]
    only_one = await cli.run("lint", "--json", "--scratch-url", url, "migrations/1001_rename_everyone.py")
    assert [rule for _, rule, _, _ in _findings(only_one.stdout)] == [
        "update-without-where",
        "delete-without-where",
    ]


@only("postgresql")
async def test_concurrently_in_a_transactional_python_migration(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            **MIGRATIONS,
            "1002_index_names.py": """
                async def up(context):
                    await context.execute_sql("CREATE INDEX CONCURRENTLY accounts_name ON accounts (name)")
            """,
        },
        name="migrations",
    )
    result = await cli.run(
        "lint", "--json", "--scratch-url", server_url(engine_name), "migrations/1002_index_names.py"
    )
    assert _findings(result.stdout) == [
        ("1002_index_names.py", "fails-on-scratch", None, False),
        ("1002_index_names.py", "concurrently-in-transaction", None, False),
    ]


async def test_lint_plan_lints_what_migrate_would_apply(
    db: TestDatabase, make_migrations: Callable[..., Path], tmp_path: Path
) -> None:
    directory = make_migrations(
        {
            **MIGRATIONS,
            "1002_drop_accounts.sql": "DROP TABLE accounts;\n-- DOWN\n",
        }
    )
    migrator = Migrator(db.url, directory)
    await migrator.migrate(target="1000_create_accounts")
    report = await lint_plan(migrator)
    assert [(Path(f.path).name, f.rule) for f in report.findings] == [
        ("1001_rename_everyone.py", "not-linted"),
        ("1002_drop_accounts.sql", "drop-table-or-column"),
    ]
    assert report.errors == []
    async with fresh_database(db.dialect, tmp_path) as scratch:
        report = await lint_plan(migrator, scratch=scratch.url, target="1001_rename_everyone")
    assert [(f.rule, f.suppressed) for f in report.findings] == [
        ("update-without-where", False),
        ("delete-without-where", True),
    ]
    assert await db.tables() >= {"accounts"} and await db.fetch("SELECT * FROM accounts") == []

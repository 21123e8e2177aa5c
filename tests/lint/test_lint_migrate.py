"""``migrate --lint`` (docs/safety.md): on every engine, a plan holding a migration with an
error-level finding applies nothing, naming the finding; accepted with an allow comment, or
without findings, it applies as ``migrate`` does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase, version_rows

MakeDir = Callable[..., Path]
FILES = {
    "1000_items.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE items;\n",
    "1001_purge.sql": "DELETE FROM items;\n-- DOWN\n",
}


async def test_migrate_lint_applies_nothing_when_a_migration_has_an_error(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    directory = str(make_migrations(FILES))
    assert (await cli.run("-u", db.url, "-d", directory, "migrate", "--target", "1000")).exit_code == 0
    refused = await cli.run("-u", db.url, "-d", directory, "migrate", "--lint")
    assert refused.exit_code == 1
    assert "delete-without-where" in refused.stderr and "1001_purge.sql" in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: migrate --lint applies nothing: 1 error-level finding; "
        "fix them, or accept each with '-- uno:allow RULE because REASON'"
    )
    assert refused.stdout == ""
    assert await version_rows(db) == ["1000_items"]


async def test_migrate_lint_applies_a_plan_whose_findings_are_accepted(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    accepted = {
        **FILES,
        "1001_purge.sql": "-- uno:allow delete-without-where because the table is new\nDELETE FROM items;\n",
    }
    directory = str(make_migrations(accepted))
    result = await cli.run("-u", db.url, "-d", directory, "migrate", "--lint")
    assert result.exit_code == 0, result.output
    assert await version_rows(db) == ["1000_items", "1001_purge"]

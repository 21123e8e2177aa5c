"""`rollback --fake` on a failed attempt (docs/cli.md, "rollback"; docs/safety.md, "After a
failure on MySQL"): "`--fake` removes the records without running the down steps". A failed
attempt is the newest record, so `rollback --fake` removes it, as `repair ID` does, runs nothing,
and the next `migrate` runs the migration from the start.

A migration outside a transaction leaves a failed attempt on every engine (docs/safety.md, "A
killed run": "A migration outside a transaction, on any engine: its `failed` row stays").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase

MakeDir = Callable[..., Path]

FILES = {
    "1_a.sql": """
        CREATE TABLE a (id INTEGER PRIMARY KEY);
        -- DOWN
        DROP TABLE a;
    """,
    "2_b.sql": """
        -- Transactional: false
        CREATE TABLE b (id INTEGER PRIMARY KEY);
        INSERT INTO nowhere VALUES (1);
        -- DOWN
        DROP TABLE b;
    """,
}


async def _failed(db: TestDatabase, cli: Cli, make_migrations: MakeDir) -> list[str]:
    args = ["-u", db.url, "-d", str(make_migrations(FILES))]
    failed = await cli.run(*args, "migrate")
    assert failed.exit_code == 1, failed.output
    assert await db.fetch("SELECT id, status FROM uno_migrations ORDER BY id") == [
        ("1_a", "applied"),
        ("2_b", "failed"),
    ]
    return args


async def test_rollback_fake_forgets_the_failed_attempt(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    args = await _failed(db, cli, make_migrations)
    result = await cli.run(*args, "rollback", "--fake")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("Unmarking 2_b ... "), result.output
    assert await db.fetch("SELECT id, status FROM uno_migrations") == [("1_a", "applied")]  # 1_a stays
    assert {"a", "b"} <= await db.tables()  # nothing ran: what the attempt did is still there
    log = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert log[-1] == ("2_b", "unmark"), log
    await db.execute("DROP TABLE b")  # undone by hand, as before `repair`
    (Path(args[3]) / "2_b.sql").write_text(FILES["2_b.sql"].replace("nowhere", "b"), encoding="utf-8")
    again = await cli.run(*args, "migrate")
    assert again.exit_code == 0, again.output
    assert "Applying 2_b" in again.stdout and "1_a" not in again.stdout


async def test_rollback_fake_all_forgets_the_failed_attempt_and_unmarks_the_rest(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    args = await _failed(db, cli, make_migrations)
    result = await cli.run(*args, "rollback", "--fake", "--all")
    assert result.exit_code == 0, result.output
    assert [line.split(" ...")[0] for line in result.stdout.splitlines()[:2]] == [
        "Unmarking 2_b",
        "Unmarking 1_a",
    ]
    assert await db.fetch("SELECT id FROM uno_migrations") == []
    assert {"a", "b"} <= await db.tables()


async def test_plain_rollback_still_leaves_the_failed_attempt_alone(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    """docs/safety.md: "`uno-migrations rollback` reverts earlier, applied migrations ...; the
    failed one is not applied, so it is not reverted"."""
    args = await _failed(db, cli, make_migrations)
    result = await cli.run(*args, "rollback")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Reverting 1_a ... "), result.output
    assert await db.fetch("SELECT id, status FROM uno_migrations") == [("2_b", "failed")]
    assert "a" not in await db.tables() and "b" in await db.tables()

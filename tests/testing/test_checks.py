"""The built-in checks (docs/testing.md) on every engine: a correct project passes every one; a
down step that leaves a column, an index or a type change behind fails the roundtrip, naming the
migration and the difference; a file that does not load fails the graph check; and
``uno-migrations test`` runs them on scratch databases it makes and drops."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase, server_url
from sqlalchemy.engine import make_url

from uno_migrations.testing.checks import check_migrations

MakeDir = Callable[..., Path]

GOOD = {
    "1000_users.sql": """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
        -- DOWN
        DROP TABLE users;
    """,
    "1001_email.sql": """
        ALTER TABLE users ADD COLUMN email VARCHAR(80);
        CREATE INDEX ix_users_email ON users (email);
        -- DOWN
        DROP INDEX ix_users_email{on_users};
        ALTER TABLE users DROP COLUMN email;
    """,
    "1002_notes.py": """
        async def up(context):
            await context.execute_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(20))")


        async def down(context):
            await context.execute_sql("DROP TABLE notes")
    """,
}


def _project(make_migrations: MakeDir, dialect: str, **replace: str) -> Path:
    on_users = " ON users" if dialect == "mysql" else ""
    files = {name: text.replace("{on_users}", on_users) for name, text in GOOD.items()}
    files.update(replace)
    return make_migrations(files)


async def test_a_correct_project_passes_every_check(db: TestDatabase, make_migrations: MakeDir) -> None:
    seen: list[tuple[str, str | None, str]] = []
    report = await check_migrations(
        db.url, _project(make_migrations, db.dialect), progress=lambda *step: seen.append(step)
    )
    assert report.ok, [finding.lines for finding in report.findings]
    assert report.migrations == ["1000_users", "1001_email", "1002_notes"]
    assert [step for step in seen if step[0] == "roundtrip"] == [
        ("roundtrip", "1000_users", "ok"),
        ("roundtrip", "1001_email", "ok"),
        ("roundtrip", "1002_notes", "ok"),
    ]
    assert [step[0] for step in seen if step[1] is None] == ["graph", "checksums", "rollback"]
    assert {"users", "notes"} <= await db.tables()  # left migrated to the last migration


async def test_a_down_step_that_leaves_an_index_and_a_column_fails_naming_them(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    leaky = """
        ALTER TABLE users ADD COLUMN email VARCHAR(80);
        CREATE INDEX ix_users_email ON users (email);
        -- DOWN
        SELECT 1;
    """
    report = await check_migrations(
        db.url, _project(make_migrations, db.dialect, **{"1001_email.sql": leaky})
    )
    assert not report.ok
    finding = report.findings[0]
    assert (finding.check, finding.migration_id) == ("roundtrip", "1001_email")
    assert finding.message == "its down step does not undo its up step"
    assert any(line.startswith("table users: column email:") for line in finding.differences), finding
    assert any(line.startswith("table users: index ix_users_email:") for line in finding.differences), finding


async def test_a_down_step_that_leaves_a_type_change_fails(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    alter = {
        "postgresql": "ALTER TABLE notes ALTER COLUMN body TYPE VARCHAR(40)",
        "mysql": "ALTER TABLE notes MODIFY body VARCHAR(40)",
        "sqlite": "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, body VARCHAR(40));"
        " INSERT INTO notes_new SELECT * FROM notes; DROP TABLE notes;"
        " ALTER TABLE notes_new RENAME TO notes",
    }[db.dialect]
    widen = f"""
        async def up(context):
            await context.execute_sql("{alter}")


        async def down(context):
            pass
    """
    project = _project(make_migrations, db.dialect, **{"1003_widen.py": widen})
    report = await check_migrations(db.url, project)
    assert [(f.check, f.migration_id) for f in report.findings] == [("roundtrip", "1003_widen")]
    assert any(line.startswith("table notes: column body: type ") for line in report.findings[0].differences)


async def test_a_file_that_does_not_load_fails_the_graph_check(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    broken = {"1003_broken.py": "async def up(context)\n    pass\n"}
    report = await check_migrations(db.url, _project(make_migrations, db.dialect, **broken))
    assert [(f.check, f.migration_id) for f in report.findings] == [("graph", "1003_broken")]
    assert report.findings[0].message.startswith("does not load: ")
    assert await db.tables() == set(), "nothing runs when a file does not load"


async def test_the_test_command_makes_and_drops_its_scratch_databases(
    db: TestDatabase, engine_name: str, make_migrations: MakeDir, tmp_path: Path
) -> None:
    project = _project(make_migrations, engine_name)
    cli = Cli(tmp_path)
    url = [] if engine_name == "sqlite" else ["--url", server_url(engine_name)]
    result = await cli.run("-d", str(project), "test", *url)
    assert result.exit_code == 0, result.output
    assert "  roundtrip 1001_email ... ok" in result.stdout
    assert result.stdout.splitlines()[-1] == "All checks passed: 3 migrations on 1 database"
    leaky = project / "1001_email.sql"
    leaky.write_text(
        leaky.read_text(encoding="utf-8").split("-- DOWN")[0] + "-- DOWN\nSELECT 1;\n", encoding="utf-8"
    )
    failed = await cli.run("-d", str(project), "test", "--json", *url)
    assert failed.exit_code == 1
    document = json.loads(failed.stdout)
    (database,) = document["databases"]
    assert database["engine"] == engine_name
    assert [f["migration"] for f in database["findings"]] == ["1001_email"]
    assert failed.stderr.strip().splitlines() == ["error: the checks found 1 problem"]


async def test_a_migration_without_a_down_step_is_skipped_not_failed(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """Its roundtrip is skipped, and so is reverting everything (it cannot be reverted)."""
    one_way = {
        "1003_one_way.py": 'async def up(context):\n    await context.execute_sql("DROP TABLE notes")\n'
    }
    seen: list[tuple[str, str | None, str]] = []
    report = await check_migrations(
        db.url, _project(make_migrations, db.dialect, **one_way), progress=lambda *step: seen.append(step)
    )
    assert report.ok and report.skipped == ["1003_one_way"]
    assert ("roundtrip", "1003_one_way", "skipped") in seen and ("rollback", None, "skipped") in seen
    assert "notes" not in await db.tables()


MODELS = """
from sqlalchemy import Column, Index, Integer, MetaData, String, Table

metadata = MetaData()
Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("email", String(80)),
    Index("ix_users_email", "email"),
    {extra}
)
Table("notes", metadata, Column("id", Integer, primary_key=True), Column("body", String(20)))
"""


async def test_the_models_check_compares_the_migrated_schema_with_the_metadata(
    engine_name: str, make_migrations: MakeDir, cli: Cli, tmp_path: Path
) -> None:
    """``test --metadata`` (or the config file's ``metadata``): the models check, by Alembic's
    comparison, after the others; a model the migrations do not make fails it, one line each."""
    not_null = {
        "1000_users.sql": GOOD["1000_users.sql"].replace(
            "INTEGER PRIMARY KEY", "INTEGER NOT NULL PRIMARY KEY"
        )
    }
    project = _project(make_migrations, engine_name, **not_null)
    (project / "1002_notes.py").write_text(
        (project / "1002_notes.py").read_text().replace("INTEGER PRIMARY KEY", "INTEGER NOT NULL PRIMARY KEY")
    )
    module = f"models_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(MODELS.replace("{extra}", ""), encoding="utf-8")
    (tmp_path / f"{module}_more.py").write_text(
        MODELS.replace("{extra}", 'Column("phone", String(20)),'), encoding="utf-8"
    )
    url = [] if engine_name == "sqlite" else ["--url", server_url(engine_name)]
    matching = await cli.run("-d", str(project), "test", "--metadata", f"{module}:metadata", *url)
    assert matching.exit_code == 0, matching.output
    assert "  models all ... ok" in matching.stdout
    differing = await cli.run(
        "-d", str(project), "test", "--json", "--metadata", f"{module}_more:metadata", *url
    )
    assert differing.exit_code == 1, differing.output
    (database,) = json.loads(differing.stdout)["databases"]
    assert database["migrations"] == 3 and database["skipped"] == []
    assert database["findings"] == [
        {
            "check": "models",
            "migration": None,
            "message": "the migrated schema differs from the models",
            "differences": ["add column 'users.phone'"],
        }
    ]


def test_a_models_reference_that_does_not_import_is_a_one_line_error(
    make_migrations: MakeDir, cli: Cli
) -> None:
    project = _project(make_migrations, "sqlite")
    result = cli("-d", str(project), "test", "--metadata", "no_such_module_here:metadata")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: cannot import no_such_module_here for --metadata: ModuleNotFoundError: No module named 'no_such_module_here'"
    ]


async def test_a_configured_schema_is_not_where_the_scratch_databases_keep_uno_s_tables(
    mysql_db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """On MySQL a schema is another database of the server, perhaps the live one: the checks keep
    uno's tables in their scratch database, and write nothing in the database ``--schema`` names."""
    project = _project(make_migrations, "mysql")
    name = make_url(mysql_db.url).database
    result = await Cli(tmp_path).run(
        "-d", str(project), "--schema", str(name), "test", "--url", server_url("mysql")
    )
    assert result.exit_code == 0, result.output
    assert await mysql_db.tables() == set()

"""The pytest plugin (docs/testing.md), as a user's project meets it: pytest run in a project of
its own, on each engine. A test taking ``uno_database`` runs once per server, named after the
engine, on a database of its own at the last migration (or at ``uno_at``'s); on PostgreSQL and
SQLite the migrations run once per state, not once per test; ``--uno-tests`` adds the built-in
checks, which fail naming the migration and the difference; and nothing is left on the server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import server_url
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from uno_migrations.cli.config import ENV_CONFIG

MIGRATIONS = {
    "1000_users.sql": """
        CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
        -- DOWN
        DROP TABLE users;
    """,
    "1001_email.py": """
        import os


        async def up(context):
            with open(os.environ["UNO_PLUGIN_RUNS"], "a") as runs:
                runs.write("1001\\n")
            await context.execute_sql("ALTER TABLE users ADD COLUMN email VARCHAR(80)")


        async def down(context):
            await context.execute_sql("ALTER TABLE users DROP COLUMN email")
    """,
    "1002_lower_emails.sql": """
        UPDATE users SET email = LOWER(email);
        -- DOWN
    """,
}

TESTS = """
import pytest


async def test_the_last_migration_is_applied(uno_database):
    assert await uno_database.scalar("SELECT COUNT(*) FROM uno_migrations") == 3
    await uno_database.insert("users", [{"id": 1, "name": "Ann", "email": "a@x.org"}])


async def test_each_test_has_a_database_of_its_own(uno_database):
    assert await uno_database.scalar("SELECT COUNT(*) FROM users") == 0


def test_a_sync_test_uses_the_sync_methods(uno_database):
    uno_database.sync.execute("INSERT INTO users (id, name) VALUES (:id, :name)", {"id": 2, "name": "Bo"})
    assert uno_database.sync.fetch("SELECT name FROM users") == [{"name": "Bo"}]


@pytest.mark.uno_at("1001")
async def test_a_data_migration(uno_database):
    await uno_database.insert("users", [{"id": 1, "name": "Ann", "email": "ANN@X.ORG"}])
    await uno_database.migrate("1002")
    assert await uno_database.fetch("SELECT email FROM users") == [{"email": "ann@x.org"}]


@pytest.mark.uno_at(None)
async def test_an_empty_database(uno_migrator):
    assert (await uno_migrator.migrate()).ids == ["1000_users", "1001_email", "1002_lower_emails"]
"""


def _project(
    root: Path, migrations: dict[str, str] | None = None, config: str = "", tests: str = TESTS
) -> Path:
    (root / "migrations").mkdir(parents=True)
    for name, body in (migrations or MIGRATIONS).items():
        (root / "migrations" / name).write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_project.py").write_text(tests, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.uno_migrations]\ndirectories = ["migrations"]\n'
        + config
        + '\n[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
        encoding="utf-8",
    )
    return root


def _pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in (*ENV_CONFIG, "UNO_TEST_URLS")}
    environment["UNO_PLUGIN_RUNS"] = str(project / "runs.txt")
    environment["COLUMNS"] = "300"  # summary lines whole
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-v", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _url_args(engine: str) -> list[str]:
    return [] if engine == "sqlite" else ["--uno-url", server_url(engine)]


async def _scratch_databases(engine: str) -> set[str]:
    if engine == "sqlite":
        return set()
    query = {
        "postgresql": "SELECT datname FROM pg_database WHERE datname LIKE 'uno_scratch%'",
        "mysql": "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'uno_scratch%'",
    }[engine]
    engine_ = create_async_engine(server_url(engine), poolclass=NullPool)
    try:
        async with engine_.connect() as connection:
            return {row[0] for row in await connection.execute(text(query))}
    finally:
        await engine_.dispose()


async def test_each_test_gets_a_database_of_its_own_at_the_last_migration(
    engine_name: str, tmp_path: Path
) -> None:
    before = await _scratch_databases(engine_name)
    project = _project(tmp_path / "project")
    result = _pytest(project, *_url_args(engine_name))
    assert result.returncode == 0, result.stdout + result.stderr
    for test in (
        "the_last_migration_is_applied",
        "each_test_has_a_database_of_its_own",
        "a_sync_test_uses_the_sync_methods",
        "a_data_migration",
        "an_empty_database",
    ):
        assert f"PASSED tests/test_project.py::test_{test}[{engine_name}]" in result.stdout
    # The last migration's state is migrated once and copied, where the engine copies databases;
    # on MySQL each test's database is migrated for it; uno_at(None) migrates its own here.
    runs = (project / "runs.txt").read_text().split()
    copies = {"sqlite": 3, "postgresql": 3, "mysql": 5}[engine_name]
    assert len(runs) == copies, runs
    assert await _scratch_databases(engine_name) == before


async def test_the_servers_come_from_the_option_the_environment_or_the_ini_key(tmp_path: Path) -> None:
    project = _project(tmp_path / "project", tests="def test_engine(uno_database):\n    pass\n")
    two = _pytest(project, "--uno-url", "sqlite://", "--uno-url", "sqlite:///ignored.db")
    assert "PASSED tests/test_project.py::test_engine[sqlite1]" in two.stdout
    assert "PASSED tests/test_project.py::test_engine[sqlite2]" in two.stdout
    from_env = _pytest(project, env={"UNO_TEST_URLS": "sqlite://, sqlite://"})
    assert "test_engine[sqlite2]" in from_env.stdout, from_env.stdout
    (project / "pytest.ini").write_text("[pytest]\nuno_urls =\n    sqlite://\n    sqlite://\n    sqlite://\n")
    from_ini = _pytest(project)
    assert "test_engine[sqlite3]" in from_ini.stdout, from_ini.stdout
    (project / "pytest.ini").unlink()
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('uno_urls = ["sqlite://", "sqlite://"]\n')
    from_toml = _pytest(project)
    assert "test_engine[sqlite2]" in from_toml.stdout and "sqlite3" not in from_toml.stdout, from_toml.stdout


INERT = """
import sys


def test_plain():
    assert "uno_migrations.pytest_plugin" in sys.modules  # loaded, through the entry point
    loaded = [name for name in ("sqlalchemy", "uno_migrations.testing", "uno_migrations.cli") if name in sys.modules]
    assert loaded == []
"""


def test_the_plugin_is_inert_until_used(tmp_path: Path) -> None:
    """Loaded in every pytest run, it imports nothing but pytest and adds nothing until asked."""
    project = _project(tmp_path / "project", tests=INERT)
    result = _pytest(project, "-p", "no:pytest_alembic")  # which imports SQLAlchemy when installed
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout
    assert "uno_migrations::" not in result.stdout
    assert not (project / "runs.txt").exists()


CHECK_ITEMS = ("graph", "upgrade", "roundtrip", "checksums", "rollback")


async def test_the_built_in_checks_pass_on_a_correct_project(engine_name: str, tmp_path: Path) -> None:
    before = await _scratch_databases(engine_name)
    project = _project(tmp_path / "project", tests="")
    result = _pytest(project, "--uno-tests", *_url_args(engine_name))
    assert result.returncode == 0, result.stdout + result.stderr
    for check in CHECK_ITEMS:
        assert f"PASSED uno_migrations::{check}[{engine_name}]" in result.stdout
    assert "models" not in result.stdout  # no metadata configured: no models check
    assert await _scratch_databases(engine_name) == before


async def test_a_down_step_that_leaves_a_column_fails_the_roundtrip(engine_name: str, tmp_path: Path) -> None:
    leaky = {
        **MIGRATIONS,
        "1003_nick.sql": "ALTER TABLE users ADD COLUMN nick VARCHAR(20);\n-- DOWN\nSELECT 1;\n",
    }
    project = _project(tmp_path / "project", leaky, tests="")
    (project / "pytest.ini").write_text("[pytest]\nuno_tests = true\n")
    result = _pytest(project, *_url_args(engine_name))
    assert result.returncode == 1
    assert f"FAILED uno_migrations::roundtrip[{engine_name}]" in result.stdout
    assert "roundtrip: 1003_nick: its down step does not undo its up step" in result.stdout
    assert "table users: column nick: added" in result.stdout
    assert f"uno_migrations::rollback[{engine_name}] SKIPPED" in result.stdout
    assert "SKIPPED [2] pytest.ini:1: not reached: roundtrip: 1003_nick: its down step" in result.stdout
    assert f"PASSED uno_migrations::graph[{engine_name}]" in result.stdout


def test_a_file_that_does_not_load_fails_the_graph_check(tmp_path: Path) -> None:
    broken = {**MIGRATIONS, "1003_broken.py": "async def up(context)\n    pass\n"}
    project = _project(tmp_path / "project", broken, tests="")
    result = _pytest(project, "--uno-tests")
    assert result.returncode == 1
    assert "FAILED uno_migrations::graph[sqlite]" in result.stdout
    assert "graph: 1003_broken: does not load" in result.stdout
    assert "uno_migrations::roundtrip[sqlite] SKIPPED" in result.stdout
    assert "SKIPPED [4] pyproject.toml:1: not reached: graph: 1003_broken: does not load" in result.stdout


MODELS = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("email", String(80)),
    {extra}
)
"""


@pytest.mark.parametrize("extra", ["", 'Column("phone", String(20)),'], ids=["match", "mismatch"])
async def test_the_models_check_compares_the_migrated_schema_with_the_models(
    engine_name: str, tmp_path: Path, extra: str
) -> None:
    project = _project(tmp_path / "project", config='metadata = "models:metadata"\n', tests="")
    (project / "models.py").write_text(MODELS.replace("{extra}", extra), encoding="utf-8")
    result = _pytest(project, "--uno-tests", *_url_args(engine_name))
    if not extra:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"PASSED uno_migrations::models[{engine_name}]" in result.stdout
    else:
        assert result.returncode == 1
        assert f"FAILED uno_migrations::models[{engine_name}]" in result.stdout
        assert "models: the migrated schema differs from the models" in result.stdout
        assert "add column 'users.phone'" in result.stdout

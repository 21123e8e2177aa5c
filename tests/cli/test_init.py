"""``init [DIRECTORY] [--tox]``: a starter project that migrates and passes its own tests at once,
and never overwrites anything."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase, require_engine, server_url, version_rows

from uno_migrations.cli.config import ENV_CONFIG, tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
CREATED = re.compile(r"^Created (?P<path>.+)$", re.MULTILINE)


def created(output: str) -> list[str]:
    """The paths ``init`` says it created, in the order it says so."""
    return [match["path"] for match in CREATED.finditer(output)]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: what a refusal must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_two_migrations_the_settings_and_the_tests(cli: Cli, tmp_path: Path) -> None:
    before = int(time.time())
    result = cli("init")
    after = int(time.time())
    assert result.exit_code == 0, result.output
    sql, python, pyproject, tests = created(result.stdout)
    assert (pyproject, tests) == ("pyproject.toml", "tests/test_migrations.py")
    assert sorted(snapshot(tmp_path)) == sorted([sql, python, pyproject, tests])
    match = re.fullmatch(r"migrations/(\d+)_create_users\.sql", sql)
    assert match, sql
    version = int(match[1])
    assert before <= version <= after
    assert python == f"migrations/{version + 1}_add_display_names.py"

    sql_text, python_text = (tmp_path / sql).read_text(), (tmp_path / python).read_text()
    assert "CREATE TABLE users" in sql_text.split("-- DOWN")[0]
    assert "DROP TABLE users;" in sql_text.split("-- DOWN")[1]
    assert "async def up(context: MigrationContext)" in python_text
    assert "async def down(context: MigrationContext)" in python_text
    assert f'dependencies = ["{version}_create_users"]' in python_text

    settings = tomllib.loads((tmp_path / pyproject).read_text())["tool"]
    assert settings["uno_migrations"] == {"database_url": "sqlite:///app.db", "directories": ["migrations"]}
    assert settings["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    assert settings["pytest"]["ini_options"]["uno_tests"] is True
    assert settings["pytest"]["ini_options"]["testpaths"] == ["tests"]
    test_text = (tmp_path / tests).read_text()
    assert f'@pytest.mark.uno_at("{version}_create_users")' in test_text
    assert "(uno_database: TestDatabase)" in test_text
    assert "Next:\n  uno-migrations migrate" in result.stdout
    assert "tox" not in result.stdout


def test_init_tox_writes_an_environment_per_engine(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "--tox")
    assert result.exit_code == 0, result.output
    assert created(result.stdout)[-1] == "tox.ini"
    assert "tox -e sqlite" in result.stdout
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(tmp_path / "tox.ini")
    assert [name.strip() for name in tox["tox"]["env_list"].split(",")] == ["sqlite", "postgresql", "mysql"]
    assert tox["testenv"]["skip_install"] == "true"
    assert tox["testenv"]["deps"].split() == ["uno-migrations", "pytest", "pytest-asyncio"]
    assert tox["testenv"]["commands"] == "pytest {posargs}"
    assert tox["testenv:postgresql"]["commands"] == (
        "pytest --uno-url {env:POSTGRESQL_URL:postgresql://postgres@localhost/postgres} {posargs}"
    )
    assert tox["testenv:mysql"]["commands"] == (
        "pytest --uno-url {env:MYSQL_URL:mysql://root@localhost/mysql} {posargs}"
    )


def test_init_makes_the_directory_and_names_it(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "new/shop app")
    assert result.exit_code == 0, result.output
    assert all(path.startswith("new/shop app/") for path in created(result.stdout))
    assert len(snapshot(tmp_path / "new" / "shop app")) == 4
    assert "Next:\n  cd 'new/shop app'\n" in result.stdout


def test_migrate_then_status_work_right_after_init(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    migrated = cli("migrate")
    assert migrated.exit_code == 0, migrated.output
    assert migrated.stdout.count("Applying ") == 2
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert "Database: sqlite+aiosqlite:///app.db" in status.stdout
    assert "2 applied" in status.stdout
    assert (tmp_path / "app.db").is_file()


async def test_the_starter_migrations_apply_and_revert_on_every_engine(db: TestDatabase, cli: Cli) -> None:
    sql, python, *_ = created((await cli.run("init")).stdout)
    migrated = await cli.run("migrate", "-u", db.url)
    assert migrated.exit_code == 0, migrated.output
    assert await version_rows(db) == [Path(sql).stem, Path(python).stem]
    assert await db.columns("users") == {"id", "name", "display_name"}
    status = await cli.run("status", "-u", db.url, "--exit-code")
    assert status.exit_code == 0, status.output
    reverted = await cli.run("rollback", "--all", "-u", db.url)
    assert reverted.exit_code == 0, reverted.output
    assert reverted.stdout.index(Path(python).stem) < reverted.stdout.index(Path(sql).stem)
    assert {name for name in await db.tables() if not name.startswith("uno_migrations")} == set()


@pytest.mark.parametrize(
    ("present", "args", "named"),
    [
        ("tests/test_migrations.py", [], "tests/test_migrations.py"),
        ("tox.ini", ["--tox"], "tox.ini"),
        ("tests", [], "tests"),  # a file where the tests directory goes
    ],
)
def test_an_existing_file_is_refused_and_nothing_is_written(
    cli: Cli, tmp_path: Path, present: str, args: list[str], named: str
) -> None:
    (tmp_path / present).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / present).write_text("mine\n")
    before = snapshot(tmp_path)
    result = cli("init", *args)
    assert result.exit_code == 1
    assert result.stderr == f"error: {named} already exists; init never overwrites a file\n"
    assert result.stdout == ""
    assert snapshot(tmp_path) == before


def test_a_migrations_directory_with_files_is_refused(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1000_mine.sql").write_text("SELECT 1;\n")
    result = cli("init")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: migrations is not empty; init writes its examples into a new or empty migrations directory\n"
    )
    assert snapshot(tmp_path) == {"migrations/1000_mine.sql": b"SELECT 1;\n"}


def test_global_options_are_a_usage_error_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    result = cli("-u", "sqlite:///mine.db", "init", "--directory", "db/migrations")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: init does not take --database-url, --directory; change the settings in the pyproject.toml it writes\n"
    )
    assert snapshot(tmp_path) == {}


def test_an_existing_tox_ini_is_left_alone_without_tox(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n")
    assert cli("init").exit_code == 0
    assert (tmp_path / "tox.ini").read_text() == "[tox]\n"


def test_a_pyproject_with_settings_is_refused_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.uno_migrations]\ndatabase_url = "sqlite:///mine.db"\n')
    before = snapshot(tmp_path)
    result = cli("init", "--tox")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: pyproject.toml already has a [tool.uno_migrations] table; init never changes existing settings\n"
    )
    assert snapshot(tmp_path) == before


def test_a_pyproject_that_is_not_toml_is_refused(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    result = cli("init")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid TOML in pyproject.toml: ")
    assert snapshot(tmp_path) == {"pyproject.toml": b"[project\n"}


@pytest.mark.parametrize(
    "old",
    [
        b'[project]\nname = "shop"  # the shop\nversion = "1.0"\n',
        b'[project]\nname = "shop"\nversion = "1.0"',  # no newline at the end
        b'[project]\r\nname = "shop"\r\nversion = "1.0"\r\n',
    ],
    ids=["newline", "no-newline", "crlf"],
)
def test_an_existing_pyproject_gets_the_tables_appended(cli: Cli, tmp_path: Path, old: bytes) -> None:
    (tmp_path / "pyproject.toml").write_bytes(old)
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "Added [tool.uno_migrations] and [tool.pytest.ini_options] to pyproject.toml\n" in result.stdout
    assert "pyproject.toml" not in created(result.stdout)
    new = (tmp_path / "pyproject.toml").read_bytes()
    assert new.startswith(old)
    document = tomllib.loads(new.decode())
    assert document["project"] == {"name": "shop", "version": "1.0"}
    assert document["tool"]["uno_migrations"]["directories"] == ["migrations"]
    assert document["tool"]["pytest"]["ini_options"]["uno_tests"] is True
    assert cli("migrate").exit_code == 0


def test_an_existing_pytest_table_is_kept_and_what_it_lacks_is_named(cli: Cli, tmp_path: Path) -> None:
    old = b'[tool.pytest.ini_options]\naddopts = "-ra"\n'
    (tmp_path / "pyproject.toml").write_bytes(old)
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "Added [tool.uno_migrations] to pyproject.toml\n" in result.stdout
    assert result.stderr == (
        "warning: pyproject.toml has its own [tool.pytest.ini_options]: add asyncio_mode = "
        '"auto", uno_tests = true to it for the tests\n'
    )
    new = (tmp_path / "pyproject.toml").read_bytes()
    assert new.startswith(old)
    assert tomllib.loads(new.decode())["tool"]["pytest"]["ini_options"] == {"addopts": "-ra"}


# -- the generated project's own tests ------------------------------------------------------------


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -v`` in ``project``, with this environment's Python and no settings
    leaking in."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ENV_CONFIG and not k.startswith(("PYTEST", "UNO_TEST"))
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def server_args(engine: str) -> list[str]:
    return [] if engine == "sqlite" else ["--uno-url", server_url(engine)]


def test_the_generated_tests_pass_on_each_engine(cli: Cli, tmp_path: Path, engine_name: str) -> None:
    assert cli("init", "project").exit_code == 0
    done = run_pytest(tmp_path / "project", *server_args(engine_name))
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("graph", "upgrade", "roundtrip", "checksums", "rollback"):
        assert f"uno_migrations::{check}[{engine_name}] PASSED" in done.stdout
    assert f"test_display_names_are_made_from_names[{engine_name}] PASSED" in done.stdout
    assert "6 passed" in done.stdout


def test_the_generated_tests_fail_on_a_broken_down_step(cli: Cli, tmp_path: Path, engine_name: str) -> None:
    assert cli("init", "project").exit_code == 0
    (sql,) = (tmp_path / "project" / "migrations").glob("*_create_users.sql")
    sql.write_text(sql.read_text().replace("DROP TABLE users;", "SELECT 1;"))
    done = run_pytest(tmp_path / "project", *server_args(engine_name))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAILED uno_migrations::roundtrip[{engine_name}]" in done.stdout
    assert f"roundtrip: {sql.stem}: its down step does not undo its up step" in done.stdout
    assert "table users: added" in done.stdout


@pytest.mark.slow
def test_tox_passes_on_every_engine_right_after_init(cli: Cli, tmp_path: Path) -> None:
    """``init --tox`` then one ``tox`` run of the three environments, installing this checkout
    (built into a wheel from a copy, so the checkout gets no build directory)."""
    require_engine("postgresql")
    require_engine("mysql")
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("uno_migrations", "alembic_compat"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(wheels)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert cli("init", "project", "--tox").exit_code == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TOX", "PYTEST", "UNO_"))}
    environment.update(
        PIP_FIND_LINKS=f"{wheels} {os.environ.get('PIP_FIND_LINKS', '')}".strip(),
        POSTGRESQL_URL=server_url("postgresql"),
        MYSQL_URL=server_url("mysql"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "tox", "-e", "sqlite,postgresql,mysql"],
        cwd=tmp_path / "project",
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for engine in ("sqlite", "postgresql", "mysql"):
        assert re.search(rf"^  {engine}: OK", done.stdout, re.MULTILINE), done.stdout
    assert done.stdout.count("6 passed") == 3

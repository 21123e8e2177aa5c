"""Settings: command line > environment > config file > defaults; ${VAR} expansion; bad files."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from helpers import Cli

from uno_migrations import ConfigurationError
from uno_migrations.cli.config import Settings, load_settings

FULL_FILE = """
[tool.uno_migrations]
database_url = "sqlite:///from-file.db"
directories = ["db/migrations", "db/more"]
table = "file_versions"
schema = "file_schema"
lock_timeout = 5
"""


def sqlite_tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(tmp_path: Path) -> None:
    settings = load_settings({}, environ={}, cwd=tmp_path)
    assert settings == Settings()
    assert settings.directories == ("migrations",)
    assert (settings.table, settings.schema, settings.lock_timeout) == ("uno_migrations", None, 60.0)
    with pytest.raises(
        ConfigurationError, match=r"^no database URL: pass --database-url or set UNO_MIGRATIONS"
    ):
        settings.require_url()


def test_nearest_pyproject_is_found_walking_up_and_directories_are_relative_to_it(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL_FILE)
    below = tmp_path / "src" / "app"
    below.mkdir(parents=True)
    settings = load_settings({}, environ={}, cwd=below)
    assert settings.config_file == str(tmp_path / "pyproject.toml")
    assert settings.database_url == f"sqlite:///{tmp_path / 'from-file.db'}"  # beside the file, too
    assert settings.directories == (str(tmp_path / "db/migrations"), str(tmp_path / "db/more"))
    assert (settings.table, settings.schema, settings.lock_timeout) == ("file_versions", "file_schema", 5.0)


def test_a_nearer_pyproject_without_the_table_stops_the_search(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL_FILE)
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'sub'\n")
    settings = load_settings({}, environ={}, cwd=tmp_path / "sub")
    assert settings.database_url is None
    assert settings.directories == ("migrations",)


@pytest.mark.parametrize(
    "text",
    [
        'database_url = "sqlite:///x.db"\ndirectories = "sql"\n',
        '[tool.uno_migrations]\ndatabase_url = "sqlite:///x.db"\ndirectories = "sql"\n',
    ],
    ids=["top-level keys", "tool table"],
)
def test_config_option_reads_any_toml_file(tmp_path: Path, text: str) -> None:
    write(tmp_path / "conf" / "migrations.toml", text)
    settings = load_settings({"config": "conf/migrations.toml"}, environ={}, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{os.path.join('conf', 'x.db')}"
    assert settings.directories == (os.path.join("conf", "sql"),)  # a string is one directory
    assert settings.config_file == os.path.join("conf", "migrations.toml")


def test_config_option_wins_over_the_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL_FILE)
    write(tmp_path / "other.toml", 'table = "other_versions"\n')
    settings = load_settings({"config": str(tmp_path / "other.toml")}, environ={}, cwd=tmp_path)
    assert settings.table == "other_versions"
    assert settings.database_url is None


def test_precedence_option_over_environment_over_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL_FILE)
    environ = {
        "UNO_MIGRATIONS_DATABASE_URL": "sqlite:///from-env.db",
        "DATABASE_URL": "sqlite:///generic.db",
        "UNO_MIGRATIONS_DIRECTORY": os.pathsep.join(["env1", "env2"]),
        "UNO_MIGRATIONS_TABLE": "env_versions",
        "UNO_MIGRATIONS_SCHEMA": "env_schema",
        "UNO_MIGRATIONS_LOCK_TIMEOUT": "7.5",
    }
    from_env = load_settings({}, environ=environ, cwd=tmp_path)
    assert from_env.database_url == "sqlite:///from-env.db"
    assert from_env.directories == ("env1", "env2")
    assert (from_env.table, from_env.schema, from_env.lock_timeout) == ("env_versions", "env_schema", 7.5)

    options = {
        "database_url": "sqlite:///from-option.db",
        "directories": ("opt",),
        "table": "opt_versions",
        "schema": "opt_schema",
        "lock_timeout": 1.0,
    }
    from_options = load_settings(options, environ=environ, cwd=tmp_path)
    assert from_options.database_url == "sqlite:///from-option.db"
    assert from_options.directories == ("opt",)
    assert (from_options.table, from_options.schema, from_options.lock_timeout) == (
        "opt_versions",
        "opt_schema",
        1.0,
    )

    generic = load_settings({}, environ={"DATABASE_URL": "sqlite:///generic.db"}, cwd=tmp_path)
    assert generic.database_url == "sqlite:///generic.db"
    assert generic.table == "file_versions"  # the file still fills what the environment leaves out


def test_url_variables_are_expanded_from_the_environment(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.uno_migrations]\ndatabase_url = "postgresql://app:${PW}@${HOST:-localhost}/app"\n',
    )
    settings = load_settings({}, environ={"PW": "pa55"}, cwd=tmp_path)
    assert settings.database_url == "postgresql://app:pa55@localhost/app"
    settings = load_settings({}, environ={"PW": "pa55", "HOST": "db.internal"}, cwd=tmp_path)
    assert settings.database_url == "postgresql://app:pa55@db.internal/app"
    with pytest.raises(ConfigurationError, match=r"environment variable PW is not set .*pyproject\.toml"):
        load_settings({}, environ={}, cwd=tmp_path)
    # A URL from the environment or the command line wins, so the file's variables are not needed.
    assert load_settings({}, environ={"DATABASE_URL": "sqlite://"}, cwd=tmp_path).database_url == "sqlite://"
    assert load_settings({"database_url": "sqlite://"}, environ={}, cwd=tmp_path).database_url == "sqlite://"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.uno_migrations\n", "invalid TOML in"),
        ("[tool.uno_migrations]\ndirectories = 3\n", "directories must be a list of directories or a string"),
        ("[tool.uno_migrations]\ndirectories = [1]\n", "directories must hold non-empty directory names"),
        ("[tool.uno_migrations]\ntable = 1\n", "table must be a string, not an integer"),
        ("[tool.uno_migrations]\nlock_timeout = 'soon'\n", "lock_timeout must be a number of seconds"),
        ("[tool.uno_migrations]\nlock_timeout = true\n", "lock_timeout must be a number of seconds"),
        ("[tool.uno_migrations]\ndatabase_url = ['x']\n", "database_url must be a string, not a list"),
        ("[tool.uno_migrations]\ndatbase_url = 'x'\n", "unknown key(s) datbase_url"),
        ("[tool]\nuno_migrations = 3\n", "tool.uno_migrations must be a table"),
    ],
)
def test_bad_config_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, environ={}, cwd=tmp_path)
    assert str(caught.value).startswith(("pyproject.toml", "invalid TOML in pyproject.toml"))
    assert message in str(caught.value)


def test_a_file_outside_the_current_directory_is_named_in_full(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.uno_migrations]\nschema = false\n")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigurationError) as caught:
        load_settings({}, environ={}, cwd=tmp_path / "sub")
    assert str(caught.value) == f"{path}: schema must be a string, not a boolean"


def test_explicit_config_must_exist_and_hold_the_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^config file not found: missing\.toml$"):
        load_settings({"config": "missing.toml"}, environ={}, cwd=tmp_path)
    write(tmp_path / "elsewhere" / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml has no \[tool.uno_migrations\] table"):
        load_settings({"config": "elsewhere/pyproject.toml"}, environ={}, cwd=tmp_path)


def test_bad_environment_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="UNO_MIGRATIONS_LOCK_TIMEOUT must be a number of seconds"):
        load_settings({}, environ={"UNO_MIGRATIONS_LOCK_TIMEOUT": "soon"}, cwd=tmp_path)
    empty = load_settings(
        {}, environ={"UNO_MIGRATIONS_DATABASE_URL": "", "DATABASE_URL": "sqlite://"}, cwd=tmp_path
    )
    assert empty.database_url == "sqlite://"  # an empty variable counts as unset


# -- the same rules through the command line ---------------------------------------------------


@pytest.fixture
def three_sources(tmp_path: Path, make_migrations: Callable[..., Path]) -> dict[str, Path]:
    """One migrations directory per source, each with a migration named after it."""
    directories = {
        source: make_migrations(
            {f"1_from_{source}.sql": "CREATE TABLE t (id INTEGER);\n"}, name=f"dir_{source}"
        )
        for source in ("file", "env", "option")
    }
    write(
        tmp_path / "pyproject.toml",
        '[tool.uno_migrations]\ndirectories = ["dir_file"]\ndatabase_url = "sqlite:///${DB_NAME:-file}.db"\n',
    )
    return directories


async def test_cli_precedence_option_over_environment_over_file(
    cli: Cli, three_sources: dict[str, Path]
) -> None:
    file_only = await cli.run("info")
    assert "1_from_file" in file_only.stdout
    status = await cli.run("status")
    assert status.stdout.startswith("Database: sqlite+aiosqlite:///file.db\n")
    named = await cli.run("status", env={"DB_NAME": "named"})
    assert named.stdout.startswith("Database: sqlite+aiosqlite:///named.db\n")

    env = {"UNO_MIGRATIONS_DIRECTORY": "dir_env", "UNO_MIGRATIONS_DATABASE_URL": "sqlite:///env.db"}
    from_env = await cli.run("status", env=env)
    assert from_env.stdout.startswith("Database: sqlite+aiosqlite:///env.db\n")
    assert "1_from_env" in from_env.stdout and "1_from_file" not in from_env.stdout

    from_option = await cli.run("-d", "dir_option", "-u", "sqlite:///option.db", "status", env=env)
    assert from_option.stdout.startswith("Database: sqlite+aiosqlite:///option.db\n")
    assert "1_from_option" in from_option.stdout and "1_from_env" not in from_option.stdout

    migrated = await cli.run("migrate", "-u", "sqlite:///option.db", "-d", "dir_option", env=env)
    assert "Applying 1_from_option" in migrated.stdout
    assert sqlite_tables(three_sources["option"].parent / "option.db") == {
        "t",
        "uno_migrations",
        "uno_migrations_log",
        "uno_migrations_layout",
    }
    assert sqlite_tables(three_sources["option"].parent / "env.db") == set()


async def test_cli_value_after_the_command_wins(cli: Cli, three_sources: dict[str, Path]) -> None:
    result = await cli.run(
        "-d", "dir_env", "-u", "sqlite:///before.db", "status", "-d", "dir_option", "-u", "sqlite:///after.db"
    )
    assert result.stdout.startswith("Database: sqlite+aiosqlite:///after.db\n")
    assert "1_from_option" in result.stdout and "1_from_env" not in result.stdout
    several = await cli.run("-d", "dir_file", "info", "-d", "dir_env", "-d", "dir_option")
    assert "1_from_env" in several.stdout and "1_from_option" in several.stdout
    assert "1_from_file" not in several.stdout


async def test_cli_config_option_and_bad_file(
    cli: Cli, three_sources: dict[str, Path], tmp_path: Path
) -> None:
    write(tmp_path / "ci.toml", 'directories = ["dir_env"]\ndatabase_url = "sqlite:///ci.db"\n')
    result = await cli.run("--config", "ci.toml", "status")
    assert result.stdout.startswith("Database: sqlite+aiosqlite:///ci.db\n")
    assert "1_from_env" in result.stdout

    write(tmp_path / "pyproject.toml", "[tool.uno_migrations]\ntable = 12\n")
    broken = await cli.run("status")
    assert broken.exit_code == 1
    assert broken.stderr == "error: pyproject.toml: table must be a string, not an integer\n"
    (tmp_path / "pyproject.toml").unlink()
    missing = await cli.run("info", env={"UNO_MIGRATIONS_DIRECTORY": "nowhere"})
    assert missing.exit_code == 1
    assert missing.stderr == "error: migrations directory not found: nowhere\n"

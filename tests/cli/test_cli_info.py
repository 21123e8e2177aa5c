"""``info``: a table of every migration, or one in detail with its SQL; no database needed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SIMPLE_MIGRATIONS, Cli

UNREACHABLE = "postgresql://postgres:s3cr3t@127.0.0.1:1/nope"


@pytest.fixture
def project(make_migrations: Callable[..., Path]) -> Path:
    return make_migrations(
        {
            **SIMPLE_MIGRATIONS,
            "1000_create_users.sqlite.sql": """
                CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
                -- DOWN
                DROP TABLE users;
            """,
            "1003_index_users.sql": """
                -- Transactional: false
                CREATE INDEX idx_users_name ON users (name);
            """,
            "1004_roles.py": """
                import hashlib

                from uno_migrations.files.migration import Migration, create_migration


                class AddRoles(Migration):
                    def __init__(self):
                        super().__init__(create_migration("Add roles", "Role tables", ["1000_create_users"]))

                    async def apply(self, context):
                        pass

                    def get_checksum(self):
                        return hashlib.md5(b"add_roles").hexdigest()
            """,
        },
        name="migrations",
    )


def test_info_lists_every_migration_in_plan_order(cli: Cli, project: Path) -> None:
    result = cli("info")
    assert result.exit_code == 0, result.output
    rows = [re.split(r"\s{2,}", line) for line in result.stdout.splitlines()]
    assert rows == [
        ["ID", "KIND", "DEPENDS ON", "NAME"],
        ["1000_create_users", "sql", "-", "Create users"],
        ["1001_add_posts", "python", "1000_create_users", "Add posts"],
        ["1002_seed_users", "sql", "-", "seed users"],
        ["1003_index_users", "sql", "-", "index users"],
        ["1004_roles", "class", "1000_create_users", "Add roles"],
    ]


def test_info_of_an_sql_migration_shows_its_fields_and_statements(cli: Cli, project: Path) -> None:
    result = cli("info", "1000")
    assert result.exit_code == 0, result.output
    checksum = hashlib.sha256((project / "1000_create_users.sql").read_bytes()).hexdigest()
    assert result.stdout == (
        "1000_create_users\n"
        "  name:          Create users\n"
        "  description:   The users table\n"
        "  kind:          sql\n"
        f"  path:          migrations/1000_create_users.sql\n"
        "  dependencies:  -\n"
        "  tags:          auth\n"
        f"  checksum:      {checksum}\n"
        "  transactional: yes\n"
        "  reversible:    yes\n"
        "\n"
        "Up (1 statement, split for postgresql):\n"
        "  -- line 4\n"
        "  CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
        "\n"
        "Down (1 statement, split for postgresql):\n"
        "  -- line 8\n"
        "  DROP TABLE users;\n"
    )


def test_info_with_a_url_uses_its_engine_variant_without_connecting(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    sqlite = cli("-u", f"sqlite:///{tmp_path / 'never-created.db'}", "info", "1000_create_users")
    assert sqlite.exit_code == 0, sqlite.output
    assert "Up (1 statement, split for sqlite):" in sqlite.stdout
    assert "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);" in sqlite.stdout
    assert "path:          migrations/1000_create_users.sqlite.sql" in sqlite.stdout
    assert not (tmp_path / "never-created.db").exists()

    postgresql = cli("-u", UNREACHABLE, "info", "1000")
    assert postgresql.exit_code == 0, postgresql.output
    assert "VARCHAR(50)" in postgresql.stdout and "s3cr3t" not in postgresql.output


def test_info_of_python_and_irreversible_migrations(cli: Cli, project: Path) -> None:
    python = cli("info", "1001")
    assert "  kind:          python\n" in python.stdout
    assert "  dependencies:  1000_create_users\n" in python.stdout
    assert "statement" not in python.stdout

    index = cli("info", "1003")
    assert "  transactional: no\n  reversible:    no\n" in index.stdout
    assert "CREATE INDEX idx_users_name ON users (name);" in index.stdout
    assert "Down: none (irreversible)" in index.stdout

    roles = cli("info", "1004")
    assert "  kind:          class\n" in roles.stdout
    assert "  name:          Add roles\n  description:   Role tables\n" in roles.stdout
    assert f"  checksum:      {hashlib.md5(b'add_roles').hexdigest()}\n" in roles.stdout


def test_info_errors(cli: Cli, project: Path, tmp_path: Path) -> None:
    unknown = cli("info", "77")
    assert (unknown.exit_code, unknown.stderr) == (1, "error: unknown migration id '77'\n")
    (project / "add_users.sql").write_text("SELECT 1;\n")
    invalid = cli("info")
    assert invalid.exit_code == 1
    assert invalid.stderr.startswith("error: migrations/add_users.sql: does not match")
    empty = cli("-d", str(tmp_path / "empty"), "create", "x")
    (Path(empty.stdout.strip())).unlink()
    assert cli("-d", str(tmp_path / "empty"), "info").stdout == "No migrations found\n"

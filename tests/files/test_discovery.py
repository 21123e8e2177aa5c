"""Discovery without a database: names, headers, variants, literals, bad files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from uno_migrations import ConfigurationError, DuplicateMigrationError, InvalidMigrationError
from uno_migrations.files.discovery import checksum, discover

MakeDir = Callable[..., Path]


def test_ids_are_file_names_and_others_are_ignored(make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "2_second.sql": "SELECT 1;",
            "10_tenth.py": "async def up(context):\n    pass\n",
            "1_first.sql": "SELECT 1;",
            "README.md": "docs",
            "__init__.py": "",
            "_helpers.py": "X = 1",
            "notes.txt": "",
        }
    )
    found = discover([directory])
    assert [m.id for m in found] == ["1_first", "2_second", "10_tenth"]
    assert [m.version for m in found] == [1, 2, 10]
    assert [m.kind for m in found] == ["sql", "sql", "python"]


@pytest.mark.parametrize("name", ["123-add.py", "add_users.sql", "1_Add.sql", "1_add-x.py", "1_.sql"])
def test_almost_matching_names_are_errors(make_migrations: MakeDir, name: str) -> None:
    directory = make_migrations({name: "SELECT 1;"})
    with pytest.raises(InvalidMigrationError) as info:
        discover([directory])
    assert name in str(info.value)


def test_sql_header_directives(make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "1_a.sql": "SELECT 1;",
            "2_b.sql": "SELECT 1;",
            "3_users.sql": """\
                -- Migration: Create users table
                -- Description: Creates the initial users table
                -- Dependencies: 1_a, 2_b
                -- Tags: auth, users
                -- Transactional: false

                CREATE TABLE users (id INTEGER);
                -- Dependencies: not_a_header
                -- DOWN
                DROP TABLE users;
            """,
        }
    )
    users = discover([directory])[2]
    assert users.name == "Create users table"
    assert users.description == "Creates the initial users table"
    assert users.dependencies == ["1_a", "2_b"]
    assert users.tags == ["auth", "users"]
    assert users.transactional is False
    assert users.reversible is True


def test_python_headers_and_literals_without_importing(make_migrations: MakeDir, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    directory = make_migrations(
        {
            "1_a.sql": "SELECT 1;",
            "2_func.py": f"""\
                # Migration: Function based
                # Description: Has header comments
                open({str(marker)!r}, "w").close()
                dependencies = ["1_a"]
                transactional = False

                async def up(context):
                    description = "a local, not the module's"
            """,
            "3_cls.py": """\
                from uno_migrations.files.migration import Migration, create_migration

                class Thing(Migration):
                    def __init__(self):
                        super().__init__(create_migration("Class based", description="d", dependencies=["2_func"]))

                    async def apply(self, context):
                        pass

                    async def revert(self, context):
                        pass

                    def get_checksum(self):
                        return "x"
            """,
        }
    )
    _, func, cls = discover([directory])
    assert not marker.exists(), "discovery must not import migration modules"
    assert (func.name, func.description, func.dependencies) == (
        "Function based",
        "Has header comments",
        ["1_a"],
    )
    assert func.transactional is False and func.reversible is False and func.kind == "python"
    assert (cls.name, cls.description, cls.dependencies) == ("Class based", "d", ["2_func"])
    assert cls.kind == "class" and cls.reversible and cls.custom_checksum


def test_engine_variants_replace_the_base_file(make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "1_t.sql": "CREATE TABLE t (id SERIAL);",
            "1_t.mysql.sql": "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY);",
        }
    )
    (base,) = discover([directory], "postgresql")
    (variant,) = discover([directory], "mysql")
    assert base.id == variant.id == "1_t"
    assert base.path and base.path.endswith("1_t.sql")
    assert variant.path and variant.path.endswith("1_t.mysql.sql")
    assert base.checksum != variant.checksum


def test_variant_needs_its_base_and_a_known_engine(make_migrations: MakeDir) -> None:
    with pytest.raises(InvalidMigrationError, match="without its base"):
        discover([make_migrations({"1_t.mysql.sql": "SELECT 1;"})])
    with pytest.raises(InvalidMigrationError, match="unknown engine 'oracle'"):
        discover([make_migrations({"1_t.sql": "SELECT 1;", "1_t.oracle.sql": "SELECT 1;"})])


def test_duplicate_ids_across_directories(make_migrations: MakeDir) -> None:
    first = make_migrations({"1_a.sql": "SELECT 1;"})
    second = make_migrations({"1_a.py": "async def up(context): pass\n"})
    with pytest.raises(DuplicateMigrationError) as info:
        discover([first, second])
    assert info.value.migration_id == "1_a"


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        discover([tmp_path / "nope"])


def test_empty_and_non_utf8_sql_files(make_migrations: MakeDir) -> None:
    with pytest.raises(InvalidMigrationError, match="empty"):
        discover([make_migrations({"1_a.sql": "  \n"})])
    directory = make_migrations({})
    (directory / "1_a.sql").write_bytes(b"SELECT '\xff';")
    with pytest.raises(InvalidMigrationError, match="UTF-8"):
        discover([directory])


def test_checksum_ignores_line_endings_only() -> None:
    assert checksum(b"SELECT 1;\r\nSELECT 2;\r\n") == checksum(b"SELECT 1;\nSELECT 2;\n")
    assert checksum(b"SELECT 1;\n") != checksum(b"SELECT 2;\n")


def test_dynamic_dependencies_are_an_error(make_migrations: MakeDir) -> None:
    directory = make_migrations({"1_a.py": "dependencies = make()\nasync def up(context): pass\n"})
    with pytest.raises(InvalidMigrationError, match="literal list"):
        discover([directory])


@pytest.mark.parametrize("size", [65_535, 65_536, 65_537, 3 * 1024 * 1024 + 5])
def test_files_of_any_size_are_read_whole(make_migrations: MakeDir, size: int) -> None:
    """Small files are read in one system call; larger ones must still be read to the end."""
    head = "CREATE TABLE big (v TEXT);\n-- "
    text = head + "x" * (size - len(head) - 1) + "\n"
    directory = make_migrations({"1_big.sql": text})
    (found,) = discover([directory])
    assert found.checksum == checksum(text.encode())

"""Bad input, table-driven: one line `error: ...`, a non-zero exit, no traceback, and the database
exactly as it was (a run that fails validation does not even create the version table).

Each case is a migrations directory (or none) and the command-line arguments; ``{url}`` is the
test database. Cases run on every engine: validation must not depend on the engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase

MakeDir = Callable[..., Path]

GOOD = "CREATE TABLE good (id INTEGER);\n-- DOWN\nDROP TABLE good;\n"
CLASS_HEAD = "from uno_migrations import Migration, create_migration\n"


@dataclass(frozen=True)
class Case:
    files: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ("migrate",)
    message: str = ""
    exit_code: int = 1
    #: A second directory, for duplicates across directories.
    more: dict[str, str] | None = None


CASES: dict[str, Case] = {
    "python syntax error": Case(
        {"1_a.py": "def up(context)\n    pass\n"}, message="1_a.py: syntax error at line 1"
    ),
    "python import error": Case(
        {"1_a.py": "import no_such_module_here\n\nasync def up(context):\n    pass\n"},
        message="import failed: ModuleNotFoundError",
    ),
    "neither up nor class": Case(
        {"1_a.py": "X = 1\n"}, message="neither up(context) nor a Migration subclass"
    ),
    "two migration classes": Case(
        {
            "1_a.py": CLASS_HEAD
            + "class A(Migration):\n    def __init__(self):\n        super().__init__(create_migration('a'))\n"
            + "class B(Migration):\n    def __init__(self):\n        super().__init__(create_migration('b'))\n"
        },
        message="defines 2 Migration classes (A, B)",
    ),
    "up is not callable": Case(
        {"1_a.py": "up = 'CREATE TABLE x (id INTEGER)'\n"}, message="up is not callable"
    ),
    "class id differs from file": Case(
        {
            "1_a.py": CLASS_HEAD
            + "class A(Migration):\n    def __init__(self):\n        super().__init__(create_migration('a', id='2_b'))\n"
        },
        message="differs from the file's id '1_a'",
    ),
    "class without super init": Case(
        {"1_a.py": CLASS_HEAD + "class A(Migration):\n    def __init__(self):\n        self.x = 1\n"},
        message="must call super().__init__",
    ),
    "dependencies not a literal": Case(
        {"1_a.py": "dependencies = sorted(['x'])\nasync def up(context):\n    pass\n"},
        message="dependencies must be a literal list",
    ),
    "duplicate id across directories": Case(
        {"1_a.sql": GOOD},
        more={"1_a.py": "async def up(context):\n    pass\n"},
        message="duplicate migration id '1_a'",
    ),
    "almost-matching python name": Case(
        {"123-add.py": "async def up(context):\n    pass\n"}, message="123-add.py"
    ),
    "almost-matching sql name": Case({"add_users.sql": GOOD}, message="add_users.sql: does not match"),
    "upper-case slug": Case({"1_Add.sql": GOOD}, message="1_Add.sql"),
    "unknown engine variant": Case(
        {"1_a.sql": GOOD, "1_a.oracle.sql": GOOD}, message="unknown engine 'oracle'"
    ),
    "variant without base file": Case({"1_a.mysql.sql": GOOD}, message="without its base file 1_a.sql"),
    "two down separators": Case(
        {"1_a.sql": "CREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n-- migrate:down\nSELECT 1;\n"},
        message="two down separators",
    ),
    "empty sql file": Case({"1_a.sql": "\n  \n"}, message="1_a.sql: empty SQL file"),
    "unterminated string literal": Case(
        {"1_a.sql": "INSERT INTO a VALUES ('oops);\n"}, message="unterminated string literal"
    ),
    "invalid transactional value": Case(
        {"1_a.sql": "-- Transactional: perhaps\nCREATE TABLE a (id INTEGER);\n"}, message="Transactional"
    ),
    "non-utf8 sql file": Case({"1_a.sql": "\udcff"}, message="not UTF-8"),
    "dependency on unknown id": Case(
        {"1_a.sql": "-- Dependencies: 0_nope\n" + GOOD}, message="depends on unknown migration '0_nope'"
    ),
    "dependency cycle": Case(
        {"1_a.sql": "-- Dependencies: 2_b\n" + GOOD, "2_b.sql": "-- Dependencies: 1_a\nSELECT 1;\n"},
        message="dependency cycle: 1_a -> 2_b -> 1_a",
    ),
    "unknown target": Case(
        {"1_a.sql": GOOD}, ("migrate", "--target", "9"), message="unknown migration id '9'"
    ),
    "ambiguous target": Case(
        {"10_a.sql": GOOD, "11_b.sql": "SELECT 1;\n"},
        ("migrate", "--target", "1"),
        message="ambiguous migration id '1'",
    ),
    "zero steps": Case({"1_a.sql": GOOD}, ("migrate", "--steps", "0"), message="--steps", exit_code=2),
    "negative steps": Case({"1_a.sql": GOOD}, ("rollback", "--steps", "-1"), message="--steps", exit_code=2),
    "rollback unknown target": Case(
        {"1_a.sql": GOOD}, ("rollback", "--target", "7"), message="unknown migration id '7'"
    ),
    "rollback with two modes": Case(
        {"1_a.sql": GOOD}, ("rollback", "--all", "--steps", "2"), message="only one of", exit_code=2
    ),
    "table name injection": Case(
        {"1_a.sql": GOOD}, ("--table", "x; DROP TABLE users", "migrate"), message="invalid table name"
    ),
    "schema name injection": Case(
        {"1_a.sql": GOOD}, ("--schema", "a b", "migrate"), message="invalid schema name"
    ),
    "missing directory": Case(None, message="migrations directory not found"),  # type: ignore[arg-type]
    "depends-on unknown id": Case(
        {"1_a.sql": GOOD}, ("create", "x", "--depends-on", "7"), message="unknown migration id '7'"
    ),
    "repair unknown id": Case({"1_a.sql": GOOD}, ("repair", "9"), message="unknown migration id '9'"),
    "unreadable file": Case({"1_a.sql": GOOD}, message="cannot read file"),
}
URL_CASES = {
    "malformed url": ("not a url at all", "malformed database URL"),
    "unknown database": ("oracle://scott:tiger@127.0.0.1/x", "unsupported database 'oracle'"),
    "unknown driver": ("postgresql+nodriver://u:pw@127.0.0.1/x", "unknown driver 'nodriver'"),
    "unreachable server": (
        "postgresql://u:s3cr3t@127.0.0.1:1/x",
        "cannot connect to postgresql+asyncpg://u:***@127.0.0.1:1/x",
    ),
    "wrong password": (
        "mysql://root:wrong-s3cr3t@127.0.0.1:3306/test",
        "cannot connect to mysql+aiomysql://root:***@",
    ),
}


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content == "\udcff":
            (directory / name).write_bytes(b"SELECT '\xff\xfe';\n")
        else:
            (directory / name).write_text(content)


def _assert_one_line_error(result_stderr: str, message: str) -> None:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert lines[0].startswith(("error: ", "Error: ")) or "Usage:" in result_stderr, result_stderr
    assert "Traceback" not in result_stderr
    assert message in lines[0], lines[0]


@pytest.mark.parametrize("case_name", sorted(CASES))
async def test_bad_input(case_name: str, db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    case = CASES[case_name]
    directory = tmp_path / "migrations"
    args = ["-u", db.url]
    if case.files is not None:
        _write(directory, case.files)
        args += ["-d", str(directory)]
    else:
        args += ["-d", str(tmp_path / "does-not-exist")]
    if case.more is not None:
        _write(tmp_path / "more", case.more)
        args += ["-d", str(tmp_path / "more")]
    if case_name == "unreadable file":
        # Root reads any file whatever its mode; a dangling link cannot be read by anyone.
        (directory / "1_a.sql").unlink()
        os.symlink(tmp_path / "gone.sql", directory / "1_a.sql")
    before = await db.tables()
    result = await cli.run(*args, *case.args)
    assert result.exit_code == case.exit_code, result.output
    if case.exit_code == 2:
        assert "Traceback" not in result.stderr and case.message in result.stderr, result.stderr
    else:
        _assert_one_line_error(result.stderr, case.message)
    assert await db.tables() == before == set(), "bad input must leave the database untouched"


@pytest.mark.parametrize("case_name", sorted(URL_CASES))
@pytest.mark.parametrize("verbosity", [(), ("-vv",)])
def test_bad_urls(case_name: str, verbosity: tuple[str, ...], cli: Cli, make_migrations: MakeDir) -> None:
    url, message = URL_CASES[case_name]
    directory = make_migrations({"1_a.sql": GOOD})
    result = cli(*verbosity, "-u", url, "-d", str(directory), "migrate")
    assert result.exit_code == 1, result.output
    if verbosity:
        assert "error: " in result.stderr and message in result.stderr
    else:
        _assert_one_line_error(result.stderr, message)
    for secret in ("s3cr3t", "tiger", "wrong-s3cr3t"):
        assert secret not in result.output, "a password must never be printed"


def test_the_case_table_is_large_enough() -> None:
    assert len(CASES) + len(URL_CASES) >= 30


async def test_bad_input_on_a_migrated_database_changes_nothing(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """After a good run, a broken new file stops the next run before anything changes."""
    directory = tmp_path / "migrations"
    _write(directory, {"1_good.sql": GOOD})
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate")).exit_code == 0
    snapshot = (await db.tables(), await db.fetch("SELECT id, checksum FROM uno_migrations"))
    log = await db.fetch("SELECT seq, action FROM uno_migrations_log ORDER BY seq")
    _write(directory, {"2_fine.sql": "CREATE TABLE fine (id INTEGER);\n", "3_broken.py": "def up(context)\n"})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    _assert_one_line_error(result.stderr, "3_broken.py: syntax error")
    assert (await db.tables(), await db.fetch("SELECT id, checksum FROM uno_migrations")) == snapshot
    assert await db.fetch("SELECT seq, action FROM uno_migrations_log ORDER BY seq") == log


async def test_many_modified_migrations_are_named_in_a_short_line(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """Hundreds of changed files (a reformatted directory) still give one readable line."""
    directory = tmp_path / "migrations"
    files = {f"{i:03d}_t{i}.sql": f"CREATE TABLE t{i} (id INTEGER);\n" for i in range(1, 41)}
    _write(directory, files)
    assert (await cli.run("-u", db.url, "-d", str(directory), "migrate")).exit_code == 0
    _write(directory, {name: "-- reformatted\n" + text for name, text in files.items()})
    _write(directory, {"041_late.sql": "CREATE TABLE late (id INTEGER);\n"})
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    _assert_one_line_error(result.stderr, "001_t1.sql, ")
    line = result.stderr.strip()
    assert "005_t5.sql and 35 more ('status' lists them all); restore the files or run 'repair'" in line, line
    assert "006_t6.sql" not in line
    assert "late" not in await db.tables()

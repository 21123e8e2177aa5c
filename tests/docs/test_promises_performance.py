"""What docs/performance.md says the program does (not its figures), tried through the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import TestDatabase, imported_after

MakeDir = Callable[..., Path]


async def test_help_imports_no_sqlalchemy_and_mysql_is_imported_only_for_mysql(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/performance.md, "What was made fast" (**The package imports lazily**):
    "`uno-migrations --help` does not import SQLAlchemy ...; MySQL's types are imported only for
    MySQL"; and (**A run does not import SQLAlchemy's asyncio extension**) a run from a URL does
    not import `sqlalchemy.ext.asyncio`."""
    directory = make_migrations({"1_t.sql": "CREATE TABLE t (id INTEGER);"})
    modules = ["sqlalchemy", "sqlalchemy.dialects.mysql", "aiomysql", "sqlalchemy.ext.asyncio"]
    runs = [
        ["--help"],
        ["-u", db.url, "-d", str(directory), "migrate"],
        ["-u", db.url, "-d", str(directory), "status"],
    ]
    help_run, migrated, status = imported_after(runs, modules, tmp_path)
    assert help_run == []
    mysql = ["sqlalchemy.dialects.mysql", "aiomysql"] if db.dialect == "mysql" else []
    assert migrated == ["sqlalchemy", *mysql]
    assert status == ["sqlalchemy", *mysql]

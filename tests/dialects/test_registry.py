"""The adapter registry: the built-in engines, one found through a real entry point, unknown names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uno_migrations.dialects import (
    DEFAULT_ENGINE,
    adapter_class,
    engine_names,
    find_adapter,
    get_adapter,
    is_engine,
    syntax_of,
)
from uno_migrations.dialects.mysql import MySQLAdapter
from uno_migrations.dialects.postgresql import PostgreSQLAdapter
from uno_migrations.dialects.sqlite import SQLiteAdapter
from uno_migrations.errors import ConfigurationError
from uno_migrations.sql.syntax import GENERIC

ROOT = Path(__file__).parents[2]
PLUGIN_SITE = Path(__file__).parent / "plugin_site"


def _python(code: str, *path: Path) -> str:
    """Run ``code`` in a new interpreter with ``path`` before the repository on sys.path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (*path, ROOT)))}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_built_in_engines_and_their_aliases() -> None:
    assert engine_names()[:3] == ("postgresql", "mysql", "sqlite")
    assert adapter_class("postgresql") is adapter_class("postgres") is PostgreSQLAdapter
    assert adapter_class("mysql") is adapter_class("mariadb") is MySQLAdapter
    assert adapter_class("sqlite") is SQLiteAdapter
    assert isinstance(get_adapter("mariadb"), MySQLAdapter)
    assert DEFAULT_ENGINE == "postgresql"
    # A variant file is named after the engine itself, not an alias (today's .mariadb.sql is unknown).
    assert is_engine("mysql") and not is_engine("mariadb") and not is_engine("oracle")


def test_each_engine_reads_sql_by_its_own_syntax() -> None:
    assert syntax_of("mariadb") is syntax_of("mysql") is MySQLAdapter.syntax
    assert syntax_of(None) is syntax_of("") is GENERIC
    assert MySQLAdapter.syntax.hash_comments and not PostgreSQLAdapter.syntax.hash_comments
    assert PostgreSQLAdapter.syntax.dollar_quotes and not SQLiteAdapter.syntax.dollar_quotes
    assert SQLiteAdapter.syntax.bracket_identifiers and SQLiteAdapter.database_is_file
    assert [s.text for s in get_adapter("sqlite").split("SELECT [a;b]; SELECT 2")] == [
        "SELECT [a;b]",
        "SELECT 2",
    ]


def test_an_unknown_engine_is_one_line_naming_the_known_ones() -> None:
    assert find_adapter("oracle") is None
    with pytest.raises(ConfigurationError) as raised:
        get_adapter("oracle")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("unsupported database 'oracle'; uno-migrations knows postgresql, mysql")
    assert "uno_migrations.dialects" in message
    with pytest.raises(ConfigurationError, match="unsupported database 'oracle'"):
        syntax_of("oracle")


def test_an_adapter_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """tests/dialects/plugin_site holds a distribution (a dist-info with entry_points.txt) whose
    adapter nothing registers in code: with that directory on sys.path, every lookup finds it."""
    (tmp_path / "1_a.sql").write_text("SELECT 1;\n")
    (tmp_path / "1_a.unopg.sql").write_text("SELECT 2;\n")
    code = f"""
import json
from uno_migrations.dialects import adapter_class, engine_names, get_adapter, is_engine, syntax_of
from uno_migrations.dialects.postgresql import PostgreSQLAdapter
from uno_migrations.files.discovery import discover
from uno_migrations.urls import async_url

adapter = adapter_class("unopg")
print(json.dumps({{
    "adapter": f"{{adapter.__module__}}.{{adapter.__qualname__}}",
    "postgresql": issubclass(adapter, PostgreSQLAdapter),
    "names": engine_names(),
    "variant": is_engine("unopg"),
    "syntax": syntax_of("unopg") is PostgreSQLAdapter.syntax,
    "split": [s.text for s in get_adapter("unopg").split("SELECT $$;$$; SELECT 2")],
    "url": async_url("unopg://app@db/app").drivername,
    "path": str(discover([{str(tmp_path)!r}], "unopg")[0].path),
}}))
"""
    found = json.loads(_python(code, PLUGIN_SITE))
    assert found == {
        "adapter": "plugin_adapter.UnoPGAdapter",
        "postgresql": True,
        "names": ["postgresql", "mysql", "sqlite", "unopg"],
        "variant": True,
        "syntax": True,
        "split": ["SELECT $$;$$", "SELECT 2"],
        "url": "unopg+asyncpg",
        "path": str(tmp_path / "1_a.unopg.sql"),
    }


def test_without_the_distribution_the_engine_is_unknown() -> None:
    code = "from uno_migrations.dialects import find_adapter, engine_names; print(find_adapter('unopg'), engine_names())"
    assert _python(code).split() == ["None", "('postgresql',", "'mysql',", "'sqlite')"]


def test_reading_sql_files_imports_neither_sqlalchemy_nor_package_metadata() -> None:
    """Commands that never connect (``info`` without a database) read scripts by an adapter's
    syntax: the adapters import SQLAlchemy only where they use it, and the entry points are read
    only for a name that is not built in."""
    code = """
import sys
from uno_migrations.dialects import get_adapter, syntax_of
from uno_migrations.files.sql_script import parse_script
parse_script("-- Migration: x\\nSELECT 1;\\n-- DOWN\\nSELECT 2;\\n", "mysql")
get_adapter("postgresql").split("SELECT 1; SELECT 2")
syntax_of("sqlite")
print(sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy" or m == "importlib.metadata"))
"""
    assert _python(code).strip() == "[]"

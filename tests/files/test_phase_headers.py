"""The deploy phase and the lock timeout of a migration: the ``-- Phase:`` and ``-- Lock-timeout:``
headers of SQL files, the ``phase`` and ``lock_timeout`` attributes of Python files (function
modules, classes, Alembic revisions), read alike by discovery (the plan, ``status``) and the loader
(the run); a bad value names the file and the line, and the file does not load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alembic_compat import AlembicSource
from uno_migrations import InvalidMigrationError
from uno_migrations.files.discovery import discover
from uno_migrations.files.loader import load_migration
from uno_migrations.files.migration import MigrationBase, parse_lock_timeout, parse_phase
from uno_migrations.files.sql_script import parse_script

MakeDir = Callable[..., Path]

CLASS_MIGRATION = """
from uno_migrations.files.migration import Migration, create_migration


class DropOldName(Migration):
    phase = "post-deploy"
    lock_timeout = 1.5

    def __init__(self):
        super().__init__(create_migration("Drop the old name"))

    async def apply(self, context):
        pass
"""


def _read(directory: Path, dialect: str = "sqlite") -> dict[str, tuple[MigrationBase, MigrationBase]]:
    """Each migration as discovery describes it and as the loader does."""
    return {str(b.id): (b, load_migration(b, dialect).base) for b in discover([directory], dialect)}


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("500ms", 0.5),
        ("2s", 2.0),
        ("1.5s", 1.5),
        ("1m", 60.0),
        ("2", 2.0),
        (" 3 S ", 3.0),
        (0, 0.0),
        (2, 2.0),
    ],
)
def test_lock_timeouts_are_read_in_seconds(text: object, seconds: float) -> None:
    assert parse_lock_timeout(text) == seconds


@pytest.mark.parametrize("value", ["soon", "2h", "-1", "", "1e3", True, None, -1, float("inf")])
def test_a_bad_lock_timeout_says_what_it_must_be(value: object) -> None:
    with pytest.raises(ValueError, match="invalid lock timeout"):
        parse_lock_timeout(value)


def test_phases_are_the_two_names() -> None:
    assert (parse_phase("pre-deploy"), parse_phase(" Post-Deploy ")) == ("pre-deploy", "post-deploy")
    for value in ("post", "later", None, 1):
        with pytest.raises(ValueError, match="use pre-deploy or post-deploy"):
            parse_phase(value)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_every_kind_reads_its_phase_and_lock_timeout_alike(make_migrations: MakeDir, dialect: str) -> None:
    directory = make_migrations(
        {
            "1_plain.sql": "CREATE TABLE t (id INTEGER);\n",
            "2_headers.sql": """
                -- Migration: Backfill
                -- Phase: post-deploy
                -- Lock-timeout: 500ms
                UPDATE t SET id = id;
            """,
            "3_function.py": """
                phase = "post-deploy"
                lock_timeout = "2s"


                async def up(context):
                    pass
            """,
            "4_class.py": CLASS_MIGRATION,
            "5_plain.py": "async def up(context):\n    pass\n",
        }
    )
    expected = {
        "1_plain": ("pre-deploy", None),
        "2_headers": ("post-deploy", 0.5),
        "3_function": ("post-deploy", 2.0),
        "4_class": ("post-deploy", 1.5),
        "5_plain": ("pre-deploy", None),
    }
    read = _read(directory, dialect)
    for migration_id, (discovered, loaded) in read.items():
        assert (discovered.phase, discovered.lock_timeout) == expected[migration_id], migration_id
        assert (loaded.phase, loaded.lock_timeout) == expected[migration_id], migration_id
    assert read["2_headers"][1].name == "Backfill"  # the other headers still read


def test_sql_headers_are_read_where_other_headers_are() -> None:
    script = parse_script(
        "-- a comment\n/* a block */\n--PHASE :  post-deploy\n-- lock-timeout: 1m\nSELECT 1;\n"
    )
    assert (script.header.phase, script.header.lock_timeout) == ("post-deploy", 60.0)
    after = parse_script("SELECT 1;\n-- Phase: post-deploy\n")  # after the first statement: a comment
    assert (after.header.phase, after.header.lock_timeout) == ("pre-deploy", None)


BAD_FILES = {
    "1_sql_phase.sql": ("-- Migration: X\n-- Phase: later\nSELECT 1;\n", "line 2: invalid phase 'later'"),
    "2_sql_timeout.sql": ("-- Lock-timeout: soon\nSELECT 1;\n", "line 1: invalid lock timeout 'soon'"),
    "3_sql_twice.sql": (
        "-- Phase: pre-deploy\n-- Phase: post-deploy\nSELECT 1;\n",
        "two -- Phase: directives (lines 1 and 2)",
    ),
    "4_py_phase.py": (
        '"""Drop."""\n\nphase = "afterwards"\n\n\ndef up(context):\n    pass\n',
        "line 3: invalid phase 'afterwards'",
    ),
    "5_py_timeout.py": (
        "lock_timeout = -2\n\n\ndef up(context):\n    pass\n",
        "line 1: invalid lock timeout -2",
    ),
    "6_py_not_literal.py": (
        'LATER = "post-deploy"\nphase = LATER\n\n\ndef up(context):\n    pass\n',
        "line 2: phase must be a literal string or number",
    ),
    "7_class_phase.py": (CLASS_MIGRATION.replace('"post-deploy"', '"post"'), "line 5: invalid phase 'post'"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_value_makes_the_file_invalid_naming_its_line(make_migrations: MakeDir, name: str) -> None:
    text, reason = BAD_FILES[name]
    directory = make_migrations({name: text})
    [base] = discover([directory], "sqlite")  # listed, so status can show it invalid
    assert base.problem is not None and base.problem.startswith(reason), base.problem
    with pytest.raises(InvalidMigrationError) as caught:
        load_migration(base, "sqlite")
    assert str(caught.value).startswith(f"{directory / name}: {reason}"), caught.value
    assert "\n" not in str(caught.value)


def _revision(directory: Path, revision: str, down: str | None, extra: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{revision}_step.py").write_text(
        f'"""Step {revision}."""\n\nrevision = {revision!r}\ndown_revision = {down!r}\n{extra}\n\n'
        "def upgrade():\n    pass\n",
        encoding="utf-8",
    )


def test_alembic_revisions_are_pre_deploy_unless_their_module_sets_phase(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    _revision(versions, "aaa", None)
    _revision(versions, "bbb", "aaa", 'phase: str = "post-deploy"\nlock_timeout = "250ms"')
    _revision(versions, "ccc", "bbb", 'phase = "whenever"')
    source = AlembicSource([versions])
    found = {str(b.id): b for b in source.discover("sqlite")}
    assert (found["aaa"].phase, found["aaa"].lock_timeout) == ("pre-deploy", None)
    assert (found["bbb"].phase, found["bbb"].lock_timeout) == ("post-deploy", 0.25)
    assert found["ccc"].problem == "line 5: invalid phase 'whenever'; use pre-deploy or post-deploy"
    assert source.load(found["bbb"], "sqlite").base.phase == "post-deploy"
    with pytest.raises(InvalidMigrationError, match=r"ccc_step\.py: line 5: invalid phase 'whenever'"):
        source.load(found["ccc"], "sqlite")

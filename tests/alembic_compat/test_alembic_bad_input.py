"""Broken Alembic histories: each one stops with one line naming the file and what is wrong."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from alembic_support import VERSIONS, history_migrator, write_revision
from helpers import Cli, TestDatabase, only

from alembic_compat import AlembicSource, BranchLabelError, DuplicateRevisionError, UnknownRevisionError
from uno_migrations import (
    DuplicateMigrationError,
    ExecutionError,
    InvalidMigrationError,
    IrreversibleMigrationError,
)


def test_unknown_down_revision(tmp_path: Path, cli: Cli) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None)
    bad = write_revision(versions, "bbbb", "cccc")
    with pytest.raises(UnknownRevisionError) as raised:
        AlembicSource([versions]).discover(None)
    assert (raised.value.revision, raised.value.field, raised.value.reference) == (
        "bbbb",
        "down_revision",
        "cccc",
    )
    result = cli("--alembic-directory", "versions", "info")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {Path('versions') / bad.name}: revision 'bbbb' has down_revision 'cccc', an unknown "
        "revision; restore the missing revision file or correct the reference\n"
    )


def test_duplicate_revision_id(tmp_path: Path, cli: Cli) -> None:
    first = write_revision(tmp_path / "one", "aaaa", None)
    second = write_revision(tmp_path / "two", "aaaa", None)
    with pytest.raises(DuplicateRevisionError) as raised:
        AlembicSource([first.parent, second.parent]).discover(None)
    assert raised.value.paths == (str(first), str(second))
    result = cli("--alembic-directory", "one", "--alembic-directory", "two", "info")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: duplicate Alembic revision 'aaaa' in one/aaaa_rev.py and two/aaaa_rev.py"
    )


def test_unknown_label_and_labels_used_twice(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None, header="branch_labels = ('core',)")
    write_revision(versions, "bbbb", "aaaa", header="depends_on = 'nowhere'")
    with pytest.raises(
        UnknownRevisionError, match="has depends_on 'nowhere', an unknown revision or branch label"
    ):
        AlembicSource([versions]).discover(None)
    write_revision(versions, "bbbb", "aaaa", header="branch_labels = 'core'")
    with pytest.raises(BranchLabelError, match="branch label 'core' is used by more than one revision"):
        AlembicSource([versions]).discover(None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("down_revision = None\n", "no revision = '<id>' assignment"),
        ("revision = 'x'\n", "no down_revision assignment (None for a first revision)"),
        ("revision = 'x'\ndown_revision = make()\n", "down_revision must be a literal"),
        ("revision = 'x'\ndown_revision = 5\n", "down_revision must be None, a string or a tuple of strings"),
        ("revision = 'x'\ndown_revision = None\ndef upgrade(:\n", "syntax error at line 3"),
    ],
)
def test_files_that_cannot_be_read(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "x_rev.py").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidMigrationError) as raised:
        AlembicSource([tmp_path]).discover(None)
    assert raised.value.path == str(tmp_path / "x_rev.py") and reason in raised.value.reason


async def test_a_revision_that_fails_to_import_stops_the_run_first(db: TestDatabase, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(
        versions, "aaaa", None, "op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))"
    )
    write_revision(versions, "bbbb", "aaaa", header="import not_a_module_anywhere")
    with pytest.raises(InvalidMigrationError) as raised:
        await history_migrator(db.url, versions=versions).migrate()
    assert (
        "import failed: ModuleNotFoundError: No module named 'not_a_module_anywhere'" in raised.value.reason
    )
    assert "the versions directory's parent and grandparent, the current directory" in raised.value.reason
    assert "t" not in await db.tables()


@only("sqlite")
async def test_revision_without_downgrade_and_id_clashes(db: TestDatabase, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None, downgrade=None)
    migrator = history_migrator(db.url, versions=versions)
    assert (await migrator.migrate()).ids == ["aaaa"]
    with pytest.raises(IrreversibleMigrationError):
        await migrator.rollback()
    uno = tmp_path / "uno"
    uno.mkdir()
    (uno / "1_x.sql").write_text("SELECT 1;\n", encoding="utf-8")
    write_revision(versions, "1_x", "aaaa")
    with pytest.raises(DuplicateMigrationError, match="duplicate migration id '1_x'"):
        history_migrator(db.url, uno, versions=versions).plan()


def test_the_history_copied_elsewhere_still_finds_its_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(VERSIONS.parent, project, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.delitem(sys.modules, "myapp_helpers", raising=False)
    source = AlembicSource([project / "versions"])
    base = next(m for m in source.discover(None) if m.id == "dac0ffee0010")
    assert source.load(base, "sqlite").reversible
    assert Path(sys.modules["myapp_helpers"].__file__ or "").parent == project.resolve()
    assert str(project.resolve()) not in sys.path  # only while loading (and running)


async def test_a_failing_revision_is_rolled_back_and_names_its_statement(
    db: TestDatabase, tmp_path: Path
) -> None:
    """Its operations and its raw SQL through ``op.get_bind()`` share the migration's transaction
    (on SQLite, the one call that also holds the lock and writes the version rows)."""
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None, "op.create_table('kept', sa.Column('id', sa.Integer()))")
    write_revision(
        versions,
        "bbbb",
        "aaaa",
        """
        op.create_table('undone', sa.Column('id', sa.Integer()))
        op.get_bind().execute(sa.text("INSERT INTO undone (id) VALUES (1)"))
        op.execute("INSERT INTO no_such_table (id) VALUES (1)")
        """,
    )
    migrator = history_migrator(db.url, versions=versions)
    with pytest.raises(ExecutionError) as raised:
        await migrator.migrate()
    assert raised.value.migration_id == "bbbb"
    assert raised.value.statement == "INSERT INTO no_such_table (id) VALUES (1)"
    assert "no_such_table" in str(raised.value) and "\n" not in str(raised.value)
    rows = await db.fetch("SELECT id, status FROM uno_migrations ORDER BY id")
    if db.dialect == "mysql":  # MySQL commits DDL as it goes: the attempt is on record
        assert rows == [("aaaa", "applied"), ("bbbb", "failed")]
    else:
        assert rows == [("aaaa", "applied")]
        assert await db.tables() == {"kept", "uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
    # Fixed, it applies (MySQL: once the half-done attempt is undone and forgotten).
    write_revision(versions, "bbbb", "aaaa", "op.create_table('undone', sa.Column('id', sa.Integer()))")
    if db.dialect == "mysql":
        await db.execute("DROP TABLE undone")
        await migrator.repair(["bbbb"])
    assert (await migrator.migrate()).ids == ["bbbb"]

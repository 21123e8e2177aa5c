"""A history whose revisions do real work (tests/alembic_compat/real_history.py: tables with keys
and server defaults, indexes, bulk inserts and UPDATEs with parameters, enums, batch mode, added,
renamed and dropped columns, a renamed table) runs through uno on every engine and leaves the
schema and the rows Alembic itself leaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic_support import VERSION_TABLES, alembic, schema_of
from helpers import TestDatabase, fresh_database
from real_history import KINDS, write_real_history

from alembic_compat import AlembicSource
from uno_migrations import Migrator

#: The first revision, then every kind three times.
REVISIONS = 1 + 3 * len(KINDS)
TABLES = {"counters", "regions"} | {
    f"{t}_{s}" for t in ("acct", "ordr", "label", "arch") for s in ("01", "02", "03")
}


def _migrator(url: str, root: Path) -> Migrator:
    return Migrator(url, [], sources=[AlembicSource([root / "versions"])])


async def _rows(db: TestDatabase, schema: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ordered, without the columns the database's clock fills."""
    rows = {}
    for table, shape in schema.items():
        columns = ", ".join(name for name, kind, _, _ in shape["columns"] if kind != "DateTime")
        rows[table] = await db.fetch(f"SELECT {columns} FROM {table} ORDER BY {columns}")
    return rows


async def test_real_work_leaves_the_schema_and_rows_alembic_leaves(db: TestDatabase, tmp_path: Path) -> None:
    """Every revision runs once, in order; tables, columns, keys, indexes and every row match
    what ``alembic upgrade head`` leaves on a database of its own."""
    root = tmp_path / "project"
    ids = write_real_history(root, REVISIONS)
    assert (await _migrator(db.url, root).migrate()).ids == ids
    assert await db.fetch("SELECT n FROM counters") == [(REVISIONS - 1,)]
    ours = await schema_of(db.url)
    assert set(ours) == TABLES
    rows = await _rows(db, ours)
    assert {table: len(rows[table]) for table in ("acct_03", "ordr_03", "label_03", "arch_03")} == {
        "acct_03": 30,
        "ordr_03": 45,
        "label_03": 18,
        "arch_03": 27,
    }
    async with fresh_database(db.dialect, tmp_path) as theirs:
        await alembic(theirs.url, history=root)
        assert await theirs.scalar("SELECT version_num FROM alembic_version") == ids[-1]
        assert await schema_of(theirs.url) == ours
        assert await _rows(theirs, ours) == rows


async def test_the_downgrades_undo_the_history(db: TestDatabase, tmp_path: Path) -> None:
    """Rolled back through uno, nothing but uno's own tables is left (on PostgreSQL, no enum
    type either: the history can be applied again and gives the same schema)."""
    root = tmp_path / "project"
    ids = write_real_history(root, 1 + len(KINDS))
    migrator = _migrator(db.url, root)
    await migrator.migrate()
    applied = await schema_of(db.url)
    assert (await migrator.rollback(all=True)).ids == ids[::-1]
    assert await db.tables() == VERSION_TABLES
    assert (await migrator.migrate()).ids == ids
    assert await schema_of(db.url) == applied

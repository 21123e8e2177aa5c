"""Three hundred revisions in one line, each importing a project plugin, run through uno."""

from __future__ import annotations

from pathlib import Path

from alembic_support import history_migrator
from conftest import TestDatabase
from long_history import write_long_history


async def test_three_hundred_revisions_in_a_line(db: TestDatabase, tmp_path: Path) -> None:
    ids = write_long_history(tmp_path / "project", 300)
    migrator = history_migrator(db.url, versions=tmp_path / "project" / "versions")
    assert [m.id for m in migrator.plan().migrations] == ids
    assert (await migrator.migrate()).ids == ids
    assert await db.fetch("SELECT n FROM counters") == [(299,)]
    assert len(await db.tables()) == 2 + 1 + 12  # version tables, counters, one table every 25 steps
    assert (await migrator.rollback(steps=30)).ids == ids[::-1][:30]
    assert await db.fetch("SELECT n FROM counters") == [(269,)]
    assert len(await db.tables()) == 2 + 1 + 10

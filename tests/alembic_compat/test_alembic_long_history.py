"""Three hundred revisions in one line, each importing a project plugin, run through uno."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic_support import history_migrator
from helpers import TestDatabase
from long_history import write_long_history

SCRIPT = str(Path(sys.executable).with_name("uno-migrations"))


async def test_three_hundred_revisions_in_a_line(db: TestDatabase, tmp_path: Path) -> None:
    ids = write_long_history(tmp_path / "project", 300)
    migrator = history_migrator(db.url, versions=tmp_path / "project" / "versions")
    assert [m.id for m in migrator.plan().migrations] == ids
    assert (await migrator.migrate()).ids == ids
    assert await db.fetch("SELECT n FROM counters") == [(299,)]
    assert len(await db.tables()) == 3 + 1 + 12  # uno's tables, counters, one table every 25 steps
    assert (await migrator.rollback(steps=30)).ids == ids[::-1][:30]
    assert await db.fetch("SELECT n FROM counters") == [(269,)]
    assert len(await db.tables()) == 3 + 1 + 10


async def test_deploys_at_once_apply_each_revision_once(db: TestDatabase, tmp_path: Path) -> None:
    """Four processes run one history at once: every revision's counter bump happens once."""
    ids = write_long_history(tmp_path / "project", 40)
    versions = str(tmp_path / "project" / "versions")
    command = [SCRIPT, "-u", db.url, "--alembic-directory", versions, "migrate", "--lock-timeout", "120"]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for run in runs:
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, f"exit {run.returncode}\n{stdout}\n{stderr}"
    assert await db.fetch("SELECT n FROM counters") == [(39,)]
    log = await db.fetch("SELECT migration_id, count(*) FROM uno_migrations_log GROUP BY migration_id")
    assert sorted(log) == sorted((revision, 1) for revision in ids)

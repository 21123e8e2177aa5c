"""A kit for testing migrations: what a database's schema is, and how two schemas differ.

snapshot.py reads a schema through SQLAlchemy's inspector into a :class:`Snapshot`, plain data
that compares with ``==`` and stores as JSON; diff.py says how two snapshots differ, a line each.
A test might check that a migration and its rollback leave the schema as it was::

    before = await take_snapshot(url)
    await migrator.migrate()
    await migrator.rollback(steps=1)
    assert snapshot_diff(before, await take_snapshot(url)) == []
"""

from __future__ import annotations

from .diff import snapshot_diff
from .snapshot import Snapshot, snapshot_of, take_snapshot

__all__ = ["Snapshot", "snapshot_diff", "snapshot_of", "take_snapshot"]

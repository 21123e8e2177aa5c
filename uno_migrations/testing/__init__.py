"""A kit for testing migrations: what a database's schema is, and how two schemas differ.

snapshot.py reads a schema through SQLAlchemy's inspector into a :class:`Snapshot`, plain data
that compares with ``==`` and stores as JSON; diff.py says how two snapshots differ, a line each;
reader.py takes the checks' snapshots again and again on one connection, keeping what did not
change;
drift.py compares a live database with what its applied migrations make (``diff``); database.py
is :class:`TestDatabase`, the pytest plugin's ``uno_database``. A test might check
that a migration and its rollback leave the schema as it was::

    before = await take_snapshot(url)
    await migrator.migrate()
    await migrator.rollback(steps=1)
    assert snapshot_diff(before, await take_snapshot(url)) == []
"""

from __future__ import annotations

from .database import TestDatabase
from .diff import snapshot_diff
from .drift import DriftReport, schema_drift
from .snapshot import Snapshot, snapshot_of, take_snapshot

__all__ = [
    "DriftReport",
    "Snapshot",
    "TestDatabase",
    "schema_drift",
    "snapshot_diff",
    "snapshot_of",
    "take_snapshot",
]

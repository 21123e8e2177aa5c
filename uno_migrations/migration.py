"""``uno_migrations.migration``: the migration kinds under the import path the seed guide uses.

``from uno_migrations.migration import Migration, MigrationBase, create_migration`` works as the
guide shows; the same names are exported by :mod:`uno_migrations` itself.
"""

from __future__ import annotations

from .files.migration import Migration, MigrationBase, create_migration
from .runtime.report import MigrationStatus

__all__ = ["Migration", "MigrationBase", "MigrationStatus", "create_migration"]

"""Where migrations come from: the migrations directories, and any other source plugged in.

A source lists migrations without running anything and loads the ones a run needs. The
directories of ``.sql``/``.py`` files are one source; ``alembic_compat`` provides another for
Alembic ``versions/`` directories. The runner only knows this protocol.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..errors import DuplicateMigrationError
from .discovery import discover
from .loader import load_migration
from .migration import Migration, MigrationBase


def discover_sources(
    sources: Sequence[MigrationSource], dialect: str | None
) -> tuple[list[MigrationBase], dict[str, MigrationSource]]:
    """Every migration of every source, and the source of each id; an id found twice is an error."""
    found: list[MigrationBase] = []
    source_of: dict[str, MigrationSource] = {}
    for source in sources:
        for base in source.discover(dialect):
            mid = str(base.id)
            if mid in source_of:
                other = next(m for m in found if m.id == mid)
                raise DuplicateMigrationError(mid, [str(other.path), str(base.path)])
            source_of[mid] = source
            found.append(base)
    return found, source_of


@runtime_checkable
class MigrationSource(Protocol):
    """Lists migrations (``discover``) and turns one into something runnable (``load``)."""

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        """Every migration of the source; must not import or run migration code."""
        ...

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        """The runnable migration for ``base`` (one this source discovered)."""
        ...


class DirectorySource:
    """The ``<version>_<slug>.py|.sql`` files of one or more migrations directories."""

    def __init__(self, directories: Sequence[str | os.PathLike[str]]) -> None:
        self.directories = [os.fspath(d) for d in directories]

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        return discover(self.directories, dialect) if self.directories else []

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        return load_migration(base, dialect)

    def __repr__(self) -> str:
        return f"DirectorySource({self.directories!r})"

"""The errors of the Alembic layer: each one a :class:`uno_migrations.MigrationError` with its facts.

The command line prints them as one ``error: ...`` line, like every other error of uno-migrations.
"""

from __future__ import annotations

from collections.abc import Sequence

from uno_migrations.errors import DiscoveryError, DuplicateMigrationError, MigrationError


class DuplicateRevisionError(DuplicateMigrationError):
    """Two revision files declare the same ``revision`` id."""

    def __init__(self, revision: str, paths: Sequence[str]) -> None:
        super().__init__(revision, paths)
        self.args = (
            f"duplicate Alembic revision {revision!r} in {' and '.join(self.paths)}; "
            "give one of them a new revision id",
        )


class UnknownRevisionError(DiscoveryError):
    """A revision's ``down_revision`` or ``depends_on`` names a revision (or label) no file has."""

    def __init__(self, path: str, revision: str, field: str, reference: str) -> None:
        self.path = path
        self.revision = revision
        self.field = field
        self.reference = reference
        what = "revision or branch label" if field == "depends_on" else "revision"
        super().__init__(
            f"{path}: revision {revision!r} has {field} {reference!r}, an unknown {what}; "
            "restore the missing revision file or correct the reference"
        )


class BranchLabelError(DiscoveryError):
    """A branch label is declared twice, or is also the id of a revision."""

    def __init__(self, label: str, paths: Sequence[str]) -> None:
        self.label = label
        self.paths = tuple(paths)
        super().__init__(
            f"branch label {label!r} is used by more than one revision ({' and '.join(self.paths)}); "
            "rename one of them"
        )


class AdoptError(MigrationError):
    """A database cannot be adopted: its Alembic version table is missing or names unknown revisions.

    ``table`` is the Alembic version table read, ``revisions`` the unknown revision ids (if any).
    """

    def __init__(self, message: str, table: str, revisions: Sequence[str] = ()) -> None:
        self.table = table
        self.revisions = tuple(revisions)
        super().__init__(message)

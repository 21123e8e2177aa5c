"""What the library returns: run reports, per-migration states, problems, progress events."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from ..files.migration import Migration, Phase, SQLMigration
from .attempt import Direction

if TYPE_CHECKING:
    from .offline import OfflineScript

#: What a :class:`MigrationEvent` says happened.
EventKind = Literal["start", "done", "skip", "fail", "wait", "retry"]
#: What a run did with a migration: ran it (``apply``/``revert``), only recorded it (``mark``/
#: ``unmark``, with ``--fake``), or, in a dry run, planned it.
RunAction = Literal["apply", "revert", "mark", "unmark", "plan"]


class MigrationStatus(str, enum.Enum):
    """Where a migration stands in a database: the values of :attr:`MigrationState.status`.

    Members are strings (``MigrationStatus.APPLIED == "applied"``) and print as their value.
    """

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    MODIFIED = "modified"
    MISSING = "missing"
    INVALID = "invalid"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


@dataclass(frozen=True)
class MigrationEvent:
    """Progress of a run, for a listener (the CLI prints these as they come).

    ``kind`` is ``"start"``, ``"done"``, ``"skip"`` (another process applied it first) or
    ``"fail"``; ``total`` is how many migrations the run will process. ``"wait"`` is for a run
    waiting for the run lock (``holder``: who holds it, when known; ``migration_id`` empty): the
    CLI prints it. ``"retry"``: the migration timed out waiting for a lock and is tried again
    in ``execution_ms`` milliseconds, its attempt number ``attempt`` having failed (``holder``:
    a session it waited behind, when known).
    """

    kind: EventKind
    migration_id: str
    direction: Direction
    index: int
    total: int
    execution_ms: int | None = None
    holder: str | None = None
    attempt: int | None = None


@dataclass(frozen=True)
class MigrationRun:
    """One migration a run applied, reverted, marked or (with ``dry_run``) would have."""

    id: str
    name: str
    direction: Direction
    action: RunAction
    execution_ms: int = 0
    statements: tuple[str, ...] | None = None
    kind: str = ""


@dataclass
class RunReport:
    """The result of ``migrate`` or ``rollback``."""

    direction: Direction
    dry_run: bool = False
    runs: list[MigrationRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: With ``sql=True``: the plan written out as a script (an :class:`~.offline.OfflineScript`).
    script: OfflineScript | None = None
    #: With ``phase="pre"``: the pending post-deploy migration the run stopped before, left
    #: with those after it for ``phase="post"``; None when nothing was left for later.
    stopped_before: str | None = None

    @property
    def ids(self) -> list[str]:
        return [run.id for run in self.runs]

    @property
    def execution_ms(self) -> int:
        return sum(run.execution_ms for run in self.runs)


@dataclass(frozen=True)
class MigrationState:
    """One line of ``status``.

    ``status`` is ``applied``, ``pending``, ``failed``, ``modified`` (applied, but the file
    changed since), ``missing`` (applied, but no file has this id any more) or ``invalid`` (the
    file does not parse; ``problem`` says why). ``phase`` is the file's deploy phase,
    ``pre-deploy`` or ``post-deploy`` (None for a ``missing`` migration: no file says).
    """

    id: str
    name: str
    kind: str
    status: MigrationStatus
    path: str | None = None
    description: str = ""
    dependencies: tuple[str, ...] = ()
    out_of_order: bool = False
    applied_at: datetime | None = None
    execution_ms: int | None = None
    checksum: str | None = None
    applied_checksum: str | None = None
    statements_done: int | None = None
    problem: str | None = None
    phase: Phase | None = None


@dataclass(frozen=True)
class Problem:
    """A finding of ``verify``: a modified or missing applied migration, or a failed one."""

    migration_id: str
    kind: str
    path: str | None
    message: str


def planned_run(migration: Migration, direction: Direction) -> MigrationRun:
    statements: tuple[str, ...] | None = None
    if isinstance(migration, SQLMigration):
        chosen = migration.up_statements if direction == "up" else migration.down_statements or []
        statements = tuple(s.text for s in chosen)
    return MigrationRun(
        migration.id, migration.base.name, direction, "plan", 0, statements, migration.base.kind
    )

"""What ``status`` and ``verify`` report: each migration's state from files and version rows.

Pure: the caller passes the rows it read and a function giving a migration's current checksum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import ChecksumMismatchError
from ..files.migration import Migration, MigrationBase
from ..files.planning import MigrationPlan, out_of_order
from .records import AppliedMigration
from .report import MigrationState, MigrationStatus, Problem

PROBLEMS = {
    "modified": "changed since it was applied",
    "missing": "applied, but its file is missing",
    "failed": "failed part-way; see 'migrate --resume' or 'repair'",
}


def current_checksum(load: Callable[[MigrationBase], Migration]) -> Callable[[MigrationBase], str]:
    """The checksum of a migration now: discovery's, except for a class that overrides
    ``get_checksum()``, which ``load`` has to import."""

    def checksum_of(base: MigrationBase) -> str:
        return load(base).base.checksum if base.custom_checksum else base.checksum

    return checksum_of


def refuse_modified(states: list[MigrationState]) -> None:
    """Stop a run when an applied migration's file changed since it was applied."""
    modified = [(s.id, s.path or s.id) for s in states if s.status == MigrationStatus.MODIFIED]
    if modified:
        raise ChecksumMismatchError(modified)


def migration_states(
    plan: MigrationPlan,
    applied: Mapping[str, AppliedMigration],
    checksum_of: Callable[[MigrationBase], str],
) -> list[MigrationState]:
    """Files in plan order, then applied ids that no file has any more (``missing``).

    A pending or applied file that discovery could not parse (``MigrationBase.problem``) is
    ``invalid``; a modified or failed one keeps that status, which says more.
    """
    late = out_of_order(plan, [mid for mid, row in applied.items() if row.status == "applied"])
    states = []
    for base in plan.migrations:
        mid = str(base.id)
        row = applied.get(mid)
        current = base.checksum
        if row is None:
            status = MigrationStatus.PENDING
        elif row.status == "failed":
            status = MigrationStatus.FAILED
        else:
            current = checksum_of(base)
            status = MigrationStatus.APPLIED if current == row.checksum else MigrationStatus.MODIFIED
        if base.problem is not None and status in ("pending", "applied"):
            status = (
                MigrationStatus.INVALID
            )  # the file does not parse: migrate (or rollback) would stop on it
        states.append(_state(base, status, row, current, mid in late))
    for mid, row in applied.items():
        if mid not in plan.position:
            states.append(
                MigrationState(
                    id=mid,
                    name=row.name,
                    kind=row.kind,
                    # A failed attempt stays failed without its file: 'repair' forgets it.
                    status=MigrationStatus.FAILED if row.status == "failed" else MigrationStatus.MISSING,
                    statements_done=row.statements_done,
                    description=row.description,
                    applied_at=row.applied_at,
                    execution_ms=row.execution_ms,
                    applied_checksum=row.checksum,
                )
            )
    return states


def problems(states: list[MigrationState]) -> list[Problem]:
    """The states ``verify`` complains about."""
    return [
        Problem(state.id, state.status, state.path, PROBLEMS[state.status])
        for state in states
        if state.status in PROBLEMS
    ]


def _state(
    base: MigrationBase, status: MigrationStatus, row: AppliedMigration | None, current: str, late: bool
) -> MigrationState:
    return MigrationState(
        id=str(base.id),
        name=base.name,
        kind=base.kind,
        status=status,
        path=base.path,
        description=base.description,
        dependencies=tuple(base.dependencies),
        out_of_order=late,
        applied_at=row.applied_at if row else None,
        execution_ms=row.execution_ms if row else None,
        checksum=current,
        applied_checksum=row.checksum if row else None,
        statements_done=row.statements_done if row else None,
        problem=base.problem if status == "invalid" else None,
        phase=base.phase,
    )

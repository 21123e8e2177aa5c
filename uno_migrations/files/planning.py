"""Pure planning: order migrations by dependencies and version, choose what to apply or revert.

No I/O here. Ordering is Kahn's algorithm with a heap keyed by (version, id): deterministic,
O(n log n + e) for n migrations and e dependencies.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import (
    DependencyCycleError,
    MigrationError,
    PlanningError,
    UnknownDependencyError,
    UnknownMigrationError,
)
from .migration import POST_DEPLOY, MigrationBase

#: What ``migrate --phase`` runs: ``pre`` before the new code ships, ``post`` after it.
RunPhase = Literal["pre", "post"]
RUN_PHASES: tuple[RunPhase, ...] = ("pre", "post")


@dataclass(frozen=True)
class MigrationPlan:
    """All migrations in the order they apply, with each id's position."""

    migrations: tuple[MigrationBase, ...]
    position: Mapping[str, int]

    def __len__(self) -> int:
        return len(self.migrations)

    def get(self, migration_id: str) -> MigrationBase | None:
        index = self.position.get(migration_id)
        return None if index is None else self.migrations[index]

    def resolve(self, reference: str, extra: Iterable[str] = ()) -> str:
        """The id that ``reference`` names: the id itself or a unique prefix of one."""
        return resolve_reference(reference, sorted({*self.position, *extra}))


def order(migrations: Sequence[MigrationBase]) -> MigrationPlan:
    """Order ``migrations`` so that each comes after its dependencies, else by (version, id)."""
    by_id = {m.id: m for m in migrations if m.id is not None}
    dependents: dict[str, list[str]] = {mid: [] for mid in by_id}
    waiting: dict[str, int] = {}
    for m in by_id.values():
        deps = set(m.dependencies)
        for dep in deps:
            if dep not in by_id:
                raise UnknownDependencyError(str(m.id), dep)
            dependents[dep].append(str(m.id))
        waiting[str(m.id)] = len(deps)

    def key(mid: str) -> tuple[int, str]:
        return (by_id[mid].version or 0, mid)

    ready = [key(mid) for mid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[MigrationBase] = []
    while ready:
        _, mid = heapq.heappop(ready)
        ordered.append(by_id[mid])
        for child in dependents[mid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, key(child))
    if len(ordered) != len(by_id):
        left = {mid for mid, count in waiting.items() if count > 0}
        raise DependencyCycleError(_find_cycle(left, by_id))
    return MigrationPlan(tuple(ordered), {str(m.id): i for i, m in enumerate(ordered)})


def _find_cycle(left: set[str], by_id: Mapping[str, MigrationBase]) -> list[str]:
    """One cycle among the ids Kahn's algorithm could not place, smallest id first."""
    start = min(left)
    path: list[str] = []
    seen: dict[str, int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        current = min(dep for dep in by_id[current].dependencies if dep in left)
    cycle = path[seen[current] :]
    return [*cycle, cycle[0]]


def resolve_reference(reference: str, sorted_ids: Sequence[str]) -> str:
    """Exact id, else the one id starting with ``reference``; errors name the candidates."""
    index = bisect.bisect_left(sorted_ids, reference)
    if index < len(sorted_ids) and sorted_ids[index] == reference:
        return reference
    matches: list[str] = []
    for candidate in sorted_ids[index:]:
        if not candidate.startswith(reference):
            break
        matches.append(candidate)  # all of them: the error names five and counts the rest
    if len(matches) == 1 and reference:
        return matches[0]
    raise UnknownMigrationError(reference, matches if reference else ())


def _check_count(steps: int | None) -> None:
    if steps is not None and steps < 1:
        raise MigrationError(f"--steps must be a positive number, got {steps}")


def plan_migrate(
    plan: MigrationPlan,
    applied: Iterable[str],
    target: str | None = None,
    steps: int | None = None,
) -> list[MigrationBase]:
    """Pending migrations to apply, in order: all, up to and including ``target``, or ``steps``."""
    _check_count(steps)
    done = set(applied)
    candidates = plan.migrations
    if target is not None:
        target_id = plan.resolve(target)
        candidates = candidates[: plan.position[target_id] + 1]
    pending = [m for m in candidates if m.id not in done]
    if target is not None and target_id in done:
        later = next((m.id for m in plan.migrations[plan.position[target_id] + 1 :] if m.id in done), None)
        if later is not None:
            raise PlanningError(
                f"cannot migrate to {target_id}: it is applied, and so is {later} after it; "
                f"use 'rollback --target {target_id}' to go back to it"
            )
    if steps is not None and len(pending) < steps:
        raise PlanningError(f"cannot apply {_count(steps)}: only {_are(len(pending))} pending")
    return pending[:steps] if steps is not None else pending


def check_phase(phase: str | None) -> None:
    """Refuse a run phase other than ``pre``, ``post`` or None (every migration)."""
    if phase is not None and phase not in RUN_PHASES:
        raise MigrationError(f"phase must be 'pre' or 'post', not {phase!r}")


def plan_phase(
    pending: Sequence[MigrationBase], phase: str | None
) -> tuple[list[MigrationBase], MigrationBase | None]:
    """What a run of ``phase`` applies of ``pending`` (in plan order), and the migration it
    stopped before, if any.

    ``pre`` stops before the first post-deploy migration: the pre-deploy ones after it wait
    too, since the plan's order is never broken. ``post`` (after the deploy) and None apply all.
    """
    if phase == "pre":
        for index, base in enumerate(pending):
            if base.phase == POST_DEPLOY:
                return list(pending[:index]), base
    return list(pending), None


def _count(n: int) -> str:
    return f"{n} migration{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return f"{n} {'is' if n == 1 else 'are'}"


def plan_rollback(
    plan: MigrationPlan,
    applied_order: Sequence[str],
    *,
    steps: int | None = None,
    target: str | None = None,
    everything: bool = False,
) -> list[str]:
    """Applied ids to revert, newest first (so dependents go before what they depend on).

    ``applied_order`` lists applied ids oldest first. Each migration was applied after its
    dependencies, so the reverse of that order is always safe.
    """
    _check_count(steps)
    chosen = sum(x is not None and x is not False for x in (steps, target, everything or None))
    if chosen > 1:
        raise MigrationError("give only one of steps, target or all")
    newest_first = list(reversed(applied_order))
    if everything:
        return newest_first
    if target is not None:
        target_id = plan.resolve(target, applied_order)
        limit = plan.position.get(target_id)
        if limit is None:
            raise UnknownMigrationError(target)
        if target_id not in applied_order:
            raise PlanningError(f"cannot roll back to {target_id}: it is not applied")
        return [mid for mid in newest_first if plan.position.get(mid, len(plan)) > limit]
    if steps is not None and len(newest_first) < steps:
        raise PlanningError(f"cannot roll back {_count(steps)}: only {_are(len(newest_first))} applied")
    return newest_first[: steps if steps is not None else 1]


def out_of_order(plan: MigrationPlan, applied: Iterable[str]) -> set[str]:
    """Pending ids that come before an applied migration in the plan (merged late)."""
    done = set(applied)
    last = max((plan.position[mid] for mid in done if mid in plan.position), default=-1)
    if last < 0:
        return set()
    return {str(m.id) for m in plan.migrations[:last] if m.id not in done}

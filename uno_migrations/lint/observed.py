"""What ``lint --observe`` saw (:mod:`.observe`), as findings at the lines of the statements.

Every statement observed gets an ``observed-locks`` finding (info): the table locks it took.
One that rewrote a table the migration found is ``observed-rewrite`` (a warning); one that
rebuilt an index, or rewrote a table made by its own migration, ``observed-rebuild`` (info).
What could not be seen (locks the server does not show, a table left empty) is
``not-observed``; a migration that failed with rows in its tables, ``fails-on-scratch``.
"""

from __future__ import annotations

from .findings import Finding, LintReport
from .observe import MigrationObserved, Observed, PlanObserved
from .statements import read_sent, read_sql

Where = tuple[int | None, int | None]


def _path(observed: MigrationObserved) -> str:
    base = observed.migration.base
    return str(base.path) if base.path is not None else str(base.id)


def _places(observed: MigrationObserved, engine: str) -> list[Where]:
    """Where each observed statement is in its file, in the order observed."""
    base = observed.migration.base
    if base.path is None:
        return [(None, None)] * len(observed.statements)
    if base.kind == "sql":
        split = [s for s in read_sql(str(base.path), engine).statements if not s.dropped]
        return [
            (split[s.index].line, split[s.index].column)
            if s.index is not None and s.index < len(split)
            else (None, None)
            for s in observed.statements
        ]
    texts = [s.text for s in observed.statements if s.index is None and s.text]
    found = iter(read_sent(str(base.path), engine, base.transactional, texts).statements)
    places: list[Where] = []
    for statement in observed.statements:
        sent = next(found) if statement.index is None and statement.text else None
        places.append((None, None) if sent is None else (sent.line, sent.column))
    return places


def _locks(statement: Observed) -> str:
    if not statement.locks:
        return "took no table lock its session did not hold already"
    modes: dict[str, list[str]] = {}
    for table, mode in statement.locks:
        modes.setdefault(table, []).append(mode)
    return "took " + ", ".join(f"{' and '.join(found)} on {table}" for table, found in modes.items())


def _rewrite(statement: Observed, existing: set[str], storage: str) -> tuple[str, str] | None:
    """The rule and message of what ``statement`` rewrote, if anything."""
    tables = [name for name, kind in statement.rewritten if kind == "table"]
    indexes = [name for name, kind in statement.rewritten if kind == "index"]
    parts = []
    old = [name for name in tables if name in existing]
    new = [name for name in tables if name not in existing]
    if old:
        parts.append(f"rewrote {', '.join(old)} (its {storage} changed), which existed before this migration")
    if new:
        parts.append(f"rewrote {', '.join(new)}, made by this migration (its {storage} changed)")
    if indexes:
        parts.append(f"rebuilt the index{'es' if len(indexes) > 1 else ''} {', '.join(indexes)}")
    if not parts:
        return None
    return ("observed-rewrite" if old else "observed-rebuild"), "; ".join(parts)


def _migration(observed: MigrationObserved, seen: PlanObserved) -> list[Finding]:
    path = _path(observed)
    found = [
        Finding("not-observed", path, None, None, "", f"{table} was left empty: {why}")
        for table, why in observed.unfilled.items()
    ]
    for statement, (line, column) in zip(observed.statements, _places(observed, seen.engine), strict=True):
        first = statement.text.strip().split("\n", 1)[0].strip()
        if seen.locks_unseen is None and statement.text:
            found.append(Finding("observed-locks", path, line, column, first, _locks(statement)))
        rewrite = _rewrite(statement, observed.existing, seen.storage_name or "storage")
        if rewrite is not None:
            found.append(Finding(rewrite[0], path, line, column, first, rewrite[1]))
    failure = observed.failure
    if failure is not None:
        failed = (failure.statement or "").strip().split("\n", 1)[0].strip()
        message = f"failed on the scratch database, with rows in its tables: {failure.message}"
        found.append(Finding("fails-on-scratch", path, failure.line, None, failed, message))
    return found


def observed_findings(seen: PlanObserved) -> list[Finding]:
    """The findings of what was seen, migration by migration in plan order; first, what the
    server could not show."""
    if not seen.migrations:
        return []
    first = _path(seen.migrations[0])
    found = []
    if seen.locks_unseen is not None:
        found.append(
            Finding("not-observed", first, None, None, "", f"locks not observed: {seen.locks_unseen}")
        )
    if seen.storage_name is None:
        found.append(
            Finding(
                "not-observed",
                first,
                None,
                None,
                "",
                "rewrites not observed: the engine shows no storage ids",
            )
        )
    for observed in seen.migrations:
        found += _migration(observed, seen)
    return found


def add_observed(report: LintReport, seen: PlanObserved) -> LintReport:
    """``report`` with the findings of what was seen among its own: file by file in plan order,
    each file's by line (the rules' first where both are on one line)."""
    plan_order = {_path(observed): rank for rank, observed in enumerate(seen.migrations)}
    findings = report.findings + observed_findings(seen)
    later = len(plan_order)
    for finding in findings:
        if finding.path not in plan_order:
            plan_order[finding.path] = later = later + 1
    findings.sort(key=lambda f: (plan_order[f.path], f.line or 0, f.column or 0))
    return LintReport(findings, report.files)

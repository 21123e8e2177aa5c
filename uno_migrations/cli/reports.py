"""The reports of ``status``, ``history``, ``info`` and ``verify``, and every ``--json`` document.

Each command's data is one function for the table and one for the document; docs/cli.md describes
the documents' shape, which is stable: fields are added, never renamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from .output import STATUS_COLOURS, echo, iso, plural, shorten, table, when

if TYPE_CHECKING:
    from ..files.migration import Migration, MigrationBase
    from ..runtime.records import LogEntry
    from ..runtime.report import MigrationState, Problem, RunReport

# -- status, history, info, verify -------------------------------------------------------------


def status_label(state: MigrationState) -> str:
    return f"{state.status} (out of order)" if state.out_of_order else state.status


def status_table(url: str, states: Sequence[MigrationState], missing: str | None = None) -> None:
    """The ``status`` table; ``missing`` names an SQLite file that does not exist yet."""
    echo(f"Database: {url}")
    if not states:
        echo("No migrations found")
        return
    echo()
    rows = [[s.id, status_label(s), when(s.applied_at), shorten(s.name)] for s in states]
    headers = ["ID", "STATUS", "APPLIED AT", "NAME"]
    if _phased(s.phase for s in states):
        headers.insert(2, "PHASE")
        for row, s in zip(rows, states, strict=True):
            row.insert(2, s.phase or "-")
    table(
        headers,
        rows,
        lambda column, text: STATUS_COLOURS.get(text.split()[0]) if column == 1 else None,
    )
    counts: dict[str, int] = {}
    for state in states:
        counts[state.status] = counts.get(state.status, 0) + 1
    order = ("applied", "pending", "failed", "modified", "missing", "invalid")
    echo()
    summary = ", ".join(f"{counts[name]} {name}" for name in order if name in counts)
    echo(f"{summary} ({missing} does not exist yet)" if missing else summary)


def history_table(url: str, entries: Sequence[LogEntry]) -> None:
    echo(f"Database: {url}")
    if not entries:
        echo("No history yet")
        return
    echo()
    rows = [
        (
            str(e.seq),
            when(e.at),
            e.action,
            e.migration_id,
            "-" if e.execution_ms is None else f"{e.execution_ms} ms",
            e.actor,
        )
        for e in entries
    ]
    table(("SEQ", "AT", "ACTION", "MIGRATION", "TIME", "ACTOR"), rows)


def _phased(phases: Iterable[str | None]) -> bool:
    """Whether a table shows a PHASE column: only when some migration is post-deploy, so the
    tables of a project without deploy phases stay as they were."""
    return any(phase == "post-deploy" for phase in phases)


def info_table(migrations: Sequence[MigrationBase]) -> None:
    if not migrations:
        echo("No migrations found")
        return
    rows = [[str(m.id), m.kind, ", ".join(m.dependencies) or "-", m.name] for m in migrations]
    headers = ["ID", "KIND", "DEPENDS ON", "NAME"]
    if _phased(m.phase for m in migrations):
        headers.insert(2, "PHASE")
        for row, m in zip(rows, migrations, strict=True):
            row.insert(2, m.phase)
    table(headers, rows)


def info_detail(base: MigrationBase, loaded: Migration | None, dialect: str) -> None:
    """One migration in full; ``loaded`` is the parsed SQL script (or loaded class), if any."""
    meta = loaded.base if loaded is not None else base
    echo(str(meta.id), bold=True)
    fields = [
        ("name", meta.name),
        ("description", meta.description or "-"),
        ("kind", meta.kind),
        ("path", meta.path or "-"),
        ("dependencies", ", ".join(meta.dependencies) or "-"),
        ("tags", ", ".join(meta.tags) or "-"),
        ("checksum", meta.checksum),
        ("transactional", "yes" if meta.transactional else "no"),
        ("reversible", "yes" if meta.reversible else "no"),
    ]
    # Shown when set, so that the details of a migration without them stay as they were.
    if meta.phase == "post-deploy":
        fields.append(("phase", meta.phase))
    if meta.lock_timeout is not None:
        fields.append(("lock timeout", f"{meta.lock_timeout:g} s"))
    for label, value in fields:
        echo(f"  {label + ':':<15}{value}")
    for title, statements in _sections(loaded) or ():
        echo()
        if statements is None:
            echo(f"{title}: none (irreversible)")
            continue
        echo(f"{title} ({plural(len(statements), 'statement')}, split for {dialect}):")
        for line_number, text in statements:
            echo(f"  -- line {line_number}", dim=True)
            for line in f"{text};".splitlines():
                echo(f"  {line}".rstrip())


def _sections(loaded: Migration | None) -> list[tuple[str, list[tuple[int, str]] | None]] | None:
    """("Up", [(line, sql)...]) and ("Down", ... or None) of an SQL migration; else None."""
    from ..files.migration import SQLMigration

    if not isinstance(loaded, SQLMigration):
        return None
    up_offset, down_offset = loaded.line_offsets
    sections = [("Up", loaded.up_statements, up_offset), ("Down", loaded.down_statements, down_offset)]
    return [
        (
            title,
            None if statements is None else [((offset or 1) + s.line - 1, s.text) for s in statements],
        )
        for title, statements, offset in sections
    ]


def problems(found: Sequence[Problem]) -> None:
    for problem in found:
        where = f" ({problem.path})" if problem.path else ""
        echo(f"{click.style(problem.kind, fg='red')}  {problem.migration_id}{where}: {problem.message}")


# -- JSON documents: {"command", "database", <the command's data>, "error"} -------------------


def document(command: str, database: str | None) -> dict[str, Any]:
    """The head of every ``--json`` document; the command's fields follow, then ``error``."""
    return {"command": command, "database": database}


def status_fields(states: Sequence[MigrationState]) -> dict[str, Any]:
    return {
        "migrations": [
            {
                "id": s.id,
                "name": s.name,
                "description": s.description,
                "kind": s.kind,
                "status": s.status,
                "out_of_order": s.out_of_order,
                "applied_at": iso(s.applied_at),
                "execution_ms": s.execution_ms,
                "statements_done": s.statements_done,
                "checksum": s.checksum if s.checksum is not None else s.applied_checksum,
                "path": s.path,
                "problem": s.problem,
                "phase": s.phase,
            }
            for s in states
        ]
    }


def history_fields(entries: Sequence[LogEntry]) -> dict[str, Any]:
    return {
        "entries": [
            {
                "seq": e.seq,
                "migration_id": e.migration_id,
                "action": e.action,
                "at": iso(e.at),
                "execution_ms": e.execution_ms,
                "checksum": e.checksum,
                "actor": e.actor,
            }
            for e in entries
        ]
    }


def run_fields(report: RunReport, fake: bool, elapsed_ms: int, failed: str | None = None) -> dict[str, Any]:
    """What ``migrate`` and ``rollback`` did (or, with ``dry_run``, would do)."""
    return {
        "direction": report.direction,
        "dry_run": report.dry_run,
        "fake": fake,
        "runs": [
            {
                "id": run.id,
                "name": run.name,
                "kind": run.kind,
                "direction": run.direction,
                "action": run.action,
                "ms": run.execution_ms,
                "statements": None if run.statements is None else list(run.statements),
            }
            for run in report.runs
        ],
        "skipped": list(report.skipped),
        "failed": failed,
        "stopped_before": report.stopped_before,
        "elapsed_ms": elapsed_ms,
    }


def info_fields(entries: Sequence[tuple[MigrationBase, Migration | None]], dialect: str) -> dict[str, Any]:
    """Every migration (``loaded`` None), or one in detail with its SQL statements."""

    def statements(loaded: Migration | None) -> dict[str, Any] | None:
        sections = _sections(loaded)
        if sections is None:
            return None
        split = {
            title.lower(): None if found is None else [{"line": line, "sql": sql} for line, sql in found]
            for title, found in sections
        }
        return {"split_for": dialect, **split}

    migrations = []
    for base, loaded in entries:
        meta = loaded.base if loaded is not None else base
        migrations.append(
            {
                "id": str(meta.id),
                "name": meta.name,
                "description": meta.description,
                "kind": meta.kind,
                "path": meta.path,
                "dependencies": list(meta.dependencies),
                "tags": list(meta.tags),
                "checksum": meta.checksum,
                "transactional": meta.transactional,
                "reversible": meta.reversible,
                "phase": meta.phase,
                "lock_timeout": meta.lock_timeout,
                "statements": statements(loaded),
            }
        )
    return {"migrations": migrations}


def verify_fields(
    count: int, found: Sequence[Problem], applied: int | None = None, pending: int | None = None
) -> dict[str, Any]:
    return {
        "migrations": count,
        "applied": applied,
        "pending": pending,
        "problems": [
            {"id": p.migration_id, "status": p.kind, "path": p.path, "message": p.message} for p in found
        ],
    }

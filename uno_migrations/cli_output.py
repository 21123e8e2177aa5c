"""Rendering for the command line: progress lines, tables, JSON documents, errors and logging.

Everything printed goes through :func:`click.echo`, which drops colours when the stream is not
a terminal. Nothing here touches a database.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .migration import Migration, MigrationBase
    from .report import MigrationEvent, MigrationState, Problem, RunReport
    from .version_table import LogEntry

_log = logging.getLogger("uno_migrations.cli")

#: More migrations than this in one run, on a terminal, show a progress bar instead of lines.
PROGRESS_THRESHOLD = 20

_STATUS_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "failed": "red",
    "modified": "red",
    "missing": "magenta",
}
_VERBS = {
    ("up", False): ("Applying", "Applied"),
    ("up", True): ("Marking", "Marked"),
    ("down", False): ("Reverting", "Reverted"),
    ("down", True): ("Unmarking", "Unmarked"),
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def when(value: datetime | None) -> str:
    """A timestamp for tables: UTC, to the second."""
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).isoformat(" ", "seconds")[:19] + " UTC"


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _styled() -> bool:
    """Whether click.echo keeps colours on stdout (asked the way click.echo asks it)."""
    strip: Callable[[Any, bool | None], bool] | None = getattr(click.utils, "should_strip_ansi", None)
    if strip is None:
        return True
    return not strip(sys.stdout, click.globals.resolve_color_default())


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    colour: Callable[[int, str], str | None] | None = None,
) -> None:
    """Print aligned columns; ``colour(column, text)`` may name a colour for a cell."""
    body = [list(row) for row in rows]
    if colour is not None and not _styled():
        colour = None  # click would strip the colours again, line by line
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *body, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in body:
        cells = []
        for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = cell.ljust(width) if index < len(row) - 1 else cell
            fg = colour(index, cell) if colour else None
            cells.append(click.style(padded, fg=fg) if fg else padded)
        lines.append("  ".join(cells).rstrip())
    # One write for the whole table: ten thousand rows print in milliseconds.
    click.echo("\n".join(lines))


# -- migrate and rollback ----------------------------------------------------------------------


class RunPrinter:
    """A :class:`Migrator` listener: ``Applying <id> ... 12 ms``, one line per migration, or a
    progress bar when a run on a terminal has more than :data:`PROGRESS_THRESHOLD` migrations.

    The line is begun when a migration starts, so a slow one shows what is running. With
    ``verbose`` (log records going to stderr meanwhile) the start is logged instead and the
    whole line printed at the end, so log lines never land in the middle of it.
    """

    def __init__(
        self,
        direction: str,
        fake: bool,
        *,
        quiet: bool = False,
        verbose: bool = False,
        tty: bool | None = None,
    ) -> None:
        self.doing, self.done = _VERBS[(direction, fake)]
        self.direction = direction
        self.quiet = quiet
        self.verbose = verbose
        self.tty = sys.stdout.isatty() if tty is None else tty
        self._bar: Any = None
        self._line_open = False

    def __call__(self, event: MigrationEvent) -> None:
        if self.quiet:
            return
        if event.kind == "start":
            if self._bar is None and self.tty and event.total > PROGRESS_THRESHOLD:
                self._bar = click.progressbar(
                    length=event.total, label=self.doing, show_pos=True, item_show_func=lambda item: item
                )
                self._bar.__enter__()
            if self.verbose:
                _log.info("%s %s", self.doing, event.migration_id)
            elif self._bar is None:
                click.echo(f"{self.doing} {event.migration_id} ... ", nl=False)
                self._line_open = True
            return
        if self._bar is not None:
            self._bar.update(1, current_item=event.migration_id)
            if event.kind == "fail":
                self.close()
                click.secho(f"{self.doing} {event.migration_id} ... failed", fg="red")
            return
        if not self._line_open:
            click.echo(f"{self.doing} {event.migration_id} ... ", nl=False)
        if event.kind == "done":
            click.secho(f"{event.execution_ms} ms", fg="green")
        elif event.kind == "skip":
            other = "applied" if self.direction == "up" else "reverted"
            click.secho(f"skipped ({other} by another run)", fg="yellow")
        else:
            click.secho("failed", fg="red")
        self._line_open = False

    def close(self) -> None:
        """End the progress bar or an unfinished line (a run stopped by an exception)."""
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(None, None, None)
        elif self._line_open:
            click.echo()
            self._line_open = False


def run_summary(report: RunReport, fake: bool, elapsed_ms: int) -> None:
    if not report.runs and not report.skipped:
        click.echo("Nothing to migrate" if report.direction == "up" else "Nothing to roll back")
        return
    done = _VERBS[(report.direction, fake)][1]
    if report.runs:
        line = f"{done} {plural(len(report.runs), 'migration')} in {elapsed_ms} ms"
        if fake:
            line += " (fake: recorded only, nothing ran)"
        click.secho(line, fg="green", bold=True)
    if report.skipped:
        other = "applied" if report.direction == "up" else "reverted"
        click.echo(f"{plural(len(report.skipped), 'migration')} {other} by another run meanwhile")


def dry_run(report: RunReport) -> None:
    """The plan of a ``--dry-run``, with the statements of SQL migrations."""
    if not report.runs:
        click.echo("Nothing to migrate" if report.direction == "up" else "Nothing to roll back")
    else:
        verb = "apply" if report.direction == "up" else "revert"
        click.echo(f"Would {verb} {plural(len(report.runs), 'migration')}:")
        for number, run in enumerate(report.runs, 1):
            click.echo(f"  {number}. {click.style(run.id, bold=True)} ({run.kind})")
            if run.statements is not None:
                if not run.statements:
                    click.echo("       -- no statements")
                for statement in run.statements:
                    for line in f"{statement};".splitlines():
                        click.echo(f"       {line}".rstrip())
    click.echo("Dry run: nothing was changed.")


# -- status, history, info, verify -------------------------------------------------------------


def status_label(state: MigrationState) -> str:
    return f"{state.status} (out of order)" if state.out_of_order else state.status


def status_table(url: str, states: Sequence[MigrationState]) -> None:
    click.echo(f"Database: {url}")
    if not states:
        click.echo("No migrations found")
        return
    click.echo()
    rows = [(s.id, status_label(s), when(s.applied_at)) for s in states]
    table(
        ("ID", "STATUS", "APPLIED AT"),
        rows,
        lambda column, text: _STATUS_COLOURS.get(text.split()[0]) if column == 1 else None,
    )
    counts: dict[str, int] = {}
    for state in states:
        counts[state.status] = counts.get(state.status, 0) + 1
    order = ("applied", "pending", "failed", "modified", "missing")
    click.echo()
    click.echo(", ".join(f"{counts[name]} {name}" for name in order if name in counts))


def status_document(url: str, states: Sequence[MigrationState]) -> dict[str, Any]:
    return {
        "database": url,
        "migrations": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "status": s.status,
                "out_of_order": s.out_of_order,
                "applied_at": iso(s.applied_at),
                "execution_ms": s.execution_ms,
                "checksum": s.checksum if s.checksum is not None else s.applied_checksum,
                "path": s.path,
            }
            for s in states
        ],
    }


def history_table(url: str, entries: Sequence[LogEntry]) -> None:
    click.echo(f"Database: {url}")
    if not entries:
        click.echo("No history yet")
        return
    click.echo()
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


def history_document(url: str, entries: Sequence[LogEntry]) -> dict[str, Any]:
    return {
        "database": url,
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
        ],
    }


def info_table(migrations: Sequence[MigrationBase]) -> None:
    if not migrations:
        click.echo("No migrations found")
        return
    rows = [(str(m.id), m.kind, ", ".join(m.dependencies) or "-", m.name) for m in migrations]
    table(("ID", "KIND", "DEPENDS ON", "NAME"), rows)


def info_detail(base: MigrationBase, loaded: Migration | None, dialect: str) -> None:
    """One migration in full; ``loaded`` is the parsed SQL script (or loaded class), if any."""
    from .migration import SQLMigration

    meta = loaded.base if loaded is not None else base
    click.secho(str(meta.id), bold=True)
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
    for label, value in fields:
        click.echo(f"  {label + ':':<15}{value}")
    if not isinstance(loaded, SQLMigration):
        return
    up_offset, down_offset = loaded.line_offsets
    sections = [("Up", loaded.up_statements, up_offset), ("Down", loaded.down_statements, down_offset)]
    for title, statements, offset in sections:
        click.echo()
        if statements is None:
            click.echo(f"{title}: none (irreversible)")
            continue
        click.echo(f"{title} ({plural(len(statements), 'statement')}, split for {dialect}):")
        for statement in statements:
            click.secho(f"  -- line {(offset or 1) + statement.line - 1}", dim=True)
            for line in f"{statement.text};".splitlines():
                click.echo(f"  {line}".rstrip())


def problems(found: Sequence[Problem]) -> None:
    for problem in found:
        where = f" ({problem.path})" if problem.path else ""
        click.echo(f"{click.style(problem.kind, fg='red')}  {problem.migration_id}{where}: {problem.message}")


# -- errors and logging ------------------------------------------------------------------------


def error(exc: BaseException, verbose: int) -> None:
    """``error: <message>`` on stderr, on one line; with ``-v`` the traceback first."""
    from .connection import mask_secrets
    from .errors import MigrationError

    if verbose:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        click.echo(mask_secrets(trace.rstrip()), err=True)
    message = str(exc) if isinstance(exc, MigrationError) else f"{type(exc).__name__}: {exc}"
    error_line(mask_secrets(message) if message.strip() else type(exc).__name__)


def error_line(message: str) -> None:
    """Print ``error: <message>`` on stderr, the message folded onto one line."""
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"{click.style('error:', fg='red', bold=True)} {one_line}", err=True)


class MaskingFilter(logging.Filter):
    """Hides URL passwords in every record a handler emits: message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .connection import mask_secrets

        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class _Formatter(logging.Formatter):
    def __init__(self, verbose: int) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        if not self.verbose:
            return text
        text = f"{self.formatTime(record, '%H:%M:%S')} {record.name} {text}"
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        return text


class LoggingSetup:
    """Log records to stderr for one command: warnings by default, errors only with ``-q``,
    INFO with ``-v``, DEBUG with ``-vv``, and the SQL logs (SQLAlchemy's and ``uno_migrations.sql``)
    too with ``-vvv``.
    """

    _LEVELS = {0: logging.WARNING, 1: logging.INFO}

    def __init__(self, verbose: int, quiet: bool) -> None:
        self.handler = logging.StreamHandler(sys.stderr)
        self.handler.addFilter(MaskingFilter())
        self.handler.setFormatter(_Formatter(verbose))
        level = self._LEVELS.get(verbose, logging.DEBUG)
        if quiet and not verbose:
            level = logging.ERROR
        self.levels: dict[str, int] = {"uno_migrations": level}
        # The version table's statements go to the driver directly: logged apart, with -vvv.
        self.levels["uno_migrations.sql"] = logging.DEBUG if verbose >= 3 else max(level, logging.WARNING)
        if verbose >= 3:
            self.levels["sqlalchemy.engine"] = logging.INFO
        self._saved: dict[str, int] = {}

    def __enter__(self) -> LoggingSetup:
        logging.getLogger().addHandler(self.handler)
        for name, level in self.levels.items():
            logger = logging.getLogger(name)
            self._saved[name] = logger.level
            logger.setLevel(level)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.handler)
        for name, level in self._saved.items():
            logging.getLogger(name).setLevel(level)

"""Rendering for the command line: progress lines, tables, JSON documents, errors and logging.

Everything printed goes through :func:`echo`: :func:`click.echo`, which drops colours when the
stream is not a terminal or when the command runs with ``NO_COLOR`` (see ``cli._Program``), and
which lets a reader that closed stdout early (``status | head``) end the output quietly. Nothing
here touches a database.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..files.migration import Migration, MigrationBase
    from ..runtime.report import MigrationEvent, MigrationState, Problem, RunReport
    from ..runtime.version_table import LogEntry

_log = logging.getLogger("uno_migrations.cli")

#: More migrations than this in one run, on a terminal, show a progress bar instead of lines.
PROGRESS_THRESHOLD = 20
#: Longer migration names are cut to this many characters in the ``status`` table.
NAME_WIDTH = 40

_STATUS_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "failed": "red",
    "modified": "red",
    "missing": "magenta",
    "invalid": "red",
}
_VERBS = {
    ("up", False): ("Applying", "Applied"),
    ("up", True): ("Marking", "Marked"),
    ("down", False): ("Reverting", "Reverted"),
    ("down", True): ("Unmarking", "Unmarked"),
}


def echo(text: str = "", *, nl: bool = True, err: bool = False, **style: Any) -> None:
    """``click.echo`` of ``text`` (styled with ``style``, e.g. ``fg="red"``).

    A closed stdout (the reader of a pipe went away) ends the output, not the command: the
    stream is pointed at the null device and the command goes on, so a run is never stopped
    half-way by its printing, and its exit code stays what the run makes it.
    """
    if style:
        text = click.style(text, **style)
    try:
        click.echo(text, nl=nl, err=err)
    except BrokenPipeError:
        discard_output(err)


def discard_output(err: bool = False) -> None:
    """Send what is still written to stdout (``err``: stderr) to the null device.

    On the file descriptor, so that the interpreter's last flush at exit finds somewhere to
    write and prints no "Exception ignored ... BrokenPipeError"; a stream without one (a test
    runner's) is left as it is.
    """
    stream = sys.stderr if err else sys.stdout
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def print_json(document: dict[str, Any], error: str | None = None) -> None:
    """A ``--json`` document, its ``error`` (None when the command succeeded) last."""
    echo(json.dumps({**document, "error": error}, indent=2))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def when(value: datetime | None) -> str:
    """A timestamp for tables: UTC, to the second."""
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).isoformat(" ", "seconds")[:19] + " UTC"


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def shorten(text: str, width: int = NAME_WIDTH) -> str:
    """``text`` cut to ``width`` characters, ``...`` marking the cut."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


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
    echo("\n".join(lines))


# -- migrate and rollback ----------------------------------------------------------------------

#: The run printer whose line is on the screen now: log records clear or end it first.
_showing: RunPrinter | None = None


class RunPrinter:
    """A :class:`Migrator` listener: ``Applying <id> ... 12 ms``, one line per migration, or a
    progress bar when a run on a terminal has more than :data:`PROGRESS_THRESHOLD` migrations.

    The line is begun when a migration starts, so a slow one shows what is running; on a
    terminal it also shows, from one second on, how long it has been running (see
    :meth:`tick`). A log record never lands inside the line: on a terminal the line is cleared
    for it and drawn again after it, elsewhere it is ended and printed whole once the migration
    is done. With ``verbose`` the start is logged instead, and the line printed at the end.

    It also keeps what finished, for the report of a run that failed.
    """

    def __init__(
        self,
        direction: str,
        fake: bool,
        *,
        quiet: bool = False,
        verbose: bool = False,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.doing, self.done = _VERBS[(direction, fake)]
        self.direction = direction
        self.quiet = quiet
        self.verbose = verbose
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.clock = clock
        self.finished: list[MigrationEvent] = []
        self.skipped: list[str] = []
        self.failed: str | None = None
        self._bar: _Bar | None = None
        self._running: str | None = None
        self._started = 0.0
        self._shown = ""  # what the open line shows; "" when no line is open
        self._cleared = ""  # what a log record took off the screen, to draw again after it

    def __call__(self, event: MigrationEvent) -> None:
        global _showing
        if event.kind == "done":
            self.finished.append(event)
        elif event.kind == "skip":
            self.skipped.append(event.migration_id)
        elif event.kind == "fail":
            self.failed = event.migration_id
        if self.quiet:
            return
        _showing = self
        if event.kind == "wait":
            held = f" (held by {event.holder})" if event.holder else ""
            self.suspend()
            echo(f"waiting for the migration lock{held}...", err=True)
            self.resume()
        elif event.kind == "start":
            self._start(event)
        elif self._bar is not None:
            self._running = None
            self._bar.count += 1
            if event.kind == "fail":
                self.close()
                echo(f"{self.doing} {event.migration_id} ... failed", fg="red")
            else:
                self._draw(self._bar.line())
        else:
            self._running = None
            if event.kind == "done":
                self._end(event.migration_id, f"{event.execution_ms} ms", "green")
            elif event.kind == "skip":
                other = "applied" if self.direction == "up" else "reverted"
                self._end(event.migration_id, f"skipped ({other} by another run)", "yellow")
            else:
                self._end(event.migration_id, "failed", "red")

    def _start(self, event: MigrationEvent) -> None:
        self._running, self._started = event.migration_id, self.clock()
        if self._bar is None and self.tty and event.total > PROGRESS_THRESHOLD:
            self._bar = _Bar(self.doing, event.total)
        if self._bar is not None:
            self._draw(self._bar.line(event.migration_id))
        elif self.verbose:
            _log.info("%s %s", self.doing, event.migration_id)
        else:
            self._draw(self._head(event.migration_id))

    def _head(self, migration_id: str) -> str:
        return f"{self.doing} {migration_id} ... "

    def _draw(self, text: str) -> None:
        """Make the open line show ``text``: in place of what it shows, on a terminal."""
        if self._shown and self.tty:
            echo("\r" + text + " " * max(0, len(self._shown) - len(text)), nl=False)
        else:
            echo(text, nl=False)
        self._shown = text

    def _end(self, migration_id: str, result: str, fg: str) -> None:
        head, styled = self._head(migration_id), click.style(result, fg=fg)
        if self._shown == head:
            echo(styled)
        elif self._shown and self.tty:  # the line shows the time so far: write it again
            echo("\r" + head + styled + " " * max(0, len(self._shown) - len(head + result)))
        else:  # a log record ended the line (or, with -v, none was begun): print it whole
            echo(head + styled)
        self._shown = ""

    def tick(self) -> None:
        """On a terminal, show how long the running migration has been running, from 1 s on."""
        if self.quiet or not self.tty or self._running is None or not self._shown:
            return
        seconds = int(self.clock() - self._started)
        if seconds < 1:
            return
        if self._bar is not None:
            self._draw(self._bar.line(f"{self._running} ({seconds} s)"))
        else:
            self._draw(f"{self._head(self._running)}{seconds} s")

    async def keep_ticking(self, every: float = 0.5) -> None:
        """:meth:`tick` every ``every`` seconds, until cancelled (run beside the migrations)."""
        while True:
            await asyncio.sleep(every)
            self.tick()

    def suspend(self) -> None:
        """Before a log record: clear the open line (on a terminal) or end it."""
        if not self._shown:
            return
        if self.tty:
            echo("\r" + " " * len(self._shown) + "\r", nl=False)
            self._cleared = self._shown
        else:
            echo()
        self._shown = ""

    def resume(self) -> None:
        """After a log record: draw the line it cleared again."""
        if self._cleared:
            self._draw(self._cleared)
            self._cleared = ""

    def close(self) -> None:
        """End the progress bar or an unfinished line (a run stopped by an exception)."""
        global _showing
        if _showing is self:
            _showing = None
        if self._shown:
            echo()
            self._shown = ""
        self._bar = None


class _Bar:
    """The text of the progress bar: ``Applying [####------] 12/30  013_add_index (4 s)``."""

    WIDTH = 30

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.count = 0

    def line(self, running: str | None = None) -> str:
        filled = self.WIDTH * self.count // max(self.total, 1)
        text = f"{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.count}/{self.total}"
        if running:
            text += f"  {running}"
        return text[: max(shutil.get_terminal_size().columns - 1, 40)]


def run_summary(report: RunReport, fake: bool, elapsed_ms: int) -> None:
    if not report.runs and not report.skipped:
        echo("Nothing to migrate" if report.direction == "up" else "Nothing to roll back")
        return
    done = _VERBS[(report.direction, fake)][1]
    if report.runs:
        line = f"{done} {plural(len(report.runs), 'migration')} in {elapsed_ms} ms"
        if fake:
            line += " (fake: recorded only, nothing ran)"
        echo(line, fg="green", bold=True)
    if report.skipped:
        other = "applied" if report.direction == "up" else "reverted"
        echo(f"{plural(len(report.skipped), 'migration')} {other} by another run meanwhile")


def dry_run(report: RunReport) -> None:
    """The plan of a ``--dry-run``, with the statements of SQL migrations."""
    if not report.runs:
        echo("Nothing to migrate" if report.direction == "up" else "Nothing to roll back")
    else:
        verb = "apply" if report.direction == "up" else "revert"
        echo(f"Would {verb} {plural(len(report.runs), 'migration')}:")
        for number, run in enumerate(report.runs, 1):
            echo(f"  {number}. {click.style(run.id, bold=True)} ({run.kind})")
            if run.statements is not None:
                if not run.statements:
                    echo("       -- no statements")
                for statement in run.statements:
                    for line in f"{statement};".splitlines():
                        echo(f"       {line}".rstrip())
    echo("Dry run: nothing was changed.")


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
    rows = [(s.id, status_label(s), when(s.applied_at), shorten(s.name)) for s in states]
    table(
        ("ID", "STATUS", "APPLIED AT", "NAME"),
        rows,
        lambda column, text: _STATUS_COLOURS.get(text.split()[0]) if column == 1 else None,
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


def info_table(migrations: Sequence[MigrationBase]) -> None:
    if not migrations:
        echo("No migrations found")
        return
    rows = [(str(m.id), m.kind, ", ".join(m.dependencies) or "-", m.name) for m in migrations]
    table(("ID", "KIND", "DEPENDS ON", "NAME"), rows)


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


# -- errors and logging ------------------------------------------------------------------------


def error_message(exc: BaseException) -> str:
    """What ``error: ...`` says about ``exc``: one line, passwords masked."""
    from ..errors import MigrationError
    from ..urls import mask_secrets

    message = str(exc) if isinstance(exc, MigrationError) else f"{type(exc).__name__}: {exc}"
    return one_line(mask_secrets(message) if message.strip() else type(exc).__name__)


def error(exc: BaseException, verbose: int) -> None:
    """``error: <message>`` on stderr, on one line; with ``-v`` the traceback first."""
    from ..urls import mask_secrets

    if verbose:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        echo(mask_secrets(trace.rstrip()), err=True)
    error_line(error_message(exc))


def one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def error_line(message: str) -> None:
    """Print ``error: <message>`` on stderr, the message folded onto one line."""
    echo(f"{click.style('error:', fg='red', bold=True)} {one_line(message)}", err=True)


class MaskingFilter(logging.Filter):
    """Hides URL passwords in every record a handler emits: message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from ..urls import mask_secrets

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


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr, with the progress line on stdout cleared or ended before each record: on a
    terminal both streams share the screen, and a record must not land inside the line."""

    def emit(self, record: logging.LogRecord) -> None:
        showing = _showing
        if showing is None:
            super().emit(record)
            return
        showing.suspend()
        try:
            super().emit(record)
        finally:
            showing.resume()


class LoggingSetup:
    """Log records to stderr for one command: warnings by default, errors only with ``-q``,
    INFO with ``-v``, DEBUG with ``-vv``, and the SQL logs (SQLAlchemy's and ``uno_migrations.sql``)
    too with ``-vvv``.
    """

    _LEVELS = {0: logging.WARNING, 1: logging.INFO}

    def __init__(self, verbose: int, quiet: bool) -> None:
        self.handler = _Handler(sys.stderr)
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

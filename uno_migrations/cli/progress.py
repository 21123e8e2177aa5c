"""A run on the terminal: a line per migration or a progress bar, the summary, and the log beside them.

The run printer whose line is on the screen is the one the log handler clears or ends before a
log record is written, so ``-v`` lines never land inside a progress line.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from .output import PROGRESS_THRESHOLD, VERBS, echo, plural

if TYPE_CHECKING:
    from ..runtime.report import MigrationEvent, RunReport

_log = logging.getLogger("uno_migrations.cli")

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
        self.doing, self.done = VERBS[(direction, fake)]
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
        elif event.kind == "retry":
            behind = f" behind {event.holder}" if event.holder else ""
            pause = (event.execution_ms or 0) / 1000
            self.suspend()
            echo(
                f"{event.migration_id} timed out waiting for a lock{behind}; "
                f"trying again in {pause:.1f} s (attempt {(event.attempt or 0) + 1})",
                err=True,
            )
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
    done = VERBS[(report.direction, fake)][1]
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


# -- the log -------------------------------------------------------------------------------------


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

"""The program: the ``uno-migrations`` group, how a command runs, and how a run is shown.

Every command is made with :func:`command`: it takes the global options, sets up logging, and turns
any failure into one ``error: ...`` line and exit 1 (with ``--json``, the document too). A run
(``migrate``, ``rollback``, ``alembic adopt``) goes through :func:`run_with_progress`, which prints
each migration as it goes and keeps what was done before a failure in the ``--json`` document.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import output as out
from . import progress, reports
from .options import State, global_options

if TYPE_CHECKING:
    from ..runtime.attempt import Direction
    from ..runtime.migrator import Migrator
    from ..runtime.report import RunAction, RunReport

PROG_NAME = "uno-migrations"
EXIT_ERROR = 1
EXIT_PENDING = 3

T = TypeVar("T")


class Program(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # definition order, not alphabetical

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # NO_COLOR (https://no-color.org): any non-empty value turns colours off, even on a
        # terminal. The commands' contexts inherit it, and click.echo strips styles from there.
        if parent is None and os.environ.get("NO_COLOR"):
            extra["color"] = False
        return super().make_context(info_name, args, parent, **extra)


#: ``--json`` on every command that reports; the documents are described in docs/cli.md.
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON document (see the docs for its shape)."
)


@click.group(cls=Program, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="uno-migrations", prog_name=PROG_NAME)
@global_options
@click.pass_context
def program(ctx: click.Context) -> None:
    """Async database migrations for SQLAlchemy: SQL or Python, on PostgreSQL, MySQL/MariaDB and
    SQLite.

    Global options may come before or after the command.
    """
    ctx.ensure_object(State)


def command(
    name: str, group: click.Group | None = None, **attrs: Any
) -> Callable[[Callable[..., None]], click.Command]:
    """A subcommand (of ``group``, default the program) taking the global options, logging set up,
    and errors turned into one line.
    """

    def decorate(f: Callable[..., None]) -> click.Command:
        @functools.wraps(f)
        def run(**kwargs: Any) -> None:
            ctx = click.get_current_context()
            state = ctx.ensure_object(State)
            state.as_json = bool(kwargs.get("as_json"))
            state.document = reports.document(ctx.command_path.partition(" ")[2], None)
            with progress.LoggingSetup(state.verbose, state.quiet):
                try:
                    f(state, **kwargs)
                except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
                    raise
                except BrokenPipeError:  # stdout closed early, outside out.echo: end quietly
                    out.discard_output()
                    ctx.exit(0)
                except Exception as exc:  # every failure becomes "error: ..." and exit 1
                    if state.as_json:
                        out.print_json(state.document, out.error_message(exc))
                    out.error(exc, state.verbose)
                    ctx.exit(EXIT_ERROR)

        # Global options first in the list click reverses: the command's own come first in --help.
        own = getattr(run, "__click_params__", [])
        run.__click_params__ = []  # type: ignore[attr-defined]
        global_options(run)
        run.__click_params__.extend(own)  # type: ignore[attr-defined]
        return (group or program).command(name, **attrs)(run)

    return decorate


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine with what is alive before it frozen for the garbage collector.

    What is alive now (the modules imported, SQLAlchemy's above all: some 50,000 objects) stays
    alive through the run; frozen, the collector does not walk it again on each full collection,
    which a run of thousands of migrations or a data migration of a million rows triggers dozens
    of times. Unfrozen afterwards, so a process that calls the CLI in-process is left as it was;
    a process that froze objects itself is left alone.
    """
    if gc.get_freeze_count():
        return asyncio.run(coroutine)
    gc.freeze()
    try:
        return asyncio.run(coroutine)
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class RunMode:
    """How a run goes: its direction, ``--fake``, ``--dry-run``, and whether it may create the
    database (a dry run never does)."""

    direction: Direction
    fake: bool = False
    dry_run: bool = False
    writes: bool = True


def run_with_progress(
    state: State, mode: RunMode, call: Callable[[Migrator], Coroutine[Any, Any, T]]
) -> tuple[T, int]:
    """Run ``call`` on a migrator that prints each migration as it goes; the result and its ms.

    When it fails, what was done before is kept in the ``--json`` document.
    """
    printer = progress.RunPrinter(
        mode.direction, mode.fake, quiet=state.quiet or state.as_json, verbose=state.verbose > 0
    )
    migrator = state.migrator(state.settings(), printer, writes=mode.writes and not mode.dry_run)

    async def run() -> T:
        ticker = asyncio.ensure_future(printer.keep_ticking()) if printer.tty and not printer.quiet else None
        try:
            return await call(migrator)
        finally:
            if ticker is not None:
                ticker.cancel()

    started = time.perf_counter()
    try:
        result = run_coroutine(run())
    except Exception:
        done = _done_before_failure(migrator, printer, mode)
        state.document.update(reports.run_fields(done, mode.fake, _ms(started), printer.failed))
        raise
    finally:
        printer.close()
    return result, _ms(started)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _done_before_failure(migrator: Migrator, printer: progress.RunPrinter, mode: RunMode) -> RunReport:
    """What a failed run did before it failed, from the printer's events."""
    from ..runtime.report import MigrationRun, RunReport

    names: dict[str, tuple[str, str]] = {}
    if printer.finished:
        names = {str(m.id): (m.name, m.kind) for m in migrator.plan().migrations}
    actions: dict[tuple[str, bool], RunAction] = {
        ("up", False): "apply",
        ("up", True): "mark",
        ("down", False): "revert",
    }
    action = actions.get((mode.direction, mode.fake), "unmark")
    runs = [
        MigrationRun(
            event.migration_id,
            names.get(event.migration_id, (event.migration_id, ""))[0],
            mode.direction,
            action,
            event.execution_ms or 0,
            kind=names.get(event.migration_id, ("", ""))[1],
        )
        for event in printer.finished
    ]
    return RunReport(mode.direction, mode.dry_run, runs, list(printer.skipped))


def report_findings(
    state: State, findings: int, show: Callable[[], None], failure: str, success: str
) -> None:
    """End a command that checks something (``verify``, ``check``): with ``findings``, ``show``
    them (not with ``--quiet`` or ``--json``), then ``error: <failure>`` and exit 1; else the
    ``success`` line (or the ``--json`` document)."""
    if findings:
        if not state.quiet and not state.as_json:
            show()
        if state.as_json:
            out.print_json(state.document, failure)
        out.error_line(failure)
        click.get_current_context().exit(EXIT_ERROR)
    if state.as_json:
        out.print_json(state.document)
    else:
        state.echo(success)


def finish(state: State, report: RunReport, fake: bool, ms: int) -> None:
    if state.as_json:
        out.print_json({**state.document, **reports.run_fields(report, fake, ms)})
    elif state.quiet:
        return
    elif report.dry_run:
        progress.dry_run(report)
    else:
        progress.run_summary(report, fake, ms)


def sql_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--sql`` and ``--scratch-url`` of ``migrate`` and ``rollback``."""
    fn = click.option(
        "--scratch-url",
        metavar="URL",
        help="With --sql: run the plan on this scratch database and write out what ran there.",
    )(fn)
    return click.option(
        "--sql",
        is_flag=True,
        help="Write the plan out as an SQL script for the engine's client; change nothing.",
    )(fn)


def write_sql(
    state: State,
    call: Callable[[Migrator, Any], Coroutine[Any, Any, RunReport]],
    scratch_url: str | None,
) -> None:
    """Print the script of ``call`` (a run with ``sql=True``); exit 1, after it, naming the
    migrations it could not write out."""
    from ..errors import MigrationError
    from ..urls import async_url

    migrator = state.migrator(state.settings())
    scratch = async_url(scratch_url) if scratch_url else None
    report = run_coroutine(call(migrator, scratch))
    script = report.script
    assert script is not None
    click.echo(script.text, nl=False)
    if script.unrendered:
        first, why = script.unrendered[0]
        more = f" (and {len(script.unrendered) - 1} more)" if len(script.unrendered) > 1 else ""
        raise MigrationError(
            f"{first}{more} cannot be written out without a database: it {why.removeprefix('it ')}; "
            "give --scratch-url to run the plan on a scratch database and write out what ran"
        )

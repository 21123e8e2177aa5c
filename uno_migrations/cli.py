"""The ``uno-migrations`` command line: parse options, call the library, print the result.

``uno-migrations [GLOBAL OPTIONS] COMMAND [OPTIONS]``; every global option is also accepted after
the command, and a value given there wins. Settings come from the options, then the environment,
then the config file (see :mod:`uno_migrations.config`). Errors print one line, ``error: ...``, on
stderr and exit 1 (with ``--json``, the document too, with its ``error``); a bad option value is
click's usage error, exit 2; ``status --exit-code`` exits 3 when something is left to do. A reader
that closes stdout early (``status | head``) ends the output quietly, not the command.

The runner and SQLAlchemy are imported inside the commands, not when this module loads.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import cli_output as out
from .cli_options import State, discover_all, global_options, plan_without_database
from .config import Settings

if TYPE_CHECKING:
    from .migration import Migration
    from .report import MigrationState, Problem, RunReport
    from .runner import Migrator

PROG_NAME = "uno-migrations"
EXIT_ERROR = 1
EXIT_PENDING = 3

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Program(click.Group):
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


@click.group(cls=_Program, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
            state.document = out.document(ctx.command_path.partition(" ")[2], None)
            with out.LoggingSetup(state.verbose, state.quiet):
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


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
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


# -- create ------------------------------------------------------------------------------------


@command("create", short_help="Write a new migration file.")
@click.argument("name")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["python", "class", "sql"]),
    default="python",
    show_default=True,
    help="Function-based Python, class-based Python, or SQL.",
)
@click.option(
    "--depends-on",
    "depends_on",
    multiple=True,
    metavar="ID",
    help="A migration (id or unique prefix) the new one depends on; repeatable.",
)
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Write the steps from the difference between --metadata and the database (needs Alembic).",
)
@click.option(
    "--metadata",
    metavar="MODULE:ATTR",
    help="The SQLAlchemy MetaData to compare, for --autogenerate (e.g. app.models:metadata).",
)
def create(
    state: State,
    name: str,
    kind: str,
    depends_on: Sequence[str],
    autogenerate: bool,
    metadata: str | None,
) -> None:
    """Write <timestamp>_<slug>.<py|sql> into the first directory and print its path.

    The file runs as written: its up and down steps are comments to fill in. With
    --autogenerate, they hold the Alembic operations that take the database to --metadata and
    back; when there is no difference, nothing is written.
    """
    from .errors import MigrationError
    from .templates import create_migration_file, next_version, slugify

    settings = state.settings()
    if not slugify(name):
        raise click.UsageError(
            f"cannot make a file name from {name!r}: it needs a letter or a digit",
            ctx=click.get_current_context(),
        )
    if autogenerate or metadata:
        from .cli_alembic import check_autogenerate

        check_autogenerate(autogenerate, metadata, kind)
    dependencies = _resolve_existing(settings, depends_on)
    version = next_version(settings.directories)
    if metadata:
        from .cli_alembic import autogenerate_file

        generated = autogenerate_file(settings, name, metadata, dependencies, version)
        if generated is None:
            state.echo(f"Nothing to generate: the database already matches {metadata}")
        else:
            state.echo(str(generated))
        return
    try:
        path = create_migration_file(settings.directories[0], name, kind, dependencies, version=version)
    except FileExistsError as exc:
        raise MigrationError(f"{exc.filename} already exists; create never overwrites a file") from exc
    state.echo(str(path))


def _resolve_existing(settings: Settings, references: Sequence[str]) -> list[str]:
    if not references:
        return []
    from .planning import resolve_reference

    ids = sorted(str(m.id) for m in discover_all(settings))
    return list(dict.fromkeys(resolve_reference(ref, ids) for ref in references))


# -- migrate and rollback ----------------------------------------------------------------------


@command("migrate", short_help="Apply pending migrations.")
@click.option(
    "--target", metavar="ID", help="Apply up to and including this migration (id or unique prefix)."
)
@click.option("--steps", type=click.IntRange(min=1), metavar="N", help="Apply at most N migrations.")
@click.option("--fake", is_flag=True, help="Record the migrations as applied without running them.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the SQL; change nothing.")
@click.option(
    "--resume", is_flag=True, help="Continue a failed SQL migration after its last completed statement."
)
@json_option
def migrate(
    state: State,
    target: str | None,
    steps: int | None,
    fake: bool,
    dry_run: bool,
    resume: bool,
    as_json: bool,
) -> None:
    """Apply pending migrations in order, one line per migration with its time."""
    report, ms = run_with_progress(
        state,
        RunMode("up", fake, dry_run),
        lambda m: m.migrate(target=target, steps=steps, fake=fake, dry_run=dry_run, resume=resume),
    )
    _finish(state, report, fake, ms)


@command("rollback", short_help="Revert applied migrations, newest first.")
@click.option(
    "--steps", type=click.IntRange(min=1), metavar="N", help="Revert the N most recent [default: 1]."
)
@click.option("--target", metavar="ID", help="Revert everything applied after this migration (it stays).")
@click.option("--all", "everything", is_flag=True, help="Revert every applied migration.")
@click.option("--fake", is_flag=True, help="Remove the records without running the down steps.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the SQL; change nothing.")
@json_option
def rollback(
    state: State,
    steps: int | None,
    target: str | None,
    everything: bool,
    fake: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Revert the last migration, the last N, everything after a target, or all, newest first."""
    given = {"--steps": steps is not None, "--target": target is not None, "--all": everything}
    chosen = [name for name, on in given.items() if on]
    if len(chosen) > 1:
        raise click.UsageError(
            f"give only one of --steps, --target and --all (got {' and '.join(chosen)})",
            ctx=click.get_current_context(),
        )
    # Nothing to revert in a database that does not exist: not created for it.
    report, ms = run_with_progress(
        state,
        RunMode("down", fake, dry_run, writes=False),
        lambda m: m.rollback(steps=steps, target=target, all=everything, fake=fake, dry_run=dry_run),
    )
    _finish(state, report, fake, ms)


@dataclass(frozen=True)
class RunMode:
    """How a run goes: its direction, ``--fake``, ``--dry-run``, and whether it may create the
    database (a dry run never does)."""

    direction: str
    fake: bool = False
    dry_run: bool = False
    writes: bool = True


def run_with_progress(
    state: State, mode: RunMode, call: Callable[[Migrator], Coroutine[Any, Any, T]]
) -> tuple[T, int]:
    """Run ``call`` on a migrator that prints each migration as it goes; the result and its ms.

    When it fails, what was done before is kept in the ``--json`` document.
    """
    printer = out.RunPrinter(
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
        result = _run(run())
    except Exception:
        done = _done_before_failure(migrator, printer, mode)
        state.document.update(out.run_fields(done, mode.fake, _ms(started), printer.failed))
        raise
    finally:
        printer.close()
    return result, _ms(started)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _done_before_failure(migrator: Migrator, printer: out.RunPrinter, mode: RunMode) -> RunReport:
    """What a failed run did before it failed, from the printer's events."""
    from .report import MigrationRun, RunReport

    names: dict[str, tuple[str, str]] = {}
    if printer.finished:
        names = {str(m.id): (m.name, m.kind) for m in migrator.plan().migrations}
    action = {("up", False): "apply", ("up", True): "mark", ("down", False): "revert"}.get(
        (mode.direction, mode.fake), "unmark"
    )
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


def _finish(state: State, report: RunReport, fake: bool, ms: int) -> None:
    if state.as_json:
        out.print_json({**state.document, **out.run_fields(report, fake, ms)})
    elif state.quiet:
        return
    elif report.dry_run:
        out.dry_run(report)
    else:
        out.run_summary(report, fake, ms)


# -- status, info, history ---------------------------------------------------------------------


@command("status", short_help="Show every migration and where it stands.")
@json_option
@click.option(
    "--exit-code", is_flag=True, help="Exit 3 when anything is pending, failed, modified, missing or invalid."
)
def status(state: State, as_json: bool, exit_code: bool) -> None:
    """Every migration: applied, pending (maybe out of order), failed, modified or missing."""
    migrator = state.migrator(state.settings())
    states = _run(migrator.status())
    if as_json:
        out.print_json({**state.document, **out.status_fields(states)})
    elif not state.quiet:
        out.status_table(state.url or "", states, state.missing_database)
    if exit_code and any(s.status in ("pending", "failed", "modified", "missing", "invalid") for s in states):
        click.get_current_context().exit(EXIT_PENDING)


@command("info", short_help="Show one migration in detail, or list them all.")
@click.argument("migration_id", metavar="[ID]", required=False)
@json_option
def info(state: State, migration_id: str | None, as_json: bool) -> None:
    """Details of migration ID (id or unique prefix), with its SQL statements; without ID, a
    table of all. Needs no database; with a URL, its engine picks SQL engine variants.
    """
    plan, dialect, url = plan_without_database(state.settings())
    state.document["database"] = url
    dialect = dialect or "postgresql"
    if migration_id is None:
        if as_json:
            every = [(m, None) for m in plan.migrations]
            out.print_json({**state.document, **out.info_fields(every, dialect)})
        elif not state.quiet:
            out.info_table(plan.migrations)
        return
    base = plan.get(plan.resolve(migration_id))
    assert base is not None
    loaded: Migration | None = None
    if base.kind != "alembic":  # loaded as migrate would: a file that does not load is an error
        from .loader import load_migration

        loaded = load_migration(base, dialect)
    if as_json:
        out.print_json({**state.document, **out.info_fields([(base, loaded)], dialect)})
    elif not state.quiet:
        out.info_detail(base, loaded, dialect)


@command("history", short_help="Show what happened, oldest first.")
@json_option
def history(state: State, as_json: bool) -> None:
    """The log of every apply, revert, mark, unmark, repair and failure, oldest first."""
    migrator = state.migrator(state.settings())
    entries = _run(migrator.history())
    if as_json:
        out.print_json({**state.document, **out.history_fields(entries)})
    elif not state.quiet:
        out.history_table(state.url or "", entries)


# -- verify and repair -------------------------------------------------------------------------


@command("verify", short_help="Check checksums, missing files and failed attempts.")
@json_option
def verify(state: State, as_json: bool) -> None:
    """Check that applied migrations match their files; exit 1 on any problem."""
    migrator = state.migrator(state.settings())

    async def run() -> tuple[list[Problem], list[MigrationState]]:
        return await migrator.verify(), await migrator.status()

    found, states = _run(run())
    count = len(migrator.plan())
    applied = sum(s.status == "applied" for s in states)
    pending = sum(s.status == "pending" for s in states)
    state.document.update(out.verify_fields(count, found, applied, pending))
    if found:
        if not state.quiet and not as_json:
            out.problems(found)
        message = f"verify found {out.plural(len(found), 'problem')}"
        if as_json:
            out.print_json(state.document, message)
        out.error_line(message)
        click.get_current_context().exit(EXIT_ERROR)
    if as_json:
        out.print_json(state.document)
    else:
        state.echo(f"All {out.plural(count, 'migration')} verified ({applied} applied, {pending} pending)")


@command("repair", short_help="Accept changed files and forget failed attempts.")
@click.argument("ids", metavar="[ID]...", nargs=-1)
@json_option
def repair(state: State, ids: Sequence[str], as_json: bool) -> None:
    """Record the current checksum of modified migrations and forget failed attempts, of all or
    of the given IDs.
    """
    # A database that does not exist has nothing to repair: it is not created for that.
    migrator = state.migrator(state.settings())

    async def run() -> tuple[dict[str, str], list[str]]:
        before = {s.id: s.status for s in await migrator.status()}
        return before, await migrator.repair(list(ids) if ids else None)

    before, repaired = _run(run())
    if as_json:
        done = [{"id": mid, "status": before.get(mid)} for mid in repaired]
        out.print_json({**state.document, "repaired": done})
        return
    if not repaired:
        state.echo("Nothing to repair")
    for migration_id in repaired:
        if before.get(migration_id) == "failed":
            state.echo(f"Forgot the failed attempt of {migration_id}")
        else:
            state.echo(f"Recorded the new checksum of {migration_id}")


# The `alembic` command group lives in its own module; importing it registers it.
from . import cli_alembic  # noqa: E402, F401


def main(args: Sequence[str] | None = None) -> None:
    """The console script ``uno-migrations``."""
    program.main(args=args, prog_name=PROG_NAME)


if __name__ == "__main__":
    main()

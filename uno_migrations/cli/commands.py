"""The ``uno-migrations`` command line: parse options, call the library, print the result.

``uno-migrations [GLOBAL OPTIONS] COMMAND [OPTIONS]``; every global option is also accepted after
the command, and a value given there wins. Settings come from the options, then the environment,
then the config file (see :mod:`uno_migrations.cli.config`). Errors print one line, ``error: ...``, on
stderr and exit 1 (with ``--json``, the document too, with its ``error``); a bad option value is
click's usage error, exit 2; ``status --exit-code`` exits 3 when something is left to do. A reader
that closes stdout early (``status | head``) ends the output quietly, not the command.

The runner and SQLAlchemy are imported inside the commands, not when this module loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from . import graph as drawing
from . import output as out
from . import reports
from .config import Settings
from .options import State, discover_all, plan_without_database
from .program import (
    EXIT_PENDING,
    RunMode,
    command,
    finish,
    json_option,
    report_findings,
    run_coroutine,
    run_with_progress,
    sql_options,
    write_sql,
)

if TYPE_CHECKING:
    from ..files.migration import Migration
    from ..files.planning import RunPhase
    from ..runtime.migrator import Migrator
    from ..runtime.report import MigrationState, MigrationStatus, Problem, RunReport


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
    from ..errors import MigrationError
    from ..files.templates import create_migration_file, next_version, slugify

    settings = state.settings()
    if not slugify(name):
        raise click.UsageError(
            f"cannot make a file name from {name!r}: it needs a letter or a digit",
            ctx=click.get_current_context(),
        )
    if autogenerate or metadata:
        from .alembic import check_autogenerate

        check_autogenerate(autogenerate, metadata, kind)
    dependencies = _resolve_existing(settings, depends_on)
    version = next_version(settings.directories)
    if metadata:
        from .alembic import autogenerate_file

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
    from ..files.planning import resolve_reference

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
@click.option(
    "--phase",
    type=click.Choice(["pre", "post"]),
    help="pre: before the deploy, stop before the first post-deploy migration; "
    "post: after it, apply everything pending.",
)
@click.option(
    "--lint",
    "lint",
    is_flag=True,
    help="Lint the migrations to apply first, and apply none if one has an error-level finding.",
)
@sql_options
@json_option
def migrate(
    state: State,
    target: str | None,
    steps: int | None,
    fake: bool,
    dry_run: bool,
    resume: bool,
    phase: RunPhase | None,
    lint: bool,
    sql: bool,
    scratch_url: str | None,
    as_json: bool,
) -> None:
    """Apply pending migrations in order, one line per migration with its time."""
    if lint:
        _refuse_lint_findings(state, target, steps)
    if sql or scratch_url:
        _refuse_with_sql(scratch_url, sql, fake=fake, dry_run=dry_run, resume=resume, json=as_json)
        written: list[RunReport] = []

        async def write_out(m: Migrator, scratch: Any) -> RunReport:
            written.append(
                await m.migrate(target=target, steps=steps, sql=True, scratch=scratch, phase=phase)
            )
            return written[0]

        write_sql(state, write_out, scratch_url)
        _stopped(state, written[0], err=True)  # the script is on stdout
        return
    report, ms = run_with_progress(
        state,
        RunMode("up", fake, dry_run),
        lambda m: m.migrate(
            target=target, steps=steps, fake=fake, dry_run=dry_run, resume=resume, phase=phase
        ),
    )
    finish(state, report, fake, ms)
    _stopped(state, report)


def _refuse_lint_findings(state: State, target: str | None, steps: int | None) -> None:
    """``migrate --lint``: the findings of what the run would apply, on stderr; an error-level
    one stops the command before anything runs."""
    from ..errors import MigrationError
    from ..lint import lint_plan
    from ..lint.formats import text_lines

    report = run_coroutine(lint_plan(state.migrator(state.settings()), target=target, steps=steps))
    if report.shown and not state.as_json:
        out.echo("\n".join(text_lines(report)), err=True)
    if report.errors:
        raise MigrationError(
            f"migrate --lint applies nothing: {out.plural(len(report.errors), 'error-level finding')}; "
            "fix them, or accept each with '-- uno:allow RULE because REASON'"
        )


def _stopped(state: State, report: RunReport, err: bool = False) -> None:
    """After ``--phase pre``: the post-deploy migration the run stopped before, and what next."""
    if report.stopped_before is None or state.quiet or state.as_json:
        return
    out.echo(
        f"Stopped before {report.stopped_before} (post-deploy): run 'migrate --phase post' after the deploy",
        err=err,
    )


@command("rollback", short_help="Revert applied migrations, newest first.")
@click.option(
    "--steps", type=click.IntRange(min=1), metavar="N", help="Revert the N most recent [default: 1]."
)
@click.option("--target", metavar="ID", help="Revert everything applied after this migration (it stays).")
@click.option("--all", "everything", is_flag=True, help="Revert every applied migration.")
@click.option("--fake", is_flag=True, help="Remove the records without running the down steps.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the SQL; change nothing.")
@sql_options
@json_option
def rollback(
    state: State,
    steps: int | None,
    target: str | None,
    everything: bool,
    fake: bool,
    dry_run: bool,
    sql: bool,
    scratch_url: str | None,
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
    if sql or scratch_url:
        _refuse_with_sql(scratch_url, sql, fake=fake, dry_run=dry_run, json=as_json)
        write_sql(
            state,
            lambda m, scratch: m.rollback(
                steps=steps, target=target, all=everything, sql=True, scratch=scratch
            ),
            scratch_url,
        )
        return
    # Nothing to revert in a database that does not exist: not created for it.
    report, ms = run_with_progress(
        state,
        RunMode("down", fake, dry_run, writes=False),
        lambda m: m.rollback(steps=steps, target=target, all=everything, fake=fake, dry_run=dry_run),
    )
    finish(state, report, fake, ms)


def _refuse_with_sql(scratch_url: str | None, sql: bool, **others: bool) -> None:
    if scratch_url and not sql:
        raise click.UsageError("--scratch-url goes with --sql", ctx=click.get_current_context())
    given = [f"--{name.replace('_', '-')}" for name, on in others.items() if on]
    if given:
        raise click.UsageError(f"--sql writes a script; it does not go with {' or '.join(given)}")


# -- status, info, history ---------------------------------------------------------------------


@command("status", short_help="Show every migration and where it stands.")
@json_option
@click.option(
    "--exit-code", is_flag=True, help="Exit 3 when anything is pending, failed, modified, missing or invalid."
)
def status(state: State, as_json: bool, exit_code: bool) -> None:
    """Every migration: applied, pending (maybe out of order), failed, modified or missing."""
    migrator = state.migrator(state.settings())
    states = run_coroutine(migrator.status())
    if as_json:
        out.print_json({**state.document, **reports.status_fields(states)})
    elif not state.quiet:
        reports.status_table(state.url or "", states, state.missing_database)
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
    if dialect is None:
        from ..dialects import DEFAULT_ENGINE

        dialect = DEFAULT_ENGINE
    if migration_id is None:
        if as_json:
            every = [(m, None) for m in plan.migrations]
            out.print_json({**state.document, **reports.info_fields(every, dialect)})
        elif not state.quiet:
            reports.info_table(plan.migrations)
        return
    base = plan.get(plan.resolve(migration_id))
    assert base is not None
    loaded: Migration | None = None
    if base.kind != "alembic":  # loaded as migrate would: a file that does not load is an error
        from ..files.loader import load_migration

        loaded = load_migration(base, dialect)
    if as_json:
        out.print_json({**state.document, **reports.info_fields([(base, loaded)], dialect)})
    elif not state.quiet:
        reports.info_detail(base, loaded, dialect)


@command("history", short_help="Show what happened, oldest first.")
@json_option
def history(state: State, as_json: bool) -> None:
    """The log of every apply, revert, mark, unmark, repair and failure, oldest first."""
    migrator = state.migrator(state.settings())
    entries = run_coroutine(migrator.history())
    if as_json:
        out.print_json({**state.document, **reports.history_fields(entries)})
    elif not state.quiet:
        reports.history_table(state.url or "", entries)


# -- verify and repair -------------------------------------------------------------------------


@command("verify", short_help="Check checksums, missing files and failed attempts.")
@json_option
def verify(state: State, as_json: bool) -> None:
    """Check that applied migrations match their files; exit 1 on any problem."""
    migrator = state.migrator(state.settings())

    async def run() -> tuple[list[Problem], list[MigrationState]]:
        return await migrator.verify(), await migrator.status()

    found, states = run_coroutine(run())
    count = len(migrator.plan())
    applied = sum(s.status == "applied" for s in states)
    pending = sum(s.status == "pending" for s in states)
    state.document.update(reports.verify_fields(count, found, applied, pending))
    report_findings(
        state,
        len(found),
        lambda: reports.problems(found),
        f"verify found {out.plural(len(found), 'problem')}",
        f"All {out.plural(count, 'migration')} verified ({applied} applied, {pending} pending)",
    )


@command("repair", short_help="Accept changed files and forget failed attempts.")
@click.argument("ids", metavar="[ID]...", nargs=-1)
@json_option
def repair(state: State, ids: Sequence[str], as_json: bool) -> None:
    """Record the current checksum of modified migrations and forget failed attempts, of all or
    of the given IDs.
    """
    # A database that does not exist has nothing to repair: it is not created for that.
    migrator = state.migrator(state.settings())

    async def run() -> tuple[dict[str, MigrationStatus], list[str]]:
        before = {s.id: s.status for s in await migrator.status()}
        return before, await migrator.repair(list(ids) if ids else None)

    before, repaired = run_coroutine(run())
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


# -- graph -------------------------------------------------------------------------------------


@command("graph", short_help="Print the dependency graph as Graphviz DOT or Mermaid.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(drawing.FORMATS),
    default="dot",
    show_default=True,
    help="Graphviz DOT, or a Mermaid flowchart.",
)
def graph(state: State, fmt: str) -> None:
    """Print every migration, in plan order, and an edge from each dependency it declares to it.

    Reads only the files without a database URL; with one, each node is coloured by its state
    (applied, pending, failed, modified, missing or invalid), as status shows it.
    """
    settings = state.settings()
    if settings.database_url:
        found = drawing.from_states(run_coroutine(state.migrator(settings).status()))
    else:
        found = drawing.from_plan(plan_without_database(settings)[0].migrations)
    state.echo(drawing.render(found, fmt))


# -- test --------------------------------------------------------------------------------------


@command("test", short_help="Check the migrations on scratch databases: up, down, up again.")
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="A server to make a scratch database on, dropped afterwards; repeat for several engines "
    "[default: an SQLite file in a temporary folder].",
)
@click.option(
    "--metadata",
    metavar="MODULE:ATTR",
    help="The models the migrated schema must match (needs Alembic) "
    "[default: metadata, then alembic_metadata, of the config file; none: no models check].",
)
@json_option
def test(state: State, urls: Sequence[str], metadata: str | None, as_json: bool) -> None:
    """Run the built-in checks on a scratch database of each URL: the plan and every file load,
    each migration applies, its down step restores the schema it found and it applies again, no
    checksum is off, reverting everything leaves only uno's tables, and (given models) the
    migrated schema matches the models. Exit 1 on any finding."""
    import tempfile

    from sqlalchemy.engine import make_url

    from ..dialects import get_adapter
    from ..testing.checks import check_migrations
    from ..testing.scratch import scratch_database
    from ..urls import async_url
    from .options import alembic_sources, directories, require_alembic

    settings = state.settings()
    sources = alembic_sources(settings)
    models = metadata or settings.metadata or settings.alembic_metadata
    models_metadata = None
    if models is not None:  # loaded first: a reference that does not import stops everything
        require_alembic("the models check of test")
        from alembic_compat import load_metadata

        models_metadata = load_metadata(models)
    runs: list[dict[str, object]] = []
    state.document["databases"] = runs
    findings: list[str] = []
    found = 0

    def progress(check: str, migration_id: str | None, outcome: str) -> None:
        if check != "upgrade" or outcome != "ok":  # a roundtrip line says the migration applied
            state.echo(f"  {check} {migration_id or 'all'} ... {outcome}")

    async def run(url: str, folder: str) -> None:
        nonlocal found
        server = async_url(url)
        adapter = get_adapter(make_url(server).get_backend_name())
        async with scratch_database(server, folder) as scratch:
            if not state.as_json:
                state.echo(f"{adapter.title}, on a scratch database:")
            report = await check_migrations(
                scratch,
                directories(settings),
                sources=sources,
                table=settings.table,  # no schema: where the database keeps it, not the scratch one
                metadata=models_metadata,
                progress=None if state.as_json else progress,
            )
        runs.append(
            {
                "engine": adapter.name,
                "migrations": len(report.migrations),
                "skipped": report.skipped,
                "findings": [finding.as_dict() for finding in report.findings],
            }
        )
        found += len(report.findings)
        for finding in report.findings:
            findings.extend(f"{adapter.name}: {line}" for line in finding.lines)

    with tempfile.TemporaryDirectory(prefix="uno-test-") as folder:
        for url in urls or [f"sqlite:///{folder}/scratch.db"]:
            run_coroutine(run(url, folder))
    counts = [int(str(r["migrations"])) for r in runs]
    report_findings(
        state,
        found,
        lambda: out.echo("\n".join(findings)),
        f"the checks found {out.plural(found, 'problem')}",
        f"All checks passed: {out.plural(max(counts, default=0), 'migration')} on "
        f"{out.plural(len(runs), 'database')}",
    )

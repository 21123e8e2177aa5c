"""``uno-migrations lint``: the statements of migrations that would lock a live table or break the
release still running, by named rules (docs/safety.md, "Lint").

The linter is :mod:`uno_migrations.lint`, imported when the command runs; ``--scratch-url`` runs
the plan on scratch databases (made and dropped here) to lint what Python migrations send, and
``--observe`` on one more, to see what each statement does there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from . import output as out
from .config import Settings
from .options import State, alembic_sources, directories
from .program import EXIT_ERROR, command, json_option, run_coroutine

if TYPE_CHECKING:
    from ..lint import LintReport

#: What --format takes: uno_migrations.lint.formats writes each (imported when the command runs).
FORMATS = ("text", "json", "sarif", "github")


@command("lint", short_help="Find changes that lock a live database or break its release.")
@click.argument("paths", metavar="[PATH]...", nargs=-1)
@click.option(
    "--engine",
    metavar="NAME",
    help="The engine the SQL is for: postgresql, mysql, sqlite or an installed one [default: the "
    "engine of --scratch-url or of the database URL, else of a file's variant suffix "
    "(<id>.mysql.sql), else postgresql].",
)
@click.option(
    "--scratch-url",
    metavar="URL",
    help="Run the plan on scratch databases of this server (dropped afterwards) and lint what "
    "Python migrations send there too.",
)
@click.option(
    "--observe",
    is_flag=True,
    help="With --scratch-url: run each migration, a statement at a time, on a scratch database "
    "with rows in its tables, and report the locks each statement took and the tables it "
    "rewrote (slower: every statement runs).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Text, a JSON document, SARIF 2.1.0 (code scanning) or GitHub Actions annotations.",
)
@click.option("--show-suppressed", is_flag=True, help="Show the findings allow comments accepted too.")
@json_option
def lint(
    state: State,
    paths: Sequence[str],
    engine: str | None,
    scratch_url: str | None,
    observe: bool,
    fmt: str,
    show_suppressed: bool,
    as_json: bool,
) -> None:
    """Lint the migrations in PATH (files or directories; default the migrations directories):
    each statement of an SQL file's up section through the engine's rules, PostgreSQL's read by
    PostgreSQL's own parser. A Python migration is linted with --scratch-url, from what it sends
    when the plan runs on a scratch database; without it, an info line says so. --observe
    also runs the plan there a statement at a time and reports what each did: its table locks
    (info) and the tables it rewrote (a warning for a table that existed before).

    `-- uno:allow RULE because REASON` before a statement accepts its finding of RULE. Exit 1
    when any error-level finding is left; warnings alone exit 0.
    """
    from ..lint import lint_paths

    if as_json and fmt not in ("text", "json"):
        raise click.UsageError(f"--json is --format json; it does not go with --format {fmt}")
    fmt = "json" if as_json else fmt
    if observe and not scratch_url:
        raise click.UsageError("--observe runs the plan on a scratch database: give --scratch-url")
    state.as_json = fmt == "json"
    settings = state.settings()
    chosen = _engine(engine, scratch_url, settings)
    state.document["engine"] = chosen
    if scratch_url:
        report = _on_scratch(settings, paths, scratch_url, observe)
    else:
        report = lint_paths(list(paths) or list(directories(settings)), engine=chosen)
    state.document.update(report.as_dict())
    _render(state, report, fmt, show_suppressed)


def _engine(engine: str | None, scratch_url: str | None, settings: Settings) -> str | None:
    """The engine the SQL is read for: --engine, else that of --scratch-url (which must agree),
    else that of the database URL; None: each file's own."""
    from sqlalchemy.engine import make_url

    from ..dialects import adapter_class

    given = adapter_class(engine).name if engine else None
    scratch = adapter_class(make_url(scratch_url).get_backend_name()).name if scratch_url else None
    if given and scratch and given != scratch:
        raise click.UsageError(
            f"--engine {given} but --scratch-url is {scratch}: the plan runs there",
            ctx=click.get_current_context(),
        )
    if given or scratch:
        return given or scratch
    if settings.database_url:
        return adapter_class(make_url(settings.database_url).get_backend_name()).name
    return None


def _on_scratch(settings: Settings, paths: Sequence[str], scratch_url: str, observe: bool) -> LintReport:
    """Lint the plan of the PATHs' directories (the directories of files given, else the
    migrations directories) on two scratch databases: one stands for the database (nothing
    applied), the plan runs on the other; ``observe``: and observe it on a third."""
    import tempfile

    from ..lint import lint_plan
    from ..lint.observe import observe_plan
    from ..lint.observed import add_observed
    from ..runtime.migrator import Migrator
    from ..testing.scratch import scratch_database
    from ..urls import async_url

    files = {os.path.normpath(p) for p in paths if not os.path.isdir(p)}
    folders = [p if os.path.isdir(p) else os.path.dirname(p) or "." for p in paths]
    plan_directories = list(dict.fromkeys(folders)) or list(directories(settings))
    server = async_url(scratch_url)

    async def run(folder: str) -> LintReport:
        async with scratch_database(server, folder) as stand_in, scratch_database(server, folder) as scratch:
            migrator = Migrator(
                stand_in, plan_directories, table=settings.table, sources=alembic_sources(settings)
            )
            report = await lint_plan(migrator, scratch=scratch, paths=files or None)
            if not observe:
                return report
            async with scratch_database(server, folder) as observed_on:
                seen = await observe_plan(migrator, observed_on, paths=files or None)
            return add_observed(report, seen)

    with tempfile.TemporaryDirectory(prefix="uno-lint-") as folder:
        return run_coroutine(run(folder))


def _summary(report: LintReport) -> str:
    counts = {
        "error": report.count("error"),
        "warning": report.count("warning"),
        "note": report.count("info"),
    }
    parts = [out.plural(count, word) for word, count in counts.items() if count]
    if report.suppressed:
        parts.append(f"{len(report.suppressed)} suppressed")
    return ", ".join(parts)


def _render(state: State, report: LintReport, fmt: str, show_suppressed: bool) -> None:
    """Print the report in ``fmt``; exit 1 after it when an error-level finding is left."""
    from ..lint.formats import github_lines, sarif, text_lines

    summary = _summary(report)
    files = out.plural(report.files, "migration file")
    failure = f"lint found {summary} in {files}" if report.errors else None
    if fmt == "json":
        out.print_json(state.document, failure)
    elif fmt == "sarif":
        out.echo(json.dumps(sarif(report), indent=2))
    elif fmt == "github":
        lines = github_lines(report, show_suppressed)
        if lines:
            out.echo("\n".join(lines))
    elif not state.quiet:
        lines = text_lines(report, show_suppressed)
        if lines:
            out.echo("\n".join(lines))
        if failure is None:
            state.echo(f"No errors in {files}" + (f": {summary}" if summary else ""))
    if failure is not None:
        out.error_line(failure)
        click.get_current_context().exit(EXIT_ERROR)

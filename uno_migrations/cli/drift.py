"""``uno-migrations diff``: how a live database differs from what its applied migrations make.

The comparison is :func:`uno_migrations.testing.drift.schema_drift`, imported when the command runs.
"""

from __future__ import annotations

import click

from . import output as out
from .options import State, alembic_sources, directories
from .program import command, json_option, report_findings, run_coroutine

#: What the ``--json`` document adds to its head (``command``, ``database``, ``scratch_server``):
#: each null when the command stops before the comparison.
FIELDS = ("applied", "differences", "missing", "modified", "failed", "not_run")


@command("diff", short_help="Compare a database with what its applied migrations make.")
@click.option(
    "--url",
    metavar="URL",
    help="The database to compare [default: the database URL (--database-url, the environment, the "
    "config file)].",
)
@click.option(
    "--scratch-url",
    metavar="URL",
    help="A server to make the scratch database on, dropped afterwards [default: the database's own "
    "server; for SQLite, a file in a temporary folder].",
)
@json_option
def diff(state: State, url: str | None, scratch_url: str | None, as_json: bool) -> None:
    """Apply the migrations applied on the database, in plan order, on a scratch database, and
    compare the two schemas: exit 1 with a line per difference (a column added by hand reads
    "added") and per applied migration whose file is missing, modified or failed part-way; exit 0
    when they match. Writes nothing on the database."""
    from ..testing.drift import schema_drift
    from ..urls import async_url, mask_url

    settings = state.settings()
    live = url or settings.database_url
    if not live:
        raise click.UsageError(
            "no database to compare: pass --url or --database-url, or set UNO_MIGRATIONS_DATABASE_URL",
            ctx=click.get_current_context(),
        )
    state.url = mask_url(async_url(live))
    scratch = mask_url(async_url(scratch_url)) if scratch_url else None
    state.document.update(database=state.url, scratch_server=scratch, **dict.fromkeys(FIELDS))
    report = run_coroutine(
        schema_drift(
            live,
            directories(settings),
            sources=alembic_sources(settings),
            table=settings.table,
            schema=settings.schema,
            scratch_server=scratch_url,
        )
    )
    state.document.update(report.as_dict())
    applied = out.plural(len(report.applied), "applied migration")
    if report.not_run and not state.as_json:
        state.echo(f"Pending (out of order), so not run on the scratch database: {', '.join(report.not_run)}")
    report_findings(
        state,
        len(report.lines),
        lambda: out.echo("\n".join(report.lines)),
        f"{state.url} has drifted from its {applied} ({out.plural(len(report.lines), 'finding')})",
        f"No drift: {state.url} matches its {applied}",
    )

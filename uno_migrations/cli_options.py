"""The command line's global options, the State they fill, and what they select.

Every global option is accepted before and after the command (``global_options`` adds them to
the group and to each command); each records itself on :class:`State`, so a value given after
the command wins. From the resulting settings come the migrator, the migrations directories and
the other migration sources.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from .config import Settings, load_settings

if TYPE_CHECKING:
    from .migration import MigrationBase
    from .planning import MigrationPlan
    from .report import MigrationEvent
    from .runner import Migrator
    from .sources import MigrationSource

log = logging.getLogger("uno_migrations.cli")
T = TypeVar("T")


@dataclass
class State:
    """The global options given on the command line, before and after the command."""

    options: dict[str, Any] = field(default_factory=dict)
    verbose: int = 0
    quiet: bool = False

    def settings(self) -> Settings:
        settings = load_settings(self.options)
        if settings.config_file:
            log.info("config file: %s", settings.config_file)
        log.debug(
            "settings: directories=%s table=%s schema=%s lock_timeout=%s",
            list(settings.directories),
            settings.table,
            settings.schema,
            settings.lock_timeout,
        )
        return settings

    def migrator(
        self, settings: Settings, listener: Callable[[MigrationEvent], None] | None = None
    ) -> Migrator:
        from .runner import Migrator

        migrator = Migrator(
            settings.require_url(),
            directories(settings),
            table=settings.table,
            schema=settings.schema,
            lock_timeout=settings.lock_timeout,
            listener=listener,
            sources=alembic_sources(settings),
        )
        log.info("database: %s", migrator.url)
        return migrator

    def echo(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep a global option given on the command line; a later one (after the command) wins."""
    state = ctx.ensure_object(State)
    name = str(param.name)
    if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
        return value
    if name == "verbose":
        state.verbose += value
    elif name == "quiet":
        state.quiet = value
    else:
        state.options[name] = value
    return value


def global_options(f: Callable[..., T]) -> Callable[..., T]:
    """Add the options accepted both before the command (on the group) and after it.

    They do not reach the function: each stores itself on :class:`State` (see ``_remember``).
    """
    hidden: dict[str, Any] = {"expose_value": False, "callback": _remember}
    options = [
        click.option(
            "--database-url",
            "-u",
            "database_url",
            metavar="URL",
            **hidden,
            help="Database URL [env: UNO_MIGRATIONS_DATABASE_URL, then DATABASE_URL].",
        ),
        click.option(
            "--directory",
            "-d",
            "directories",
            multiple=True,
            metavar="DIR",
            **hidden,
            help="Migrations directory; repeat for several [default: ./migrations].",
        ),
        click.option(
            "--alembic-directory",
            "alembic_directories",
            multiple=True,
            metavar="DIR",
            **hidden,
            help="Alembic versions directory to run as well; repeat for several.",
        ),
        click.option(
            "--table", metavar="NAME", **hidden, help="Version table name [default: uno_migrations]."
        ),
        click.option(
            "--schema",
            metavar="NAME",
            **hidden,
            help="Schema (PostgreSQL) or database (MySQL) of the version table.",
        ),
        click.option(
            "--config",
            "config",
            metavar="FILE",
            **hidden,
            help="Config file [default: [tool.uno_migrations] in the nearest pyproject.toml].",
        ),
        click.option(
            "--lock-timeout",
            "lock_timeout",
            type=float,
            metavar="SECONDS",
            **hidden,
            help="How long to wait for another run's lock [default: 60].",
        ),
        click.option(
            "--verbose", "-v", count=True, **hidden, help="Log to stderr: -v info, -vv debug, -vvv SQL too."
        ),
        click.option("--quiet", "-q", is_flag=True, **hidden, help="Print errors only."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def plan_without_database(settings: Settings) -> tuple[MigrationPlan, str | None]:
    """The plan without a database; with a URL, its engine picks SQL engine variants."""
    from .planning import order

    if settings.database_url:
        from .runner import Migrator

        migrator = Migrator(settings.database_url, directories(settings), sources=alembic_sources(settings))
        return migrator.plan(), migrator.dialect
    return order(discover_all(settings)), None


def directories(settings: Settings) -> tuple[str, ...]:
    """The migrations directories; beside Alembic ones, a missing default ./migrations is no error."""
    from .config import DEFAULT_DIRECTORY

    directories = settings.directories
    if settings.alembic_directories and directories == (DEFAULT_DIRECTORY,):
        return directories if os.path.isdir(DEFAULT_DIRECTORY) else ()
    return directories


def discover_all(settings: Settings) -> list[MigrationBase]:
    from .sources import DirectorySource

    sources = [DirectorySource(directories(settings)), *alembic_sources(settings)]
    return [base for source in sources for base in source.discover(None)]


def alembic_sources(settings: Settings) -> list[MigrationSource]:
    """The Alembic versions directories as a source, when any are given."""
    if not settings.alembic_directories:
        return []
    from .cli_alembic import sources

    return sources(settings)

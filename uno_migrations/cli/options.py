"""The command line's global options, the State they fill, and what they select.

Every global option is accepted before and after the command (``global_options`` adds them to
the group and to each command); each records itself on :class:`State`, so a value given after
the command wins. From the resulting settings come the migrator, the migrations directories and
the other migration sources.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from .config import Settings, load_settings, parse_seconds
from .output import echo

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from ..files.migration import MigrationBase
    from ..files.planning import MigrationPlan
    from ..files.sources import MigrationSource
    from ..runtime.migrator import Migrator
    from ..runtime.report import MigrationEvent

log = logging.getLogger("uno_migrations.cli")
T = TypeVar("T")


@dataclass
class State:
    """The global options given on the command line, before and after the command, and what
    the command found out for its report: the database it shows, its ``--json`` document."""

    options: dict[str, Any] = field(default_factory=dict)
    verbose: int = 0
    quiet: bool = False
    #: ``--json``: the command prints :attr:`document`, also when it fails.
    as_json: bool = False
    #: The ``--json`` document so far: the command and the database, then what the command adds.
    document: dict[str, Any] = field(default_factory=dict)
    #: The database as shown: its URL with the password masked.
    url: str | None = None
    #: The SQLite file named by the URL when it does not exist (a read-only command then reads
    #: an empty database in memory instead of creating the file).
    missing_database: str | None = None

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
        self,
        settings: Settings,
        listener: Callable[[MigrationEvent], None] | None = None,
        *,
        writes: bool = False,
    ) -> Migrator:
        """The migrator of ``settings``. Unless the command ``writes``, an SQLite file that does
        not exist is not created: the command sees an empty database (nothing applied)."""
        from sqlalchemy.engine import URL

        from ..runtime.lock_waits import LockWaits
        from ..runtime.migrator import Migrator
        from ..urls import async_url, mask_url

        given = settings.require_url()
        url = async_url(given)
        _note_driver(given, url)
        self.url = mask_url(url)
        self.document["database"] = self.url
        bind = url
        self.missing_database = None if writes else _missing_sqlite_file(url)
        if self.missing_database is not None:
            log.info("%s does not exist: nothing is applied there, and it is not created", url.database)
            bind = URL.create(url.drivername)  # an empty database in memory: no file, no lock file
        migrator = Migrator(
            bind,
            directories(settings),
            table=settings.table,
            schema=settings.schema,
            lock_timeout=settings.lock_timeout,
            listener=listener,
            sources=alembic_sources(settings),
            lock_waits=LockWaits(
                timeout=settings.statement_lock_timeout,
                retries=settings.lock_retries,
                statement_timeout=settings.statement_timeout,
            ),
        )
        log.info("database: %s", self.url)
        return migrator

    def echo(self, text: str = "") -> None:
        if not self.quiet:
            echo(text)


def _note_driver(given: str, url: URL) -> None:
    """Say so when the URL named a synchronous driver that was replaced by the async one."""
    from sqlalchemy.engine import make_url

    _, _, driver = make_url(given).drivername.partition("+")
    if driver and driver != url.get_driver_name():
        log.warning(
            "using %s instead of the synchronous driver %s (uno-migrations runs on async drivers)",
            url.drivername,
            driver,
        )


def _missing_sqlite_file(url: URL) -> str | None:
    """The path of the SQLite file ``url`` names, when that file does not exist."""
    from ..dialects import adapter_class

    database = url.database
    if not adapter_class(url.get_backend_name()).database_is_file or not database or database == ":memory:":
        return None
    if database.startswith("file:") or "uri" in url.query or "mode" in url.query:
        return None  # an SQLite URI, or an explicit mode: they say what is opened
    return None if os.path.exists(database) else database


class Seconds(click.ParamType[float]):
    """A number of seconds >= 0 (``--lock-timeout``): a bad value is a usage error."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return parse_seconds(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


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
            "-x",
            "--x-arg",
            "alembic_x_args",
            multiple=True,
            metavar="KEY=VALUE",
            **hidden,
            help="Alembic -x argument for the revisions; repeat for several.",
        ),
        click.option(
            "--alembic-metadata",
            "alembic_metadata",
            metavar="REF",
            **hidden,
            help="MetaData for the revisions, module:attribute (target_metadata).",
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
            type=Seconds(),
            metavar="SECONDS",
            **hidden,
            help="How long to wait for another run's lock [default: 60].",
        ),
        click.option(
            "--statement-lock-timeout",
            "statement_lock_timeout",
            type=Seconds(),
            metavar="SECONDS",
            **hidden,
            help="How long a migration's statement waits for its locks; 0: no limit [default: 2].",
        ),
        click.option(
            "--lock-retries",
            "lock_retries",
            type=click.IntRange(min=0),
            metavar="N",
            **hidden,
            help="Try a migration that timed out waiting for a lock again, N times [default: 5].",
        ),
        click.option(
            "--statement-timeout",
            "statement_timeout",
            type=Seconds(),
            metavar="SECONDS",
            **hidden,
            help="How long a migration's statement may run; 0: no limit [default: 0].",
        ),
        click.option(
            "--verbose", "-v", count=True, **hidden, help="Log to stderr: -v info, -vv debug, -vvv SQL too."
        ),
        click.option("--quiet", "-q", is_flag=True, **hidden, help="Print errors only."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def plan_without_database(settings: Settings) -> tuple[MigrationPlan, str | None, str | None]:
    """The plan without a database, its engine and the database as shown (masked); with a URL,
    its engine picks SQL engine variants."""
    from ..files.planning import order

    if settings.database_url:
        from ..runtime.migrator import Migrator

        migrator = Migrator(settings.database_url, directories(settings), sources=alembic_sources(settings))
        return migrator.plan(), migrator.dialect, migrator.url
    return order(discover_all(settings)), None, None


def directories(settings: Settings) -> tuple[str, ...]:
    """The migrations directories; beside Alembic ones, a missing default ./migrations is no error."""
    from .config import DEFAULT_DIRECTORY

    directories = settings.directories
    if settings.alembic_directories and directories == (DEFAULT_DIRECTORY,):
        return directories if os.path.isdir(DEFAULT_DIRECTORY) else ()
    return directories


def discover_all(settings: Settings) -> list[MigrationBase]:
    from ..files.sources import DirectorySource

    sources = [DirectorySource(directories(settings)), *alembic_sources(settings)]
    return [base for source in sources for base in source.discover(None)]


def alembic_sources(settings: Settings) -> list[MigrationSource]:
    """The Alembic versions directories as a source, when any are given."""
    if not settings.alembic_directories:
        return []
    require_alembic("--alembic-directory")
    from alembic_compat import AlembicSource

    return [
        AlembicSource(
            settings.alembic_directories,
            x_arguments=settings.alembic_x_args,
            options=settings.alembic_options,
            metadata=settings.alembic_metadata,
        )
    ]


def require_alembic(feature: str) -> None:
    """Stop with one line when the ``alembic`` extra, which ``feature`` needs, is not installed."""
    from ..errors import ConfigurationError

    if importlib.util.find_spec("alembic") is None:
        raise ConfigurationError(
            f"{feature} needs Alembic, which is not installed: pip install 'uno-migrations[alembic]'"
        )

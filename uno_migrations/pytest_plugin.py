"""The pytest plugin (docs/testing.md): a scratch database per test, and the built-in checks.

Registered through the ``pytest11`` entry point, so installing uno-migrations makes it available;
it does nothing until a test asks for one of its fixtures or ``--uno-tests`` is given, and this
module imports only pytest until then.

- ``--uno-url URL`` (repeatable; else ``UNO_TEST_URLS``, comma-separated; else the ``uno_urls``
  ini key; else a scratch SQLite file) names the servers. A test that takes ``uno_database`` or
  ``uno_migrator`` runs once per server, its id the engine's name.
- ``uno_database`` is a :class:`~uno_migrations.testing.database.TestDatabase`: a new scratch
  database for the one test, at the project's last migration, at a given one with
  ``@pytest.mark.uno_at("ID")``, or empty with ``@pytest.mark.uno_at(None)``. Each state is
  migrated once per session into a template database; a test gets a copy of it (a file copy, or
  ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), or, on an engine that cannot copy a database
  (MySQL), a new one migrated for it.
- ``--uno-tests`` (or ``uno_tests = true``) adds the checks of ``uno-migrations test`` as test
  items, one per check and server: ``uno_migrations::roundtrip[postgresql]``.

The project is the ``[tool.uno_migrations]`` section that the CLI would read from pytest's
root directory: its directories, Alembic directories, version table and ``metadata``. uno's tables
are kept in each scratch database's own default schema, whatever ``schema`` says: it is where the
project's databases keep them (on MySQL, another database of the server).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL

    from .cli.config import Settings
    from .runtime.migrator import Migrator
    from .testing.checks import CheckReport, Finding
    from .testing.database import TestDatabase
    from .testing.scratch import ScratchServer

ENV_URLS = "UNO_TEST_URLS"
#: The server a test gets without ``--uno-url``: a scratch SQLite file in the session's folder.
DEFAULT_SERVER = "sqlite://"
#: ``uno_at`` not given: the last migration.
_LAST = "last"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("uno_migrations", "uno-migrations: testing migrations")
    group.addoption(
        "--uno-url",
        action="append",
        default=[],
        dest="uno_urls",
        metavar="URL",
        help=f"A server to make scratch databases on; repeat for several engines (else {ENV_URLS}, "
        "comma-separated, else the uno_urls ini key, else an SQLite file).",
    )
    group.addoption(
        "--uno-tests",
        action="store_true",
        default=None,
        dest="uno_tests",
        help="Add the built-in checks of the project's migrations, per server (or uno_tests = true).",
    )
    parser.addini("uno_urls", type="linelist", default=[], help="Servers for scratch databases.")
    parser.addini("uno_tests", type="bool", default=False, help="Add the built-in migration checks.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "uno_at(migration_id): uno_database migrated up to this migration only (None: empty).",
    )


def servers(config: pytest.Config) -> list[str]:
    """The ``--uno-url`` values, else ``UNO_TEST_URLS``, else the ini key, else SQLite."""
    given: list[str] = config.getoption("uno_urls") or []
    if not given:
        given = [url.strip() for url in os.environ.get(ENV_URLS, "").split(",") if url.strip()]
    if not given:
        given = list(config.getini("uno_urls"))
    return given or [DEFAULT_SERVER]


def server_ids(urls: list[str]) -> list[str]:
    """Each server's engine name (``postgresql``), numbered where two servers share an engine."""
    from .dialects import adapter_class
    from .urls import async_url

    names = [adapter_class(async_url(url).get_backend_name()).name for url in urls]
    return [
        f"{name}{names[:i].count(name) + 1}" if names.count(name) > 1 else name
        for i, name in enumerate(names)
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "uno_server" in metafunc.fixturenames:
        urls = servers(metafunc.config)
        metafunc.parametrize("uno_server", urls, ids=server_ids(urls))


# -- the project and its databases ---------------------------------------------------------------


@dataclass
class Project:
    """The migrations pytest's root directory configures, and the databases made for them."""

    settings: Settings
    folder: Path
    _servers: dict[str, ScratchServer] = field(default_factory=dict)
    _templates: dict[tuple[str, str | None], URL | BaseException] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path, folder: Path) -> Project:
        from .cli.config import load_settings

        settings = load_settings(cwd=root)
        return cls(
            replace(
                settings,
                directories=tuple(str(root / d) for d in settings.directories),
                alembic_directories=tuple(str(root / d) for d in settings.alembic_directories),
            ),
            folder,
        )

    def migrator(self, database: URL | str) -> Migrator:
        from .cli.options import alembic_sources, directories
        from .runtime.migrator import Migrator

        settings = self.settings
        return Migrator(
            database,
            directories(settings),
            table=settings.table,
            lock_timeout=settings.lock_timeout,
            sources=alembic_sources(settings),
        )

    def metadata(self, root: Path) -> MetaData | None:
        """The models ``metadata`` (else ``alembic_metadata``) names, or None."""
        reference = self.settings.metadata or self.settings.alembic_metadata
        if reference is None:
            return None
        from alembic_compat.autogenerate import load_metadata

        return load_metadata(reference, cwd=root)

    def server(self, url: str) -> ScratchServer:
        from .testing.scratch import ScratchServer

        if url not in self._servers:
            self._servers[url] = ScratchServer(url, self.folder)
        return self._servers[url]

    def database(self, url: str, target: str | None) -> URL:
        """A new database on ``url``'s server, migrated to ``target`` (:data:`_LAST`: the last
        migration; None: empty)."""
        from .testing.database import run_sync

        server = self.server(url)
        if target is None:
            return run_sync(server.create)
        if server.copies:
            template = self._template(url, target)
            return run_sync(lambda: server.create(template))
        database = run_sync(server.create)
        try:
            run_sync(lambda: self._migrate(database, target))
        except BaseException:
            run_sync(lambda: server.drop(database))
            raise
        return database

    def _template(self, url: str, target: str) -> URL:
        """The database migrated to ``target`` that tests copy, made on first use."""
        from .testing.database import run_sync

        key = (url, target)
        if key not in self._templates:
            server = self.server(url)
            template = run_sync(server.create)
            try:
                run_sync(lambda: self._migrate(template, target))
                self._templates[key] = template
            except BaseException as exc:  # every test of this state fails with it, none retries
                run_sync(lambda: server.drop(template))
                self._templates[key] = exc
        made = self._templates[key]
        if isinstance(made, BaseException):
            raise made
        return made

    async def _migrate(self, database: URL, target: str) -> None:
        await self.migrator(database).migrate(target=None if target == _LAST else target)

    def close(self) -> None:
        """Drop the templates, and the folder of the files."""
        from .testing.database import run_sync

        for (url, _), made in self._templates.items():
            if not isinstance(made, BaseException):
                run_sync(functools.partial(self.server(url).drop, made))
        self._templates.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


_PROJECT = pytest.StashKey["Project"]()


def project(config: pytest.Config) -> Project:
    """The session's project, read on first use; its SQLite databases in a folder of its own."""
    if _PROJECT not in config.stash:
        folder = Path(tempfile.mkdtemp(prefix="uno-migrations-"))
        config.stash[_PROJECT] = Project.read(config.rootpath, folder)
    return config.stash[_PROJECT]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PROJECT in config.stash:
        config.stash[_PROJECT].close()


@pytest.fixture
def uno_database(request: pytest.FixtureRequest, uno_server: str) -> Iterator[TestDatabase]:
    """A new scratch database for this test on each ``--uno-url`` server, at the last migration
    (``@pytest.mark.uno_at("ID")``: at that one; ``uno_at(None)``: empty), dropped afterwards."""
    from .testing.database import TestDatabase, run_sync

    marker = request.node.get_closest_marker("uno_at")
    target = _LAST if marker is None else (marker.args[0] if marker.args else marker.kwargs.get("migration"))
    found = project(request.config)
    database = found.database(uno_server, target)
    try:
        yield TestDatabase(database, found.migrator(database))
    finally:
        server = found.server(uno_server)
        run_sync(lambda: server.drop(database))


@pytest.fixture
def uno_migrator(uno_database: TestDatabase) -> Migrator:
    """A :class:`~uno_migrations.Migrator` on ``uno_database``, for the project's migrations."""
    return uno_database.migrator


# -- the built-in checks -------------------------------------------------------------------------


def _enabled(config: pytest.Config) -> bool:
    given = config.getoption("uno_tests")
    return bool(config.getini("uno_tests") if given is None else given)


@pytest.hookimpl(tryfirst=True)  # before -k and -m choose among the items
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not _enabled(config):
        return
    from .testing.checks import CHECKS

    found = project(config)
    models = found.settings.metadata or found.settings.alembic_metadata
    urls = servers(config)
    added: list[pytest.Item] = []
    for url, name in zip(urls, server_ids(urls), strict=True):
        run = CheckRun(found, url, config.rootpath)
        for check in CHECKS:
            if check != "models" or models:
                item = CheckItem.from_parent(session, name=f"{check}[{name}]", check=check, run=run)
                added.append(item)
    # Reported as collected, so that pytest's counts (and -k's "selected") include them.
    collected: list[pytest.Item | pytest.Collector] = [*added]
    report = pytest.CollectReport("uno_migrations", "passed", None, collected)
    config.hook.pytest_collectreport(report=report)
    items.extend(added)


class CheckRun:
    """The built-in checks on one server, run once (on a scratch database) for all its items."""

    def __init__(self, found: Project, url: str, root: Path) -> None:
        self.project, self.url, self.root = found, url, root
        self.outcomes: dict[str, list[tuple[str | None, str]]] = {}
        self._report: CheckReport | BaseException | None = None

    def report(self) -> CheckReport:
        if self._report is None:
            try:
                self._report = self._run()
            except BaseException as exc:
                self._report = exc
        if isinstance(self._report, BaseException):
            raise self._report
        return self._report

    def _run(self) -> CheckReport:
        from .cli.options import alembic_sources, directories
        from .testing.checks import check_migrations
        from .testing.database import run_sync

        settings = self.project.settings
        metadata = self.project.metadata(self.root)
        server = self.project.server(self.url)

        def progress(check: str, migration_id: str | None, outcome: str) -> None:
            self.outcomes.setdefault(check, []).append((migration_id, outcome))

        async def run() -> CheckReport:
            database = await server.create()
            try:
                return await check_migrations(
                    database,
                    directories(settings),
                    sources=alembic_sources(settings),
                    table=settings.table,
                    metadata=metadata,
                    progress=progress,
                )
            finally:
                await server.drop(database)

        return run_sync(run)


class CheckFailed(Exception):
    """A built-in check's findings: shown as they are, without a traceback."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(line for finding in findings for line in finding.lines))


class CheckItem(pytest.Item):
    """One built-in check on one server."""

    def __init__(self, *, check: str, run: CheckRun, **kwargs: Any) -> None:
        super().__init__(nodeid=f"uno_migrations::{kwargs['name']}", **kwargs)
        self.check, self.run = check, run

    def runtest(self) -> None:
        report = self.run.report()
        findings = [finding for finding in report.findings if finding.check == self.check]
        if findings:
            raise CheckFailed(findings)
        outcomes = self.run.outcomes.get(self.check)
        if not outcomes:
            first = report.findings[0].lines[0] if report.findings else "an earlier check stopped"
            raise _skip(f"not reached: {first}")
        if self.check == "rollback" and outcomes[-1][1] == "skipped":
            raise _skip(f"not every migration has a down step: {', '.join(report.skipped)}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.config.inipath or self.path, 0, self.nodeid


def _skip(reason: str) -> BaseException:
    """A skip that reports the item (its config file), not the line of this module raising it."""
    return pytest.skip.Exception(reason, _use_item_location=True)

"""``AlembicSource``: Alembic versions directories as a uno migration source.

Listing reads the files without importing them (:mod:`alembic_compat.revisions`), or Alembic
itself. Loading imports a revision module once, as Alembic would, and wraps it in an
:class:`AlembicRevision` whose ``apply``/``revert`` call its ``upgrade()``/``downgrade()``
through ``context.run_sync`` with Alembic's ``Operations`` bound to the migration's connection
(``alembic.op`` and ``alembic.context`` work inside them).

While a revision is imported and while it runs, these directories are on ``sys.path`` (first,
when not there already), so that revisions can import the project's own modules as they do
under Alembic: the versions directory's parent and grandparent, the current directory, and the
``prepend_sys_path`` entries of an ``alembic.ini`` found in that parent or grandparent.
``PYTHONPATH`` and installed packages (Alembic plugins) are on it anyway.

Inside a revision Alembic's runtime objects are as an ``env.py`` that calls
``context.configure(connection=connection, target_metadata=metadata)`` leaves them: ``context.config``
(also ``op.get_context().config``) is an :class:`alembic.config.Config` (the project's
``alembic.ini``, with the source's ``options`` as main options and ``sqlalchemy.url`` the URL of the
run), ``context.get_x_argument()`` the source's ``x_arguments``, and ``op.get_context().opts`` the
options ``configure()`` sets, ``target_metadata`` among them (whose naming convention the
operations follow).

>>> # Migrator(url, ["migrations"], sources=[AlembicSource(["alembic/versions"])])
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from uno_migrations.errors import ConfigurationError, InvalidMigrationError
from uno_migrations.files.discovery import read_run_settings
from uno_migrations.files.loader import import_file
from uno_migrations.files.migration import Migration, MigrationBase
from uno_migrations.runtime.context import MigrationContext

from .revisions import RevisionGraph, scan

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL, Connection

log = logging.getLogger(__name__)


class AlembicRevision(Migration):
    """One imported Alembic revision: ``apply`` runs ``upgrade()``, ``revert`` ``downgrade()``."""

    def __init__(self, base: MigrationBase, module: ModuleType, directory: _VersionsDirectory) -> None:
        super().__init__(base)
        self.module = module
        self.directory = directory

    @property
    def reversible(self) -> bool:
        return callable(getattr(self.module, "downgrade", None))

    async def apply(self, context: MigrationContext) -> None:
        await self._run(context, "upgrade")

    async def revert(self, context: MigrationContext) -> None:
        if not self.reversible:
            raise NotImplementedError(f"revision {self.base.id} has no downgrade()")
        await self._run(context, "downgrade")

    def sync_apply(self, context: MigrationContext) -> Callable[[Connection], None]:
        """``upgrade()`` on a synchronous connection, for an adapter that runs it whole with the
        version rows: on the driver's own thread with the lock and the re-check (SQLite), else in
        one call through SQLAlchemy's greenlet (on PostgreSQL between a BEGIN and a COMMIT of its
        own; on MySQL with its write-ahead row before its first DDL statement)."""
        from .operations import call_operations

        step, environment = self.module.upgrade, self.directory.environment

        def upgrade(connection: Connection) -> None:
            with self.directory.on_sys_path():
                call_operations(connection, context, lambda _op: step(), environment=environment)

        return upgrade

    async def _run(self, context: MigrationContext, name: str) -> None:
        from .operations import run_operations, write_out_operations

        step = getattr(self.module, name)
        with self.directory.on_sys_path():
            if context.offline:
                write_out_operations(
                    context, lambda _op: step(), environment=self.directory.offline_environment
                )
                return
            await run_operations(context, lambda _op: step(), environment=self.directory.environment)


@dataclass(eq=False)  # hashed by identity: its environment factory keys the runtime contexts
class _VersionsDirectory:
    """One versions directory: where its imports come from, and its Alembic configuration."""

    path: Path
    source: AlembicSource

    def __post_init__(self) -> None:
        self.ini = next((p for p in self._around("alembic.ini") if p.is_file()), None)
        self._config: Config | None = None
        self._script: ScriptDirectory | None = None
        #: The configuration revisions see, per database URL (one object for a whole run).
        self._run_configs: dict[str, Config] = {}
        paths = [*self._ini_paths(), str(self.path.parent.parent), str(self.path.parent), os.getcwd()]
        self.sys_paths = list(dict.fromkeys(os.path.abspath(p) for p in paths))

    def _around(self, name: str) -> list[Path]:
        return [self.path.parent / name, self.path.parent.parent / name]

    def _ini_paths(self) -> list[str]:
        if self.ini is None:
            return []
        try:
            listed = self.config().get_prepend_sys_paths_list() or []
        except Exception as exc:  # a malformed alembic.ini only costs its extra paths
            log.warning("cannot read prepend_sys_path from %s: %s", self.ini, exc)
            return []
        return [p if os.path.isabs(p) else os.path.join(os.getcwd(), p) for p in listed]

    @contextmanager
    def on_sys_path(self) -> Iterator[None]:
        added = [p for p in self.sys_paths if p not in sys.path]
        sys.path[:0] = added
        try:
            yield
        finally:
            for entry in added:
                if entry in sys.path:
                    sys.path.remove(entry)

    def config(self) -> Config:
        """The project's ``alembic.ini`` as it is (for its ``prepend_sys_path``)."""
        from alembic.config import Config

        if self._config is None:
            self._config = Config(str(self.ini)) if self.ini is not None else Config()
        return self._config

    def run_config(self, url: str) -> Config:
        """The configuration of a run on ``url``, as Alembic's command line would make it: the
        project's ``alembic.ini`` (or an empty one), ``script_location`` this directory's parent
        unless the file sets it, the source's main options, ``sqlalchemy.url`` the run's URL, the
        ``-x`` arguments in ``cmd_opts`` and the source's ``attributes``."""
        config = self._run_configs.get(url)
        if config is None:
            from alembic.config import Config

            source = self.source
            cmd_opts = argparse.Namespace(
                config=str(self.ini) if self.ini is not None else None,
                name="alembic",
                raiseerr=False,
                quiet=False,
                x=list(source.x_arguments) or None,
                sql=False,
                tag=None,
            )
            ini = str(self.ini) if self.ini is not None else None
            config = Config(ini, cmd_opts=cmd_opts)
            config.attributes = source.attributes  # the same dictionary, shared with the caller
            if not config.get_main_option("script_location"):
                config.set_main_option("script_location", str(self.path.parent))
            for key, value in source.options.items():
                config.set_main_option(key, value.replace("%", "%%"))
            config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
            self._run_configs[url] = config
        return config

    def environment(self, connection: Connection, url: URL) -> EnvironmentContext:
        """What ``alembic.context`` means inside this directory's revisions on ``connection``:
        the environment an ``env.py`` configures with the connection and the target metadata."""
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory

        if self._script is None:
            self._script = ScriptDirectory(str(self.path.parent), version_locations=[str(self.path)])
        config = self.run_config(url.render_as_string(hide_password=False))
        environment = EnvironmentContext(config, self._script, as_sql=False)
        environment.configure(
            connection=connection,
            target_metadata=self.source.target_metadata,
            transaction_per_migration=True,
        )
        return environment

    def offline_environment(self, dialect_name: str, url: URL, buffer: io.StringIO) -> EnvironmentContext:
        """The environment of :meth:`environment` in Alembic's offline mode (``as_sql``): no
        connection; what the operations emit, values written in, goes to ``buffer``."""
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory

        if self._script is None:
            self._script = ScriptDirectory(str(self.path.parent), version_locations=[str(self.path)])
        config = self.run_config(url.render_as_string(hide_password=False))
        environment = EnvironmentContext(config, self._script, as_sql=True)
        environment.configure(
            dialect_name=dialect_name,
            dialect_opts={"paramstyle": "named"},  # as env.py's offline mode: no '%' doubled
            output_buffer=buffer,
            literal_binds=True,
            target_metadata=self.source.target_metadata,
            transaction_per_migration=True,
            transactional_ddl=False,
        )
        return environment


class AlembicSource:
    """The revisions of one or more Alembic ``versions/`` directories, as uno migrations.

    Each revision becomes a migration with ``id = revision`` and ``kind = "alembic"``, depending
    on its down revisions and what it ``depends_on``. Revision ids must be unique across the
    directories (and across every source of a :class:`~uno_migrations.Migrator`).

    What an ``env.py`` would give the revisions: ``x_arguments`` are Alembic's ``-x`` arguments
    (``context.get_x_argument()``); ``options`` are main options of the configuration
    (``context.config.get_main_option(key)``), over those of ``alembic.ini``; ``metadata`` is
    the ``target_metadata`` (a ``MetaData``, or ``"module:attribute"`` imported when the first
    revision is loaded), whose naming convention names the constraints the operations leave
    unnamed; ``attributes`` is the configuration's ``attributes`` dictionary.
    """

    def __init__(
        self,
        directories: Sequence[str | os.PathLike[str]],
        *,
        x_arguments: Sequence[str] = (),
        options: Mapping[str, str] | None = None,
        metadata: MetaData | str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.directories = [os.fspath(d) for d in directories]
        if isinstance(x_arguments, str) or not all(isinstance(x, str) for x in x_arguments):
            raise ConfigurationError(f"x_arguments must be a sequence of strings, not {x_arguments!r}")
        self.x_arguments = tuple(x_arguments)
        options = dict(options or {})
        wrong = [
            key for key, value in options.items() if not isinstance(key, str) or not isinstance(value, str)
        ]
        if wrong:
            raise ConfigurationError(f"Alembic main options must be strings; {wrong[0]!r} is not")
        self.options: dict[str, str] = options
        if (
            metadata is not None
            and not isinstance(metadata, str)
            and not hasattr(metadata, "naming_convention")
        ):
            raise ConfigurationError(f"metadata must be a MetaData or 'module:attribute', not {metadata!r}")
        self.metadata = metadata
        self.attributes: dict[str, Any] = {} if attributes is None else attributes
        self._target_metadata: MetaData | None = None if isinstance(metadata, str) else metadata
        self._folders: dict[str, _VersionsDirectory] = {}
        self._modules: dict[tuple[str, str], ModuleType] = {}

    @property
    def target_metadata(self) -> MetaData | None:
        """The ``MetaData`` revisions run with (imported by :meth:`load` when named by reference)."""
        return self._target_metadata

    def graph(self) -> RevisionGraph:
        """Read every revision file and check the references between them."""
        return RevisionGraph(scan(self.directories))

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        """Every revision; pre-deploy unless its module sets ``phase`` (as uno's files do)."""
        found = self.graph().migrations()
        for base in found:
            read_run_settings(base)
        return found

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        if base.problem is not None:  # a bad phase or lock_timeout, found by discover
            raise InvalidMigrationError(str(base.path), base.problem)
        path = Path(str(base.path))
        folder = self._folder(path.parent)
        key = (str(path), base.checksum)
        module = self._modules.get(key)
        if module is None:
            with folder.on_sys_path():
                if isinstance(self.metadata, str) and self._target_metadata is None:
                    self._target_metadata = _import_metadata(self.metadata)
                module = _import(base)
            self._modules[key] = module
        return AlembicRevision(base, module, folder)

    def _folder(self, path: Path) -> _VersionsDirectory:
        folder = self._folders.get(str(path))
        if folder is None:
            folder = self._folders[str(path)] = _VersionsDirectory(path.resolve(), self)
        return folder

    def __repr__(self) -> str:
        return f"AlembicSource({self.directories!r})"


def _import_metadata(reference: str) -> MetaData:
    """The ``MetaData`` that ``module:attribute`` names (``app.models:metadata``; a declarative
    base works too, by its ``.metadata``), imported with the current ``sys.path``."""
    from sqlalchemy import MetaData

    what = f"the Alembic metadata {reference!r} (alembic_metadata, --alembic-metadata)"
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"{what} must be module:attribute, as app.models:metadata")
    try:
        value: Any = importlib.import_module(module_name)
    except Exception as exc:  # the application's module may raise anything while importing
        raise ConfigurationError(
            f"cannot import {module_name} for {what}: {type(exc).__name__}: {exc}"
        ) from exc
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise ConfigurationError(f"{module_name} has no attribute {attribute!r}, for {what}")
        value = getattr(value, part)
    if not isinstance(value, MetaData):
        value = getattr(value, "metadata", value)
    if not isinstance(value, MetaData):
        raise ConfigurationError(f"{what} is a {type(value).__name__}, not a SQLAlchemy MetaData")
    return value


def _import(base: MigrationBase) -> ModuleType:
    """Import a revision file as a module of its own (registered, so dataclasses and pickle work)."""
    path = str(base.path)
    digest = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:10]
    name = f"alembic_compat_revisions.{re.sub(r'[^0-9A-Za-z_]', '_', Path(path).stem)}_{digest}"
    hint = (
        "; revisions are imported with the versions directory's parent and grandparent, "
        "the current directory and PYTHONPATH on sys.path"
    )
    return import_file(path, name, hint)

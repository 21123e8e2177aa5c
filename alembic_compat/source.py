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

>>> # Migrator(url, ["migrations"], sources=[AlembicSource(["alembic/versions"])])
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from uno_migrations.files.loader import import_file
from uno_migrations.files.migration import Migration, MigrationBase
from uno_migrations.runtime.context import MigrationContext

from .revisions import RevisionGraph, scan

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

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
        from .operations import run_operations

        step = getattr(self.module, name)
        with self.directory.on_sys_path():
            await run_operations(context, lambda _op: step(), environment=self.directory.environment)


@dataclass
class _VersionsDirectory:
    """One versions directory: where its imports come from, and its Alembic configuration."""

    path: Path

    def __post_init__(self) -> None:
        self.ini = next((p for p in self._around("alembic.ini") if p.is_file()), None)
        self._config: Config | None = None
        self._script: ScriptDirectory | None = None
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
        """The project's ``alembic.ini`` (or an empty configuration pointing at this directory)."""
        from alembic.config import Config

        if self._config is None:
            if self.ini is not None:
                self._config = Config(str(self.ini))
            else:
                self._config = Config()
                self._config.set_main_option("script_location", str(self.path.parent))
        return self._config

    def environment(self) -> EnvironmentContext:
        """What ``alembic.context`` means inside this directory's revisions (made on first use)."""
        from alembic.runtime.environment import EnvironmentContext
        from alembic.script import ScriptDirectory

        if self._script is None:
            self._script = ScriptDirectory(str(self.path.parent), version_locations=[str(self.path)])
        return EnvironmentContext(self.config(), self._script)


class AlembicSource:
    """The revisions of one or more Alembic ``versions/`` directories, as uno migrations.

    Each revision becomes a migration with ``id = revision`` and ``kind = "alembic"``, depending
    on its down revisions and what it ``depends_on``. Revision ids must be unique across the
    directories (and across every source of a :class:`~uno_migrations.Migrator`).
    """

    def __init__(self, directories: Sequence[str | os.PathLike[str]]) -> None:
        self.directories = [os.fspath(d) for d in directories]
        self._folders: dict[str, _VersionsDirectory] = {}
        self._modules: dict[tuple[str, str], ModuleType] = {}

    def graph(self) -> RevisionGraph:
        """Read every revision file and check the references between them."""
        return RevisionGraph(scan(self.directories))

    def discover(self, dialect: str | None) -> list[MigrationBase]:
        return self.graph().migrations()

    def load(self, base: MigrationBase, dialect: str) -> Migration:
        path = Path(str(base.path))
        folder = self._folder(path.parent)
        key = (str(path), base.checksum)
        module = self._modules.get(key)
        if module is None:
            with folder.on_sys_path():
                module = _import(base)
            self._modules[key] = module
        return AlembicRevision(base, module, folder)

    def _folder(self, path: Path) -> _VersionsDirectory:
        folder = self._folders.get(str(path))
        if folder is None:
            folder = self._folders[str(path)] = _VersionsDirectory(path.resolve())
        return folder

    def __repr__(self) -> str:
        return f"AlembicSource({self.directories!r})"


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

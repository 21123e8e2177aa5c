"""Which adapter serves an engine: the built-in ones, and those installed packages register.

A package adds an engine with an entry point in the group ``uno_migrations.dialects``, named
after SQLAlchemy's ``dialect.name`` and pointing at its adapter class::

    [project.entry-points."uno_migrations.dialects"]
    cockroachdb = "uno_cockroach:CockroachAdapter"

The built-ins are found without reading any package metadata; entry points are read the first
time a name is not a built-in one (``importlib.metadata`` costs more than a command's start),
and each is loaded when it is first asked for.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ..sql.syntax import GENERIC, SQLSyntax
from .base import DialectAdapter
from .mysql import MySQLAdapter
from .postgresql import PostgreSQLAdapter
from .sqlite import SQLiteAdapter

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "DEFAULT_ENGINE",
    "ENTRY_POINT_GROUP",
    "adapter_class",
    "adapters",
    "engine_names",
    "find_adapter",
    "get_adapter",
    "is_engine",
    "syntax_of",
]

ENTRY_POINT_GROUP = "uno_migrations.dialects"
BUILTINS: tuple[type[DialectAdapter], ...] = (PostgreSQLAdapter, MySQLAdapter, SQLiteAdapter)
#: The engine whose rules read a script when nothing names one (``info`` without a database).
DEFAULT_ENGINE = PostgreSQLAdapter.name

_BUILTIN_NAMES = {name: adapter for adapter in BUILTINS for name in (adapter.name, *adapter.aliases)}
_loaded: dict[str, type[DialectAdapter]] = {}


def find_adapter(name: str) -> type[DialectAdapter] | None:
    """The adapter class serving the engine (or URL scheme) ``name``; None for an unknown one."""
    adapter = _BUILTIN_NAMES.get(name) or _loaded.get(name)
    if adapter is not None:
        return adapter
    entry = _entry_points().get(name)
    if entry is None:
        return None
    _loaded[name] = adapter = _load(entry)
    return adapter


def adapter_class(name: str) -> type[DialectAdapter]:
    """The adapter class for a SQLAlchemy ``dialect.name``; ConfigurationError for an unknown one."""
    adapter = find_adapter(name)
    if adapter is None:
        known = engine_names()
        raise ConfigurationError(
            f"unsupported database {name!r}; uno-migrations knows {', '.join(known[:-1])} and "
            f"{known[-1]} (a package adds an engine in the entry points {ENTRY_POINT_GROUP})"
        )
    return adapter


def get_adapter(name: str) -> DialectAdapter:
    """A new adapter for a SQLAlchemy ``dialect.name``."""
    return adapter_class(name)()


def syntax_of(name: str | None) -> SQLSyntax:
    """How the engine ``name`` reads SQL text; :data:`~uno_migrations.sql.syntax.GENERIC` without
    a name."""
    return adapter_class(name).syntax if name else GENERIC


def is_engine(name: str) -> bool:
    """Whether ``name`` is an engine's own name (not an alias): a valid engine-variant suffix."""
    adapter = _BUILTIN_NAMES.get(name)
    if adapter is not None:
        return adapter.name == name
    return name in _entry_points()


def engine_names() -> tuple[str, ...]:
    """Every engine's own name: the built-in ones, then those of installed packages."""
    return (*(adapter.name for adapter in BUILTINS), *_entry_points())


def adapters() -> dict[str, type[DialectAdapter]]:
    """Every name and alias with its adapter class, loading every installed one."""
    found = dict(_BUILTIN_NAMES)
    for name in _entry_points():
        adapter = find_adapter(name)
        if adapter is not None:
            found.setdefault(name, adapter)
    return found


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    """The group's entry points by name, read once; a built-in name is never taken over."""
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _BUILTIN_NAMES:
            found.setdefault(entry.name, entry)
    return found


def _load(entry: EntryPoint) -> type[DialectAdapter]:
    where = f"entry point {entry.name} = {entry.value} (group {ENTRY_POINT_GROUP})"
    try:
        adapter = entry.load()
    except Exception as exc:  # the plugin's import may raise anything
        raise ConfigurationError(f"cannot load the adapter of {where}: {exc}") from exc
    if not (isinstance(adapter, type) and issubclass(adapter, DialectAdapter)):
        raise ConfigurationError(f"{where} is not a DialectAdapter subclass")
    if entry.name not in (adapter.name, *adapter.aliases):
        raise ConfigurationError(f"{where} names an adapter for {adapter.name!r}, not {entry.name!r}")
    return adapter

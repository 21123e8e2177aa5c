"""Engine adapters, one per SQLAlchemy dialect name, and the registry that finds them.

base.py is the adapter interface; postgresql.py, mysql.py and sqlite.py are the built-in
engines; registry.py finds an adapter by name, among those and the ones installed packages
register (entry points in the group ``uno_migrations.dialects``). A new engine is one module
with a :class:`DialectAdapter` subclass, plus its registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import DialectAdapter, RunLock, URLParameterError, driver_message
from .registry import (
    DEFAULT_ENGINE,
    ENTRY_POINT_GROUP,
    adapter_class,
    adapters,
    engine_names,
    find_adapter,
    get_adapter,
    is_engine,
    syntax_of,
)

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine


def portable_timestamp() -> TypeEngine[Any]:
    """A timestamp type right on every engine: each adapter's own, as variants."""
    portable = DialectAdapter().timestamp_type()
    for name, adapter in adapters().items():
        own = adapter().timestamp_type()
        if type(own) is not type(portable):
            portable = portable.with_variant(own, name)
    return portable


__all__ = [
    "DEFAULT_ENGINE",
    "ENTRY_POINT_GROUP",
    "DialectAdapter",
    "RunLock",
    "URLParameterError",
    "adapter_class",
    "adapters",
    "driver_message",
    "engine_names",
    "find_adapter",
    "get_adapter",
    "is_engine",
    "portable_timestamp",
    "syntax_of",
]

"""Engine adapters, one per SQLAlchemy dialect name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .base import DialectAdapter, RunLock, driver_message
from .mysql import MySQLAdapter
from .postgresql import PostgreSQLAdapter
from .sqlite import SQLiteAdapter

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

ADAPTERS: dict[str, type[DialectAdapter]] = {
    "postgresql": PostgreSQLAdapter,
    "mysql": MySQLAdapter,
    "mariadb": MySQLAdapter,
    "sqlite": SQLiteAdapter,
}


def get_adapter(dialect_name: str) -> DialectAdapter:
    """The adapter for a SQLAlchemy ``dialect.name``."""
    try:
        return ADAPTERS[dialect_name]()
    except KeyError:
        raise ConfigurationError(
            f"unsupported database {dialect_name!r}; uno-migrations runs on "
            "PostgreSQL, MySQL/MariaDB and SQLite"
        ) from None


def portable_timestamp() -> TypeEngine[Any]:
    """A timestamp type right on every engine: each adapter's own, as variants."""
    portable = DialectAdapter().timestamp_type()
    for name, adapter in ADAPTERS.items():
        own = adapter().timestamp_type()
        if type(own) is not type(portable):
            portable = portable.with_variant(own, name)
    return portable


__all__ = ["ADAPTERS", "DialectAdapter", "RunLock", "driver_message", "get_adapter", "portable_timestamp"]

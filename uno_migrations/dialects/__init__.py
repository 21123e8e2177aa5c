"""Engine adapters, one per SQLAlchemy dialect name."""

from __future__ import annotations

from ..errors import ConfigurationError
from .base import DialectAdapter, RunLock, driver_message
from .mysql import MySQLAdapter
from .postgresql import PostgreSQLAdapter
from .sqlite import SQLiteAdapter

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


__all__ = ["ADAPTERS", "DialectAdapter", "RunLock", "driver_message", "get_adapter"]

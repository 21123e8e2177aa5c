"""Database URLs and engines: give sync URLs their async driver, hide passwords, open engines."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from . import aio
from .errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

#: backend name -> (async driver, the backend name SQLAlchemy should see)
ASYNC_DRIVERS = {
    "postgresql": ("asyncpg", "postgresql"),
    "postgres": ("asyncpg", "postgresql"),
    "mysql": ("aiomysql", "mysql"),
    # MariaDB speaks MySQL's protocol; using the mysql dialect keeps dialect.name == "mysql",
    # the one name migrations branch on for both servers.
    "mariadb": ("aiomysql", "mysql"),
    "sqlite": ("aiosqlite", "sqlite"),
}
_SYNC_DRIVERS = {"psycopg2", "psycopg", "pg8000", "pymysql", "mysqldb", "mysqlconnector", "pysqlite"}

_PASSWORD_IN_TEXT = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<tail>@)", re.I
)


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return mask_secrets(url)


def mask_secrets(text: str) -> str:
    """Hide the password of every URL written inside ``text`` (for error messages and logs)."""
    return _PASSWORD_IN_TEXT.sub(lambda m: f"{m['head']}***{m['tail']}", text)


def async_url(url: str | URL) -> URL:
    """Parse ``url`` and give it the async driver of its backend.

    >>> async_url("postgresql://app@db/app").drivername
    'postgresql+asyncpg'
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"malformed database URL: {mask_url(str(url))}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    known = ASYNC_DRIVERS.get(backend)
    if known is None:
        raise ConfigurationError(
            f"unsupported database {backend!r} in {mask_url(parsed)}; "
            "use postgresql://, mysql://, mariadb:// or sqlite://"
        )
    async_driver, name = known
    if driver and driver != async_driver and driver not in _SYNC_DRIVERS:
        raise ConfigurationError(
            f"unknown driver {driver!r} for {backend}; use {backend}+{async_driver}:// or {backend}://"
        )
    return parsed.set(drivername=f"{name}+{async_driver}")


def create_engine(url: str | URL) -> AsyncEngine:
    """An engine for one migration run: async driver, no pooling (a run holds few connections).

    It is SQLAlchemy's own engine on the async driver, awaited through :mod:`.aio` rather than
    ``AsyncEngine``, whose module imports SQLAlchemy's ORM.
    """
    return aio.create(create_sync_engine(async_url(url), poolclass=NullPool))

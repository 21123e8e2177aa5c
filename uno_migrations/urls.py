"""Database URLs and engines: give sync URLs their async driver, hide passwords, open engines."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from . import connections
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

#: Where a URL's password begins: ``postgresql+asyncpg://user:`` (the user may be empty).
_USERINFO_HEAD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^:/@\s]*:", re.I)
#: A query key, or any name in a driver's text, that holds a secret.
_SECRET_NAME = re.compile(r"password|passwd|pwd|secret|token", re.I)
#: ``password=value`` (also percent-encoded, ``password%3Dvalue``, inside an option string) and
#: quoted ``password: 'value'`` / ``'password': 'value'`` / ``password = "value"`` as drivers
#: and reprs of connect arguments print them. An unquoted value runs to ``&`` or a space, but
#: one masked already keeps the punctuation after it (``...?password=***: refused``).
_SECRET_FRAGMENT = re.compile(
    r"(?P<key>(?<![\w.%-])[\w.%-]*?(?:password|passwd|pwd|secret|token)[\w.%-]*['\"]?)"
    r"(?:(?P<sep>\s*[=:]\s*)(?P<quote>['\"])(?:\\.|(?!(?P=quote)).)*(?P=quote)?"
    r"|(?P<eq>=|%3D)(?:\*\*\*(?=[:,;.)\]}'\"]?(?:[\s&]|$))|[^\s&]+))",
    re.I,
)
#: Nothing to mask without one of these in the lowered text: most log lines cost a few scans.
_SECRET_HINTS = ("pass", "pwd", "secret", "token")
_SPACE = re.compile(r"\s")
_HOST_START = re.compile(r"[\w\[.-]")


def mask_url(url: str | URL) -> str:
    """The URL as text with its password and every secret query value replaced by ``***``.

    A string is masked by text rules, so a URL SQLAlchemy cannot parse is hidden too: the
    password runs from ``scheme://user:`` to the last ``@`` before the host, spaces and ``@``
    included (a password that breaks the URL is still a password).

    >>> mask_url("postgresql://app:s3cr3t@db/app?sslmode=require&password=s3cr3t")
    'postgresql://app:***@db/app?sslmode=require&password=***'
    """
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=True)
    host = 0
    head = _USERINFO_HEAD.search(url)
    if head is not None:
        end = _password_end(url, head.end(), len(url), whole=True)
        if end is not None:
            url = f"{url[: head.end()]}***{url[end:]}"
            host = head.end() + 4
    query = url.find("?", host)
    if query >= 0:
        url = url[: query + 1] + "&".join(_mask_parameter(p) for p in url[query + 1 :].split("&"))
    return _SECRET_FRAGMENT.sub(_masked_fragment, url)


def mask_secrets(text: str) -> str:
    """``text`` with the passwords of the URLs in it, and ``password=...`` fragments, as ``***``.

    For error messages, log lines and tracebacks: a driver's message may repeat the URL or its
    connect arguments. A password with a space is followed to the last ``@`` on its line.
    """
    if "://" not in text:
        lowered = text.lower()
        if not any(hint in lowered for hint in _SECRET_HINTS):
            return text
    pieces = []
    done = 0
    while (head := _USERINFO_HEAD.search(text, done)) is not None:
        start = head.end()
        space = _SPACE.search(text, start)
        end = _password_end(text, start, len(text) if space is None else space.start(), whole=False)
        pieces.append(text[done:start])
        if end is not None:
            pieces.append("***")
            start = end
        done = start
    pieces.append(text[done:])
    return _SECRET_FRAGMENT.sub(_masked_fragment, "".join(pieces))


def _password_end(text: str, start: int, run_end: int, whole: bool) -> int | None:
    """Where the password beginning at ``start`` ends (at an ``@``), or None when there is none.

    Within ``text[start:run_end]`` (the ``whole`` URL, or in a text up to the next space) it is
    the last ``@`` before the query: a password with an unencoded ``@`` reaches the host's.
    In a text, without an ``@`` before the space (a password with a space), it is the last
    ``@`` followed by a host before the line or the next URL ends.
    """
    first = text.find("@", start, run_end)
    if first >= 0:
        query = text.find("?", first, run_end)
        at = text.rfind("@", start, query if query >= 0 else run_end)
        return at if at > start else None
    if whole:
        return None
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    next_url = text.find("://", start, line_end)
    at = text.rfind("@", start, next_url if next_url >= 0 else line_end)
    while at > start and _HOST_START.match(text, at + 1) is None:
        at = text.rfind("@", start, at)
    return at if at > start else None


def _mask_parameter(parameter: str) -> str:
    """One ``key=value`` of a query, its value masked when the key (decoded) names a secret."""
    key, equals, value = parameter.partition("=")
    if value and _SECRET_NAME.search(unquote_plus(key)):
        return f"{key}{equals}***"
    return parameter


def _masked_fragment(match: re.Match[str]) -> str:
    if match["eq"] is not None:
        return f"{match['key']}{match['eq']}***"
    quote = match["quote"]
    return f"{match['key']}{match['sep']}{quote}***{quote}"


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
    if name == "sqlite" and (parsed.host or parsed.port or parsed.username or parsed.password):
        # sqlite://app.db reads as a host named app.db: the path needs the third slash.
        raise ConfigurationError(
            f"invalid SQLite URL {mask_url(str(url))}: write the file's path after three slashes, "
            "sqlite:///relative.db or sqlite:////absolute.db (sqlite:// alone is a database in memory)"
        )
    return parsed.set(drivername=f"{name}+{async_driver}")


def create_engine(url: str | URL) -> AsyncEngine:
    """An engine for one migration run: async driver, no pooling (a run holds few connections).

    It is SQLAlchemy's own engine on the async driver, awaited through :mod:`.aio` rather than
    ``AsyncEngine``, whose module imports SQLAlchemy's ORM. libpq's ``options`` parameter
    (``?options=-csearch_path%3Dapp``), which psycopg2 users put in their URLs and asyncpg does
    not take, becomes asyncpg's ``server_settings``.
    """
    parsed = async_url(url)
    parsed, settings = _server_settings(parsed)
    connect_args = {"server_settings": settings} if settings else {}
    return connections.create(create_sync_engine(parsed, poolclass=NullPool, connect_args=connect_args))


_OPTION = re.compile(r"(?:-c\s*|--)([A-Za-z_][\w.]*)=((?:\\.|[^\s\\])*)")


def _server_settings(url: URL) -> tuple[URL, dict[str, str]]:
    """asyncpg's server settings from libpq's ``options`` (``-c name=value``, ``--name=value``)."""
    options = url.query.get("options")
    if url.drivername != "postgresql+asyncpg" or options is None:
        return url, {}
    text = " ".join(options) if isinstance(options, tuple) else options
    settings = {name: re.sub(r"\\(.)", r"\1", value) for name, value in _OPTION.findall(text)}
    if not settings or _OPTION.sub("", text).strip():
        raise ConfigurationError(
            f"cannot read the options parameter of {mask_url(url)}: give settings as "
            "-c name=value (options=-csearch_path%3Dapp)"
        )
    return url.difference_update_query(["options"]), settings

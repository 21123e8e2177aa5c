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
from .dialects import URLParameterError, adapters, find_adapter
from .errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from .dialects import DialectAdapter

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
    return _resolve(url)[0]


def _resolve(url: str | URL) -> tuple[URL, type[DialectAdapter]]:
    """``url`` with its engine's name and async driver, and the adapter of that engine."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"malformed database URL: {mask_url(str(url))}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    adapter = find_adapter(backend)
    if adapter is None:
        *others, last = (f"{name}://" for name in adapters())
        raise ConfigurationError(
            f"unsupported database {backend!r} in {mask_url(parsed)}; use {', '.join(others)} or {last}"
        )
    async_driver = adapter.async_driver
    if driver and driver != async_driver and driver not in adapter.sync_drivers:
        raise ConfigurationError(
            f"unknown driver {driver!r} for {backend}; use {backend}+{async_driver}:// or {backend}://"
        )
    if adapter.database_is_file and (parsed.host or parsed.port or parsed.username or parsed.password):
        # sqlite://app.db reads as a host named app.db: the path needs the third slash.
        raise ConfigurationError(
            f"invalid {adapter.title} URL {mask_url(str(url))}: write the file's path after three "
            f"slashes, {backend}:///relative.db or {backend}:////absolute.db ({backend}:// alone is "
            "a database in memory)"
        )
    return parsed.set(drivername=f"{adapter.name}+{async_driver}"), adapter


def create_engine(url: str | URL) -> AsyncEngine:
    """An engine for one migration run: async driver, no pooling (a run holds few connections).

    It is SQLAlchemy's own engine on the async driver, awaited through :mod:`.connections` rather than
    ``AsyncEngine``, whose module imports SQLAlchemy's ORM. What the URL's query holds for
    another driver is translated by the engine's adapter (``DialectAdapter.connect_args``):
    libpq's ``options``, which psycopg2 users put in their URLs, becomes asyncpg's
    ``server_settings``.
    """
    parsed, adapter = _resolve(url)
    try:
        parsed, connect_args = adapter.connect_args(parsed)
    except URLParameterError as exc:
        raise ConfigurationError(
            f"cannot read the {exc.parameter} parameter of {mask_url(parsed)}: {exc.remedy}"
        ) from None
    return connections.create(create_sync_engine(parsed, poolclass=NullPool, connect_args=connect_args))

"""Settings for the command line: options, then environment, then a config file, then defaults.

The config file is the ``[tool.uno_migrations]`` table of the nearest ``pyproject.toml`` (looked
for from the current directory upwards), or the file named with ``--config``: a
``pyproject.toml``, or any TOML file holding that table or the keys at its top level::

    [tool.uno_migrations]
    database_url = "postgresql://app:${DB_PASSWORD}@db/app"   # sqlite:///app.db: beside this file
    directories = ["migrations"]       # relative to this file's folder
    table = "uno_migrations"
    schema = "public"
    lock_timeout = 30                  # seconds to wait for another run's lock
    statement_lock_timeout = 2         # seconds a migration's statement waits for its locks (0: no limit)
    lock_retries = 5                   # a migration that timed out waiting is tried again, so often
    statement_timeout = 0              # seconds a migration's statement may run (0: no limit)
    alembic_directories = ["alembic/versions"]   # Alembic revisions, run through alembic_compat
    alembic_x_args = ["tenant=acme"]   # their context.get_x_argument()
    alembic_options = {"app_schema" = "app"}   # context.config.get_main_option("app_schema")
    alembic_metadata = "app.models:metadata"   # their target_metadata
    metadata = "app.models:metadata"   # the models: what check compares the database with

No click here: the command line gathers its options and calls :func:`load_settings`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

# tomllib is in the standard library from 3.11; tomli is the same parser for 3.10. Imported by
# name so that type checking for 3.10 does not need tomli installed.
tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")

__all__ = [
    "DEFAULT_DIRECTORY",
    "ENV_CONFIG",
    "ENV_DATABASE_URL",
    "ENV_DIRECTORY",
    "ENV_LOCK_TIMEOUT",
    "ENV_SCHEMA",
    "ENV_TABLE",
    "NO_URL_MESSAGE",
    "Settings",
    "expand_variables",
    "find_config_file",
    "load_settings",
    "parse_seconds",
    "read_config_file",
]

DEFAULT_DIRECTORY = "migrations"
ENV_DATABASE_URL = ("UNO_MIGRATIONS_DATABASE_URL", "DATABASE_URL")
ENV_DIRECTORY = "UNO_MIGRATIONS_DIRECTORY"
ENV_TABLE = "UNO_MIGRATIONS_TABLE"
ENV_SCHEMA = "UNO_MIGRATIONS_SCHEMA"
ENV_LOCK_TIMEOUT = "UNO_MIGRATIONS_LOCK_TIMEOUT"
#: Every variable the settings read, for tests and documentation.
ENV_CONFIG = (*ENV_DATABASE_URL, ENV_DIRECTORY, ENV_TABLE, ENV_SCHEMA, ENV_LOCK_TIMEOUT)
NO_URL_MESSAGE = "no database URL: pass --database-url or set UNO_MIGRATIONS_DATABASE_URL"

_KEYS = (
    "database_url",
    "directories",
    "table",
    "schema",
    "lock_timeout",
    "statement_lock_timeout",
    "lock_retries",
    "statement_timeout",
    "alembic_directories",
    "alembic_x_args",
    "alembic_options",
    "alembic_metadata",
    "metadata",
)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
#: A URL whose path comes after three slashes, ``<backend>[+driver]:///<path>[?<query>]``: the
#: form of a URL naming a file (SQLite's).
_FILE_URL = re.compile(
    r"(?P<head>(?P<backend>[a-z][a-z0-9]*)(?:\+\w+)?:///)(?P<path>[^?]*)(?P<query>\?.*)?", re.I
)


@dataclass(frozen=True)
class Settings:
    """Where the migrations are and which database they go to.

    ``config_file`` names the file the settings were read from, if any. ``alembic_directories``
    (``--alembic-directory``) are Alembic versions directories, run through ``alembic_compat``;
    their revisions get ``alembic_x_args`` (``-x``) as Alembic's ``-x`` arguments,
    ``alembic_options`` as main options of their configuration, and the ``MetaData`` that
    ``alembic_metadata`` (``--alembic-metadata``, ``module:attribute``) names as target metadata.

    >>> Settings(database_url="sqlite:///app.db").directories
    ('migrations',)
    """

    database_url: str | None = None
    directories: tuple[str, ...] = (DEFAULT_DIRECTORY,)
    table: str = "uno_migrations"
    schema: str | None = None
    lock_timeout: float = 60.0
    config_file: str | None = None
    alembic_directories: tuple[str, ...] = ()
    alembic_x_args: tuple[str, ...] = ()
    alembic_options: Mapping[str, str] = field(default_factory=dict)
    alembic_metadata: str | None = None
    #: The application's models, ``module:attribute``: what ``check`` compares the database with
    #: when ``--metadata`` is not given.
    metadata: str | None = None
    #: How long a migration's statements wait for their locks (None: no limit), how often a
    #: migration that timed out waiting is tried again, and how long a statement may run.
    statement_lock_timeout: float | None = 2.0
    lock_retries: int = 5
    statement_timeout: float | None = None

    def require_url(self) -> str:
        """The database URL, or a :class:`ConfigurationError` saying how to give one."""
        if not self.database_url:
            raise ConfigurationError(NO_URL_MESSAGE)
        return self.database_url


def load_settings(
    options: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Settings:
    """Merge ``options`` (command-line values; ``None`` or absent means not given) over ``environ``
    over the config file over the defaults.

    ``options`` may hold ``database_url``, ``directories``, ``alembic_directories``, ``table``,
    ``schema``, ``lock_timeout``, ``alembic_x_args``, ``alembic_metadata`` and ``config`` (a path
    to the config file). ``cwd`` (default: the current
    directory) is where the search for ``pyproject.toml`` starts and what ``--config`` is
    relative to. Directories from the command line and the environment are kept as given;
    those of a config file are relative to its folder, and returned relative to ``cwd`` when
    they are inside it, else absolute. So is the path of an SQLite ``database_url`` in a config
    file (``sqlite:///app.db`` there is the ``app.db`` beside the file).
    """
    given = {k: v for k, v in (options or {}).items() if v is not None and v != ()}
    env = os.environ if environ is None else environ
    base = Path(cwd) if cwd is not None else Path.cwd()

    if "config" in given:
        path: Path | None = base / Path(os.fspath(given["config"])).expanduser()
        explicit = True
    else:
        path = find_config_file(base)
        explicit = False
    values: dict[str, Any] = {}
    if path is not None:
        values = read_config_file(path, explicit=explicit, cwd=base, expand=False)
        values["config_file"] = _shown(path, base)

    from_env = _from_environment(env)
    if "database_url" in values and "database_url" not in from_env and "database_url" not in given:
        # Expanded only when used: a variable the file names need not be set when a URL is given.
        url = expand_variables(values["database_url"], env, where=values["config_file"])
        # Like its directories, the file's SQLite database is where the file is, wherever the
        # command runs from; a URL from the command line or the environment stays as given.
        assert path is not None
        values["database_url"] = _file_beside(url, path.resolve().parent, base)
    values.update(from_env)
    for key in ("database_url", "table", "schema", "alembic_metadata"):
        if key in given:
            values[key] = str(given[key])
    if "alembic_x_args" in given:
        values["alembic_x_args"] = _as_strings(given["alembic_x_args"], "-x")
    if "directories" in given:
        values["directories"] = _as_directories(given["directories"], "--directory")
    if "alembic_directories" in given:
        values["alembic_directories"] = _as_directories(given["alembic_directories"], "--alembic-directory")
    if "lock_timeout" in given:
        values["lock_timeout"] = _as_timeout(given["lock_timeout"], "--lock-timeout")
    for key in ("statement_lock_timeout", "statement_timeout"):
        if key in given:
            values[key] = _as_limit(given[key], "--" + key.replace("_", "-"))
    if "lock_retries" in given:
        values["lock_retries"] = _as_count(given["lock_retries"], "--lock-retries")
    return Settings(**values)


def find_config_file(start: str | os.PathLike[str]) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` or one of its parents."""
    folder = Path(start).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def read_config_file(
    path: str | os.PathLike[str],
    *,
    explicit: bool = True,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    expand: bool = True,
) -> dict[str, Any]:
    """The settings a config file holds, checked, with directories resolved from its folder.

    A ``pyproject.toml`` found by looking upwards (``explicit`` False) may lack the
    ``[tool.uno_migrations]`` table; one named with ``--config`` must have it. Errors name the
    file relative to ``cwd`` when it is inside it. ``expand`` replaces ``${NAME}`` in the URL
    from ``environ`` and resolves a relative SQLite path in it from the file's folder.
    """
    file = Path(path)
    here = Path.cwd() if cwd is None else Path(cwd)
    name = _shown(file, here)
    try:
        with open(file, "rb") as handle:
            document: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"config file not found: {name}") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {name}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"invalid TOML in {name}: {exc}") from exc

    tool = document.get("tool")
    table = tool.get("uno_migrations") if isinstance(tool, dict) else None
    if table is None:
        if file.name == "pyproject.toml" or tool is not None:
            if explicit:
                raise ConfigurationError(f"{name} has no [tool.uno_migrations] table")
            return {}
        table = document
    if not isinstance(table, dict):
        raise ConfigurationError(f"{name}: tool.uno_migrations must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigurationError(f"{name}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_KEYS)}")
    env = os.environ if environ is None else environ
    values = _check_file_values(table, name, file.resolve().parent, here)
    if expand and "database_url" in values:
        url = expand_variables(values["database_url"], env, where=name)
        values["database_url"] = _file_beside(url, file.resolve().parent, here)
    return values


def _check_file_values(table: Mapping[str, Any], name: str, folder: Path, cwd: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("database_url", "table", "schema", "alembic_metadata", "metadata"):
        if key in table:
            value = table[key]
            if not isinstance(value, str):
                raise ConfigurationError(f"{name}: {key} must be a string, not {_type_name(value)}")
            values[key] = value
    for key in ("directories", "alembic_directories"):
        if key in table:
            entries = _as_directories(table[key], f"{name}: {key}")
            values[key] = tuple(_shown(folder / Path(entry).expanduser(), cwd) for entry in entries)
    if "lock_timeout" in table:
        values["lock_timeout"] = _as_timeout(table["lock_timeout"], f"{name}: lock_timeout")
    for key in ("statement_lock_timeout", "statement_timeout"):
        if key in table:
            values[key] = _as_limit(table[key], f"{name}: {key}")
    if "lock_retries" in table:
        values["lock_retries"] = _as_count(table["lock_retries"], f"{name}: lock_retries")
    if "alembic_x_args" in table:
        values["alembic_x_args"] = _as_strings(table["alembic_x_args"], f"{name}: alembic_x_args")
    if "alembic_options" in table:
        options = table["alembic_options"]
        if not isinstance(options, dict):
            raise ConfigurationError(f"{name}: alembic_options must be a table, not {_type_name(options)}")
        for key, value in options.items():
            if not isinstance(value, str):
                raise ConfigurationError(
                    f"{name}: alembic_options.{key} must be a string, not {_type_name(value)}"
                )
        values["alembic_options"] = dict(options)
    return values


def _as_strings(value: Any, what: str) -> tuple[str, ...]:
    """A list of non-empty strings (or one string): ``-x`` arguments."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) and item for item in items):
        raise ConfigurationError(f"{what} must be a list of non-empty strings (KEY=VALUE), not {value!r}")
    return tuple(items)


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ENV_DATABASE_URL:
        if environ.get(name):
            values["database_url"] = environ[name]
            break
    if environ.get(ENV_DIRECTORY):
        entries = [entry for entry in environ[ENV_DIRECTORY].split(os.pathsep) if entry]
        if entries:
            values["directories"] = tuple(entries)
    if environ.get(ENV_TABLE):
        values["table"] = environ[ENV_TABLE]
    if environ.get(ENV_SCHEMA):
        values["schema"] = environ[ENV_SCHEMA]
    if environ.get(ENV_LOCK_TIMEOUT):
        values["lock_timeout"] = _as_timeout(environ[ENV_LOCK_TIMEOUT], ENV_LOCK_TIMEOUT)
    return values


def expand_variables(text: str, environ: Mapping[str, str], *, where: str = "the config file") -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` with environment values.

    The default applies when the variable is unset or empty; an unset variable without a
    default is a :class:`ConfigurationError` naming it.

    >>> expand_variables("postgresql://app:${PW:-dev}@db/app", {})
    'postgresql://app:dev@db/app'
    """

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value is not None:
            return value
        raise ConfigurationError(
            f"environment variable {name} is not set (used in database_url in {where}); "
            f"set it, or write ${{{name}:-default}}"
        )

    return _VARIABLE.sub(replace, text)


def _as_directories(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, os.PathLike)):
        items: list[Any] = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ConfigurationError(f"{what} must be a list of directories or a string, not {_type_name(value)}")
    result = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or not os.fspath(item):
            raise ConfigurationError(f"{what} must hold non-empty directory names, not {item!r}")
        result.append(os.fspath(item))
    if not result:
        raise ConfigurationError(f"{what} is empty; give at least one directory")
    return tuple(result)


def _as_timeout(value: Any, what: str) -> float:
    try:
        return parse_seconds(value)
    except ValueError as exc:
        raise ConfigurationError(f"{what} {exc}") from None


def _as_limit(value: Any, what: str) -> float | None:
    """A number of seconds, 0 meaning no limit (None)."""
    seconds = _as_timeout(value, what)
    return seconds or None


def _as_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ConfigurationError(f"{what} must be a whole number >= 0, not {value!r}")
    return int(value)


def parse_seconds(value: Any) -> float:
    """``value`` (a number, or its text) as a finite number of seconds >= 0; else a ValueError
    saying what it must be: the one rule for the lock timeout, wherever it comes from.

    >>> parse_seconds("2.5")
    2.5
    """
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds, not a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"must be a number of seconds, not {value!r}") from None
    else:
        raise ValueError(f"must be a number of seconds, not {_type_name(value)}")
    if not number >= 0 or number == float("inf"):
        raise ValueError(f"must be a finite number of seconds >= 0, not {value!r}")
    return number


def _file_beside(url: str, folder: Path, cwd: Path) -> str:
    """A config file's URL of a database that is a file (SQLite) with a relative path made
    relative to the file's ``folder``
    (shown relative to ``cwd`` when inside it, else absolute); any other URL as it is."""
    from ..dialects import find_adapter

    match = _FILE_URL.fullmatch(url)
    adapter = None if match is None else find_adapter(match["backend"].lower())
    if match is None or adapter is None or not adapter.database_is_file:
        return url
    path = match["path"]
    if path in ("", ":memory:") or path.startswith("file:") or os.path.isabs(path):
        return url
    return f"{match['head']}{_shown(folder / path, cwd)}{match['query'] or ''}"


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when inside it (shorter in output), else absolute."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def _type_name(value: Any) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)

"""``uno-migrations init``: a starter project that works at once.

It writes an SQL and a Python example migration, the ``[tool.uno_migrations]`` and
``[tool.pytest.ini_options]`` tables of ``pyproject.toml``, tests that use the pytest plugin and,
with ``--tox``, a ``tox.ini`` with an environment per engine, from the templates in
``files/templates/starter``. It never overwrites: every file is checked before any is written, and
an existing ``pyproject.toml`` only gets the tables appended, its own bytes kept as they are.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import click

from ..errors import ConfigurationError, MigrationError
from .config import tomllib
from .options import State
from .program import command

log = logging.getLogger(__name__)

#: The slugs of the example migrations; the Python one fills what the SQL one creates.
SQL_MIGRATION = "create_users"
PYTHON_MIGRATION = "add_display_names"
#: What tests/test_migrations.py needs of ``[tool.pytest.ini_options]``.
PYTEST_SETTINGS = {"asyncio_mode": "auto", "uno_tests": True}


@dataclass(frozen=True)
class StarterFile:
    """A file ``init`` writes: a new one, or ``added`` (the tables' names) appended to one, with
    a ``warning`` to give once it is written."""

    path: Path
    text: str
    added: str = ""
    warning: str = ""

    def line(self) -> str:
        return f"Added {self.added} to {self.path}" if self.added else f"Created {self.path}"


@command("init", short_help="Write a starter project: migrations, settings and tests.")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--tox", is_flag=True, help="Also write a tox.ini with sqlite, postgresql and mysql environments."
)
def init(state: State, directory: Path, tox: bool) -> None:
    """Write a starter project into DIRECTORY (default: the current one; created if missing):
    migrations/ with an SQL and a Python example, their settings in pyproject.toml (appended to
    an existing one) and tests/test_migrations.py for pytest. The project migrates and passes
    its tests right away.

    Nothing is overwritten: when a file it would write exists, it writes nothing. The global
    options other than -v and -q do not apply: the settings it starts with are pyproject.toml's.
    """
    _refuse_global_options(state)
    files = starter_files(directory, tox)
    for file in files:
        file.path.parent.mkdir(parents=True, exist_ok=True)
        with open(file.path, "a" if file.added else "x", encoding="utf-8", newline="\n") as handle:
            handle.write(file.text)
        state.echo(file.line())
        if file.warning:
            log.warning("%s", file.warning)
    state.echo()
    state.echo(_next_steps(directory, tox))


def _refuse_global_options(state: State) -> None:
    """A usage error naming the global options given: they would not change what is written."""
    ctx = click.get_current_context()
    given = [max(p.opts, key=len) for p in ctx.command.params if p.name in state.options]
    if given:
        raise click.UsageError(
            f"init does not take {', '.join(given)}; change the settings in the pyproject.toml it writes",
            ctx=ctx,
        )


def starter_files(project: Path, tox: bool) -> list[StarterFile]:
    """The files of a starter project in ``project``; a :class:`MigrationError` naming the first
    one in the way."""
    from ..files.templates import next_version

    migrations = project / "migrations"
    if migrations.is_dir() and any(migrations.iterdir()):
        raise MigrationError(
            f"{migrations} is not empty; init writes its examples into a new or empty migrations directory"
        )
    version = next_version([migrations])
    sql_id, python_id = f"{version}_{SQL_MIGRATION}", f"{version + 1}_{PYTHON_MIGRATION}"
    files = [
        StarterFile(migrations / f"{sql_id}.sql", _template(f"migrations/{SQL_MIGRATION}.sql.tmpl")),
        StarterFile(
            migrations / f"{python_id}.py", _template(f"migrations/{PYTHON_MIGRATION}.py.tmpl", sql_id=sql_id)
        ),
        _pyproject(project / "pyproject.toml"),
        StarterFile(
            project / "tests" / "test_migrations.py",
            _template("tests/test_migrations.py.tmpl", sql_id=sql_id),
        ),
    ]
    if tox:
        files.append(StarterFile(project / "tox.ini", _template("tox.ini.tmpl")))
    for file in files:
        in_the_way = None if file.added else _in_the_way(file.path)
        if in_the_way is not None:
            raise MigrationError(f"{in_the_way} already exists; init never overwrites a file")
    return files


def _in_the_way(path: Path) -> Path | None:
    """What keeps ``path`` from being written: anything by its name, or a file where one of its
    directories should be."""
    if path.exists() or path.is_symlink():
        return path
    return next((parent for parent in path.parents if parent.is_file()), None)


def _pyproject(path: Path) -> StarterFile:
    """A new ``pyproject.toml``, or the tables appended to the one there: ``[tool.pytest.ini_options]``
    only when it has none, else a warning naming what that one lacks."""
    settings, pytest_settings = _template("settings.toml.tmpl"), _template("pytest.toml.tmpl")
    if not path.exists():
        return StarterFile(path, f"{settings}\n{pytest_settings}")
    old = path.read_bytes()
    tool = _tool_tables(old, path)
    if "uno_migrations" in tool:
        raise ConfigurationError(
            f"{path} already has a [tool.uno_migrations] table; init never changes existing settings"
        )
    pytest_table = tool.get("pytest", {}).get("ini_options") if isinstance(tool.get("pytest"), dict) else None
    if isinstance(pytest_table, dict):
        text, added, warning = settings, "[tool.uno_migrations]", _lacking(pytest_table, path)
    else:
        text, added, warning = (
            f"{settings}\n{pytest_settings}",
            "[tool.uno_migrations] and [tool.pytest.ini_options]",
            "",
        )
    separator = "" if not old else "\n" if old.endswith(b"\n") else "\n\n"
    try:
        tomllib.loads(old.decode("utf-8") + separator + text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"cannot append {added} to {path} ({exc}); add them by hand") from exc
    return StarterFile(path, separator + text, added, warning)


def _tool_tables(content: bytes, path: Path) -> dict[str, Any]:
    """The ``[tool]`` table of a TOML file's ``content`` (empty without one)."""
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"invalid TOML in {path}: {exc}") from exc
    tool = document.get("tool")
    return tool if isinstance(tool, dict) else {}


def _lacking(pytest_table: dict[str, Any], path: Path) -> str:
    """A warning naming the settings tests/test_migrations.py needs that ``pytest_table`` lacks."""
    lacking = [
        f"{key} = {_toml(value)}"
        for key, value in PYTEST_SETTINGS.items()
        if str(pytest_table.get(key)).lower() != str(value).lower()
    ]
    if not lacking:
        return ""
    return f"{path} has its own [tool.pytest.ini_options]: add {', '.join(lacking)} to it for the tests"


def _toml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else f'"{value}"'


def _template(name: str, **values: str) -> str:
    starter = resources.files("uno_migrations.files.templates") / "starter"
    return Template((starter / name).read_text(encoding="utf-8")).substitute(values)


def _next_steps(project: Path, tox: bool) -> str:
    """What to run next, as commands to copy, each with what it does."""
    steps = [
        ("uno-migrations migrate", "apply the migrations to app.db"),
        ("uno-migrations status", "see where each one stands"),
        ("python -m pytest", "test them (needs pytest and pytest-asyncio)"),
    ]
    if tox:
        steps.append(
            ("tox -e sqlite", "the same in tox; -e postgresql, -e mysql with POSTGRESQL_URL, MYSQL_URL")
        )
    width = max(len(command) for command, _ in steps)
    lines = [] if project == Path(".") else [f"cd {shlex.quote(str(project))}"]
    lines += [f"{command.ljust(width)}  # {what}" for command, what in steps]
    return "Next:\n" + "\n".join(f"  {line}" for line in lines)

"""Helpers for the Alembic tests: the test history, Alembic itself, and schema snapshots."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from alembic_compat import AlembicSource
from uno_migrations import Migrator

HISTORY = Path(__file__).resolve().parent / "history"
VERSIONS = HISTORY / "versions"
HEAD = "30c0ffee0016"
#: The order uno applies the test history in: dependencies first, then by revision id.
ORDER = [
    "a1c0ffee0001",
    "b2c0ffee0002",
    "c3c0ffee0003",
    "d4c0ffee0004",
    "b8c0ffee0008",
    "c9c0ffee0009",
    "e5c0ffee0005",
    "dac0ffee0010",
    "f6c0ffee0006",
    "a7c0ffee0007",
    "ebc0ffee0011",
    "fcc0ffee0012",
    "0dc0ffee0013",
    "1ec0ffee0014",
    "2fc0ffee0015",
    HEAD,
]
VERSION_TABLES = {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql", "sqlite": "sqlite"}


def history_migrator(url: str, *directories: Path, versions: Path = VERSIONS, **options: Any) -> Migrator:
    """A Migrator running the test history (and any uno ``directories``)."""
    return Migrator(url, list(directories), sources=[AlembicSource([versions])], **options)


def sync_url(url: str) -> str:
    """The same database with the synchronous driver Alembic itself uses."""
    parsed = make_url(url)
    return parsed.set(drivername=_SYNC_DRIVERS[parsed.get_backend_name()]).render_as_string(
        hide_password=False
    )


def run_alembic(url: str, action: str = "upgrade", target: str = "head", history: Path = HISTORY) -> None:
    """``alembic upgrade|downgrade <target>`` of ``history`` on the database at ``url``."""
    config = Config(str(history / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    getattr(command, action)(config, target)


async def alembic(url: str, action: str = "upgrade", target: str = "head", history: Path = HISTORY) -> None:
    await asyncio.to_thread(run_alembic, url, action, target, history)


def _snapshot(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table in VERSION_TABLES or table == "alembic_version":
            continue
        schema[table] = {
            "columns": [
                (c["name"], _generic(c["type"]), getattr(c["type"], "length", None), c["nullable"])
                for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
            ),
            "foreign keys": sorted(
                (
                    f["name"],
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                )
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return schema


def _generic(type_: Any) -> str:
    try:
        return type(type_.as_generic()).__name__
    except NotImplementedError:
        return type(type_).__name__


async def schema_of(url: str) -> dict[str, Any]:
    """Tables (but the version tables) with their columns, keys and indexes, as the inspector sees them."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_snapshot)
    finally:
        await engine.dispose()


def write_revision(
    directory: Path,
    revision: str,
    down_revision: str | tuple[str, ...] | None,
    upgrade: str = "pass",
    downgrade: str | None = "pass",
    header: str = "",
) -> Path:
    """Write one Alembic revision file; ``upgrade``/``downgrade`` are function bodies."""
    directory.mkdir(parents=True, exist_ok=True)
    body = [
        f'"""revision {revision}"""',
        "",
        "import sqlalchemy as sa",
        "from alembic import op",
        "",
        textwrap.dedent(header).strip(),
        f"revision = {revision!r}",
        f"down_revision = {down_revision!r}",
        "",
        "",
        "def upgrade():",
        textwrap.indent(textwrap.dedent(upgrade).strip(), "    "),
    ]
    if downgrade is not None:
        body += ["", "", "def downgrade():", textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")]
    path = directory / f"{revision}_rev.py"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path

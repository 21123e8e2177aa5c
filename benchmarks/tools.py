"""Command lines of the tools compared, and the fast ways to record migrations as applied (W2 setup)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import HERE, executable, run_process, subprocess_env
from databases import Database

#: How W2 records its migrations as applied, per tool (printed under the table).
MARK_METHODS = {
    "uno": "rows inserted directly into uno's version table and log (uno's own table definitions, "
    "checksums of the files as uno computes them), checked with `status --exit-code`",
    "floor": "`floor.py mark`: one executemany into the floor's version table",
    "alembic": "the head revision inserted directly into `alembic_version` (Alembic keeps one row per head)",
    "yoyo": "`yoyo mark --batch` (yoyo's own command; one transaction)",
}


def uno(database: Database, directory: Path | None, *args: str) -> list[str]:
    """``uno-migrations -u URL -d DIR ARGS``."""
    argv = [executable("uno-migrations"), "-u", database.url("uno")]
    if directory is not None:
        argv += ["-d", str(directory)]
    return argv + list(args)


def floor(command: str, database: Database, directory: Path | None = None) -> list[str]:
    argv = [sys.executable, str(HERE / "floor.py"), command, database.url("floor")]
    return argv + ([str(directory)] if directory is not None else [])


def alembic(ini: Path, *args: str) -> list[str]:
    return [executable("alembic"), "-c", str(ini), *args]


def yoyo(command: str, database: Database, directory: Path) -> list[str]:
    return [
        executable("yoyo"),
        command,
        "--batch",
        "--no-config-file",
        "-d",
        database.url("yoyo"),
        str(directory),
    ]


def mark_uno(database: Database, directory: Path) -> None:
    """Record every migration in ``directory`` as applied, in uno's tables, in one bulk insert."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.pool import NullPool

    from uno_migrations.files.discovery import discover
    from uno_migrations.runtime.version_table import VersionTable

    table = VersionTable()
    started = datetime.now(timezone.utc)
    rows = []
    for index, base in enumerate(discover([directory], database.engine)):
        rows.append(
            {
                "id": base.id,
                "name": base.name,
                "description": base.description,
                "kind": base.kind,
                "checksum": base.checksum,
                "status": "applied",
                "statements_done": 0,
                "applied_at": started + timedelta(microseconds=index),
                "execution_ms": 0,
                "applied_by": "benchmark",
            }
        )
    log = [
        {
            "migration_id": row["id"],
            "action": "mark",
            "at": row["applied_at"],
            "execution_ms": 0,
            "checksum": row["checksum"],
            "actor": "benchmark",
        }
        for row in rows
    ]
    engine = create_engine(database.url("sync"), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            table.metadata.create_all(connection)
            connection.execute(insert(table.migrations), rows)
            connection.execute(insert(table.log), log)
    finally:
        engine.dispose()
    run_process(uno(database, directory, "status", "--exit-code"), env=subprocess_env()).check()


def mark_floor(database: Database, directory: Path) -> None:
    run_process(floor("mark", database, directory), env=subprocess_env()).check()


def mark_alembic(database: Database, head: str) -> None:
    database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    database.execute(f"INSERT INTO alembic_version (version_num) VALUES ('{head}')")


def mark_yoyo(database: Database, directory: Path) -> None:
    run_process(yoyo("mark", database, directory), env=subprocess_env()).check()

"""Database servers, a fresh database per measurement, and each tool's URL for it.

Setup and checks use the synchronous drivers (sqlite3, psycopg2, pymysql); they are never timed.
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url

DEFAULT_SERVERS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
    "mysql": "mysql://root@127.0.0.1:3306/",
}


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--postgresql-url`` and ``--mysql-url`` (defaults: UNO_BENCH_POSTGRESQL_URL,
    UNO_BENCH_MYSQL_URL, then the local servers); :func:`server_urls` reads them back."""
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("UNO_BENCH_POSTGRESQL_URL", DEFAULT_SERVERS["postgresql"]),
        help="PostgreSQL server (any database on it; benchmarks create their own)",
    )
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("UNO_BENCH_MYSQL_URL", DEFAULT_SERVERS["mysql"]),
        help="MySQL/MariaDB server",
    )


def server_urls(args: argparse.Namespace) -> dict[str, str]:
    """The server URL of each engine given by :func:`add_server_options` (SQLite needs none)."""
    return {"postgresql": args.postgresql_url, "mysql": args.mysql_url, "sqlite": ""}


@dataclass(frozen=True)
class Server:
    """Where an engine's databases are made: a server (host, port, user) or a directory of files."""

    engine: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    admin_database: str = ""
    directory: Path | None = None

    @classmethod
    def from_url(cls, engine: str, url: str, directory: Path) -> Server:
        if engine == "sqlite":
            return cls("sqlite", directory=directory)
        parsed = make_url(url)
        default_port = 5432 if engine == "postgresql" else 3306
        admin = parsed.database or ("postgres" if engine == "postgresql" else "")
        return cls(
            engine,
            parsed.host or "127.0.0.1",
            parsed.port or default_port,
            parsed.username or "",
            parsed.password or "",
            admin,
        )

    def connect(self, database: str | None = None, autocommit: bool = False) -> Any:
        """A DB-API connection to ``database`` (default: the admin database)."""
        name = self.admin_database if database is None else database
        if self.engine == "sqlite":
            assert self.directory is not None
            return sqlite3.connect(self.directory / name)
        if self.engine == "postgresql":
            import psycopg2

            connection = psycopg2.connect(
                host=self.host, port=self.port, user=self.user, password=self.password, dbname=name
            )
            connection.autocommit = autocommit
            return connection
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=name or None,
            autocommit=autocommit,
        )

    def version(self) -> str:
        if self.engine == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        with closing(self.connect(autocommit=True)) as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT version()")
            value = str(cursor.fetchone()[0])
        if self.engine == "postgresql":
            return " ".join(value.split()[:2])
        return f"MariaDB {value}" if "mariadb" in value.lower() else f"MySQL {value}"

    def settings(self) -> str:
        """The durability settings that decide what a commit costs."""
        if self.engine == "sqlite":
            with closing(sqlite3.connect(":memory:")) as connection:
                sync = connection.execute("PRAGMA synchronous").fetchone()[0]
            return f"journal_mode=delete, synchronous={sync} (defaults)"
        names = (
            ("fsync", "synchronous_commit", "shared_buffers")
            if self.engine == "postgresql"
            else ("innodb_flush_log_at_trx_commit", "sync_binlog", "innodb_buffer_pool_size")
        )
        values = []
        with closing(self.connect(autocommit=True)) as connection:
            cursor = connection.cursor()
            for name in names:
                cursor.execute(f"SHOW {name}" if self.engine == "postgresql" else f"SELECT @@{name}")
                values.append(f"{name}={cursor.fetchone()[0]}")
        return ", ".join(values)

    def create(self, tag: str) -> Database:
        name = f"uno_bench_{tag}_{uuid.uuid4().hex[:8]}"
        if self.engine == "sqlite":
            name += ".db"
        else:
            quote_char = '"' if self.engine == "postgresql" else "`"
            with closing(self.connect(autocommit=True)) as connection:
                connection.cursor().execute(f"CREATE DATABASE {quote_char}{name}{quote_char}")
        return Database(self, name)

    def drop(self, database: Database) -> None:
        if self.engine == "sqlite":
            assert self.directory is not None
            for suffix in ("", "-journal", "-wal", "-shm"):
                (self.directory / f"{database.name}{suffix}").unlink(missing_ok=True)
            return
        with closing(self.connect(autocommit=True)) as connection:
            if self.engine == "postgresql":
                connection.cursor().execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
            else:
                connection.cursor().execute(f"DROP DATABASE IF EXISTS `{database.name}`")


@dataclass(frozen=True)
class Database:
    server: Server
    name: str

    @property
    def engine(self) -> str:
        return self.server.engine

    @property
    def path(self) -> Path:
        assert self.server.directory is not None
        return self.server.directory / self.name

    def url(self, flavor: str) -> str:
        """The URL for ``flavor``: ``uno`` (async drivers), ``sync`` (Alembic, SQLAlchemy), ``yoyo``
        or ``floor`` (read by floor.py)."""
        if self.engine == "sqlite":
            prefix = {"uno": "sqlite+aiosqlite", "sync": "sqlite", "yoyo": "sqlite", "floor": "sqlite"}
            return f"{prefix[flavor]}:///{self.path}"
        s = self.server
        auth = quote(s.user, safe="") + (f":{quote(s.password, safe='')}" if s.password else "")
        if self.engine == "postgresql":
            scheme = {"uno": "postgresql+asyncpg", "sync": "postgresql+psycopg2"}.get(flavor, "postgresql")
        else:
            scheme = {"uno": "mysql+aiomysql", "sync": "mysql+pymysql"}.get(flavor, "mysql")
        return f"{scheme}://{auth}@{s.host}:{s.port}/{self.name}"

    def connect(self) -> Any:
        return self.server.connect(self.name)

    def execute(self, sql: str, rows: Sequence[Sequence[Any]] | None = None) -> None:
        with closing(self.connect()) as connection:
            cursor = connection.cursor()
            if rows is None:
                cursor.execute(sql)
            else:
                cursor.executemany(sql, rows)
            connection.commit()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(self.connect()) as connection:
            cursor = connection.cursor()
            cursor.execute(sql)
            rows = [tuple(row) for row in cursor.fetchall()]
            connection.commit()
            return rows

    def scalar(self, sql: str) -> Any:
        rows = self.fetch(sql)
        return rows[0][0] if rows else None

    def count_tables(self, prefix: str) -> int:
        """Tables named ``prefix...`` (to check that an apply really created them)."""
        if self.engine == "sqlite":
            sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE '{prefix}%'"
        else:
            schema = "'public'" if self.engine == "postgresql" else "database()"
            sql = (
                "SELECT count(*) FROM information_schema.tables "
                f"WHERE table_schema = {schema} AND table_name LIKE '{prefix}%'"
            )
        return int(self.scalar(sql))


@contextmanager
def fresh_database(server: Server, tag: str) -> Iterator[Database]:
    """A new, empty database for one measurement (or one read-only series); dropped after."""
    database = server.create(tag)
    try:
        yield database
    finally:
        server.drop(database)


def email(i: int) -> str:
    """Mixed case, surrounding spaces: what the data migration cleans."""
    return f"  User.{i}@Example.COM " if i % 2 else f" user_{i}@MAIL.example.org   "


def load_users(database: Database, rows: int, chunk: int = 20_000) -> None:
    """CREATE TABLE users (id, email) and fill it with ``rows`` rows, as fast as the driver allows."""
    database.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL)")
    with closing(database.connect()) as connection:
        cursor = connection.cursor()
        if database.engine == "postgresql":
            for start in range(1, rows + 1, chunk):
                stop = min(start + chunk, rows + 1)
                buffer = io.StringIO("".join(f"{i}\t{email(i)}\n" for i in range(start, stop)))
                cursor.copy_expert("COPY users (id, email) FROM STDIN", buffer)
        else:
            marker = "?" if database.engine == "sqlite" else "%s"
            sql = f"INSERT INTO users (id, email) VALUES ({marker}, {marker})"
            for start in range(1, rows + 1, chunk):
                stop = min(start + chunk, rows + 1)
                cursor.executemany(sql, [(i, email(i)) for i in range(start, stop)])
        connection.commit()
    if database.engine == "postgresql":
        database.execute("ANALYZE users")


def check_users(database: Database, rows: int) -> None:
    """Every row cleaned: none differs from lower(trim(email)), byte for byte; the last row as expected."""
    binary = "BINARY " if database.engine == "mysql" else ""
    left = database.scalar(f"SELECT count(*) FROM users WHERE {binary}email <> {binary}lower(trim(email))")
    last = database.fetch(f"SELECT email FROM users WHERE id = {rows}")
    if left or not last or last[0][0] != email(rows).strip().lower():
        raise AssertionError(f"data migration incomplete: {left} rows left, last row {last}")

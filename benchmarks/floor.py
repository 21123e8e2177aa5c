"""The floor: the raw async driver doing a workload's work, with nothing else around it.

Run as its own process (like the tools it is compared to); imports only the standard library and
one driver (aiosqlite, asyncpg or aiomysql)::

    python floor.py apply  URL DIR   # W1: each pending .sql file in its own transaction + 1 version row
    python floor.py status URL DIR   # W2: list and hash the files, read the version table, print
    python floor.py mark   URL DIR   # W2 setup: record every file as applied (one bulk insert)
    python floor.py data   URL       # W3: read all users, update all with executemany, one transaction

URL: ``sqlite:///path``, ``postgresql://user[:pw]@host:port/db`` or ``mysql://...``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

TABLE = "floor_migrations"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id VARCHAR(255) PRIMARY KEY, checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL)"
)
FILE = re.compile(r"(\d+)_[a-z0-9_]+\.(sql|py)")


class Driver:
    """The few calls the floor makes; ``sql`` is written with ``$n`` markers, as for asyncpg."""

    marker = "$"

    def prepare(self, sql: str) -> str:
        if self.marker == "$":
            return sql
        return re.sub(r"\$\d+", self.marker, sql)

    async def execute(self, sql: str, *args: Any) -> None:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def fetch(self, sql: str) -> list[Sequence[Any]]:
        raise NotImplementedError

    async def begin(self) -> None:
        raise NotImplementedError

    async def commit(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class SQLite(Driver):
    marker = "?"

    async def open(self, path: str) -> None:
        import aiosqlite

        self.db = await aiosqlite.connect(path, isolation_level=None)  # BEGIN/COMMIT are ours

    async def execute(self, sql: str, *args: Any) -> None:
        await self.db.execute(self.prepare(sql), args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(self.prepare(sql), rows)

    async def fetch(self, sql: str) -> list[Sequence[Any]]:
        return list(await self.db.execute_fetchall(sql))

    async def begin(self) -> None:
        await self.db.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self.db.execute("COMMIT")

    async def close(self) -> None:
        await self.db.close()


class PostgreSQL(Driver):
    async def open(self, url: str) -> None:
        import asyncpg

        self.db = await asyncpg.connect(url)

    async def execute(self, sql: str, *args: Any) -> None:
        await self.db.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(sql, rows)

    async def fetch(self, sql: str) -> list[Sequence[Any]]:
        return list(await self.db.fetch(sql))

    async def begin(self) -> None:
        self.transaction = self.db.transaction()
        await self.transaction.start()

    async def commit(self) -> None:
        await self.transaction.commit()

    async def close(self) -> None:
        await self.db.close()


class MySQL(Driver):
    marker = "%s"

    async def open(self, url: str) -> None:
        import aiomysql

        parts = urlsplit(url)
        self.db = await aiomysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            db=parts.path.lstrip("/"),
            autocommit=False,
        )
        self.cursor = await self.db.cursor()

    async def execute(self, sql: str, *args: Any) -> None:
        await self.cursor.execute(self.prepare(sql), args or None)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.cursor.executemany(self.prepare(sql), rows)

    async def fetch(self, sql: str) -> list[Sequence[Any]]:
        await self.cursor.execute(sql)
        return list(await self.cursor.fetchall())

    async def begin(self) -> None:
        await self.db.begin()

    async def commit(self) -> None:
        await self.db.commit()

    async def close(self) -> None:
        await self.cursor.close()
        self.db.close()


async def connect(url: str) -> Driver:
    driver: SQLite | PostgreSQL | MySQL
    if url.startswith("sqlite:///"):
        driver = SQLite()
        await driver.open(url[len("sqlite:///") :])
    elif url.startswith("postgresql://"):
        driver = PostgreSQL()
        await driver.open(url)
    else:
        driver = MySQL()
        await driver.open(url)
    return driver


def files(directory: str) -> list[tuple[str, str]]:
    """(id, path) of the migration files, ordered by version then id."""
    found = []
    for name in os.listdir(directory):
        match = FILE.fullmatch(name)
        if match:
            found.append((int(match.group(1)), name.rsplit(".", 1)[0], os.path.join(directory, name)))
    found.sort()
    return [(mid, path) for _, mid, path in found]


def read(path: str) -> tuple[bytes, str]:
    with open(path, "rb") as f:
        data = f.read()
    return data, hashlib.sha256(data).hexdigest()


async def applied(db: Driver) -> dict[str, str]:
    await db.begin()
    await db.execute(CREATE_TABLE)
    rows = await db.fetch(f"SELECT id, checksum FROM {TABLE}")
    await db.commit()
    return {row[0]: row[1] for row in rows}


async def apply(db: Driver, directory: str) -> int:
    done = await applied(db)
    count = 0
    for mid, path in files(directory):
        if mid in done:
            continue
        data, checksum = read(path)
        if not path.endswith(".sql"):
            raise SystemExit(f"floor runs .sql files only: {path}")
        await db.begin()
        for statement in data.decode().split(";\n"):
            if statement.strip():
                await db.execute(statement)
        await db.execute(f"INSERT INTO {TABLE} VALUES ($1, $2, CURRENT_TIMESTAMP)", mid, checksum)
        await db.commit()
        count += 1
    return count


async def status(db: Driver, directory: str) -> int:
    done = await applied(db)
    lines = []
    for mid, path in files(directory):
        _, checksum = read(path)
        recorded = done.get(mid)
        state = "pending" if recorded is None else "applied" if recorded == checksum else "modified"
        lines.append(f"{mid}  {state}")
    sys.stdout.write("\n".join(lines) + "\n")
    return sum(1 for line in lines if not line.endswith("applied"))


async def mark(db: Driver, directory: str) -> int:
    await applied(db)
    rows = [(mid, read(path)[1]) for mid, path in files(directory)]
    await db.begin()
    await db.executemany(f"INSERT INTO {TABLE} VALUES ($1, $2, CURRENT_TIMESTAMP)", rows)
    await db.commit()
    return len(rows)


async def data(db: Driver) -> int:
    await applied(db)
    await db.begin()
    rows = await db.fetch("SELECT id, email FROM users ORDER BY id")
    updates = [(email.strip().lower(), user_id) for user_id, email in rows]
    await db.executemany("UPDATE users SET email = $1 WHERE id = $2", updates)
    await db.execute(f"INSERT INTO {TABLE} VALUES ($1, $2, CURRENT_TIMESTAMP)", "00001_clean_emails", "-")
    await db.commit()
    return len(updates)


async def main(argv: Sequence[str]) -> int:
    command, url, *rest = argv
    started = time.perf_counter()
    db = await connect(url)
    try:
        if command == "apply":
            count = await apply(db, rest[0])
        elif command == "status":
            count = await status(db, rest[0])
        elif command == "mark":
            count = await mark(db, rest[0])
        elif command == "data":
            count = await data(db)
        else:
            raise SystemExit(f"unknown command {command!r}")
    finally:
        await db.close()
    print(f"floor {command}: {count} in {time.perf_counter() - started:.3f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

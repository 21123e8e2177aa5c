"""``execute_sql`` with a list or tuple right after IN, on every engine (docs/python-migrations.md,
"Parameters"): ``IN $1``, ``IN ($1)`` and ``IN :names`` stand for the values; an empty one is a
clear error that changes nothing; anywhere else a sequence is one value (a PostgreSQL array)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase, only, version_rows

from uno_migrations import ExecutionError, Migrator

MakeDir = Callable[..., Path]

FRUIT = """
async def up(context):
    await context.execute_sql("CREATE TABLE fruit (name VARCHAR(20) PRIMARY KEY, ripe INTEGER)")
    await context.execute_many(
        "INSERT INTO fruit (name, ripe) VALUES ($1, 0)", [("apple",), ("pear",), ("plum",), ("fig",)]
    )
"""


async def _ripe(db: TestDatabase) -> list[str]:
    return [name for (name,) in await db.fetch("SELECT name FROM fruit WHERE ripe = 1 ORDER BY name")]


async def test_a_sequence_after_in_stands_for_its_values(db: TestDatabase, make_migrations: MakeDir) -> None:
    migrations = make_migrations(
        {
            "1_fruit.py": FRUIT,
            "2_ripen.py": """
            async def up(context):
                await context.execute_sql("UPDATE fruit SET ripe = 1 WHERE name IN $1", [("apple", "plum")])
                await context.execute_sql("UPDATE fruit SET ripe = 1 WHERE name IN (:names)", {"names": ["fig"]})
                result = await context.execute_sql(
                    "SELECT COUNT(*) FROM fruit WHERE name IN $1 AND ripe = $2", [["apple", "pear"], 1]
                )
                assert await result.scalar() == 1
            """,
        }
    )
    await Migrator(db.url, [migrations]).migrate()
    assert await _ripe(db) == ["apple", "fig", "plum"]


async def test_an_empty_sequence_after_in_fails_and_changes_nothing(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    migrations = make_migrations(
        {
            "1_fruit.py": FRUIT,
            "2_ripen.py": """
            async def up(context):
                await context.execute_sql("UPDATE fruit SET ripe = 1 WHERE name = 'pear'")
                await context.execute_sql("UPDATE fruit SET ripe = 1 WHERE name IN :names", {"names": []})
            """,
        }
    )
    with pytest.raises(ExecutionError, match=r"parameter :names is an empty list after IN") as failure:
        await Migrator(db.url, [migrations]).migrate()
    assert failure.value.migration_id == "2_ripen"
    assert await version_rows(db) == ["1_fruit"]
    if db.dialect != "mysql":  # a transaction holds the migration: its first update is undone
        assert await _ripe(db) == []


@only("postgresql")
async def test_on_postgresql_a_list_elsewhere_is_an_array(db: TestDatabase, make_migrations: MakeDir) -> None:
    migrations = make_migrations(
        {
            "1_fruit.py": FRUIT,
            "2_ripen.py": """
            async def up(context):
                await context.execute_sql("UPDATE fruit SET ripe = 1 WHERE name = ANY($1)", [["pear", "fig"]])
            """,
        }
    )
    await Migrator(db.url, [migrations]).migrate()
    assert await _ripe(db) == ["fig", "pear"]


async def test_bytes_parameters_arrive_on_every_engine(db: TestDatabase, make_migrations: MakeDir) -> None:
    """On MySQL aiomysql's own escaping of bytes fails with PyMySQL 1.1 ("'str' object is not
    callable"); they are written as PyMySQL writes them."""
    blob = {"postgresql": "BYTEA", "mysql": "BLOB", "sqlite": "BLOB"}[db.dialect]
    migrations = make_migrations(
        {
            "1_blobs.py": f"""
            async def up(context):
                await context.execute_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b {blob})")
                await context.execute_sql("INSERT INTO blobs (id, b) VALUES ($1, $2)", [1, bytes(range(256))])
                await context.execute_sql("INSERT INTO blobs (id, b) VALUES (:id, :b)", {{"id": 2, "b": b"'\\\\x00"}})
            """,
        }
    )
    await Migrator(db.url, [migrations]).migrate()
    rows = await db.fetch("SELECT id, b FROM blobs ORDER BY id")
    assert [(i, bytes(b)) for i, b in rows] == [(1, bytes(range(256))), (2, b"'\\x00")]

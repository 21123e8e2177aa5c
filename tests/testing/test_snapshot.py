"""Schema snapshots on every engine: what one holds, that it survives JSON, that uno's own tables
are not in it, and that a change to the schema reads as the expected lines of a diff."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import TestDatabase, fresh_database, only

from uno_migrations import Migrator
from uno_migrations.testing import Snapshot, snapshot_diff, take_snapshot

MakeDir = Callable[..., Path]

SCHEMA = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL, name VARCHAR(50) DEFAULT 'anon', "
    "age INTEGER, CONSTRAINT uq_users_email UNIQUE (email), CONSTRAINT ck_users_age CHECK (age >= 0))",
    "CREATE INDEX ix_users_name ON users (name)",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title VARCHAR(50), body TEXT, "
    "created INTEGER DEFAULT 0, "
    "CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE)",
    "CREATE VIEW user_emails AS SELECT id, email FROM users",
]

#: Per engine: notes.title VARCHAR(50) -> VARCHAR(80), notes.body made NOT NULL, notes.pinned
#: added, ix_users_name dropped, tags created.
CHANGES = {
    "postgresql": [
        "ALTER TABLE notes ALTER COLUMN title TYPE VARCHAR(80)",
        "ALTER TABLE notes ALTER COLUMN body SET NOT NULL",
        "ALTER TABLE notes ADD COLUMN pinned INTEGER",
        "DROP INDEX ix_users_name",
    ],
    "mysql": [
        "ALTER TABLE notes MODIFY title VARCHAR(80)",
        "ALTER TABLE notes MODIFY body TEXT NOT NULL",
        "ALTER TABLE notes ADD COLUMN pinned INTEGER",
        "DROP INDEX ix_users_name ON users",
    ],
    "sqlite": [  # SQLite changes a column's type or nullability by rebuilding the table
        "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title VARCHAR(80), "
        "body TEXT NOT NULL, created INTEGER DEFAULT 0, pinned INTEGER, "
        "CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE)",
        "DROP TABLE notes",
        "ALTER TABLE notes_new RENAME TO notes",
        "DROP INDEX ix_users_name",
    ],
}


async def _build(db: TestDatabase, statements: list[str]) -> None:
    for statement in statements:
        await db.execute(statement)


async def _migrate_schema(db: TestDatabase, make_migrations: MakeDir) -> None:
    """The schema, created by a migration, so that uno's own tables are there too."""
    script = ";\n".join(SCHEMA) + ";\n-- DOWN\nDROP VIEW user_emails;\nDROP TABLE notes;\nDROP TABLE users;\n"
    await Migrator(db.url, [make_migrations({"001_schema.sql": script})]).migrate()


def _by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


async def test_a_snapshot_holds_the_schema_without_uno_s_tables(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    await _migrate_schema(db, make_migrations)
    assert {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"} <= await db.tables()

    snapshot = await take_snapshot(db.url)

    assert [table["name"] for table in snapshot.tables] == ["notes", "users"]
    users = snapshot.table("users")
    assert users is not None
    assert [column["name"] for column in users["columns"]] == ["id", "email", "name", "age"]
    columns = _by_name(users["columns"])
    assert columns["email"]["type"] == "VARCHAR(50)"
    assert columns["email"]["nullable"] is False
    assert columns["email"]["default"] is None
    assert columns["name"]["default"] == "'anon'"
    assert users["primary_key"]["columns"] == ["id"]
    assert users["unique_constraints"] == [{"name": "uq_users_email", "columns": ["email"]}]
    [check] = users["check_constraints"]
    assert check["name"] == "ck_users_age"
    assert check["sqltext"].replace("`", "") == "age >= 0"
    assert {"name": "ix_users_name", "columns": ["name"], "unique": False, "options": {}} in users["indexes"]
    assert "uq_users_email" not in {index["name"] for index in users["indexes"]}

    notes = snapshot.table("notes")
    assert notes is not None
    assert _by_name(notes["columns"])["created"]["default"] == "0"
    assert notes["foreign_keys"] == [
        {
            "name": "fk_notes_user",
            "columns": ["user_id"],
            "referred_schema": None,
            "referred_table": "users",
            "referred_columns": ["id"],
            "ondelete": "CASCADE",
            "onupdate": None,
        }
    ]
    [view] = snapshot.views
    assert view["name"] == "user_emails"
    assert "email" in view["definition"] and not view["definition"].upper().startswith("CREATE")
    assert not view["definition"].endswith(";")
    assert snapshot.enums == []
    assert snapshot.sequences == []

    assert Snapshot.from_dict(json.loads(json.dumps(snapshot.to_dict()))) == snapshot
    assert snapshot_diff(snapshot, await take_snapshot(db.engine)) == []


async def test_ignore_leaves_out_more_tables_and_views(db: TestDatabase) -> None:
    await _build(db, SCHEMA)
    snapshot = await take_snapshot(db.url, ignore=["notes", "user_emails"])
    assert [table["name"] for table in snapshot.tables] == ["users"]
    assert snapshot.views == []


async def test_another_version_table_name_is_left_out(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations({"001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n"})
    await Migrator(db.url, [directory], table="schema_history").migrate()
    assert [table["name"] for table in (await take_snapshot(db.url)).tables] == [
        "a",
        "schema_history",
        "schema_history_layout",
        "schema_history_log",
    ]
    snapshot = await take_snapshot(db.url, table="schema_history")
    assert [table["name"] for table in snapshot.tables] == ["a"]


async def test_changes_read_as_the_lines_of_a_diff(db: TestDatabase, make_migrations: MakeDir) -> None:
    await _migrate_schema(db, make_migrations)
    before = await take_snapshot(db.url)
    await _build(db, [*CHANGES[db.dialect], "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20))"])

    after = await take_snapshot(db.url)

    assert after != before
    assert snapshot_diff(before, after) == [
        "table notes: column title: type VARCHAR(50) -> VARCHAR(80)",
        "table notes: column body: nullable true -> false",
        "table notes: column pinned: added",
        "table tags: added",
        "table users: index ix_users_name: missing",
    ]
    assert snapshot_diff(after, before) == [
        "table notes: column title: type VARCHAR(80) -> VARCHAR(50)",
        "table notes: column body: nullable false -> true",
        "table notes: column pinned: missing",
        "table tags: missing",
        "table users: index ix_users_name: added",
    ]


async def test_one_schema_on_two_databases_makes_equal_snapshots(db: TestDatabase, tmp_path: Path) -> None:
    await _build(db, SCHEMA)
    async with fresh_database(db.dialect, tmp_path) as other:
        await _build(other, SCHEMA)
        theirs = await take_snapshot(other.engine)
    ours = await take_snapshot(db.url)
    assert ours.tables and ours.views
    assert ours == theirs
    assert snapshot_diff(ours, theirs) == []


async def test_a_connection_is_read_in_its_transaction_and_left_as_it_was(db: TestDatabase) -> None:
    await _build(db, SCHEMA[:1])
    async with db.engine.connect() as connection:
        assert [t["name"] for t in (await take_snapshot(connection)).tables] == ["users"]
        assert not connection.in_transaction()
        async with connection.begin():
            await connection.exec_driver_sql("CREATE TABLE pending (id INTEGER PRIMARY KEY)")
            snapshot = await take_snapshot(connection)
            assert connection.in_transaction()
    assert [t["name"] for t in snapshot.tables] == ["pending", "users"]


async def test_a_bind_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="needs an AsyncEngine, an AsyncConnection or a URL, not int"):
        await take_snapshot(42)  # type: ignore[arg-type]


@only("postgresql")
async def test_postgresql_enums_and_sequences(db: TestDatabase, make_migrations: MakeDir) -> None:
    await _migrate_schema(db, make_migrations)  # uno's log has a serial column: its sequence is uno's
    await _build(
        db,
        [
            "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            "CREATE SEQUENCE counter",
            "CREATE TABLE moods (id SERIAL PRIMARY KEY, feeling mood DEFAULT 'ok')",
        ],
    )
    before = await take_snapshot(db.url)
    assert before.enums == [{"name": "mood", "labels": ["sad", "ok"]}]
    assert before.sequences == ["counter", "moods_id_seq"]
    moods = before.table("moods")
    assert moods is not None
    feeling = _by_name(moods["columns"])["feeling"]
    assert (feeling["type"], feeling["default"]) == ("mood", "'ok'")
    assert _by_name(moods["columns"])["id"]["autoincrement"] is True
    assert Snapshot.from_dict(json.loads(json.dumps(before.to_dict()))) == before

    await _build(db, ["ALTER TYPE mood ADD VALUE 'happy'", "DROP SEQUENCE counter"])

    assert snapshot_diff(before, await take_snapshot(db.url)) == [
        "enum mood: labels ('sad', 'ok') -> ('sad', 'ok', 'happy')",
        "sequence counter: missing",
    ]

"""snapshot_diff and Snapshot's plain-data form, on snapshots written by hand (no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from uno_migrations.testing import Snapshot, snapshot_diff


def _column(name: str, **overrides: Any) -> dict[str, Any]:
    column = {"name": name, "type": "INTEGER", "nullable": True, "default": None, "autoincrement": None}
    column.update(overrides)
    return column


def _table(name: str, *columns: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": name,
        "comment": None,
        "columns": list(columns) or [_column("id", nullable=False)],
        "primary_key": {"name": None, "columns": ["id"]},
        "foreign_keys": [],
        "unique_constraints": [],
        "check_constraints": [],
        "indexes": [],
    }
    table.update(overrides)
    return table


def _snapshot(*tables: dict[str, Any], **others: Any) -> Snapshot:
    return Snapshot.from_dict({"tables": list(tables), **others})


USERS = _table(
    "users",
    _column("id", nullable=False),
    _column("email", type="VARCHAR(50)", nullable=False),
    _column("name", type="VARCHAR(50)", default="'anon'"),
    indexes=[{"name": "ix_users_email", "columns": ["email"], "unique": False, "options": {}}],
)


def test_equal_snapshots_have_no_diff() -> None:
    assert snapshot_diff(_snapshot(USERS), _snapshot(json.loads(json.dumps(USERS)))) == []
    assert snapshot_diff(Snapshot(), Snapshot()) == []


def test_each_column_attribute_that_changed_is_a_line() -> None:
    after = _table(
        "users",
        _column("id", nullable=False),
        _column("email", type="VARCHAR(80)", nullable=True),
        _column("name", type="VARCHAR(50)", default=None),
        indexes=USERS["indexes"],
    )
    assert snapshot_diff(_snapshot(USERS), _snapshot(after)) == [
        "table users: column email: type VARCHAR(50) -> VARCHAR(80)",
        "table users: column email: nullable false -> true",
        "table users: column name: default 'anon' -> none",
    ]


def test_tables_and_columns_added_and_missing() -> None:
    notes = _table("notes")
    after = _table(
        "users",
        _column("id", nullable=False),
        _column("email", type="VARCHAR(50)", nullable=False),
        _column("bio", type="TEXT"),
        indexes=USERS["indexes"],
    )
    assert snapshot_diff(_snapshot(USERS), _snapshot(notes, after)) == [
        "table notes: added",
        "table users: column name: missing",
        "table users: column bio: added",
    ]
    assert snapshot_diff(_snapshot(notes, after), _snapshot(USERS)) == [
        "table notes: missing",
        "table users: column bio: missing",
        "table users: column name: added",
    ]


def test_a_reordered_column_is_one_line() -> None:
    swapped = dict(USERS, columns=[USERS["columns"][0], USERS["columns"][2], USERS["columns"][1]])
    assert snapshot_diff(_snapshot(USERS), _snapshot(swapped)) == [
        "table users: column order ('id', 'email', 'name') -> ('id', 'name', 'email')"
    ]


def test_keys_constraints_and_indexes() -> None:
    fk = {
        "name": "fk_notes_user",
        "columns": ["user_id"],
        "referred_schema": None,
        "referred_table": "users",
        "referred_columns": ["id"],
        "ondelete": None,
        "onupdate": None,
    }
    before = _table(
        "notes",
        _column("id", nullable=False),
        _column("user_id"),
        foreign_keys=[fk],
        unique_constraints=[{"name": None, "columns": ["user_id"]}],
        check_constraints=[{"name": "ck_positive", "sqltext": "id > 0"}],
        indexes=[{"name": "ix_notes_user", "columns": ["user_id"], "unique": False, "options": {}}],
    )
    after = dict(
        before,
        primary_key={"name": None, "columns": ["id", "user_id"]},
        foreign_keys=[dict(fk, ondelete="CASCADE")],
        unique_constraints=[],
        check_constraints=[
            {"name": "ck_positive", "sqltext": "id >= 1"},
            {"name": None, "sqltext": "user_id > 0"},
        ],
        indexes=[{"name": "ix_notes_user", "columns": ["user_id"], "unique": True, "options": {}}],
    )
    assert snapshot_diff(_snapshot(before), _snapshot(after)) == [
        "table notes: primary key: columns ('id',) -> ('id', 'user_id')",
        "table notes: foreign key fk_notes_user: ondelete none -> CASCADE",
        "table notes: unique (user_id): missing",
        "table notes: check (user_id > 0): added",
        "table notes: check ck_positive: sqltext id > 0 -> id >= 1",
        "table notes: index ix_notes_user: unique false -> true",
    ]
    assert snapshot_diff(_snapshot(before), _snapshot(dict(before, primary_key=None))) == [
        "table notes: primary key: missing"
    ]


def test_comments_views_enums_and_sequences() -> None:
    before = _snapshot(
        _table("t"),
        views=[{"name": "v", "definition": "SELECT 1"}, {"name": "old", "definition": "SELECT 0"}],
        enums=[{"name": "mood", "labels": ["a", "b"]}],
        sequences=["counter", "gone"],
    )
    after = _snapshot(
        _table("t", comment="things"),
        views=[{"name": "v", "definition": "SELECT 2"}],
        enums=[{"name": "mood", "labels": ["a", "b", "c"]}, {"name": "size", "labels": ["s"]}],
        sequences=["counter", "new"],
    )
    assert snapshot_diff(before, after) == [
        "table t: comment none -> things",
        "view old: missing",
        "view v: definition SELECT 1 -> SELECT 2",
        "enum mood: labels ('a', 'b') -> ('a', 'b', 'c')",
        "enum size: added",
        "sequence gone: missing",
        "sequence new: added",
    ]


def test_a_snapshot_round_trips_through_json_and_compares_by_value() -> None:
    snapshot = _snapshot(USERS, enums=[{"name": "mood", "labels": ("a", "b")}], sequences=("s",))
    data = snapshot.to_dict()
    assert set(data) == {"tables", "views", "enums", "sequences"}
    assert data["enums"] == [{"name": "mood", "labels": ["a", "b"]}]  # tuples are lists, as in JSON
    assert Snapshot.from_dict(json.loads(json.dumps(data))) == snapshot
    data["tables"].clear()
    assert snapshot.tables, "to_dict gives a copy"
    assert snapshot != _snapshot(USERS)


def test_from_dict_refuses_what_is_not_a_snapshot() -> None:
    with pytest.raises(ValueError, match="unknown keys columns"):
        Snapshot.from_dict({"columns": []})
    with pytest.raises(ValueError, match="tables holds a set"):
        Snapshot.from_dict({"tables": [{"name": "t", "columns": {"id"}}]})

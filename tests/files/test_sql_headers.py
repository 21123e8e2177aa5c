"""SQL headers in every layout docs/sql-migrations.md allows, applied on every engine.

Each header (Migration, Description, Dependencies, Tags, Transactional, and the dbmate up
marker's ``transaction:false``) sits after a block comment, after line comments, among blank
lines, among other comments, before or after a dbmate up marker; the run must honour all of
them: the dependency order, the title and description recorded, the tags shown, and a
non-transactional migration keeping what it did before it failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase

MakeDir = Callable[..., Path]


def _plain(headers: list[str]) -> str:
    return "\n".join(headers)


LAYOUTS: dict[str, Callable[[list[str]], str]] = {
    "plain": _plain,
    "after a block comment": lambda h: "/* The shop's orders. */\n" + _plain(h),
    "after a multi-line block comment": lambda h: (
        "/*\n * The shop's orders.\n * -- Tags: not_a_header\n */\n" + _plain(h)
    ),
    "after line comments": lambda h: "-- The shop's orders\n-- (see the wiki)\n" + _plain(h),
    "with blank lines between": lambda h: "\n\n" + "\n\n\n".join(h),
    "with comments among them": lambda h: "\n".join(f"{line}\n-- a note about it" for line in h),
    "with block comments among them": lambda h: "\n".join(f"/* a note */\n{line}" for line in h),
    "after a dbmate up marker": lambda h: "-- migrate:up\n" + _plain(h),
    "before a dbmate up marker": lambda h: _plain(h) + "\n\n-- migrate:up",
}


def _files(layout: Callable[[list[str]], str], marker_option: bool = False) -> dict[str, str]:
    """``1_orders`` needs ``2_customers`` first (it inserts into its table), ``3_backfill``
    needs ``1_orders`` and is not transactional (its first insert stays after it fails)."""
    orders = layout(
        [
            "-- Migration: Create the orders",
            "-- Description: What customers ordered",
            "-- Dependencies: 2_customers",
            "-- Tags: sales, orders",
        ]
    )
    backfill_headers = ["-- Migration: Backfill", "-- Dependencies: 1_orders"]
    if not marker_option:
        backfill_headers.append("-- Transactional: false")
    backfill = layout(backfill_headers)
    if marker_option:
        backfill = backfill.replace("-- migrate:up", "-- migrate:up transaction:false")
    return {
        "1_orders.sql": orders
        + "\n\nCREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL);\n"
        + "INSERT INTO customers (id) VALUES (7);\n\n-- DOWN\n\nDROP TABLE orders;\n",
        "2_customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE customers;\n",
        "3_backfill.sql": backfill
        + "\n\nINSERT INTO orders (id, customer_id) VALUES (1, 7);\n"
        + "INSERT INTO no_such_table (id) VALUES (1);\n",
    }


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir()
    for name, content in files.items():
        (directory / name).write_text(content, encoding="utf-8")


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
async def test_headers_apply_in_every_layout(
    layout_name: str, db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _write(directory, _files(LAYOUTS[layout_name]))
    args = ("-u", db.url, "-d", str(directory))

    result = await cli.run(*args, "migrate")

    assert result.exit_code == 1, result.output  # 3_backfill fails on its second statement
    assert "no_such_table" in result.stderr
    log = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    assert log == [("2_customers", "apply"), ("1_orders", "apply"), ("3_backfill", "fail")]
    rows = await db.fetch("SELECT name, description FROM uno_migrations WHERE id = '1_orders'")
    assert rows == [("Create the orders", "What customers ordered")]
    # Not transactional: the insert before the failing statement was committed on its own
    # (in a transaction, PostgreSQL and SQLite would roll it back; MySQL runs SQL migrations
    # statement by statement either way, so there the info line below tells).
    assert await db.fetch("SELECT id, customer_id FROM orders") == [(1, 7)]
    info = await cli.run(*args, "info", "1_orders")
    assert info.exit_code == 0, info.output
    assert "tags:          sales, orders" in info.stdout
    assert "dependencies:  2_customers" in info.stdout
    assert "not_a_header" not in info.stdout
    backfill = await cli.run(*args, "info", "3_backfill")
    assert "transactional: no" in backfill.stdout, backfill.output


@pytest.mark.parametrize("layout_name", ["after a dbmate up marker", "before a dbmate up marker"])
async def test_transaction_option_of_the_up_marker(
    layout_name: str, db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _write(directory, _files(LAYOUTS[layout_name], marker_option=True))
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1, result.output
    assert await db.fetch("SELECT id, customer_id FROM orders") == [(1, 7)]

"""The findings every reader shares, worded once: what a statement does, to which table."""

from __future__ import annotations

from .engines import Hit


def rename_table(table: str) -> Hit:
    return Hit(
        "rename-table-or-column",
        f"renames table {table}: the release still running reads {table} and fails once this commits",
    )


def rename_column(table: str, column: str) -> Hit:
    return Hit(
        "rename-table-or-column",
        f"renames column {table}.{column}: the release still running reads and writes {column} and "
        "fails once this commits",
    )


def drop_table(table: str) -> Hit:
    return Hit(
        "drop-table-or-column", f"drops table {table}, which the release still running may read or write"
    )


def drop_column(table: str, column: str) -> Hit:
    return Hit(
        "drop-table-or-column",
        f"drops column {table}.{column}, which the release still running may read or write",
    )


def truncate(table: str) -> Hit:
    return Hit("truncate", f"TRUNCATE {table} deletes every row of it at once")


def delete_everything(table: str) -> Hit:
    return Hit(
        "delete-without-where", f"DELETE without WHERE deletes every row of {table} in one transaction"
    )


def update_everything(table: str) -> Hit:
    return Hit(
        "update-without-where",
        f"UPDATE without WHERE rewrites every row of {table}, each locked until the migration commits",
    )


def transaction(statement: str) -> Hit:
    return Hit(
        "transaction-control",
        f"{statement} in a migration: uno runs each migration in its own transaction (or, with "
        "-- Transactional: false, in none), and this would end or nest it",
    )


def dropped_transaction(statement: str) -> Hit:
    return Hit(
        "transaction-control",
        f"{statement} in a migration is dropped: uno runs the migration in its own transaction, so "
        "it does not open, end or split one",
    )

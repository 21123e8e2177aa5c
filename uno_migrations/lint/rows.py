"""Representative rows for ``lint --observe``: a few in every empty table of a scratch database,
so that a statement meets a table with rows in it (a NOT NULL check to scan, rows to rewrite).

Values are made from each column's SQLAlchemy type, as the inspector reflects it: numbers,
strings that fit the column, dates, times, booleans, JSON, UUIDs, the first labels of an enum.
A column with a server default, an identity or a computed value is left to the server; a
foreign key takes the rows of the table it references, filled first; a nullable column of a
type with no value here stays NULL. A table that cannot be filled (a NOT NULL column of such a
type, a check constraint the values break, an empty table referenced) is left empty, with why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Enum, MetaData, String, Table, select
from sqlalchemy.exc import DBAPIError

from ..dialects.base import driver_message

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: How many rows an empty table gets.
ROWS = 5

_DAY = dt.datetime(2024, 1, 1, 12, 0)
_VALUES: dict[type, Callable[[int], Any]] = {
    bool: lambda i: i % 2 == 0,
    int: lambda i: i + 1,
    float: lambda i: i + 0.5,
    Decimal: lambda i: Decimal(i + 1),
    dt.datetime: lambda i: _DAY + dt.timedelta(days=i),
    dt.date: lambda i: _DAY.date() + dt.timedelta(days=i),
    dt.time: lambda i: dt.time(12, i),
    dt.timedelta: lambda i: dt.timedelta(hours=i + 1),
    bytes: lambda i: bytes([i]),
    dict: lambda i: {"n": i},
    list: lambda i: [],
    uuid.UUID: lambda i: uuid.uuid4(),
}


class _CannotFill(Exception):
    """Why a table is left empty."""


def _string(column: Column[Any], i: int) -> str:
    value = f"{column.name}-{i + 1}"
    length = getattr(column.type, "length", None)
    return value if length is None or len(value) <= length else str(i + 1)[-length:]


def _value(column: Column[Any], i: int) -> Any:
    """The ``i``-th value of ``column``; None for a nullable column of a type with none here."""
    kind = column.type
    if isinstance(kind, Enum) and kind.enums:
        return kind.enums[i % len(kind.enums)]
    if isinstance(kind, String):
        return _string(column, i)
    try:
        python_type = kind.python_type
    except NotImplementedError:
        python_type = None
    if python_type is str:
        return _string(column, i)
    if python_type in _VALUES:
        value = _VALUES[python_type](i)
        return value.replace(tzinfo=dt.timezone.utc) if getattr(kind, "timezone", False) else value
    if column.nullable:
        return None
    raise _CannotFill(f"no value for its NOT NULL column {column.name} of type {kind}")


def _left_to_server(column: Column[Any]) -> bool:
    return (
        column.server_default is not None
        or column.identity is not None
        or column.computed is not None
        or column.autoincrement is True
    )


def _referenced(sync: Connection, table: Table) -> dict[str, list[Any]]:
    """The values each foreign key column takes: the referenced table's, in its row order."""
    values: dict[str, list[Any]] = {}
    for constraint in table.foreign_key_constraints:
        target = constraint.referred_table
        columns = [element.column for element in constraint.elements]
        rows = list(sync.execute(select(*columns).limit(ROWS))) if target.name != table.name else []
        nullable = all(column.nullable for column in constraint.columns)
        if not rows and not nullable:
            raise _CannotFill(
                "it references itself" if target.name == table.name else f"{target.name} has no rows"
            )
        for position, column in enumerate(constraint.columns):
            values[column.name] = [row[position] for row in rows] or [None]
    return values


def _rows(sync: Connection, table: Table) -> list[dict[str, Any]]:
    referenced = _referenced(sync, table)
    rows = []
    for i in range(ROWS):
        row = {}
        for column in table.columns:
            if column.name in referenced:
                row[column.name] = referenced[column.name][i % len(referenced[column.name])]
            elif not _left_to_server(column):
                row[column.name] = _value(column, i)
        rows.append(row)
    return rows


def fill_empty_tables(sync: Connection, skip: Collection[str]) -> dict[str, str]:
    """Put :data:`ROWS` rows in each table of ``sync``'s database (schema) that has none, but
    those named in ``skip``, parents before the tables that reference them; the tables left
    empty, each with why. ``sync`` is in autocommit: each table's rows commit on their own."""
    metadata = MetaData()
    metadata.reflect(sync)
    unfilled: dict[str, str] = {}
    for table in metadata.sorted_tables:
        if table.name in skip or sync.execute(select(*table.columns[:1]).limit(1)).first() is not None:
            continue
        try:
            sync.execute(table.insert(), _rows(sync, table))
        except _CannotFill as exc:
            unfilled[table.name] = str(exc)
        except DBAPIError as exc:
            unfilled[table.name] = driver_message(exc)
    return unfilled

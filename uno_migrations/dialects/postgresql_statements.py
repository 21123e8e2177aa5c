"""PostgreSQL statements as psycopg2 sends them, on asyncpg: values written in, one round trip.

Alembic histories are written for psycopg2, which interpolates values into the statement text
and sends it as one query; asyncpg prepares every statement first (a round trip more) and types
every parameter. For the connection of a run (:func:`attached`), SQLAlchemy's ``do_execute``
and ``do_executemany`` go through :func:`execute` and :func:`execute_many`, which do what
psycopg2 would where asyncpg differs; uno's own bookkeeping statements are written in the same
way (:func:`inlined` with :func:`record_literal`) so that a migration and its version rows go
as one query.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from typing import Any
from weakref import WeakSet

from ..sql.lexer import _PARAM, _WORD, _tokens, first_word
from ..sql.params import bind_parameters, drop_casts
from ..sql.syntax import SQLSyntax

Literal = Callable[[Any], "str | None"]

# Statements that return no rows and whose row count nobody reads: sent without parameters, they
# go as asyncpg's simple query, one round trip (and, as under psycopg2, several at once).
_NO_ROWS = frozenset({"create", "alter", "drop", "comment", "grant", "revoke", "truncate", "do"})
_WRITES = frozenset({"insert", "update", "delete"})
_ROW_COUNT = re.compile(r"(?:INSERT \d+|UPDATE|DELETE) (\d+)")
_ELAPSED_MS = "(EXTRACT(EPOCH FROM clock_timestamp() - transaction_timestamp()) * 1000)::INTEGER"
# The asyncpg connections of the runs under way.
_attached: WeakSet[Any] = WeakSet()


class ServerElapsed(int):
    """The duration the adapter's ``run_script`` gives ``Script.record``: the script goes whole,
    so its time is measured by the server, and this value is written into the version rows as
    the time elapsed since the transaction began (see :func:`record_literal`)."""


@contextmanager
def attached(driver: Any) -> Iterator[None]:
    """The asyncpg connection ``driver`` is a run's for the block: its statements go through
    :func:`execute` and :func:`execute_many`."""
    _attached.add(driver)
    try:
        yield
    finally:
        _attached.discard(driver)


def literal(value: Any) -> str | None:
    """A value as psycopg2 writes it into a statement, for the values whose text is certain;
    None for any other."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    number = None
    if isinstance(value, int):
        number = str(value)
    elif isinstance(value, float) and math.isfinite(value):
        number = repr(value)
    elif isinstance(value, Decimal) and value.is_finite():
        number = str(value)
    if number is not None:
        # In parentheses when negative: "n-$1" must not become the comment "n--1".
        return f"({number})" if number.startswith("-") else number
    if isinstance(value, (datetime, date, dt_time)):
        return f"'{value.isoformat()}'"
    if isinstance(value, str) and "\\" not in value and "\0" not in value:
        # Quotes doubled; no backslash, so standard_conforming_strings cannot matter.
        return "'" + value.replace("'", "''") + "'"
    return None


def record_literal(value: Any) -> str | None:
    """:func:`literal` for uno's own rows: :class:`ServerElapsed` becomes the server's measure,
    and a time without a zone is left to the driver (asyncpg reads it as UTC, the server's text
    input as the session's zone)."""
    if isinstance(value, ServerElapsed):
        return _ELAPSED_MS
    if isinstance(value, datetime) and value.tzinfo is None:
        return None
    return literal(value)


@functools.lru_cache(maxsize=512)
def _at_placeholders(sql: str, syntax: SQLSyntax) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """``sql`` cut at its ``$n`` placeholders (in its code), and their numbers: a revision's
    statements repeat (a project helper's), and are read once."""
    pieces, numbers, last = [], [], 0
    for kind, start, end in _tokens(sql, syntax):
        if kind == _PARAM:
            pieces.append(sql[last:start])
            numbers.append(int(sql[start + 1 : end]))
            last = end
    pieces.append(sql[last:])
    return tuple(pieces), tuple(numbers)


def inlined(sql: str, args: Sequence[Any], syntax: SQLSyntax, write: Literal = literal) -> str | None:
    """``sql`` with ``args`` written in by ``write``; None unless it writes every one."""
    pieces, numbers = _at_placeholders(sql, syntax)
    literals = [write(args[number - 1]) for number in numbers]
    if None in literals:
        return None
    return "".join(piece + text for piece, text in zip(pieces, [*literals, ""], strict=True))  # type: ignore[operator]


@functools.lru_cache(maxsize=512)
def _untyped(sql: str, syntax: SQLSyntax) -> str:
    return drop_casts(sql, syntax, "::VARCHAR")


def _returns_rows(sql: str, syntax: SQLSyntax) -> bool:
    return "returning" in sql.lower() and any(
        kind == _WORD and sql[start:end].lower() == "returning" for kind, start, end in _tokens(sql, syntax)
    )


def execute(syntax: SQLSyntax, cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """SQLAlchemy's ``do_execute`` on the connection of a run: whether it ran the statement.

    What psycopg2 does, where asyncpg differs:

    - a sequence bound right after IN (``IN :names``) stands for its values;
    - a text() statement's string values are untyped (SQLAlchemy casts them to VARCHAR for
      asyncpg, and ``kind = :kind`` against an enum column then fails: "operator does not exist");
    - plain values (numbers, strings without backslashes, times) are written into the statement,
      as psycopg2 interpolates them, so asyncpg has no parameter to type (an enum-typed one costs
      it an introspection query of its own, 10 ms);
    - a statement that returns no rows (DDL, and an INSERT, UPDATE or DELETE so written out)
      goes as one simple query, one round trip, where asyncpg prepares it first, a round trip
      more; several statements in one string run, as under psycopg2.

    Anything else, and any connection that is not a run's, is left to SQLAlchemy.
    """
    from sqlalchemy.sql.elements import TextClause

    pooled = context.root_connection.connection
    driver = pooled.driver_connection
    if driver not in _attached:
        return False
    if not parameters:
        if not (context.isddl or first_word(statement, syntax) in _NO_ROWS):
            return False
        return _simple_query(cursor, pooled, statement)
    compiled = context.compiled
    if compiled is None:
        return False
    sql, args = statement, parameters
    if any(isinstance(value, (list, tuple)) for value in parameters):
        sql, args = bind_parameters(sql, list(parameters), "numeric_dollar", syntax)
    if "::VARCHAR" in sql and isinstance(compiled.statement, TextClause):
        sql = _untyped(sql, syntax)
    written = inlined(sql, args, syntax)
    if written is not None:
        if first_word(sql, syntax) in _WRITES and not _returns_rows(sql, syntax):
            if _simple_query(cursor, pooled, written):
                return True
        cursor.execute(written, ())  # its rows as ever; no parameter for asyncpg to type
        return True
    if sql == statement:
        return False
    cursor.execute(sql, args)
    return True


def execute_many(syntax: SQLSyntax, cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """SQLAlchemy's ``do_executemany`` on the connection of a run (``op.bulk_insert``, a list of
    parameter sets): a write whose values are all plain goes as one simple query, a statement
    per set, one round trip, where asyncpg prepares it (introspecting a type it has not seen)
    and sends every set."""
    pooled = context.root_connection.connection
    if pooled.driver_connection not in _attached or context.compiled is None:
        return False
    if first_word(statement, syntax) not in _WRITES or _returns_rows(statement, syntax):
        return False
    written = []
    for args in parameters:
        sql = inlined(statement, args, syntax)
        if sql is None:
            return False
        written.append(sql)
    return _simple_query(cursor, pooled, ";\n".join(written), count=False)


def _simple_query(cursor: Any, pooled: Any, sql: str, count: bool = True) -> bool:
    """Send ``sql`` as a simple query in the transaction SQLAlchemy has begun (or in
    autocommit), with (``count``) the row count on ``cursor``; False where that cannot be done."""
    from ..connections import await_

    driver, adapted = pooled.driver_connection, pooled.dbapi_connection
    if not (driver.is_in_transaction() or adapted.autocommit):
        # SQLAlchemy begins asyncpg's transaction lazily, on a first statement: begun here as
        # the cursor would (its BEGIN, a round trip of its own, as there).
        start = getattr(adapted, "_start_transaction", None)
        if start is None:
            return False
        await_(start())
    try:
        status = await_(driver.execute(sql))
    except Exception as error:
        cursor._handle_exception(error)  # asyncpg's error as SQLAlchemy's DBAPI error, as ever
    found = _ROW_COUNT.match(status or "") if count else None
    if found is not None:
        _set_row_count(cursor, int(found.group(1)))
    return True


def _set_row_count(cursor: Any, count: int) -> None:
    """``cursor.rowcount``: an attribute of SQLAlchemy 2.0's asyncpg cursor, a property over
    ``_rowcount`` in 2.1."""
    if isinstance(getattr(type(cursor), "rowcount", None), property):
        cursor._rowcount = count
    else:
        cursor.rowcount = count

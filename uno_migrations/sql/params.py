"""Parameters of ``execute_sql``: ``$1`` and ``:name`` placeholders rewritten for the driver.

The placeholders are found with the lexer of :mod:`.lexer`, so a ``$1`` or ``:name`` inside a
string literal, a comment or a dollar-quoted body is left alone, and ``::`` casts are not names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ParameterError
from .lexer import _PARAM, _WORD, _tokens
from .syntax import SQLSyntax

__all__ = ["bind_parameters", "check_values"]

_PARAMSTYLES = ("numeric_dollar", "qmark", "format")


def _placeholders(sql: str, syntax: SQLSyntax, named: bool) -> list[tuple[int, int, str]]:
    """``(start, end, name)`` of each ``:name`` (named) or ``$n`` placeholder in code."""
    found = []
    for kind, start, end in _tokens(sql, syntax):
        if named and kind == _WORD and start > 0 and sql[start - 1] == ":":
            # Not '::' casts, and not 'a[lo:hi]' slices: the colon must follow neither.
            before = sql[start - 2] if start > 1 else " "
            if before == ":" or before.isalnum() or before in "_$" or sql[start].isdigit():
                continue
            found.append((start - 1, end, sql[start:end]))
        elif not named and kind == _PARAM:
            found.append((start, end, sql[start + 1 : end]))
    return found


def check_values(values: Sequence[Any] | Mapping[str, Any]) -> None:
    """Refuse a value no driver stores as the user means: a Row (a query's whole row, where one
    of its values was meant) is stored as its text by some drivers and refused by others."""
    from sqlalchemy.engine import Row  # here: reading SQL files needs no SQLAlchemy

    items = values.items() if isinstance(values, Mapping) else enumerate(values, 1)
    for key, value in items:
        if isinstance(value, Row):
            name = f":{key}" if isinstance(values, Mapping) else f"${key}"
            raise ParameterError(
                f"parameter {name} is a Row {tuple(value)!r}, not a value; pass one of its "
                "values, e.g. row[0] or row.<column>"
            )


def bind_parameters(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
    paramstyle: str,
    syntax: SQLSyntax,
) -> tuple[str, tuple[Any, ...]]:
    """Rewrite ``$n`` (list) or ``:name`` (dict) placeholders for the driver's paramstyle, in
    the code of ``sql`` as ``syntax`` reads it.

    >>> from uno_migrations.sql.syntax import GENERIC
    >>> bind_parameters("SELECT $2, $1::int", [1, 2], "qmark", GENERIC)
    ('SELECT ?, ?::int', (2, 1))
    """
    if paramstyle not in _PARAMSTYLES:
        raise ParameterError(
            f"unsupported paramstyle {paramstyle!r}; expected one of {', '.join(_PARAMSTYLES)}"
        )
    if isinstance(params, (str, bytes, bytearray)) or not isinstance(params, (Sequence, Mapping)):
        raise ParameterError("params must be a list, tuple or dict")
    if not params:
        return sql, ()
    check_values(params)
    named = isinstance(params, Mapping)
    found = _placeholders(sql, syntax, named)
    if not found:
        count = f"{len(params)} parameter{'s' if len(params) > 1 else ''} given"
        style = ":name" if named else "$n"
        raise ParameterError(f"{count} but the statement has no {style} placeholders")

    if isinstance(params, Mapping):
        missing = next((name for _, _, name in found if name not in params), None)
        if missing is not None:
            raise ParameterError(f"no value for parameter :{missing}")
        values = [params[name] for _, _, name in found]
        numbers = {name: i for i, name in enumerate(dict.fromkeys(v[2] for v in found), 1)}
        dollars = [f"${numbers[name]}" for _, _, name in found]
        numbered = tuple(params[name] for name in numbers)
    else:
        used = [int(digits) for _, _, digits in found]
        wrong = next((n for n in used if not 1 <= n <= len(params)), None)
        if wrong == 0:
            raise ParameterError("statement uses $0; placeholders are numbered from $1")
        if wrong is not None:
            given = f"{len(params)} parameter{' was' if len(params) == 1 else 's were'} given"
            raise ParameterError(f"statement uses ${wrong} but {given}")
        unused = set(range(1, len(params) + 1)).difference(used)
        if unused:
            raise ParameterError(f"parameter ${min(unused)} is never used")
        values = [params[n - 1] for n in used]
        dollars = [sql[start:end] for start, end, _ in found]
        numbered = tuple(params)

    if paramstyle == "numeric_dollar":
        marks, args = dollars, numbered
    else:
        marks, args = ["?" if paramstyle == "qmark" else "%s"] * len(found), tuple(values)
    # The format driver runs 'sql % args' over the whole text, so every literal '%' is doubled.
    double = paramstyle == "format"
    pieces: list[str] = []
    last = 0
    for (start, end, _), mark in zip(found, marks, strict=True):
        pieces += (sql[last:start].replace("%", "%%") if double else sql[last:start], mark)
        last = end
    pieces.append(sql[last:].replace("%", "%%") if double else sql[last:])
    return "".join(pieces), args

"""Parameters of ``execute_sql``: ``$1`` and ``:name`` placeholders rewritten for the driver.

The placeholders are found with the lexer of :mod:`.lexer`, so a ``$1`` or ``:name`` inside a
string literal, a comment or a dollar-quoted body is left alone, and ``::`` casts are not names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ParameterError
from .lexer import _DIRECTIVE, _PARAM, _PUNCT, _WORD, _tokens
from .syntax import SQLSyntax

__all__ = ["bind_parameters", "check_values", "drop_casts", "inline_parameters"]

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


# Where a placeholder stands: anywhere else, right after IN ("IN $1"), or alone in the
# parentheses of an IN ("IN ($1)").
_ELSEWHERE, _AFTER_IN, _INSIDE_IN = 0, 1, 2
_SEQUENCES = (list, tuple, set, frozenset)


def _places(sql: str, syntax: SQLSyntax, named: bool) -> list[int]:
    """Where each placeholder :func:`_placeholders` finds stands, in the same order."""
    places: list[int] = []
    code: list[str] = []  # the text of the last code tokens (no blanks, no comments)
    waiting: int | None = None  # the index of an "IN (placeholder" until its ")" is seen
    for kind, start, end in _tokens(sql, syntax):
        if kind <= _DIRECTIVE:
            continue
        text = sql[start:end]
        if waiting is not None:
            if text != ")":
                places[waiting] = _ELSEWHERE
            waiting = None
        before = 0  # how many code tokens the placeholder's own take
        if named and kind == _WORD and start > 0 and sql[start - 1] == ":":
            prior = sql[start - 2] if start > 1 else " "
            if not (prior == ":" or prior.isalnum() or prior in "_$" or text[0].isdigit()):
                before = 2  # the ':' and the name
        elif not named and kind == _PARAM:
            before = 1
        if before:
            ahead = [word.lower() for word in code[: len(code) - before + 1][-2:]]
            if ahead[-1:] == ["in"]:
                places.append(_AFTER_IN)
            elif ahead[-2:] == ["in", "("]:
                places.append(_INSIDE_IN)
                waiting = len(places) - 1
            else:
                places.append(_ELSEWHERE)
        code.append(text)
        if len(code) > 4:
            del code[0]
    if waiting is not None:
        places[waiting] = _ELSEWHERE
    return places


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

    A list or tuple (or set) right after ``IN`` stands for the list's values, as PyMySQL and
    psycopg2 render a tuple there: ``IN $1`` and ``IN ($1)`` both become ``IN (?, ?, ?)``.
    Anywhere else a sequence is one value, for the driver to take or refuse (a PostgreSQL array).

    >>> bind_parameters("SELECT 1 WHERE 2 IN :ids", {"ids": (1, 2)}, "numeric_dollar", GENERIC)
    ('SELECT 1 WHERE 2 IN ($1, $2)', (1, 2))
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

    if any(isinstance(value, _SEQUENCES) for value in values):
        marks, args = _expanded(sql, syntax, found, values, named, paramstyle)
    elif paramstyle == "numeric_dollar":
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


def _expanded(
    sql: str,
    syntax: SQLSyntax,
    found: list[tuple[int, int, str]],
    values: list[Any],
    named: bool,
    paramstyle: str,
) -> tuple[list[str], tuple[Any, ...]]:
    """The marks and values of ``found`` with the sequences after IN spread out."""
    places = _places(sql, syntax, named)
    numbered: dict[tuple[str, bool], str] = {}  # numeric_dollar: one set of numbers per value
    marks: list[str] = []
    args: list[Any] = []
    one = "?" if paramstyle == "qmark" else "%s"
    for (_, _, key), value, place in zip(found, values, places, strict=True):
        spread = place != _ELSEWHERE and isinstance(value, _SEQUENCES)
        items = list(value) if spread else [value]
        if spread and not items:
            name = f":{key}" if named else f"${key}"
            raise ParameterError(
                f"parameter {name} is an empty {type(value).__name__} after IN, and no engine takes IN (); "
                "leave the condition out when there is nothing to match"
            )
        if paramstyle == "numeric_dollar":
            mark = numbered.get((key, spread))
            if mark is None:
                first = len(args) + 1
                mark = numbered[(key, spread)] = ", ".join(f"${n}" for n in range(first, first + len(items)))
                args += items
        else:
            mark = ", ".join([one] * len(items))
            args += items
        marks.append(f"({mark})" if spread and place == _AFTER_IN else mark)
    return marks, tuple(args)


_FORMAT_MARK = re.compile(r"%%|%s")


def inline_parameters(
    sql: str, args: Sequence[Any], paramstyle: str, syntax: SQLSyntax, literal: Callable[[Any], str]
) -> str:
    """``sql`` as the driver would bind ``args`` to it, each value written in as ``literal(value)``
    (for a script that runs without the driver: ``migrate --sql``).

    The placeholders are found where the driver finds them: ``$n`` and ``?`` in the code (not in
    literals or comments), and, for the ``format`` style, ``%s`` anywhere, with ``%%`` a ``%``
    (the driver runs ``sql % args`` over the whole text).

    >>> from uno_migrations.sql.syntax import GENERIC
    >>> inline_parameters("SELECT $2, '$1', $1", (1, "two"), "numeric_dollar", GENERIC, repr)
    "SELECT 'two', '$1', 1"
    """
    if not args:
        return sql
    if paramstyle == "format":
        values = iter(args)
        return _FORMAT_MARK.sub(lambda m: "%" if m.group() == "%%" else literal(next(values)), sql)
    if paramstyle not in ("numeric_dollar", "qmark"):
        raise ParameterError(f"unsupported paramstyle {paramstyle!r} to write values in")
    pieces: list[str] = []
    last = position = 0
    for kind, start, end in _tokens(sql, syntax):
        if kind == _PARAM and paramstyle == "numeric_dollar":
            value = args[int(sql[start + 1 : end]) - 1]
        elif kind == _PUNCT and paramstyle == "qmark" and sql[start] == "?":
            value = args[position]
            position += 1
        else:
            continue
        pieces += (sql[last:start], literal(value))
        last = end
    pieces.append(sql[last:])
    return "".join(pieces)


def drop_casts(sql: str, syntax: SQLSyntax, cast: str) -> str:
    """``sql`` without ``cast`` (``"::VARCHAR"``) right after each ``$n`` placeholder in its code.

    >>> from uno_migrations.sql.syntax import GENERIC
    >>> drop_casts("SELECT $1::VARCHAR, '$2::VARCHAR', $2::VARCHAR::text", GENERIC, "::VARCHAR")
    "SELECT $1, '$2::VARCHAR', $2::text"
    """
    pieces: list[str] = []
    last = 0
    for kind, _start, end in _tokens(sql, syntax):
        if kind == _PARAM and sql.startswith(cast, end):
            pieces.append(sql[last:end])
            last = end + len(cast)
    pieces.append(sql[last:])
    return "".join(pieces)

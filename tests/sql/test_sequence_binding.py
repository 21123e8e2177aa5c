"""A list or tuple bound right after IN stands for its values (docs/python-migrations.md,
"Parameters"): pure rewriting, no database."""

from __future__ import annotations

import pytest

from uno_migrations.dialects import syntax_of
from uno_migrations.errors import ParameterError
from uno_migrations.sql.params import bind_parameters
from uno_migrations.sql.syntax import GENERIC


@pytest.mark.parametrize(
    ("paramstyle", "expected"),
    [
        ("numeric_dollar", ("SELECT * FROM t WHERE a IN ($1, $2, $3) AND b = $4", (1, 2, 3, "x"))),
        ("qmark", ("SELECT * FROM t WHERE a IN (?, ?, ?) AND b = ?", (1, 2, 3, "x"))),
        ("format", ("SELECT * FROM t WHERE a IN (%s, %s, %s) AND b = %s", (1, 2, 3, "x"))),
    ],
)
def test_a_sequence_after_in_is_spread_in_every_paramstyle(
    paramstyle: str, expected: tuple[str, tuple[object, ...]]
) -> None:
    sql = "SELECT * FROM t WHERE a IN $1 AND b = $2"
    assert bind_parameters(sql, [(1, 2, 3), "x"], paramstyle, GENERIC) == expected


def test_in_with_parentheses_and_names_and_a_repeated_placeholder() -> None:
    sql = "SELECT * FROM t WHERE a IN (:ids) OR b not in :ids OR c = :c"
    assert bind_parameters(sql, {"ids": [7, 8], "c": 1}, "numeric_dollar", GENERIC) == (
        "SELECT * FROM t WHERE a IN ($1, $2) OR b not in ($1, $2) OR c = $3",
        (7, 8, 1),
    )
    assert bind_parameters(sql, {"ids": [7, 8], "c": 1}, "qmark", GENERIC) == (
        "SELECT * FROM t WHERE a IN (?, ?) OR b not in (?, ?) OR c = ?",
        (7, 8, 7, 8, 1),
    )


def test_a_sequence_anywhere_else_is_one_value() -> None:
    """A PostgreSQL array stays an array; ``IN ($1, 3)`` is not a list parameter."""
    assert bind_parameters("SELECT $1 = ANY($2)", [1, [1, 2]], "numeric_dollar", GENERIC) == (
        "SELECT $1 = ANY($2)",
        (1, [1, 2]),
    )
    assert bind_parameters("SELECT 1 WHERE 2 IN ($1, 3)", [[1, 2]], "qmark", GENERIC) == (
        "SELECT 1 WHERE 2 IN (?, 3)",
        ([1, 2],),
    )


def test_comments_between_in_and_the_placeholder_and_literals_untouched() -> None:
    mysql = syntax_of("mysql")
    sql = "SELECT 'IN $1' FROM t WHERE a IN /* ids */ $1 AND b LIKE '50%'"
    assert bind_parameters(sql, [(1, 2)], "format", mysql) == (
        "SELECT 'IN $1' FROM t WHERE a IN /* ids */ (%s, %s) AND b LIKE '50%%'",
        (1, 2),
    )


def test_a_word_ending_in_in_is_not_in() -> None:
    assert bind_parameters("SELECT * FROM t WHERE login = $1", [(1, 2)], "qmark", GENERIC) == (
        "SELECT * FROM t WHERE login = ?",
        ((1, 2),),
    )


def test_an_empty_sequence_after_in_is_a_clear_error() -> None:
    with pytest.raises(ParameterError, match=r"parameter :ids is an empty list after IN"):
        bind_parameters("SELECT 1 WHERE 1 IN :ids", {"ids": []}, "qmark", GENERIC)
    with pytest.raises(ParameterError, match=r"parameter \$1 is an empty tuple after IN"):
        bind_parameters("SELECT 1 WHERE 1 IN ($1)", [()], "numeric_dollar", GENERIC)

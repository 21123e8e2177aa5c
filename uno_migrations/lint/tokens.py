"""A statement as the words of an engine's lexer, for the readers of engines without a parser here.

The lexer (:mod:`uno_migrations.sql.lexer`) tells code from strings, quoted identifiers and
comments by the engine's own rules; on top of it a statement is a list of :class:`Word`, with
its depth in parentheses, split into clauses at the commas outside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..sql.lexer import _DIRECTIVE, _IDENT, _PUNCT, _STRING, _WORD, _tokens
from ..sql.syntax import SQLSyntax


@dataclass(frozen=True)
class Word:
    """A token of a statement: ``key`` is a bare word upper-cased ('' for a string or a quoted
    identifier), ``name`` the identifier it names (unquoted, lower-cased), ``depth`` how many
    parentheses it is in."""

    key: str
    name: str
    depth: int
    punct: str = ""


def words(sql: str, syntax: SQLSyntax) -> list[Word]:
    """The tokens of ``sql`` that are code, comments and whitespace left out."""
    found: list[Word] = []
    depth = 0
    for kind, start, end in _tokens(sql, syntax):
        if kind <= _DIRECTIVE:
            continue
        text = sql[start:end]
        if kind == _PUNCT and text == ")":
            depth = max(0, depth - 1)
        if kind == _WORD:
            found.append(Word(text.upper(), text.lower(), depth))
        elif kind == _IDENT:
            found.append(Word("", text[1:-1].lower(), depth))
        elif kind == _STRING:
            found.append(Word("", "", depth))
        else:
            found.append(Word("", "", depth, text))
        if kind == _PUNCT and text == "(":
            depth += 1
    return found


def keys(found: Sequence[Word], count: int) -> tuple[str, ...]:
    """The first ``count`` words' keys (upper-cased bare words)."""
    return tuple(word.key for word in found[:count])


def clauses(found: Sequence[Word]) -> list[list[Word]]:
    """``found`` split at the commas outside parentheses (the clauses of an ALTER TABLE)."""
    parts: list[list[Word]] = [[]]
    for word in found:
        if word.punct == "," and word.depth == 0:
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def top_keys(found: Sequence[Word]) -> set[str]:
    """The bare words outside any parentheses."""
    return {word.key for word in found if word.depth == 0 and word.key}


def table_name(found: Sequence[Word], at: int) -> tuple[str, int]:
    """The table named at ``found[at]`` (its last part when qualified: ``db.t`` is ``t``) and
    the index just past it."""
    name, index = found[at].name if at < len(found) else "", at + 1
    while index + 1 < len(found) and found[index].punct == ".":
        name, index = found[index + 1].name, index + 2
    return name, index


def skip(found: Sequence[Word], at: int, *optional: str) -> int:
    """The index past the words of ``optional`` (in any order) that start at ``at``."""
    while at < len(found) and found[at].key in optional:
        at += 1
    return at

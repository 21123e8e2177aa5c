"""Statements of an SQL script: split on the delimiters that end them, transaction control dropped.

The splitter follows the tokens of :mod:`.lexer`, so a ``;`` inside a literal, a comment or a
dollar-quoted body never ends a statement, and tracks ``BEGIN ... END`` bodies of triggers and
procedures. Text with nothing the lexer is needed for (most migration files) is split on ``;``
by a faster path that must give the same statements.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from .lexer import _DELIM, _DIRECTIVE, _PUNCT, _WORD, _Lines, _tokens
from .syntax import SQLSyntax

__all__ = ["Statement", "is_blank", "split_statements"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Statement:
    """One statement, without its trailing delimiter; ``line`` is 1-based in the split text."""

    text: str
    line: int


# A CREATE of one of these may hold a BEGIN ... END body whose inner ';' do not end it.
_BODY_OBJECTS = frozenset({"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"})
_CREATE_MODIFIERS = frozenset(
    {
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "DEFINER",
        "CONSTRAINT",
        "AGGREGATE",
        "ALGORITHM",
        "SQL",
        "SECURITY",
        "INVOKER",
    }
)
# END IF, END LOOP, ... close constructs that were never counted as openers.
_END_SUFFIXES = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR", "CASE"})
_TRANSACTION_CONTROL = frozenset(
    {
        ("BEGIN",),
        ("BEGIN", "TRANSACTION"),
        ("BEGIN", "WORK"),
        ("START", "TRANSACTION"),
        ("COMMIT",),
        ("COMMIT", "TRANSACTION"),
        ("COMMIT", "WORK"),
        ("END",),
        ("END", "TRANSACTION"),
    }
    | {
        ("BEGIN", mode, *rest)
        for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")
        for rest in ((), ("TRANSACTION",))
    }
)


class _Splitter:
    """Collects statements from a token stream, tracking BEGIN ... END bodies."""

    def __init__(self, sql: str, syntax: SQLSyntax) -> None:
        self.sql = sql
        self.count_parens = syntax.parenthesised_semicolons
        self.lines = _Lines(sql)
        self.statements: list[Statement] = []
        self.dropped: list[int] = []
        self._reset()

    def _reset(self) -> None:
        self.first = self.last = -1
        self.words: list[str] = []
        self.only_words = True
        self.compound: bool | None = False  # None: a CREATE whose object type is not seen yet
        self.depth = self.parens = 0
        self.pending_end = False  # an END whose meaning depends on the next word
        self.prev = ""

    def finish(self) -> None:
        if self.first >= 0:
            line = self.lines.at(self.first)
            if self.only_words and tuple(self.words) in _TRANSACTION_CONTROL:
                self.dropped.append(line)
            else:
                self.statements.append(Statement(self.sql[self.first : self.last], line))
        self._reset()

    def feed(self, kind: int, start: int, end: int) -> None:
        if kind == _DIRECTIVE:
            self.finish()
        if kind <= _DIRECTIVE:
            return
        word = self.sql[start:end].upper() if kind == _WORD else ""
        if self.pending_end:
            self.pending_end = False
            if word in _END_SUFFIXES:
                self.depth -= word == "CASE"  # END CASE closes the CASE statement counted
                self.last, self.prev = end, ""
                return
            self.depth -= 1
        if kind == _DELIM and (self.depth == self.parens == 0 or self.sql[start:end] != ";"):
            self.finish()
            return
        if kind == _PUNCT and self.count_parens:
            if self.sql[start] == "(":
                self.parens += 1
            elif self.sql[start] == ")" and self.parens > 0:
                self.parens -= 1
        if self.first < 0:
            self.first = start
            self.compound = None if word == "CREATE" else False
        elif self.compound is None and kind == _WORD and self.prev not in ("=", "@", "."):
            # Words after '=' or '@' are DEFINER=user@host or ALGORITHM=... values.
            if word in _BODY_OBJECTS:
                self.compound = True
            elif word not in _CREATE_MODIFIERS:
                self.compound = False
        if self.compound:
            if word in ("BEGIN", "CASE"):
                self.depth += 1
            elif word == "END" and self.depth > 0:
                self.pending_end = True
        if kind != _WORD:
            self.only_words = False
        elif len(self.words) < 4:
            self.words.append(word)
        self.prev = self.sql[start:end] if kind == _PUNCT else ""
        self.last = end


# Text without comments, dollar quotes, double quotes, backticks, brackets or backslashes, whose
# single-quoted strings are closed: nothing in it can hide a ';' or a separator, so it is split
# without the lexer (most migration files are like this). Strings are masked out first (as
# zeros, keeping offsets), so what they hold counts for nothing.
_NOT_PLAIN = re.compile(r"[-'\"`\[$/#\\]")
_STRING = re.compile(r"'[^'\\]*'")
_BLOCK_WORDS = re.compile(r"\b(?:begin|case|delimiter)\b", re.IGNORECASE)


def _masked(sql: str) -> str | None:
    """``sql`` with each string literal's content blanked out, or None if it is not plain."""
    masked = _STRING.sub(lambda m: "0" * len(m.group()), sql) if "'" in sql else sql
    return None if _NOT_PLAIN.search(masked) or "\\" in sql else masked


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _split_plain(sql: str) -> list[Statement] | None:
    """Split plain text on ';'; None when the text needs the lexer (see ``_NOT_PLAIN``)."""
    masked = _masked(sql)
    if masked is None or _BLOCK_WORDS.search(masked):
        return None
    statements, pos, line = [], 0, 1
    for piece in masked.split(";"):
        code = piece.strip()
        if code:
            if not _balanced(code):
                return None  # psql keeps a ';' inside parentheses (CREATE RULE ... DO (a; b))
            words = code.upper().split()
            if len(words) <= 4 and tuple(words) in _TRANSACTION_CONTROL:
                return None  # dropped with a warning, by the lexer's path
            first = pos + piece.index(code[0])
            line += sql.count("\n", pos, first)
            statements.append(Statement(sql[first : first + len(code)], line))
            line += sql.count("\n", first, pos + len(piece))
        else:
            line += piece.count("\n")
        pos += len(piece) + 1
    return statements


def split_statements(sql: str, syntax: SQLSyntax) -> list[Statement]:
    """Split a script into statements on top-level delimiters.

    Transaction control (``BEGIN;``, ``COMMIT;``, ...) is dropped with a warning: the runner
    opens and commits the transaction itself.
    """
    plain = _split_plain(sql)
    if plain is not None:
        return plain
    splitter = _Splitter(sql, syntax)
    for token in _tokens(sql, syntax):
        splitter.feed(*token)
    splitter.finish()
    if splitter.dropped:
        logger.warning(
            "ignored transaction control statement(s) on line(s) %s: "
            "the migration runner manages the transaction",
            ", ".join(map(str, splitter.dropped)),
        )
    return splitter.statements


def is_blank(sql: str, syntax: SQLSyntax) -> bool:
    """True when the text holds nothing but whitespace and comments."""
    return all(kind <= _DIRECTIVE for kind, _, _ in _tokens(sql, syntax))

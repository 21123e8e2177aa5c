"""An engine's lexical rules for SQL text, as capabilities the lexer and the splitter read.

Each adapter declares its :class:`SQLSyntax` (``DialectAdapter.syntax``); the code that reads
SQL text takes one of these, never an engine's name, so a new engine brings its rules with it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GENERIC", "SQLSyntax"]


# Compared and hashed by identity (each engine's is one constant): the lexer keeps its patterns
# per syntax, and looks them up for every script it reads.
@dataclass(frozen=True, eq=False)
class SQLSyntax:
    """What counts as a string, a quoted identifier, a comment and a statement's end.

    >>> SQLSyntax(hash_comments=True).hash_comments
    True
    """

    #: ``\\`` escapes the next character in ``'...'`` (and ``"..."``) literals (MySQL).
    backslash_escapes: bool = False
    #: ``"..."`` is a string literal, not a quoted identifier (MySQL).
    double_quoted_strings: bool = False
    #: ``E'...'`` literals, where a backslash escapes (PostgreSQL).
    escape_strings: bool = False
    #: ```name``` is a quoted identifier.
    backtick_identifiers: bool = False
    #: ``[name]`` is a quoted identifier (SQLite, after SQL Server).
    bracket_identifiers: bool = False
    #: ``$tag$ ... $tag$`` quotes a body (PostgreSQL's dollar quotes).
    dollar_quotes: bool = False
    #: ``/* /* */ */`` nests: a block comment ends at its own ``*/`` (PostgreSQL).
    nested_block_comments: bool = False
    #: ``#`` starts a line comment (MySQL).
    hash_comments: bool = False
    #: ``--`` starts a comment only before whitespace; ``1--1`` is 1 minus -1 (MySQL).
    dash_comment_needs_space: bool = False
    #: ``/*! ... */`` and ``/*+ ... */`` are executed, so they are code, not comments (MySQL).
    executable_comments: bool = False
    #: The client's ``DELIMITER //`` line changes what ends a statement (the mysql client's).
    delimiter_command: bool = False
    #: A ``;`` inside parentheses does not end the statement, as in psql (CREATE RULE ... DO (a; b)).
    parenthesised_semicolons: bool = False


#: The rules for a script whose engine is not known (a header read without a database):
#: PostgreSQL's, which quote the most, plus backtick identifiers.
GENERIC = SQLSyntax(
    escape_strings=True,
    backtick_identifiers=True,
    dollar_quotes=True,
    nested_block_comments=True,
    parenthesised_semicolons=True,
)

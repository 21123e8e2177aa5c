"""The SQL lexer: one pass, tokens by an engine's :class:`~.syntax.SQLSyntax`.

It knows the string literals, quoted identifiers, comments and dollar-quoted bodies a syntax
has, and jumps over quoted parts with ``str.find`` and anchored regex matches, so the work is
linear in the length of the script. The splitter, the placeholders of ``execute_sql`` and the
header parser of :mod:`uno_migrations.files.sql_script` all read SQL through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import SQLScriptError
from .syntax import SQLSyntax

# Token kinds. The order matters: everything up to _DIRECTIVE is "quiet" (not part of any
# statement), so significance is a single integer comparison in the hot loops.
_SPACE, _COMMENT, _DIRECTIVE, _DELIM, _WORD, _PARAM, _PUNCT, _STRING, _IDENT, _DOLLAR, _HINT = range(11)
_Token = tuple[int, int, int]  # (kind, start, end)

_SPACE_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"[^\W\d][\w$]*")
_NUMBER_RE = re.compile(r"[0-9]\w*")
_DOLLAR_RE = re.compile(r"\$(?:[^\W\d]\w*)?\$|\$[0-9]+")
_DELIMITER_RE = re.compile(r"delimiter[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_COMMENT_EDGE_RE = re.compile(r"/\*|\*/")
_BACKSLASH_QUOTE_RE = {q: re.compile(r"[\\" + q + "]") for q in "'\""}


def _unterminated(text: str, pos: int, what: str) -> SQLScriptError:
    return SQLScriptError(f"unterminated {what} starting on line {text.count(chr(10), 0, pos) + 1}")


def _quoted_end(text: str, pos: int, quote: str, backslash: bool) -> int:
    """Offset just past the literal opening at ``pos``; a doubled quote is an escaped quote."""
    i = pos + 1
    while True:
        if backslash:
            found = _BACKSLASH_QUOTE_RE[quote].search(text, i)
            j = -1 if found is None else found.start()
            if j >= 0 and text[j] == "\\":
                i = j + 2
                continue
        else:
            j = text.find(quote, i)
        if j < 0:
            return -1
        if text.startswith(quote, j + 1):
            i = j + 2
            continue
        return j + 1


def _block_comment_end(text: str, pos: int, nested: bool) -> int:
    if not nested:
        j = text.find("*/", pos + 2)
        return -1 if j < 0 else j + 2
    depth, i = 0, pos
    while (edge := _COMMENT_EDGE_RE.search(text, i)) is not None:
        depth += 1 if edge.group() == "/*" else -1
        i = edge.end()
        if depth == 0:
            return i
    return -1


def _tokens(text: str, syntax: SQLSyntax, pos: int = 0) -> Iterator[_Token]:
    """Yield ``(kind, start, end)`` for every token; raise SQLScriptError on an open quote.

    Lexing starts at ``pos``, which must be 0 or where only whitespace and comments come
    before (see :func:`_comments_end`): the lexer's state there is its state at 0.
    """
    backslash, double_strings = syntax.backslash_escapes, syntax.double_quoted_strings
    escape_strings, dollar_quotes = syntax.escape_strings, syntax.dollar_quotes
    backticks, brackets = syntax.backtick_identifiers, syntax.bracket_identifiers
    hash_comments, dash_space = syntax.hash_comments, syntax.dash_comment_needs_space
    executable, nested = syntax.executable_comments, syntax.nested_block_comments
    delimiters = syntax.delimiter_command
    delimiter, custom, at_start = ";", False, True
    n = len(text)
    while pos < n:
        c = text[pos]
        kind, end = _PUNCT, pos + 1
        if custom and text.startswith(delimiter, pos):
            kind, end = _DELIM, pos + len(delimiter)
        elif c.isspace():
            kind, end = _SPACE, _SPACE_RE.match(text, pos).end()  # type: ignore[union-attr]
        elif c == ";" and not custom:
            kind = _DELIM
        elif c.isalpha() or c == "_":
            directive = _DELIMITER_RE.match(text, pos) if delimiters and at_start else None
            if directive is not None:
                # The mysql client's own command: it changes what ends a statement.
                delimiter = directive.group(1)
                custom = delimiter != ";"
                kind, end = _DIRECTIVE, directive.end()
            else:
                kind, end = _WORD, _WORD_RE.match(text, pos).end()  # type: ignore[union-attr]
                if escape_strings and end == pos + 1 and c in "eE" and text.startswith("'", end):
                    kind, end = _STRING, _quoted_end(text, end, "'", True)
        elif "0" <= c <= "9":
            kind, end = _WORD, _NUMBER_RE.match(text, pos).end()  # type: ignore[union-attr]
        elif c == "'" or (c == '"' and double_strings):
            kind, end = _STRING, _quoted_end(text, pos, c, backslash)
        elif c == '"' or (c == "`" and backticks):
            kind, end = _IDENT, _quoted_end(text, pos, c, False)
        elif c == "[" and brackets:
            j = text.find("]", pos + 1)
            kind, end = _IDENT, -1 if j < 0 else j + 1
        elif c == "-" and text.startswith("-", pos + 1):
            # MySQL only takes "--" as a comment when whitespace follows: "1--1" is 1 - -1.
            if not dash_space or pos + 2 >= n or text[pos + 2].isspace():
                j = text.find("\n", pos)
                kind, end = _COMMENT, n if j < 0 else j
        elif c == "#" and hash_comments:
            j = text.find("\n", pos)
            kind, end = _COMMENT, n if j < 0 else j
        elif c == "/" and text.startswith("*", pos + 1):
            # /*! ... */ and /*+ ... */ are executed by MySQL, so they are not mere comments.
            hint = executable and text.startswith(("!", "+"), pos + 2)
            kind, end = (_HINT if hint else _COMMENT), _block_comment_end(text, pos, nested)
        elif c == "$":
            dollar = _DOLLAR_RE.match(text, pos)
            if dollar is not None and dollar.group()[1:2].isdigit():
                kind, end = _PARAM, dollar.end()
            elif dollar is not None and dollar_quotes:
                j = text.find(dollar.group(), dollar.end())
                kind, end = _DOLLAR, -1 if j < 0 else j + len(dollar.group())
        if kind == _WORD and custom and (cut := text.find(delimiter, pos, end)) > pos:
            end = cut  # the mysql client ends "END$$" at the delimiter, although '$' is a word char
        if end < 0:
            what = {_STRING: "string literal", _IDENT: "quoted identifier", _DOLLAR: "dollar quote"}
            raise _unterminated(text, pos, what.get(kind, "/* comment"))
        if kind >= _DELIM:
            at_start = kind == _DELIM
        elif kind == _DIRECTIVE:
            at_start = True
        yield kind, pos, end
        pos = end


class _Lines:
    """Line numbers of increasing offsets, counted incrementally so the total work stays linear."""

    def __init__(self, text: str) -> None:
        self._text, self._pos, self._line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self._pos:
            return self._text.count("\n", 0, pos) + 1
        self._line += self._text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line


def _comments_pattern(syntax: SQLSyntax) -> re.Pattern[str]:
    """Whitespace and line comments, as the lexer reads them."""
    dash = r"--(?=\s|\Z)[^\n]*" if syntax.dash_comment_needs_space else r"--[^\n]*"
    hash_comment = r"|#[^\n]*" if syntax.hash_comments else ""
    return re.compile(rf"(?:\s+|{dash}{hash_comment})*")


def _comments_end(text: str, syntax: SQLSyntax) -> int:
    """Where the leading whitespace and line comments of ``text`` end: the lexer, started there,
    goes on as if it had read them (most headers are only these, and a regex reads them faster)."""
    return _patterns(syntax)[0].match(text).end()  # type: ignore[union-attr]


def _plain_pattern(syntax: SQLSyntax) -> re.Pattern[str]:
    """Text of ordinary characters, one-line ``'...'`` strings without backslashes, and line
    comments.

    Written as ``normal* (special normal*)*`` with specials that differ in their first
    character, so each position has one reading and a failed match gives up in linear time.
    Anything that could open a longer quoted part (or a DELIMITER command that changes what
    ends a statement) is neither normal nor special.
    """
    openers = '"'
    openers += "`" if syntax.backtick_identifiers else ""
    openers += "[" if syntax.bracket_identifiers else ""
    openers += "$" if syntax.dollar_quotes else ""
    openers += "#" if syntax.hash_comments else ""
    openers += "dD" if syntax.delimiter_command else ""
    normal = "[^'\\-/\\\\" + re.escape(openers) + "]"
    if syntax.dash_comment_needs_space:  # "--" is a comment only before whitespace (see _tokens)
        comment, minus = r"--(?=\s|\Z)[^\n]*(?![^\n])", r"-(?!-(?:\s|\Z))"
    else:
        comment, minus = r"--[^\n]*(?![^\n])", r"-(?!-)"
    if syntax.hash_comments:
        comment += r"|#[^\n]*(?![^\n])"
    word = r"|[dD](?!(?i:elimiter))" if syntax.delimiter_command else ""
    special = rf"'[^'\\\n]*'|{comment}|{minus}|/(?!\*){word}"
    return re.compile(rf"{normal}*(?:(?:{special}){normal}*)*")


_PATTERNS: dict[SQLSyntax, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _patterns(syntax: SQLSyntax) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The comments and plain-text patterns of ``syntax``, compiled once per syntax."""
    found = _PATTERNS.get(syntax)
    if found is None:
        found = _PATTERNS[syntax] = (_comments_pattern(syntax), _plain_pattern(syntax))
    return found


def _plain_lines(text: str, start: int, end: int, syntax: SQLSyntax) -> bool:
    """True when ``text[start:end]``, lexed from outside any quoted part, surely holds nothing
    unterminated and no quoted part that spans lines: then every line of it starts outside
    any. False when only the lexer can tell.

    Such text (see :func:`_plain_pattern`) has no quoted parts but strings and line comments,
    and a regex reads those as the lexer does: whichever of ``'`` and ``--`` comes first opens.
    """
    return _patterns(syntax)[1].fullmatch(text, start, end) is not None


def first_word(text: str, syntax: SQLSyntax) -> str | None:
    r"""The first word of the code of ``text``, lower-cased (None when it starts otherwise).

    >>> from .syntax import GENERIC
    >>> first_word("-- add a table\nCREATE TABLE t (id int)", GENERIC)
    'create'
    """
    for kind, start, end in _tokens(text, syntax):
        if kind > _DIRECTIVE:
            return text[start:end].lower() if kind == _WORD else None
    return None

"""SQL scripts: the header and up/down sections of a file, and their statements.

Everything here rests on one hand-written lexer (:func:`_tokens`) that knows each dialect's
string literals, quoted identifiers, comments and dollar-quoted bodies. Splitting on ``;``,
finding the up/down separators and finding ``$1``/``:name`` placeholders (``sql_params.py``)
all ask it what is code and what is quoted, so a ``;`` or ``-- DOWN`` inside a literal never
counts. It walks the text once, jumping over quoted parts with ``str.find`` and anchored regex
matches, so the work is linear in the length of the script.

:func:`parse_script` is the only reader of headers and sections; discovery runs it on every
file, so it skips the lexer where a regex is sure to find the same: in a header of only line
comments, and in plain text after the first statement (see ``sql_lexer._plain_lines``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ..errors import SQLScriptError
from .lexer import (
    _COMMENT,
    _DELIM,
    _DIRECTIVE,
    _GENERIC,
    _PUNCT,
    _WORD,
    _comments_end,
    _dialect,
    _Lines,
    _plain_lines,
    _tokens,
)

__all__ = [
    "Dialect",
    "SQLHeader",
    "SQLScript",
    "Statement",
    "is_blank",
    "parse_script",
    "split_statements",
]

logger = logging.getLogger(__name__)

Dialect = str  # "postgresql" | "mysql" | "sqlite"


@dataclass(frozen=True)
class Statement:
    """One statement, without its trailing delimiter; ``line`` is 1-based in the split text."""

    text: str
    line: int


@dataclass(frozen=True)
class SQLHeader:
    """The ``-- Key: value`` directives at the top of a script."""

    title: str | None = None
    description: str | None = None
    dependencies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    transactional: bool = True


@dataclass(frozen=True)
class SQLScript:
    """A parsed script; ``down`` is None when the script has no down section (irreversible)."""

    header: SQLHeader
    up: str
    down: str | None
    up_line: int
    down_line: int | None


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

    def __init__(self, sql: str, dialect: str) -> None:
        self.sql = sql
        # Like psql, a ';' inside parentheses (CREATE RULE ... DO (a; b)) does not end anything.
        self.count_parens = dialect == "postgresql"
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


def split_statements(sql: str, dialect: Dialect) -> list[Statement]:
    """Split a script into statements on top-level delimiters.

    Transaction control (``BEGIN;``, ``COMMIT;``, ...) is dropped with a warning: the runner
    opens and commits the transaction itself.
    """
    dialect = _dialect(dialect)
    plain = _split_plain(sql)
    if plain is not None:
        return plain
    splitter = _Splitter(sql, dialect)
    for token in _tokens(sql, dialect):
        splitter.feed(*token)
    splitter.finish()
    if splitter.dropped:
        logger.warning(
            "ignored transaction control statement(s) on line(s) %s: "
            "the migration runner manages the transaction",
            ", ".join(map(str, splitter.dropped)),
        )
    return splitter.statements


def is_blank(sql: str, dialect: Dialect) -> bool:
    """True when the text holds nothing but whitespace and comments."""
    return all(kind <= _DIRECTIVE for kind, _, _ in _tokens(sql, _dialect(dialect)))


_DIRECTIVE_KEYS = ("migration", "description", "dependencies", "tags", "transactional")
_BANNER_RE = re.compile(r"=+\s*(up|down)\s+migration\s*=+", re.IGNORECASE)
_DBMATE_RE = re.compile(r"migrate:(up|down)(?:\s+(.*))?", re.IGNORECASE)
# A comment that may be a separator (more are than separators): one of the three styles. It
# begins with a literal "--", which the regex engine finds fast.
_SEPARATOR_LIKE_RE = re.compile(r"--[^\S\n]*(?:down|=|migrate:)", re.IGNORECASE)
_BOOLEANS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def _flag(value: str, line: int, what: str) -> bool:
    try:
        return _BOOLEANS[value.strip().lower()]
    except KeyError:
        message = f"line {line}: invalid {what} value {value.strip()!r}; use true or false"
        raise SQLScriptError(message) from None


def _separator(comment: str, line: int) -> tuple[str, bool] | None:
    """``(direction, transactional)`` when the comment is an up/down separator."""
    body = comment[2:].strip()
    if body.lower() == "down":
        return "down", True
    banner = _BANNER_RE.fullmatch(body)
    if banner is not None:
        return banner.group(1).lower(), True
    dbmate = _DBMATE_RE.fullmatch(body)
    if dbmate is None:
        return None
    transactional = True
    for option in (dbmate.group(2) or "").split():
        key, _, value = option.partition(":")
        if key.lower() != "transaction":
            raise SQLScriptError(f"line {line}: unknown option {option!r} on the migrate marker")
        transactional = transactional and _flag(value, line, "transaction")
    return dbmate.group(1).lower(), transactional


@dataclass
class _Marker:
    direction: str
    line: int
    start: int  # offset of the start of the marker line
    after: int  # offset just past the marker line
    transactional: bool


# A line comment, read as a directive (key and value in groups 1 and 2), as a possible
# separator (group 3), or as neither; on MySQL "#" comments too, which are neither.
_COMMENT_PARTS = (
    r"--[^\S\n]*(?:(" + "|".join(_DIRECTIVE_KEYS) + r")[^\S\n]*:([^\n]*)|((?:down|=|migrate:)[^\n]*)|[^\n]*)"
)
_COMMENT_RE = {
    "mysql": re.compile(_COMMENT_PARTS + r"|#[^\n]*", re.IGNORECASE),
    "other": re.compile(_COMMENT_PARTS, re.IGNORECASE),
}


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


class _Layout:
    """What :func:`parse_script` finds: header directives, separators, the first statement.

    Directives are kept as ``(offset, value)``; their lines are counted only for an error.
    """

    def __init__(self, text: str, dialect: str) -> None:
        self.text = text
        self.dialect = dialect
        self.lines = _Lines(text)
        self.directives: dict[str, list[tuple[int, str]]] = {}
        self.markers: list[_Marker] = []
        self.first_statement = -1
        self.downs = 0

    def head(self, end: int) -> None:
        """The comments of ``text[:end]``, which holds only whitespace and line comments: each
        starts its line, so each may be a separator."""
        pattern = _COMMENT_RE["mysql" if self.dialect == "mysql" else "other"]
        directives = self.directives
        for found in pattern.finditer(self.text, 0, end):
            key, value, separator = found.groups()
            if key is not None and not self.downs:
                directives.setdefault(key.lower(), []).append((found.start(), value.strip()))
            elif separator is not None:
                self._comment(found, True)
                if self.downs > 1:
                    return  # an error whatever follows

    def comment(self, start: int, end: int) -> None:
        """A comment token of the lexer."""
        text = self.text
        if text.startswith("--", start):
            line_start = text.rfind("\n", 0, start) + 1
            alone = not text[line_start:start].strip()
            self._comment(_COMMENT_RE["other"].match(text, start, end), alone)  # type: ignore[arg-type]

    def _comment(self, found: re.Match[str], alone: bool) -> None:
        if found.group(3) is not None:
            if alone:  # a separator is alone on its line
                start, end = found.span()
                line = self.lines.at(start)
                separator = _separator(found.group(), line)
                if separator is not None:
                    self.mark(separator, line, self.text.rfind("\n", 0, start) + 1, end)
        elif found.group(1) is not None and self.first_statement < 0 and not self.downs:
            # Directives stop at the first statement, and at the down separator when none came.
            key = found.group(1).lower()
            self.directives.setdefault(key, []).append((found.start(), found.group(2).strip()))

    def mark(self, found: tuple[str, bool], line: int, line_start: int, end: int) -> None:
        after = min(end + 1, len(self.text))
        self.markers.append(_Marker(found[0], line, line_start, after, found[1]))
        self.downs += found[0] == "down"

    def plain_markers(self) -> bool:
        """Find the separators after the first statement without the lexer, if that is sure.

        If the rest of the text is plain (see :func:`_plain_lines`), every line of it starts
        outside any quoted part, so every line that looks like a separator is one. False, with
        nothing recorded, when only the lexer can tell.
        """
        text, dialect = self.text, self.dialect
        if not _plain_lines(text, self.first_statement, len(text), dialect):
            return False
        lines = _Lines(text)  # its own: on an error, the lexer counts from the first statement
        for candidate in _SEPARATOR_LIKE_RE.finditer(text, self.first_statement):
            start = candidate.start()
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip():
                continue  # not alone on its line
            if dialect == "mysql" and text[start + 2 : start + 3].strip():
                continue  # MySQL reads "--x" as two minus signs, not as a comment
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            line = lines.at(start)
            separator = _separator(text[start:end], line)
            if separator is not None:
                self.mark(separator, line, line_start, end)
                if self.downs > 1:
                    break  # an error whatever follows
        return True


def _scan(text: str, dialect: str) -> _Layout:
    """Read the header part of ``text`` (up to its first statement) with the lexer, or a regex
    where it holds only line comments; the rest only as far as needed."""
    layout = _Layout(text, dialect)
    head = _comments_end(text, dialect)
    layout.head(head)
    if layout.downs > 1:
        return layout  # an error whatever follows
    tokens = _tokens(text, dialect, head)
    delimiter = False
    if head < len(text) and text[head].isalpha() and (dialect != "mysql" or text[head] not in "dD"):
        layout.first_statement = head  # a word: the lexer would find a statement here
    else:
        for kind, start, end in tokens:
            if kind > _DIRECTIVE:
                layout.first_statement = start
                break
            if kind == _COMMENT:
                layout.comment(start, end)
                if layout.downs > 1:
                    return layout
            elif kind == _DIRECTIVE:
                delimiter = True  # the mysql client's DELIMITER: the rest needs the lexer
        else:
            return layout
    if delimiter or not layout.plain_markers():
        for kind, start, end in tokens:
            if kind == _COMMENT:
                layout.comment(start, end)
                if layout.downs > 1:
                    break
    return layout


def _words(values: list[tuple[int, str]] | None) -> tuple[str, ...]:
    """The ids or tags of one or more directives (commas or whitespace between), each once."""
    if not values:
        return ()
    text = values[0][1] if len(values) == 1 else " ".join(value for _, value in values)
    return tuple(dict.fromkeys(text.replace(",", " ").split()))


def _header(text: str, directives: dict[str, list[tuple[int, str]]], transactional: bool) -> SQLHeader:
    get = directives.get
    titles = get("migration") or ()
    if len(titles) > 1:
        where = f"lines {_line_of(text, titles[0][0])} and {_line_of(text, titles[1][0])}"
        raise SQLScriptError(f"two -- Migration: directives ({where})")
    descriptions = " ".join(value for _, value in get("description") or () if value)
    for offset, value in get("transactional") or ():
        transactional = _flag(value, _line_of(text, offset), "Transactional") and transactional
    return SQLHeader(
        title=(titles[0][1] or None) if titles else None,
        description=descriptions or None,
        dependencies=_words(get("dependencies")),
        tags=_words(get("tags")),
        transactional=transactional,
    )


def parse_script(text: str, dialect: Dialect | None = None) -> SQLScript:
    """Split a script file into its header directives and its up and down sections.

    The one reader of SQL headers: discovery (planning, ``status``, ``info``) and the loader
    both call it, so they cannot disagree. It lexes the header part, up to the first
    statement; the rest only where a separator or an unterminated literal could hide in it.

    ``dialect`` picks the quoting rules used to tell a separator from text inside a literal;
    without it PostgreSQL's rules apply (plus backtick identifiers). Pass it for MySQL scripts
    that use backslash escapes or ``#`` comments.
    """
    text = text.replace("\r\n", "\n").removeprefix("\ufeff")
    if "--" not in text and _masked(text) is not None:  # no comments: no header, no separators
        plain = text if text.strip() else ""
        return SQLScript(header=_header("", {}, True), up=plain, down=None, up_line=1, down_line=None)
    layout = _scan(text, _dialect(dialect) if dialect else _GENERIC)
    markers, first_statement = layout.markers, layout.first_statement
    up = down = None
    transactional = True
    if markers:
        ups = [m for m in markers if m.direction == "up"]
        downs = [m for m in markers if m.direction == "down"]
        for found, name in ((downs, "down"), (ups, "up")):
            if len(found) > 1:
                where = f"lines {found[0].line} and {found[1].line}"
                raise SQLScriptError(f"two {name} separators ({where})")
        up = ups[0] if ups else None
        down = downs[0] if downs else None
        transactional = all(m.transactional for m in markers)
    if up is not None and down is not None and up.line > down.line:
        raise SQLScriptError(
            f"up separator on line {up.line} comes after the down separator on line {down.line}"
        )
    if up is not None and 0 <= first_statement < up.start:
        raise SQLScriptError(
            f"line {_line_of(text, first_statement)}: SQL before the up separator on line {up.line} "
            "would never run; move it below the separator"
        )
    up_text = text[up.after if up else 0 : down.start if down else len(text)]
    down_text = None if down is None else text[down.after :]
    if down_text is not None and (not down_text or down_text.isspace()):
        down_text = ""  # reversible, with nothing to run
    return SQLScript(
        header=_header(text, layout.directives, transactional),
        up="" if up_text.isspace() else up_text,
        down=down_text,
        up_line=up.line + 1 if up else 1,
        down_line=down.line + 1 if down else None,
    )

"""SQL migration files: the header directives and the up/down sections of a script.

:func:`parse_script` is the only reader of headers and sections. It asks the lexer of
:mod:`uno_migrations.sql.lexer` what is code and what is quoted, so a ``-- DOWN`` inside a
literal never counts, with the rules of the engine named (its adapter's syntax). Discovery runs
it on every file, so it skips the lexer where a regex is sure to find the same: in a header of
only line comments, and in plain text after the first statement (see ``lexer._plain_lines``).
Splitting the sections into statements is :mod:`uno_migrations.sql.splitter`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..dialects import syntax_of
from ..errors import SQLScriptError
from ..sql.lexer import _COMMENT, _DIRECTIVE, _comments_end, _Lines, _plain_lines, _tokens
from ..sql.splitter import _masked
from ..sql.syntax import SQLSyntax
from .migration import PRE_DEPLOY, Phase, parse_lock_timeout, parse_phase

__all__ = ["SQLHeader", "SQLScript", "parse_script"]

T = TypeVar("T")


@dataclass(frozen=True)
class SQLHeader:
    """The ``-- Key: value`` directives at the top of a script."""

    title: str | None = None
    description: str | None = None
    dependencies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    transactional: bool = True
    phase: Phase = PRE_DEPLOY
    lock_timeout: float | None = None


#: The header of a script without one (frozen: every such script shares it).
_NO_HEADER = SQLHeader()


@dataclass(frozen=True)
class SQLScript:
    """A parsed script; ``down`` is None when the script has no down section (irreversible)."""

    header: SQLHeader
    up: str
    down: str | None
    up_line: int
    down_line: int | None


_DIRECTIVE_KEYS = (
    "migration",
    "description",
    "dependencies",
    "tags",
    "transactional",
    "phase",
    "lock-timeout",
)
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
# separator (group 3), or as neither; "#" comments too where the syntax has them, which are neither.
_COMMENT_PARTS = (
    r"--[^\S\n]*(?:(" + "|".join(_DIRECTIVE_KEYS) + r")[^\S\n]*:([^\n]*)|((?:down|=|migrate:)[^\n]*)|[^\n]*)"
)
_DASH_COMMENT_RE = re.compile(_COMMENT_PARTS, re.IGNORECASE)
_HASH_COMMENT_RE = re.compile(_COMMENT_PARTS + r"|#[^\n]*", re.IGNORECASE)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


class _Layout:
    """What :func:`parse_script` finds: header directives, separators, the first statement.

    Directives are kept as ``(offset, value)``; their lines are counted only for an error.
    """

    def __init__(self, text: str, syntax: SQLSyntax) -> None:
        self.text = text
        self.syntax = syntax
        self.lines = _Lines(text)
        self.directives: dict[str, list[tuple[int, str]]] = {}
        self.markers: list[_Marker] = []
        self.first_statement = -1
        self.downs = 0

    def head(self, end: int) -> None:
        """The comments of ``text[:end]``, which holds only whitespace and line comments: each
        starts its line, so each may be a separator."""
        pattern = _HASH_COMMENT_RE if self.syntax.hash_comments else _DASH_COMMENT_RE
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
            self._comment(_DASH_COMMENT_RE.match(text, start, end), alone)  # type: ignore[arg-type]

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
        text, syntax = self.text, self.syntax
        if not _plain_lines(text, self.first_statement, len(text), syntax):
            return False
        lines = _Lines(text)  # its own: on an error, the lexer counts from the first statement
        for candidate in _SEPARATOR_LIKE_RE.finditer(text, self.first_statement):
            start = candidate.start()
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip():
                continue  # not alone on its line
            if syntax.dash_comment_needs_space and text[start + 2 : start + 3].strip():
                continue  # "--x" is two minus signs there, not a comment
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            line = lines.at(start)
            separator = _separator(text[start:end], line)
            if separator is not None:
                self.mark(separator, line, line_start, end)
                if self.downs > 1:
                    break  # an error whatever follows
        return True


def _scan(text: str, syntax: SQLSyntax) -> _Layout:
    """Read the header part of ``text`` (up to its first statement) with the lexer, or a regex
    where it holds only line comments; the rest only as far as needed."""
    layout = _Layout(text, syntax)
    head = _comments_end(text, syntax)
    layout.head(head)
    if layout.downs > 1:
        return layout  # an error whatever follows
    tokens = _tokens(text, syntax, head)
    delimiter = False
    if head < len(text) and text[head].isalpha() and (not syntax.delimiter_command or text[head] not in "dD"):
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
                delimiter = True  # a DELIMITER command: the rest needs the lexer
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


def _single(text: str, found: list[tuple[int, str]] | None, name: str) -> tuple[int, str] | None:
    """The one directive ``name`` of a header, if any; two are an error naming their lines."""
    if not found:
        return None
    if len(found) > 1:
        where = f"lines {_line_of(text, found[0][0])} and {_line_of(text, found[1][0])}"
        raise SQLScriptError(f"two -- {name}: directives ({where})")
    return found[0]


def _checked(text: str, found: tuple[int, str], parse: Callable[[str], T]) -> T:
    """A directive's value through ``parse``, whose ValueError becomes an error with the line."""
    offset, value = found
    try:
        return parse(value)
    except ValueError as exc:
        raise SQLScriptError(f"line {_line_of(text, offset)}: {exc}") from None


def _header(text: str, directives: dict[str, list[tuple[int, str]]], transactional: bool) -> SQLHeader:
    get = directives.get
    title = _single(text, get("migration"), "Migration")
    phase = _single(text, get("phase"), "Phase")
    lock_timeout = _single(text, get("lock-timeout"), "Lock-timeout")
    descriptions = " ".join(value for _, value in get("description") or () if value)
    for offset, value in get("transactional") or ():
        transactional = _flag(value, _line_of(text, offset), "Transactional") and transactional
    return SQLHeader(
        title=(title[1] or None) if title else None,
        description=descriptions or None,
        dependencies=_words(get("dependencies")),
        tags=_words(get("tags")),
        transactional=transactional,
        phase=PRE_DEPLOY if phase is None else _checked(text, phase, parse_phase),
        lock_timeout=None if lock_timeout is None else _checked(text, lock_timeout, parse_lock_timeout),
    )


def parse_script(text: str, dialect: str | None = None) -> SQLScript:
    """Split a script file into its header directives and its up and down sections.

    The one reader of SQL headers: discovery (planning, ``status``, ``info``) and the loader
    both call it, so they cannot disagree. It lexes the header part, up to the first
    statement; the rest only where a separator or an unterminated literal could hide in it.

    ``dialect`` (an engine's name) picks the quoting rules used to tell a separator from text
    inside a literal; without it PostgreSQL's rules apply (plus backtick identifiers, see
    :data:`~uno_migrations.sql.syntax.GENERIC`). Pass it for MySQL scripts that use backslash
    escapes or ``#`` comments.
    """
    text = text.replace("\r\n", "\n").removeprefix("\ufeff")
    if "--" not in text and _masked(text) is not None:  # no comments: no header, no separators
        plain = text if text.strip() else ""
        return SQLScript(header=_NO_HEADER, up=plain, down=None, up_line=1, down_line=None)
    layout = _scan(text, syntax_of(dialect))
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

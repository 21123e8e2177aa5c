"""A migration as the linter reads it: its statements, where they are, and its allow comments.

An SQL file is read as the runner reads it: its header and up section by
:func:`~uno_migrations.files.sql_script.parse_script`, the section split into statements by the
project's splitter, with the engine's lexical rules. The down section is not linted: it runs on
a rollback, by hand, when something went wrong, and undoing an expand step (dropping the column
just added) is what it is for. The transaction control the splitter drops (``BEGIN;``,
``COMMIT;``: the runner owns the transaction) is kept, marked ``dropped``, so that a rule can say
it does nothing.

A Python migration's statements are those it sent on a scratch database; each is looked for in
the file's source (its first line, or the longest start of it) for a line to show.
"""

from __future__ import annotations

import bisect
import io
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..dialects import syntax_of
from ..errors import InvalidMigrationError, SQLScriptError
from ..files.sql_script import parse_script
from ..sql.lexer import _COMMENT, _DELIM, _DIRECTIVE, _tokens
from ..sql.splitter import _Splitter
from ..sql.syntax import SQLSyntax
from .suppression import Allow, parse_allow

Span = tuple[int, int]


@dataclass(frozen=True)
class LintStatement:
    """One statement: its text, 1-based ``line`` and ``column`` in its file (None when unknown),
    and whether the runner drops it (``dropped``: transaction control)."""

    text: str
    line: int | None
    column: int | None
    dropped: bool = False

    @property
    def first_line(self) -> str:
        return self.text.strip().split("\n", 1)[0].strip()


@dataclass
class MigrationText:
    """What the linter reads of one migration file: ``path``, the ``engine`` its statements are
    for, whether it runs in a transaction, its statements in order and its allow comments, each
    with the indexes of the statements it is for."""

    path: str
    engine: str
    transactional: bool
    statements: list[LintStatement] = field(default_factory=list)
    allows: list[tuple[Allow, tuple[int, ...]]] = field(default_factory=list)


def read_text(path: str) -> str:
    """A migration file's text; a file that cannot be read is :class:`InvalidMigrationError`."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except UnicodeDecodeError as exc:
        raise InvalidMigrationError(path, f"not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidMigrationError(path, f"cannot read file: {exc.strerror or exc}") from exc


class _Positions:
    """Offsets in a section to (line, column) in its file, the section starting at ``first_line``."""

    def __init__(self, text: str, first_line: int) -> None:
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.first_line = first_line

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.first_line + index, offset - self.starts[index] + 1


def _split(section: str, syntax: SQLSyntax, path: str) -> list[Span]:
    """Where the statements the runner sends are in ``section``."""
    splitter = _Splitter(section, syntax)
    try:
        for token in _tokens(section, syntax):
            splitter.feed(*token)
    except SQLScriptError as exc:
        raise InvalidMigrationError(path, str(exc)) from exc
    splitter.finish()
    starts = [0] + [i + 1 for i, c in enumerate(section) if c == "\n"]
    spans = []
    for statement in splitter.statements:  # each text is a slice of the section, on its line
        start = section.find(statement.text, starts[statement.line - 1])
        spans.append((start, start + len(statement.text)))
    return spans


def _outside(section: str, syntax: SQLSyntax, spans: Sequence[Span]) -> tuple[list[Span], list[Span]]:
    """The statements the splitter dropped (the code outside ``spans``) and the comments."""
    dropped: list[Span] = []
    comments: list[Span] = []
    current: list[int] = []
    inside = iter(spans)
    span = next(inside, None)
    for kind, start, end in _tokens(section, syntax):
        while span is not None and span[1] <= start:
            span = next(inside, None)
        within = span is not None and span[0] <= start < span[1]
        if kind == _COMMENT:
            comments.append((start, end))
        if within or kind == _DELIM or kind == _DIRECTIVE:
            if current:
                dropped.append((current[0], current[1]))
            current = []
        elif kind > _DIRECTIVE:
            current = [current[0] if current else start, end]
    if current:
        dropped.append((current[0], current[1]))
    return dropped, comments


def _target(section: str, position: int, spans: Sequence[Span]) -> tuple[int, ...]:
    """The statement an allow comment at ``position`` is for: the one it is inside, the one that
    ends before it on its line, else the next one."""
    for index, (start, end) in enumerate(spans):
        if start <= position < end or (end <= position and "\n" not in section[end:position]):
            return (index,)
    following = [index for index, (start, _) in enumerate(spans) if start > position]
    return (following[0],) if following else ()


def read_sql(path: str, engine: str) -> MigrationText:
    """An SQL migration file, its up section read with ``engine``'s rules."""
    try:
        script = parse_script(read_text(path), engine)
    except SQLScriptError as exc:
        raise InvalidMigrationError(path, str(exc)) from exc
    syntax, section = syntax_of(engine), script.up
    sent = _split(section, syntax, path)
    dropped, comments = _outside(section, syntax, sent)
    spans = sorted([(span, False) for span in sent] + [(span, True) for span in dropped])
    positions = _Positions(section, script.up_line)
    migration = MigrationText(path, engine, script.header.transactional)
    for (start, end), is_dropped in spans:
        migration.statements.append(
            LintStatement(section[start:end], *positions.at(start), dropped=is_dropped)
        )
    ordered = [span for span, _ in spans]
    for start, end in comments:
        allow = parse_allow(section[start:end], path, *positions.at(start))
        if allow is not None:
            migration.allows.append((allow, _target(section, start, ordered)))
    return migration


def _locate(source: str, statement: str) -> tuple[int | None, int | None]:
    """Where ``statement`` (as sent) is in a Python file: its first line, or the longest start
    of it of two words or more (values written in where the source has placeholders)."""
    words = statement.strip().split("\n", 1)[0].split()
    for count in range(len(words), 1, -1):
        found = source.find(" ".join(words[:count]))
        if found >= 0:
            line_start = source.rfind("\n", 0, found) + 1
            return source.count("\n", 0, found) + 1, found - line_start + 1
    return None, None


def _python_comments(source: str) -> Iterator[tuple[str, int, int]]:
    """The comments of a Python file: text, line, column."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.string, token.start[0], token.start[1] + 1


def read_sent(path: str, engine: str, transactional: bool, sent: Sequence[str]) -> MigrationText:
    """A Python migration file, as the statements it ``sent`` on a scratch database."""
    source = read_text(path)
    migration = MigrationText(path, engine, transactional)
    for sql in sent:
        migration.statements.append(LintStatement(sql.strip(), *_locate(source, sql)))
    lines = [statement.line for statement in migration.statements]
    for text, line, column in _python_comments(source):
        allow = parse_allow(text, path, line, column)
        if allow is not None:  # for the statements found on the nearest line from here on
            nearest = min((found for found in lines if found is not None and found >= line), default=None)
            targets = tuple(i for i, found in enumerate(lines) if nearest is not None and found == nearest)
            migration.allows.append((allow, targets))
    syntax = syntax_of(engine)
    for index, statement in enumerate(migration.statements):  # allow comments inside the SQL
        for kind, start, end in _tokens(statement.text, syntax):
            allow = (
                parse_allow(statement.text[start:end], path, statement.line, None)
                if kind == _COMMENT
                else None
            )
            if allow is not None:
                migration.allows.append((allow, (index,)))
    return migration

"""Allow comments: ``-- uno:allow RULE because REASON`` accepts a finding of one statement.

The comment goes on the line(s) before the statement, at the end of its last line, or inside
it; in a Python migration, ``# uno:allow ...`` before the line that holds the statement's SQL
works too. Several rules are separated by commas. Without ``because`` and a reason it
accepts nothing and is a finding itself (``allow-without-reason``); one that accepts nothing
is ``unused-allow``; a rule nobody knows stops the lint (bad input, not a finding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidMigrationError
from .rules import RULES

_ALLOW = re.compile(r"uno:allow\b(?P<body>.*)", re.IGNORECASE)
_BECAUSE = re.compile(r"\s*\bbecause\b\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Allow:
    """One allow comment: the ``rules`` it names, its ``reason`` (None when it gives none), and
    where it is (1-based ``line`` and ``column``; None where unknown)."""

    rules: tuple[str, ...]
    reason: str | None
    text: str
    line: int | None
    column: int | None


def parse_allow(comment: str, path: str, line: int | None, column: int | None) -> Allow | None:
    """The allow comment ``comment`` (a comment's text, markers included) is, or None when it is
    another comment. An unknown rule raises :class:`InvalidMigrationError`."""
    found = _ALLOW.search(comment)
    if found is None:
        return None
    body = found.group("body").strip().removesuffix("*/")
    names, reason = (*_BECAUSE.split(body, maxsplit=1), "")[:2]
    rules = tuple(name for name in re.split(r"[\s,]+", names) if name)
    where = f"line {line}: " if line is not None else ""
    if not rules:
        raise InvalidMigrationError(path, f"{where}uno:allow names no rule (uno:allow RULE because REASON)")
    unknown = [name for name in rules if name not in RULES]
    if unknown:
        raise InvalidMigrationError(
            path,
            f"{where}uno:allow names the unknown rule {unknown[0]!r}; write uno:allow RULE because "
            f"REASON, with a rule of {', '.join(RULES)}",
        )
    return Allow(rules, reason.strip() or None, " ".join(comment.split()), line, column)

"""What the linter finds: a :class:`Finding` per rule broken, and the :class:`LintReport` of a run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .rules import RULES, Level


@dataclass(frozen=True)
class Finding:
    """One rule broken by one statement: where (``path``, 1-based ``line`` and ``column``, None
    where unknown: a statement a Python migration sent that is not in its source), the
    statement's first line, what is wrong and the safe way. ``suppressed``: an allow comment,
    with its ``reason``, accepted it.

    >>> Finding("truncate", "m/1_a.sql", 1, 1, "TRUNCATE t", "empties t").level
    'error'
    """

    rule: str
    path: str
    line: int | None
    column: int | None
    statement: str
    message: str
    suppressed: bool = False
    reason: str | None = None

    @property
    def level(self) -> Level:
        return RULES[self.rule].level

    @property
    def instead(self) -> str:
        return RULES[self.rule].instead

    def accepted(self, reason: str) -> Finding:
        """The same finding, suppressed by an allow comment giving ``reason``."""
        return replace(self, suppressed=True, reason=reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "statement": self.statement,
            "message": self.message,
            "instead": self.instead,
            "suppressed": self.suppressed,
            "reason": self.reason,
        }


@dataclass
class LintReport:
    """The findings of a run over ``files`` migration files, suppressed ones included, in file
    order then line order."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0

    @property
    def shown(self) -> list[Finding]:
        """The findings no allow comment suppressed."""
        return [finding for finding in self.findings if not finding.suppressed]

    @property
    def suppressed(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.suppressed]

    def count(self, level: Level) -> int:
        """How many findings of ``level`` are not suppressed."""
        return sum(finding.level == level for finding in self.shown)

    @property
    def errors(self) -> list[Finding]:
        """The error-level findings not suppressed: any makes ``lint`` exit 1."""
        return [finding for finding in self.shown if finding.level == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "counts": {
                "error": self.count("error"),
                "warning": self.count("warning"),
                "info": self.count("info"),
                "suppressed": len(self.suppressed),
            },
            "findings": [finding.as_dict() for finding in self.findings],
        }

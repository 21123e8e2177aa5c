"""The linter: each migration's statements through its engine's rules, and its allow comments.

Migrations are linted in plan order, one engine's after another's, with what each made known to
the next (:class:`~.engines.PlanFacts`). A table or index a migration creates is new for the rest
of that migration only: the one that created it may already have run in production, with the
table filling up since.
"""

from __future__ import annotations

from .engines import Facts, PlanFacts, StatementRules, rules_for
from .findings import Finding, LintReport
from .messages import dropped_transaction
from .statements import LintStatement, MigrationText


class Linter:
    """Lints migrations one after the other into :attr:`report`."""

    def __init__(self) -> None:
        self.report = LintReport()
        self._plans: dict[str, PlanFacts] = {}
        self._rules: dict[str, StatementRules] = {}

    def note(self, path: str, message: str) -> None:
        """A file whose statements are not known: an ``info`` finding, no error."""
        self.report.files += 1
        self.report.findings.append(Finding("not-linted", path, None, None, "", message))

    def failed(self, path: str, statement: str | None, message: str) -> None:
        """A migration that failed on the scratch database."""
        self.report.findings.append(
            Finding("fails-on-scratch", path, None, None, _first_line(statement or ""), message)
        )

    def lint(self, migration: MigrationText) -> None:
        """Lint ``migration``'s statements, then apply its allow comments."""
        engine = migration.engine
        if engine not in self._rules:
            self._rules[engine] = rules_for(engine)
        rules = self._rules[engine]
        facts = Facts(migration.transactional, self._plans.setdefault(engine, PlanFacts()))
        found = [
            self._statement(migration.path, statement, rules, facts) for statement in migration.statements
        ]
        extra: list[Finding] = []
        for allow, targets in migration.allows:
            where = (migration.path, allow.line, allow.column, allow.text)
            if allow.reason is None:
                extra.append(Finding("allow-without-reason", *where, "uno:allow without 'because REASON'"))
                continue
            used = False
            for index in targets:
                for position, finding in enumerate(found[index]):
                    if finding.rule in allow.rules and not finding.suppressed:
                        found[index][position] = finding.accepted(allow.reason)
                        used = True
            if not used:
                named = ", ".join(allow.rules)
                extra.append(Finding("unused-allow", *where, f"no finding of {named} for it to accept here"))
        findings = [finding for statement in found for finding in statement] + extra
        self.report.findings += sorted(findings, key=lambda f: (f.line or 0, f.column or 0))
        self.report.files += 1

    def _statement(
        self, path: str, statement: LintStatement, rules: StatementRules, facts: Facts
    ) -> list[Finding]:
        if statement.dropped:
            hits = [dropped_transaction(statement.first_line)]
        else:
            hits = rules.check(statement.text, facts)
        return [
            Finding(hit.rule, path, statement.line, statement.column, statement.first_line, hit.message)
            for hit in hits
        ]


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()

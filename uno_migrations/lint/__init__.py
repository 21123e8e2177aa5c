"""``uno-migrations lint``: the changes that lock a live database or break the release running.

Named rules (:mod:`.rules`), each documented in docs/safety.md with why it is dangerous, where,
and the safe way; read per engine by the reader its adapter has (:mod:`.engines`): PostgreSQL's
own parser through pglast, InnoDB's online DDL rules for MySQL and MariaDB, the portable rules
elsewhere. :func:`lint_paths` lints files without a database; :func:`lint_plan` what ``migrate``
would apply, Python migrations run on a scratch database. ``-- uno:allow RULE because REASON``
accepts a finding (:mod:`.suppression`); :mod:`.formats` writes a report as text, JSON, SARIF or
GitHub annotations.
"""

from __future__ import annotations

from .findings import Finding, LintReport
from .plan import lint_paths, lint_plan
from .rules import RULES, Rule

__all__ = ["RULES", "Finding", "LintReport", "Rule", "lint_paths", "lint_plan"]

"""squawk and ``uno-migrations lint`` side by side, on the corpus of tests/lint/corpus.

``corpus/postgresql/dangerous`` and ``corpus/postgresql/safe`` are two plans of PostgreSQL
migrations (each file says, in its ``-- expect:`` line, the rules uno finds in it);
``corpus/mysql/`` the same for MySQL and MariaDB, which squawk does not read. squawk (squawk-cli
from PyPI) runs on each PostgreSQL file as a migration tool wrapping it in a transaction
(``--assume-in-transaction``) unless the file runs outside one (``-- Transactional: false``), as
uno runs it. Each squawk rule is either a danger with the uno rules that catch it
(:data:`SQUAWK_DANGERS`) or not a danger of the change (:data:`NOT_DANGERS`, with why).

Run it to print the tables of docs/safety.md ("Lint: compared with squawk")::

    python tests/lint/squawk_side_by_side.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from uno_migrations.lint import lint_paths

CORPUS = Path(__file__).parent / "corpus"
SQUAWK = str(Path(sys.executable).with_name("squawk"))

#: Each squawk rule that is a danger of the change, and the uno rules that catch it.
SQUAWK_DANGERS = {
    "require-concurrent-index-creation": {"index-not-concurrent"},
    "require-concurrent-index-deletion": {"index-not-concurrent"},
    "require-concurrent-reindex": {"index-not-concurrent"},
    "ban-concurrent-index-creation-in-transaction": {"concurrently-in-transaction"},
    "constraint-missing-not-valid": {"constraint-not-valid", "unique-constraint"},
    "adding-foreign-key-constraint": {"constraint-not-valid"},
    "adding-not-nullable-field": {"set-not-null"},
    "changing-column-type": {"column-type-rewrite"},
    "adding-field-with-default": {"add-column-rewrite"},
    "adding-required-field": {"required-column"},
    "disallowed-unique-constraint": {"unique-constraint"},
    "adding-serial-primary-key-field": {"unique-constraint"},
    "renaming-column": {"rename-table-or-column"},
    "renaming-table": {"rename-table-or-column"},
    "ban-drop-column": {"drop-table-or-column"},
    "ban-drop-table": {"drop-table-or-column"},
    "transaction-nesting": {"transaction-control"},
    "ban-truncate-cascade": {"truncate"},
    "syntax-error": {"syntax-error"},
}
#: The squawk rules that flag no danger of the change itself, and why uno has no rule for them.
NOT_DANGERS = {
    "require-lock-timeout": "uno's runner bounds every migration's lock waits itself",
    "require-statement-timeout": "uno's runner bounds every migration's lock waits itself",
    "prefer-robust-stmts": "re-running a migration that failed half-way: uno rolls a transactional one "
    "back whole, and records where one outside a transaction stopped",
    "prefer-text-field": "advice for a later change (a longer varchar); that change itself is no "
    "rewrite, and column-type-rewrite knows it",
    "prefer-identity": "a style of schema (identity rather than serial); adding a serial column to a "
    "table is a rewrite, which add-column-rewrite finds",
    "ban-drop-constraint": "dropping a constraint relaxes a rule: nothing waits, and nothing the "
    "running release does fails",
}


@dataclass(frozen=True)
class Row:
    """One corpus file: what squawk and uno found in it."""

    path: Path
    dangerous: bool
    squawk: frozenset[str]
    uno: frozenset[str]
    expected: tuple[str, ...]

    @property
    def squawk_dangers(self) -> frozenset[str]:
        return frozenset(rule for rule in self.squawk if rule in SQUAWK_DANGERS)

    @property
    def missed(self) -> frozenset[str]:
        """The dangers squawk flags here that uno does not."""
        return frozenset(rule for rule in self.squawk_dangers if not SQUAWK_DANGERS[rule] & self.uno)


def squawk_version() -> str:
    done = subprocess.run([SQUAWK, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[-1]


def expected(path: Path) -> tuple[str, ...]:
    """The rules a corpus file's ``-- expect:`` line names, sorted."""
    found = re.search(r"^-- expect:(.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert found is not None, f"{path} has no -- expect: line"
    return tuple(sorted(found.group(1).split()))


def _squawk(files: Iterable[Path], in_transaction: bool) -> dict[Path, set[str]]:
    files = list(files)
    if not files:
        return {}
    flag = ["--assume-in-transaction"] if in_transaction else []
    done = subprocess.run(
        [SQUAWK, "--reporter", "json", *flag, *map(str, files)], capture_output=True, text=True, check=False
    )
    assert done.returncode in (0, 1), done.stderr  # 1: it found something
    found: dict[Path, set[str]] = {path: set() for path in files}
    for violation in json.loads(done.stdout or "[]"):
        found[Path(violation["file"])].add(violation["rule_name"])
    return found


def run_squawk(files: list[Path]) -> dict[Path, set[str]]:
    """squawk's rules per file, each run as uno runs it: in a transaction unless it says not."""
    outside = [path for path in files if "-- Transactional: false" in path.read_text(encoding="utf-8")]
    inside = [path for path in files if path not in outside]
    return {**_squawk(inside, True), **_squawk(outside, False)}


def compare(engine: str = "postgresql") -> list[Row]:
    """Every corpus file of ``engine``, dangerous ones first: what squawk (PostgreSQL only) and
    uno find in it."""
    rows = []
    for kind in ("dangerous", "safe"):
        directory = CORPUS / engine / kind
        files = sorted(directory.glob("*.sql"))
        squawk = run_squawk(files) if engine == "postgresql" else {}
        uno: dict[Path, set[str]] = {path: set() for path in files}
        for finding in lint_paths([directory], engine=engine).shown:
            uno[Path(finding.path)].add(finding.rule)
        for path in files:
            rows.append(
                Row(
                    path,
                    kind == "dangerous",
                    frozenset(squawk.get(path, ())),
                    frozenset(uno[path]),
                    expected(path),
                )
            )
    return rows


def _rules(rules: Iterable[str]) -> str:
    return ", ".join(f"`{rule}`" for rule in sorted(rules)) or "-"


def tables(rows: list[Row], mysql: list[Row]) -> str:
    """The comparison tables of docs/safety.md, as Markdown."""
    lines = [
        f"| PostgreSQL corpus file | squawk {squawk_version()}: dangers it flags | uno-migrations lint |",
        "|---|---|---|",
    ]
    for row in rows:
        kind = "dangerous" if row.dangerous else "safe"
        lines.append(f"| {kind}/{row.path.name} | {_rules(row.squawk_dangers)} | {_rules(row.uno)} |")
    seen: dict[str, int] = {}
    for row in rows:
        for rule in row.squawk - row.squawk_dangers:
            seen[rule] = seen.get(rule, 0) + 1
    lines += ["", "| squawk rule, not a danger of the change | files it flags | why uno has no rule for it |"]
    lines.append("|---|---|---|")
    for rule in sorted(seen):
        lines.append(f"| `{rule}` | {seen[rule]} | {NOT_DANGERS[rule]} |")
    lines += ["", "| MySQL / MariaDB corpus file | uno-migrations lint |", "|---|---|"]
    for row in mysql:
        kind = "dangerous" if row.dangerous else "safe"
        lines.append(f"| {kind}/{row.path.name} | {_rules(row.uno)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables(compare("postgresql"), compare("mysql")))

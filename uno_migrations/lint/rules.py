"""The lint rules: each one's name, level, what it catches and the safe way instead.

A rule is data; the code that finds its cases is the engine's reader (:mod:`.engines`). Why each
change is dangerous, on which engines and versions, is in docs/safety.md, a section per rule,
under the rule's name. ``error`` makes ``uno-migrations lint`` exit 1 and ``migrate --lint``
refuse the migration; ``warning`` is shown and lets it through; ``info`` says what was not
linted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (what an allow comment names), ``level``, ``summary`` (what it catches,
    one line) and ``instead`` (the safe way, one line, shown with each finding).

    >>> RULES["truncate"].level
    'error'
    """

    id: str
    level: Level
    summary: str
    instead: str


_NO_TRANSACTION = "in a migration that runs outside a transaction (-- Transactional: false)"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "index-not-concurrent",
            "error",
            "An index created, dropped or rebuilt without CONCURRENTLY on an existing table.",
            "CREATE INDEX CONCURRENTLY (DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY), "
            f"{_NO_TRANSACTION}.",
        ),
        Rule(
            "concurrently-in-transaction",
            "error",
            "CONCURRENTLY in a migration that runs in a transaction: PostgreSQL refuses it.",
            f"Put the statement {_NO_TRANSACTION}, alone or with other statements that need no transaction.",
        ),
        Rule(
            "constraint-not-valid",
            "error",
            "A foreign key or check constraint added without NOT VALID, or validated in the "
            "transaction that added it.",
            "ADD CONSTRAINT ... NOT VALID in one migration, ALTER TABLE ... VALIDATE CONSTRAINT in a "
            "later one.",
        ),
        Rule(
            "set-not-null",
            "error",
            "SET NOT NULL on a column without a validated CHECK (column IS NOT NULL) first.",
            "ADD CONSTRAINT c CHECK (column IS NOT NULL) NOT VALID; in a later migration VALIDATE "
            "CONSTRAINT c, then SET NOT NULL (it reads the constraint, not the table) and DROP CONSTRAINT c.",
        ),
        Rule(
            "column-type-rewrite",
            "error",
            "A column type change that rewrites the table under an ACCESS EXCLUSIVE lock.",
            "Add a column of the new type, fill it in batches, switch the code to it, then drop the old one.",
        ),
        Rule(
            "add-column-rewrite",
            "error",
            "ADD COLUMN with a volatile default, or a serial, identity or stored generated column: "
            "every row is written.",
            "Add the column without a default (or with a constant one), fill it in batches, then set "
            "the default for new rows.",
        ),
        Rule(
            "required-column",
            "error",
            "ADD COLUMN ... NOT NULL without a default on an existing table.",
            "Add it with a constant DEFAULT, or nullable, filled in batches, then made NOT NULL "
            "(see set-not-null).",
        ),
        Rule(
            "unique-constraint",
            "error",
            "A UNIQUE or PRIMARY KEY constraint added directly, which builds its index under an "
            "ACCESS EXCLUSIVE lock.",
            "CREATE UNIQUE INDEX CONCURRENTLY i ... (a migration outside a transaction), then ADD "
            "CONSTRAINT c UNIQUE USING INDEX i (or PRIMARY KEY USING INDEX i).",
        ),
        Rule(
            "rename-table-or-column",
            "error",
            "A table or column renamed: the release still running reads the old name.",
            "Expand and contract: add the new column (or table, or a view under the new name), "
            "write both, move the reads, then drop the old one in a later release.",
        ),
        Rule(
            "drop-table-or-column",
            "warning",
            "A table or column dropped: the release still running may read it.",
            "Drop it in a release after the one that stopped using it (a post-deploy migration), and "
            "say so: -- uno:allow drop-table-or-column because ...",
        ),
        Rule(
            "transaction-control",
            "error",
            "BEGIN, COMMIT, ROLLBACK or END in a migration: the runner owns the transaction.",
            "Remove it; for statements that must run outside a transaction, use -- Transactional: false "
            "(or transactional = False), and split the migration in two where it needs two transactions.",
        ),
        Rule(
            "truncate",
            "error",
            "TRUNCATE of an existing table: every row goes, under an ACCESS EXCLUSIVE lock.",
            "DELETE in batches with a WHERE clause that says which rows; if the table really is to be "
            "emptied, say so: -- uno:allow truncate because ...",
        ),
        Rule(
            "delete-without-where",
            "error",
            "DELETE without WHERE on an existing table: every row goes, in one transaction.",
            "Say which rows with WHERE, and delete in batches (WHERE id IN (SELECT ... LIMIT 1000)).",
        ),
        Rule(
            "update-without-where",
            "warning",
            "UPDATE without WHERE on an existing table: every row is locked until the migration commits.",
            "Update in batches (WHERE id BETWEEN ...), in a migration outside a transaction or in a "
            "data migration that commits each batch.",
        ),
        Rule(
            "table-copy",
            "error",
            "An ALTER TABLE that copies the table (ALGORITHM=COPY), blocking writes, where "
            "INSTANT or INPLACE would not.",
            "State ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE so the server refuses to copy; "
            "for a change only a copy can make, use an online schema change tool (gh-ost, "
            "pt-online-schema-change).",
        ),
        Rule(
            "lock-not-none",
            "warning",
            "An ALTER TABLE or CREATE/DROP INDEX that can run online without LOCK=NONE (or "
            "ALGORITHM=INSTANT): the server may take a lock instead.",
            "Add ALGORITHM=INPLACE, LOCK=NONE (or ALGORITHM=INSTANT where it applies): the statement "
            "then fails rather than block writes.",
        ),
        Rule(
            "syntax-error",
            "error",
            "A statement PostgreSQL's parser rejects: the migration would fail.",
            "Fix the statement; the message is PostgreSQL's own.",
        ),
        Rule(
            "fails-on-scratch",
            "error",
            "A migration that failed when run on the scratch database (--scratch-url).",
            "Fix the migration; the message is the database's own.",
        ),
        Rule(
            "allow-without-reason",
            "warning",
            "An uno:allow comment without 'because' and a reason: it suppresses nothing.",
            "-- uno:allow RULE because REASON",
        ),
        Rule(
            "unused-allow",
            "warning",
            "An uno:allow comment for a rule its statement does not break.",
            "Remove the comment, or move it onto the line before the statement it is for.",
        ),
        Rule(
            "observed-locks",
            "info",
            "The table locks a statement took when it ran on the scratch database (--observe).",
            "Nothing to change: this is what the engine did; a lock that blocks writes on a busy table "
            "is what the rules above are about.",
        ),
        Rule(
            "observed-rewrite",
            "warning",
            "A statement that rewrote (or copied) a table that existed before its migration, seen "
            "on the scratch database (--observe).",
            "Change the table without a rewrite (see column-type-rewrite, add-column-rewrite, "
            "table-copy), or run it when the table may be locked for as long as a copy takes.",
        ),
        Rule(
            "observed-rebuild",
            "info",
            "A statement that rebuilt an index, or rewrote a table its own migration made (--observe).",
            "Nothing to change for a new table; REINDEX ... CONCURRENTLY for an index in use.",
        ),
        Rule(
            "not-observed",
            "info",
            "What --observe could not see: a table it could not fill with rows, locks the server "
            "does not show.",
            "Fill the table by hand on a copy of the database, or enable the server's lock view.",
        ),
        Rule(
            "not-linted",
            "info",
            "A migration whose statements are not known without running it (Python, Alembic).",
            "Give --scratch-url: the plan runs on a scratch database and what each migration sends "
            "is linted.",
        ),
    )
}

"""Every lint rule, a case that breaks it and the safe way that does not, through the library.

Each case is a migrations directory: a first migration that makes the schema (its tables are new
there, so nothing in it is a finding), then the migration of the case, linted for its engine.
The rules that need a scratch database (``not-linted``, ``fails-on-scratch``) are in
test_lint_scratch.py; the corpus compared with squawk (test_lint_squawk.py) has more cases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import only

from uno_migrations.lint import RULES, lint_paths

PG_SCHEMA = """
CREATE TABLE accounts (id bigint PRIMARY KEY, email text, name varchar(20), total numeric(10, 2));
CREATE INDEX accounts_name ON accounts (name);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_not_null CHECK (email IS NOT NULL) NOT VALID;
CREATE TABLE audit (id bigint, account_id bigint);
"""
MYSQL_SCHEMA = """
CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(100), name VARCHAR(20), total DECIMAL(10, 2));
CREATE TABLE audit (id BIGINT, account_id BIGINT);
"""
PORTABLE_SCHEMA = """
CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(100), name VARCHAR(20));
CREATE TABLE audit (id BIGINT, account_id BIGINT);
"""
NO_TRANSACTION = "-- Transactional: false\n"

#: PostgreSQL's rules: (rule, the case that breaks it, the safe way).
POSTGRESQL = [
    (
        "index-not-concurrent",
        "CREATE INDEX accounts_email ON accounts (email);",
        NO_TRANSACTION + "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);",
    ),
    (
        "index-not-concurrent",
        "DROP INDEX accounts_name;",
        NO_TRANSACTION + "DROP INDEX CONCURRENTLY accounts_name;",
    ),
    (
        "index-not-concurrent",
        "REINDEX TABLE accounts;",
        NO_TRANSACTION + "REINDEX TABLE CONCURRENTLY accounts;",
    ),
    (
        "concurrently-in-transaction",
        "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);",
        NO_TRANSACTION + "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);",
    ),
    (
        "constraint-not-valid",
        "ALTER TABLE audit ADD CONSTRAINT audit_account FOREIGN KEY (account_id) REFERENCES accounts (id);",
        "ALTER TABLE audit ADD CONSTRAINT audit_account FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;",
    ),
    (
        "constraint-not-valid",
        "ALTER TABLE accounts ADD CONSTRAINT total_positive CHECK (total > 0);",
        "ALTER TABLE accounts ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;",
    ),
    (
        "constraint-not-valid",
        "ALTER TABLE accounts ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;\n"
        "ALTER TABLE accounts VALIDATE CONSTRAINT total_positive;",
        "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null;",
    ),
    (
        "set-not-null",
        "ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;",
        "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null;\n"
        "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;",
    ),
    (
        "column-type-rewrite",
        "ALTER TABLE accounts ALTER COLUMN name TYPE integer USING 0;",
        "ALTER TABLE accounts ALTER COLUMN name TYPE varchar(40);",
    ),
    (
        "column-type-rewrite",
        "ALTER TABLE accounts ALTER COLUMN total TYPE numeric(12, 4);",
        "ALTER TABLE accounts ALTER COLUMN total TYPE numeric(12, 2);",
    ),
    (
        "add-column-rewrite",
        "ALTER TABLE accounts ADD COLUMN seen timestamptz DEFAULT clock_timestamp();",
        "ALTER TABLE accounts ADD COLUMN seen timestamptz DEFAULT now();",
    ),
    (
        "add-column-rewrite",
        "ALTER TABLE audit ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;",
        "ALTER TABLE audit ADD COLUMN seq bigint;",
    ),
    (
        "required-column",
        "ALTER TABLE accounts ADD COLUMN country text NOT NULL;",
        "ALTER TABLE accounts ADD COLUMN country text NOT NULL DEFAULT 'NL';",
    ),
    (
        "unique-constraint",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;",
    ),
    (
        "unique-constraint",
        "ALTER TABLE audit ADD PRIMARY KEY (id);",
        "ALTER TABLE audit ADD CONSTRAINT audit_pkey PRIMARY KEY USING INDEX audit_id_key;",
    ),
    (
        "transaction-control",
        "UPDATE accounts SET name = 'x' WHERE id = 1;\nROLLBACK;",
        "SAVEPOINT before_update;\nUPDATE accounts SET name = 'x' WHERE id = 1;\nRELEASE SAVEPOINT before_update;",
    ),
    (
        "syntax-error",
        "CREATE INDX accounts_email ON accounts (email);",
        NO_TRANSACTION + "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);",
    ),
]
#: MySQL's and MariaDB's own rules.
MYSQL = [
    (
        "table-copy",
        "ALTER TABLE accounts MODIFY total BIGINT;",
        "ALTER TABLE accounts MODIFY total BIGINT, ALGORITHM=INPLACE;",
    ),
    (
        "table-copy",
        "ALTER TABLE audit ADD CONSTRAINT audit_account FOREIGN KEY (account_id) REFERENCES accounts (id);",
        "ALTER TABLE audit ADD INDEX audit_account (account_id), ALGORITHM=INPLACE, LOCK=NONE;",
    ),
    (
        "table-copy",
        "ALTER TABLE accounts ADD COLUMN country VARCHAR(2), ALGORITHM=COPY;",
        "ALTER TABLE accounts ADD COLUMN country VARCHAR(2), ALGORITHM=INSTANT;",
    ),
    (
        "lock-not-none",
        "ALTER TABLE accounts ADD INDEX accounts_email (email);",
        "ALTER TABLE accounts ADD INDEX accounts_email (email), ALGORITHM=INPLACE, LOCK=NONE;",
    ),
    (
        "lock-not-none",
        "CREATE INDEX accounts_email ON accounts (email);",
        "CREATE INDEX accounts_email ON accounts (email) ALGORITHM=INPLACE LOCK=NONE;",
    ),
    (
        "lock-not-none",
        "ALTER TABLE accounts MODIFY email VARCHAR(100) NOT NULL;",
        "ALTER ONLINE TABLE accounts MODIFY email VARCHAR(100) NOT NULL;",
    ),
]
#: The rules every engine has, in each engine's SQL (the same on all three).
PORTABLE = [
    (
        "rename-table-or-column",
        "ALTER TABLE accounts RENAME COLUMN name TO full_name;",
        "CREATE TABLE imports (id BIGINT, source VARCHAR(20));\nALTER TABLE imports RENAME COLUMN source TO origin;",
    ),
    (
        "rename-table-or-column",
        "ALTER TABLE audit RENAME TO account_audit;",
        "CREATE TABLE imports (id BIGINT);\nALTER TABLE imports RENAME TO import_runs;",
    ),
    (
        "drop-table-or-column",
        "ALTER TABLE accounts DROP COLUMN name;",
        "CREATE TABLE imports (id BIGINT, source VARCHAR(20));\nALTER TABLE imports DROP COLUMN source;",
    ),
    ("drop-table-or-column", "DROP TABLE audit;", "CREATE TABLE imports (id BIGINT);\nDROP TABLE imports;"),
    (
        "transaction-control",
        "BEGIN;\nUPDATE accounts SET name = 'x' WHERE id = 1;\nCOMMIT;",
        "UPDATE accounts SET name = 'x' WHERE id = 1;",
    ),
    ("delete-without-where", "DELETE FROM audit;", "DELETE FROM audit WHERE account_id IS NULL;"),
    (
        "update-without-where",
        "UPDATE accounts SET name = 'x';",
        "UPDATE accounts SET name = 'x' WHERE name IS NULL;",
    ),
]
#: TRUNCATE, which SQLite does not have.
TRUNCATE = [
    ("truncate", "TRUNCATE TABLE audit;", "CREATE TABLE imports (id BIGINT);\nTRUNCATE TABLE imports;")
]
#: The allow comments' own rules, on any engine.
ALLOWS = [
    (
        "allow-without-reason",
        "-- uno:allow update-without-where\nUPDATE accounts SET name = 'x';",
        "-- uno:allow update-without-where because accounts has ten rows\nUPDATE accounts SET name = 'x';",
    ),
    (
        "unused-allow",
        "-- uno:allow update-without-where because it is small\nUPDATE accounts SET name = 'x' WHERE id = 1;",
        "-- uno:allow update-without-where because it is small\nUPDATE accounts SET name = 'x';",
    ),
]
SCHEMAS = {"postgresql": PG_SCHEMA, "mysql": MYSQL_SCHEMA, "sqlite": PORTABLE_SCHEMA}
Lint = Callable[[str, str], list[str]]


@pytest.fixture
def lint_case(make_migrations: Callable[..., Path]) -> Lint:
    """The rules the second migration breaks (suppressed findings left out), on ``engine``."""

    def lint(engine: str, sql: str) -> list[str]:
        directory = make_migrations({"1000_schema.sql": SCHEMAS[engine], "1001_case.sql": sql})
        report = lint_paths([directory], engine=engine)
        assert not [f for f in report.findings if f.path.endswith("1000_schema.sql")]
        return sorted(f.rule for f in report.shown)

    return lint


def _ids(cases: list[tuple[str, str, str]]) -> list[str]:
    return [f"{rule}-{index}" for index, (rule, _, _) in enumerate(cases)]


@only("postgresql")
@pytest.mark.parametrize("rule,bad,good", POSTGRESQL, ids=_ids(POSTGRESQL))
def test_postgresql_rules(engine_name: str, lint_case: Lint, rule: str, bad: str, good: str) -> None:
    assert rule in lint_case(engine_name, bad)
    assert lint_case(engine_name, good) == []


@only("mysql")
@pytest.mark.parametrize("rule,bad,good", MYSQL, ids=_ids(MYSQL))
def test_mysql_rules(engine_name: str, lint_case: Lint, rule: str, bad: str, good: str) -> None:
    assert lint_case(engine_name, bad) == [rule]
    assert lint_case(engine_name, good) == []


@pytest.mark.parametrize("rule,bad,good", PORTABLE + ALLOWS, ids=_ids(PORTABLE + ALLOWS))
def test_rules_of_every_engine(engine_name: str, lint_case: Lint, rule: str, bad: str, good: str) -> None:
    assert rule in lint_case(engine_name, bad)
    assert lint_case(engine_name, good) == []


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
def test_truncate(engine_name: str, lint_case: Lint) -> None:
    [(rule, bad, good)] = TRUNCATE
    assert lint_case(engine_name, bad) == [rule]
    assert lint_case(engine_name, good) == []


def test_every_rule_has_cases() -> None:
    cases = POSTGRESQL + MYSQL + PORTABLE + TRUNCATE + ALLOWS
    on_scratch = {"not-linted", "fails-on-scratch", "observed-locks", "observed-rewrite", "observed-rebuild", "not-observed"}  # test_lint_scratch.py, test_lint_observe.py
    assert {rule for rule, _, _ in cases} | on_scratch == set(RULES)


@pytest.mark.parametrize(
    "sql",
    [
        "-- uno:allow truncate because audit is emptied every night\nTRUNCATE TABLE audit;",
        "TRUNCATE TABLE audit;  -- uno:allow truncate because audit is emptied every night",
        "TRUNCATE TABLE\n  -- uno:allow truncate because audit is emptied every night\n  audit;",
        "/* uno:allow truncate because audit is emptied every night */\nTRUNCATE TABLE audit;",
        "-- uno:allow update-without-where, truncate because audit is emptied every night\nTRUNCATE TABLE audit;",
    ],
    ids=["line-before", "end-of-line", "inside", "block-comment", "two-rules"],
)
@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
def test_an_allow_comment_accepts_its_statements_finding(
    engine_name: str, make_migrations: Callable[..., Path], sql: str
) -> None:
    directory = make_migrations({"1000_schema.sql": SCHEMAS[engine_name], "1001_case.sql": sql})
    [finding] = lint_paths([directory], engine=engine_name).findings
    assert (finding.rule, finding.suppressed, finding.reason) == (
        "truncate",
        True,
        "audit is emptied every night",
    )


def test_an_allow_comment_is_for_one_statement(make_migrations: Callable[..., Path]) -> None:
    sql = "-- uno:allow truncate because it is emptied every night\nTRUNCATE TABLE audit;\nTRUNCATE TABLE accounts;\n"
    directory = make_migrations({"1000_schema.sql": PG_SCHEMA, "1001_case.sql": sql})
    report = lint_paths([directory], engine="postgresql")
    assert [(f.line, f.suppressed) for f in report.findings] == [(2, True), (3, False)]
    assert len(report.errors) == 1 and len(report.suppressed) == 1

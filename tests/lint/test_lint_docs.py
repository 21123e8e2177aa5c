"""docs/safety.md, "Lint": a section for every rule, at its level, and what the page says of the
MySQL example written the safe way."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpers import TestDatabase, only

from uno_migrations import Migrator
from uno_migrations.lint import RULES, lint_paths

PAGE = Path(__file__).resolve().parents[2] / "docs" / "safety.md"


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text[text.index("## Lint: uno-migrations lint") :]


def test_every_rule_has_a_section_that_gives_its_level() -> None:
    sections = dict(re.findall(r"^#### `([a-z-]+)`\n\n(\w+)", _section(), re.MULTILINE))
    assert sections == {rule.id: rule.level for rule in RULES.values()}


def test_the_lint_section_is_the_last_of_the_page() -> None:
    assert not re.search(r"^## ", _section()[3:], re.MULTILINE)


@only("mysql")
async def test_the_mysql_example_written_the_safe_way_runs_in_place(
    db: TestDatabase, make_migrations: Callable[..., Path]
) -> None:
    directory = make_migrations(
        {
            "1720000000_create_accounts.sql": "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL);",
            "1720000100_index_emails.sql": """
                ALTER TABLE accounts ADD INDEX accounts_email (email), ALGORITHM=INPLACE, LOCK=NONE;
                ALTER TABLE accounts MODIFY email VARCHAR(320) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
            """,
        }
    )
    assert lint_paths([directory], engine="mysql").findings == []
    await Migrator(db.url, directory).migrate()
    assert "varchar(320)" in str(await db.fetch("SHOW CREATE TABLE accounts"))

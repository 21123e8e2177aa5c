"""The corpus of dangerous and safe migrations, linted by uno and by squawk side by side.

On PostgreSQL, every danger squawk flags, uno flags, and uno raises no alarm on the safe files;
on MySQL and MariaDB, which squawk does not read, uno finds what each file says. The safe files
run on the real servers, and the changes ``table-copy`` says only a copy makes are refused in
place by MariaDB. docs/safety.md quotes the tables :mod:`squawk_side_by_side` prints.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import TestDatabase, only
from squawk_side_by_side import CORPUS, NOT_DANGERS, SQUAWK_DANGERS, Row, compare, expected, tables

from uno_migrations import Migrator
from uno_migrations.lint import lint_paths

DOCS = Path(__file__).resolve().parents[2] / "docs" / "safety.md"


@pytest.fixture(scope="module")
def postgresql_rows() -> list[Row]:
    return compare("postgresql")


def test_uno_flags_every_danger_squawk_flags(postgresql_rows: list[Row]) -> None:
    dangerous = [row for row in postgresql_rows if row.dangerous]
    assert sum(bool(row.squawk_dangers) for row in dangerous) >= 18
    assert {row.path.name: sorted(row.missed) for row in dangerous if row.missed} == {}


def test_uno_raises_no_alarm_on_the_safe_migrations(postgresql_rows: list[Row]) -> None:
    safe = [row for row in postgresql_rows if not row.dangerous]
    assert {row.path.name: sorted(row.uno) for row in safe if row.uno} == {}
    assert any(row.squawk_dangers for row in safe)  # squawk's false alarms, which the tables show


def test_every_squawk_rule_seen_is_a_danger_or_said_why_not(postgresql_rows: list[Row]) -> None:
    seen = {rule for row in postgresql_rows for rule in row.squawk}
    assert seen - SQUAWK_DANGERS.keys() - NOT_DANGERS.keys() == set()


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
@pytest.mark.parametrize("kind", ["dangerous", "safe"])
def test_each_corpus_file_has_the_findings_it_expects(engine: str, kind: str) -> None:
    directory = CORPUS / engine / kind
    found = Counter((Path(f.path).name, f.rule) for f in lint_paths([directory], engine=engine).shown)
    for path in sorted(directory.glob("*.sql")):
        rules = sorted(
            rule for (name, rule), count in found.items() if name == path.name for _ in range(count)
        )
        assert tuple(rules) == expected(path), path.name


def test_the_docs_quote_the_comparison(postgresql_rows: list[Row]) -> None:
    assert tables(postgresql_rows, compare("mysql")) in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
async def test_the_safe_migrations_run(db: TestDatabase) -> None:
    directory = CORPUS / db.dialect / "safe"
    report = await Migrator(db.url, directory).migrate()
    assert len(report.runs) == len(list(directory.glob("*.sql")))
    assert "imports" in await db.tables()


@only("mysql")
async def test_what_table_copy_says_only_a_copy_does_is_refused_in_place(db: TestDatabase) -> None:
    dangerous = CORPUS / "mysql" / "dangerous"
    await Migrator(db.url, dangerous).migrate(target="1000_schema")
    for name in ("1005_modify_type", "1007_foreign_key", "1008_convert_charset", "1009_drop_primary_key"):
        statement = (
            (dangerous / f"{name}.sql").read_text(encoding="utf-8").split("\n", 1)[1].strip().rstrip(";")
        )
        with pytest.raises(Exception, match="ALGORITHM=INPLACE is not supported"):
            await db.execute(f"{statement}, ALGORITHM=INPLACE")
    online = (
        (dangerous / "1001_add_index.sql").read_text(encoding="utf-8").split("\n", 1)[1].strip().rstrip(";")
    )
    await db.execute(f"{online}, ALGORITHM=INPLACE, LOCK=NONE")
    fulltext = (dangerous / "1004_fulltext_index.sql").read_text(encoding="utf-8").split("\n", 1)[1].strip()
    with pytest.raises(Exception, match="LOCK=NONE is not supported"):
        await db.execute(fulltext.replace("LOCK=SHARED", "LOCK=NONE").rstrip(";"))

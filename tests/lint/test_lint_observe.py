"""``lint --scratch-url URL --observe``: each statement run on a scratch database with rows in its
tables, and what the engine did reported: the table locks it took (PostgreSQL's pg_locks, read
from a second connection) and the tables it rewrote (a new relfilenode, a new InnoDB table)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Cli, only, server_url

CREATE_ITEMS = """
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        name VARCHAR(40) NOT NULL,
        price INTEGER NOT NULL,
        made DATE
    );
    CREATE INDEX items_price ON items (price);
"""


def _url(engine_name: str) -> str:
    return server_url(engine_name) if engine_name != "sqlite" else "sqlite://"


async def _observe(cli: Cli, engine_name: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = await cli.run("lint", "--json", "--scratch-url", _url(engine_name), "--observe", *args)
    return result.exit_code, json.loads(result.stdout)["findings"]


def _observed(findings: list[dict[str, Any]], name: str) -> list[tuple[str, int | None, str]]:
    """The observed findings of the file ``name``: rule, line, message."""
    return [
        (f["rule"], f["line"], f["message"])
        for f in findings
        if Path(f["path"]).name == name and f["rule"].startswith(("observed-", "not-observed"))
    ]


@only("postgresql")
async def test_a_type_change_rewrites_the_table(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_price_bigint.sql": "-- prices grow\nALTER TABLE items ALTER COLUMN price TYPE bigint;\n",
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 1  # column-type-rewrite is an error
    assert _observed(findings, "1001_price_bigint.sql") == [
        ("observed-locks", 2, "took ACCESS EXCLUSIVE and SHARE on items"),
        (
            "observed-rewrite",
            2,
            "rewrote items (its relfilenode changed), which existed before this migration; "
            "rebuilt the indexes items_pkey, items_price",
        ),
    ]
    rewrite = next(f for f in findings if f["rule"] == "observed-rewrite")
    assert (rewrite["level"], rewrite["statement"]) == (
        "warning",
        "ALTER TABLE items ALTER COLUMN price TYPE bigint",
    )


@only("postgresql")
async def test_adding_a_column_without_default_rewrites_nothing(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_add_note.sql": "ALTER TABLE items ADD COLUMN note text;\n",
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 0
    assert _observed(findings, "1001_add_note.sql") == [
        ("observed-locks", 1, "took ACCESS EXCLUSIVE on items"),
    ]


@only("postgresql")
async def test_an_index_built_concurrently_does_not_lock_writes_out(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_index_names.sql": "-- Transactional: false\nCREATE INDEX CONCURRENTLY items_name ON items (name);\n",
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 0
    [(rule, line, message)] = _observed(findings, "1001_index_names.sql")
    assert (rule, line) == ("observed-locks", 2)
    # sampled while it ran: at most SHARE UPDATE EXCLUSIVE, which lets writes through
    assert message in (
        "took SHARE UPDATE EXCLUSIVE on items",
        "took no table lock its session did not hold already",
    )


@only("postgresql")
async def test_a_python_migration_is_observed_at_each_statement_it_sends(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_rename.py": """
                async def up(context):
                    await context.execute_sql("ALTER TABLE items ALTER COLUMN name TYPE varchar(80)")
                    await context.execute_sql("UPDATE items SET name = upper(name) WHERE id = 1")
            """,
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 0
    assert _observed(findings, "1001_rename.py") == [
        ("observed-locks", 2, "took ACCESS EXCLUSIVE on items"),  # a longer varchar: no rewrite
        ("observed-locks", 3, "took ROW EXCLUSIVE on items"),
    ]


@only("mysql")
async def test_mysql_a_copied_table_is_a_rewrite_and_an_instant_column_is_not(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_price_bigint.sql": "ALTER TABLE items MODIFY price BIGINT NOT NULL;\n",
            "1002_add_note.sql": "ALTER TABLE items ADD COLUMN note TEXT, ALGORITHM=INSTANT;\n",
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 1  # table-copy
    locks = _observed(findings, "1000_create_items.sql")[0]
    assert locks[0] == "not-observed" and locks[2].startswith("locks not observed: ")
    assert _observed(findings, "1001_price_bigint.sql") == [
        (
            "observed-rewrite",
            1,
            "rewrote items (its InnoDB table id changed), which existed before this migration",
        ),
    ]
    assert _observed(findings, "1002_add_note.sql") == []


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql", "sqlite"], indirect=True)
async def test_statements_meet_tables_with_rows(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    """The plan's own scratch run has empty tables; the observed one has a few rows in each, so
    a statement that fails on rows fails there."""
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_first_item.sql": "INSERT INTO items (id, name, price) VALUES (1, 'pen', 2);\n",
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 1
    [failure] = [f for f in findings if f["rule"] == "fails-on-scratch"]
    assert Path(failure["path"]).name == "1001_first_item.sql"
    assert failure["message"].startswith("failed on the scratch database, with rows in its tables: ")
    if engine_name == "sqlite":  # neither locks nor storage ids to read
        assert [f["message"].split(":")[0] for f in findings if f["rule"] == "not-observed"] == [
            "locks not observed",
            "rewrites not observed",
        ]


@only("postgresql")
async def test_observed_findings_go_through_every_format(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_price_bigint.sql": "ALTER TABLE items ALTER COLUMN price TYPE bigint;\n",
        },
        name="migrations",
    )
    url = server_url(engine_name)
    sarif = await cli.run("lint", "--format", "sarif", "--scratch-url", url, "--observe")
    [result] = [
        r for r in json.loads(sarif.stdout)["runs"][0]["results"] if r["ruleId"] == "observed-rewrite"
    ]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (result["level"], region["startLine"]) == ("warning", 1)
    github = await cli.run("lint", "--format", "github", "--scratch-url", url, "--observe")
    assert (
        "::warning file=migrations/1001_price_bigint.sql,line=1,col=1,title=uno-migrations lint%3A observed-rewrite::rewrote items"
        in github.stdout
    )


def test_observe_needs_a_scratch_database(cli: Cli, make_migrations: Callable[..., Path]) -> None:
    make_migrations({"1000_create_items.sql": CREATE_ITEMS}, name="migrations")
    result = cli("lint", "--observe")
    assert result.exit_code == 2
    assert "--observe runs the plan on a scratch database: give --scratch-url" in result.output


@only("postgresql")
async def test_a_table_made_by_the_migration_and_an_index_are_rebuilds(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": CREATE_ITEMS,
            "1001_tags.sql": """
                CREATE TABLE tags (id integer PRIMARY KEY);
                ALTER TABLE tags ALTER COLUMN id TYPE bigint;
                -- uno:allow index-not-concurrent because items is small
                REINDEX INDEX items_price;
            """,
        },
        name="migrations",
    )
    code, findings = await _observe(cli, engine_name)
    assert code == 0
    rebuilds = [
        (line, message)
        for rule, line, message in _observed(findings, "1001_tags.sql")
        if rule == "observed-rebuild"
    ]
    assert rebuilds == [
        (2, "rewrote tags, made by this migration (its relfilenode changed); rebuilt the index tags_pkey"),
        (4, "rebuilt the index items_price"),
    ]


def quoted_output(test: str) -> list[str]:
    """The lines of the block of docs/safety.md marked ``<!-- output test=TEST -->``."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "safety.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- output test={re.escape(test)} -->\n```text\n(.*?)```", page, re.DOTALL)
    assert found, f"docs/safety.md quotes no output of {test}"
    return found[1].rstrip("\n").split("\n")


@only("postgresql")
async def test_the_page_quotes_what_observe_prints(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_create_items.sql": "CREATE TABLE items (id integer PRIMARY KEY, price integer NOT NULL);\n",
            "1001_price_bigint.sql": "ALTER TABLE items ALTER COLUMN price TYPE bigint;\n",
            "1002_add_note.sql": "ALTER TABLE items ADD COLUMN note text;\n",
        },
        name="migrations",
    )
    command, *printed = quoted_output(
        "tests/lint/test_lint_observe.py::test_the_page_quotes_what_observe_prints"
    )
    assert command == "$ uno-migrations lint --scratch-url postgresql://localhost/postgres --observe"
    result = await cli.run("lint", "--scratch-url", server_url(engine_name), "--observe")
    assert result.exit_code == 1
    assert (result.stdout + result.stderr).rstrip("\n").split("\n") == printed

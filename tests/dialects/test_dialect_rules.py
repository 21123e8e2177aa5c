"""Pure per-engine rules of the adapters: which MySQL statements commit the transaction they run
in (the runner records its count before them), and which values PostgreSQL's one-query path
writes in as literals."""

from __future__ import annotations

import pytest

from uno_migrations.dialects import get_adapter


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t (id INT)",
        "alter table t add column x int",
        "DROP INDEX ix ON t",
        "RENAME TABLE a TO b",
        "TRUNCATE t",
        "LOCK TABLES t WRITE",
        "SET autocommit = 1",
        "CALL make_tables()",  # a procedure may run DDL
        "/*!40101 SET NAMES utf8 */",  # an executable comment may hold anything
        "(SELECT 1)",  # not recognised: assumed to commit
        "",
    ],
)
def test_mysql_statements_that_commit(sql: str) -> None:
    assert get_adapter("mysql").commits_implicitly(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "  update t set x = 1",
        "DELETE FROM t",
        "REPLACE INTO t VALUES (1)",
        "SELECT * FROM t",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "-- a comment\nINSERT INTO t VALUES (1)",
        "# a comment\n/* and another */ INSERT INTO t VALUES (1)",
    ],
)
def test_mysql_statements_that_keep_the_transaction(sql: str) -> None:
    assert not get_adapter("mysql").commits_implicitly(sql)


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_transactional_ddl_engines_never_commit_implicitly(engine: str) -> None:
    assert not get_adapter(engine).commits_implicitly("CREATE TABLE t (id INT)")


def test_postgresql_inlines_only_values_it_can_write_safely() -> None:
    """The one-query path writes the version rows' values in as literals, or not at all."""
    from datetime import datetime, timezone

    from uno_migrations.dialects.postgresql import PostgreSQLAdapter
    from uno_migrations.dialects.postgresql_statements import ServerElapsed

    inline = PostgreSQLAdapter()._inline
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    sql = "INSERT INTO t VALUES ($1::VARCHAR, $2::INTEGER, $3::TIMESTAMP WITH TIME ZONE, $4::VARCHAR, $10::INTEGER)"
    args = ("it's", ServerElapsed(0), at, None, 5, 6, 7, 8, 9, 10)
    assert inline((sql, args)) == (
        "INSERT INTO t VALUES ('it''s'::VARCHAR, "
        "(EXTRACT(EPOCH FROM clock_timestamp() - transaction_timestamp()) * 1000)::INTEGER::INTEGER, "
        "'2026-01-02T03:04:05.000006+00:00'::TIMESTAMP WITH TIME ZONE, NULL::VARCHAR, 10::INTEGER)"
    )
    assert inline(("SELECT $1", ("back\\slash",))) is None  # would depend on standard_conforming_strings
    assert inline(("SELECT $1", (datetime(2026, 1, 1),))) is None  # naive datetimes are not written
    assert (
        inline(("SELECT $1, '$2'", (-1.5, 1))) == "SELECT (-1.5), '$2'"
    )  # exact; in a string, no placeholder

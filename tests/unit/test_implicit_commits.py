"""Which MySQL statements commit the transaction they run in (the runner records its count before them)."""

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

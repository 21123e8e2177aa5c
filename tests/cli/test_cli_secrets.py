"""Passwords in the query string or in a malformed URL are never printed, on any engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SIMPLE_IDS, SIMPLE_MIGRATIONS, Cli, TestDatabase, only, version_rows
from sqlalchemy.engine import make_url

SECRET = "s3cr3t-value"

#: The engines whose test login accepts any password: PostgreSQL trusts local connections, SQLite
#: has no login (``uri=true`` hands the query to SQLite, which ignores keys it does not know).
#: MySQL's root has an empty password, so a password in the query fails there (tested below).
ANY_PASSWORD = pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def project(make_migrations: Callable[..., Path]) -> Path:
    return make_migrations(SIMPLE_MIGRATIONS, name="migrations")


def with_password(url: str, dialect: str) -> str:
    """``url`` with the password given as a query parameter, as asyncpg and aiomysql accept it."""
    if dialect == "sqlite":  # with uri=true, the database is a file: URI
        return f"{url.replace(':///', ':///file:', 1)}?password={SECRET}&uri=true"
    return f"{url}?password={SECRET}"


def unreachable(db: TestDatabase) -> str:
    """A URL on ``db``'s engine that cannot connect, with the password in the query."""
    if db.dialect == "sqlite":
        return f"sqlite+aiosqlite:///file:/no/such/directory/x.db?uri=true&password={SECRET}"
    url = make_url(db.url).set(host="127.0.0.1", port=1)
    return f"{url.render_as_string(hide_password=False)}?password={SECRET}"


@ANY_PASSWORD
async def test_status_history_and_logs_hide_a_password_in_the_query(
    db: TestDatabase, cli: Cli, project: Path
) -> None:
    url = with_password(db.url, db.dialect)
    migrated = await cli.run("-vvv", "-u", url, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert "password=***" in migrated.stderr  # the "database:" log line
    table = await cli.run("-u", url, "status", "-vvv")
    document = json.loads((await cli.run("-u", url, "status", "--json")).stdout)
    history = await cli.run("-u", url, "history")
    history_document = json.loads((await cli.run("-u", url, "history", "--json")).stdout)
    for output in (migrated.output, table.output, history.output, json.dumps([document, history_document])):
        assert SECRET not in output
    header = table.stdout.splitlines()[0]
    rendered = make_url(url).render_as_string(hide_password=False)  # as SQLAlchemy writes it
    assert header == f"Database: {rendered.replace(SECRET, '***')}", header
    assert history.stdout.splitlines()[0] == header
    assert f"Database: {document['database']}" == header
    assert history_document["database"] == document["database"]
    assert await version_rows(db) == SIMPLE_IDS


@pytest.mark.parametrize("verbosity", [(), ("-v",), ("-vvv",)])
def test_a_connection_error_hides_a_password_in_the_query(
    db: TestDatabase, cli: Cli, project: Path, verbosity: tuple[str, ...]
) -> None:
    url = unreachable(db)
    result = cli(*verbosity, "-u", url, "status")
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output
    masked = make_url(url).render_as_string(hide_password=False).replace(SECRET, "***")
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: cannot connect to {masked}: "), last
    assert ("Traceback" in result.stderr) == bool(verbosity)


@only("mysql")
def test_a_refused_login_hides_a_password_in_the_query(db: TestDatabase, cli: Cli, project: Path) -> None:
    result = cli("-vv", "-u", with_password(db.url, db.dialect), "migrate")
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output
    assert "Access denied" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("scheme", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize(
    "userinfo",
    [f"u:my {SECRET}", f"u:p@{SECRET}", f"u:{SECRET} x@y"],
    ids=["space", "extra @", "space and @"],
)
def test_a_malformed_url_is_one_error_line_without_its_password(
    cli: Cli, project: Path, scheme: str, userinfo: str
) -> None:
    # A port that is not a number: SQLAlchemy cannot parse the URL.
    result = cli("-u", f"{scheme}://{userinfo}@127.0.0.1:port/db?password={SECRET}", "status")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"error: malformed database URL: {scheme}://u:***@127.0.0.1:port/db?password=***\n"
    )
    verbose = cli("-vv", "-u", f"{scheme}://{userinfo}@127.0.0.1:port/db", "status")
    assert verbose.exit_code == 1 and "Traceback" in verbose.stderr
    assert SECRET not in verbose.output

"""``uno-migrations lint`` on the command line: what it prints in each format, its exit codes,
allow comments, which files and which engine, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from helpers import Cli

SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"
MIGRATIONS = {
    "1000_create_accounts.sql": """
        CREATE TABLE accounts (id bigint PRIMARY KEY, email text, name text);
        CREATE INDEX accounts_name ON accounts (name);
        -- DOWN
        DROP TABLE accounts;
    """,
    "1001_index_emails.sql": """
        -- uno:allow update-without-where because accounts has a handful of rows
        UPDATE accounts SET email = lower(email);
        CREATE INDEX accounts_email ON accounts (email);
        ALTER TABLE accounts DROP COLUMN name;
        -- DOWN
        DROP INDEX accounts_email;
    """,
}
TEXT = """\
migrations/1001_index_emails.sql:3:1: error [index-not-concurrent] CREATE INDEX without CONCURRENTLY blocks writes to accounts (a SHARE lock) until the index is built
    CREATE INDEX accounts_email ON accounts (email)
    instead: CREATE INDEX CONCURRENTLY (DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY), in a migration that runs outside a transaction (-- Transactional: false).
migrations/1001_index_emails.sql:4:1: warning [drop-table-or-column] drops column accounts.name, which the release still running may read or write
    ALTER TABLE accounts DROP COLUMN name
    instead: Drop it in a release after the one that stopped using it (a post-deploy migration), and say so: -- uno:allow drop-table-or-column because ...
"""
FAILURE = "error: lint found 1 error, 1 warning, 1 suppressed in 2 migration files\n"


@pytest.fixture
def project(cli: Cli, make_migrations: Callable[..., Path]) -> Cli:
    make_migrations(MIGRATIONS, name="migrations")
    return cli


def test_text_lists_each_finding_and_exits_1_on_an_error(project: Cli) -> None:
    result = project("lint")
    assert (result.exit_code, result.stdout, result.stderr) == (1, TEXT, FAILURE)


def test_suppressed_findings_show_with_their_reason_when_asked(project: Cli) -> None:
    result = project("lint", "--show-suppressed", "migrations/1001_index_emails.sql")
    assert result.stdout.startswith(
        "migrations/1001_index_emails.sql:2:1: suppressed [update-without-where] UPDATE without WHERE "
        "rewrites every row of accounts, each locked until the migration commits\n"
        "    UPDATE accounts SET email = lower(email)\n"
        "    because accounts has a handful of rows\n"
    )


def test_warnings_alone_exit_0(cli: Cli, make_migrations: Callable[..., Path]) -> None:
    make_migrations({"1000_drop_notes.sql": "ALTER TABLE accounts DROP COLUMN notes;\n"}, name="migrations")
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("No errors in 1 migration file: 1 warning\n")
    assert cli("lint", "-q").stdout == ""


def test_json_document(project: Cli) -> None:
    result = project("lint", "--json")
    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {key: document[key] for key in ("command", "engine", "files", "counts", "error")} == {
        "command": "lint",
        "engine": None,
        "files": 2,
        "counts": {"error": 1, "warning": 1, "info": 0, "suppressed": 1},
        "error": "lint found 1 error, 1 warning, 1 suppressed in 2 migration files",
    }
    first = document["findings"][0]
    assert first == {
        "rule": "update-without-where",
        "level": "warning",
        "path": "migrations/1001_index_emails.sql",
        "line": 2,
        "column": 1,
        "statement": "UPDATE accounts SET email = lower(email)",
        "message": "UPDATE without WHERE rewrites every row of accounts, each locked until the migration commits",
        "instead": first["instead"],
        "suppressed": True,
        "reason": "accounts has a handful of rows",
    }
    assert project("lint", "--format", "json").stdout == result.stdout


def test_sarif_validates_against_the_sarif_2_1_0_schema(project: Cli) -> None:
    result = project("lint", "--format", "sarif")
    log = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)
    assert result.exit_code == 1 and result.stderr == FAILURE
    [run] = log["runs"]
    results = [(r["ruleId"], r["level"], "suppressions" in r) for r in run["results"]]
    assert results == [
        ("update-without-where", "warning", True),
        ("index-not-concurrent", "error", False),
        ("drop-table-or-column", "warning", False),
    ]
    location = run["results"][1]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "migrations/1001_index_emails.sql", "uriBaseId": "%SRCROOT%"},
        "region": {
            "startLine": 3,
            "startColumn": 1,
            "snippet": {"text": "CREATE INDEX accounts_email ON accounts (email)"},
        },
    }
    rules = run["tool"]["driver"]["rules"]
    assert rules[run["results"][1]["ruleIndex"]]["id"] == "index-not-concurrent"


def test_sarif_of_a_python_migration_without_a_line_validates(
    cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations({"1000_seed.py": "async def up(context):\n    pass\n"}, name="migrations")
    log = json.loads(cli("lint", "--format", "sarif").stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    [result] = log["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("not-linted", "note")
    assert "region" not in result["locations"][0]["physicalLocation"]


def test_github_annotations(project: Cli) -> None:
    result = project("lint", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=migrations/1001_index_emails.sql,line=3,col=1,title=uno-migrations lint%3A "
        "index-not-concurrent::CREATE INDEX without CONCURRENTLY blocks writes to accounts (a SHARE lock) "
        "until the index is built%0Ainstead: CREATE INDEX CONCURRENTLY (DROP INDEX CONCURRENTLY, REINDEX ... "
        "CONCURRENTLY), in a migration that runs outside a transaction (-- Transactional: false)."
    )
    assert lines[1].startswith("::warning file=migrations/1001_index_emails.sql,line=4,col=1,")
    assert len(lines) == 2
    shown = project("lint", "--format", "github", "--show-suppressed").stdout.splitlines()
    assert shown[0].startswith("::notice file=migrations/1001_index_emails.sql,line=2,col=1,")


def test_the_engine_comes_from_the_option_the_url_or_the_file_name(
    cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    mysql_only = "ALTER TABLE accounts ADD INDEX accounts_email (email);\n"
    make_migrations({"1000_index.sql": "SELECT 1;\n", "1000_index.mysql.sql": mysql_only}, name="migrations")
    found = cli("lint", "--json").stdout
    assert [(f["path"], f["rule"]) for f in json.loads(found)["findings"]] == [
        ("migrations/1000_index.mysql.sql", "lock-not-none")
    ]
    by_url = json.loads(cli("lint", "--json", "-u", "mysql://root@127.0.0.1/app").stdout)
    assert by_url["engine"] == "mysql" and by_url["files"] == 1
    by_option = json.loads(
        cli("lint", "--json", "--engine", "sqlite", "-u", "mysql://root@127.0.0.1/app").stdout
    )
    assert by_option["engine"] == "sqlite" and by_option["findings"] == []


def test_default_directories_come_from_the_config_file(
    cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations({"1000_truncate.sql": "TRUNCATE accounts;\n"}, name="db/migrations")
    (cli.cwd / "pyproject.toml").write_text('[tool.uno_migrations]\ndirectories = ["db/migrations"]\n')
    result = cli("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("db/migrations/1000_truncate.sql:1:1: error [truncate] ")


@pytest.mark.parametrize(
    "args,files,message",
    [
        (
            ["migrations"],
            {"1000_a.sql": "-- uno:allow no-such-rule because reasons\nTRUNCATE t;\n"},
            "error: migrations/1000_a.sql: line 1: uno:allow names the unknown rule 'no-such-rule'; write "
            "uno:allow RULE because REASON, with a rule of index-not-concurrent, ",
        ),
        (["missing.sql"], {}, "error: missing.sql: no such file or directory\n"),
        (
            ["migrations/1000_a.sql"],
            {"1000_a.sql": "\udcff"},
            "error: migrations/1000_a.sql: not UTF-8 text (byte 0)\n",
        ),
        (
            ["migrations"],
            {"notes.sql": "SELECT 1;"},
            "error: migrations/notes.sql: does not match <version>_<slug>",
        ),
        (
            ["migrations/README.md"],
            {"README.md": "x"},
            "error: migrations/README.md: not a migration: lint reads",
        ),
    ],
    ids=["unknown-rule", "missing-file", "not-utf8", "bad-name", "not-a-migration"],
)
def test_bad_input_is_one_error_line(
    cli: Cli, make_migrations: Callable[..., Path], args: list[str], files: dict[str, str], message: str
) -> None:
    directory = make_migrations({}, name="migrations")
    for name, text in files.items():
        (directory / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    result = cli("lint", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--json", "--format", "sarif"], "--json is --format json; it does not go with --format sarif"),
        (["--engine", "oracle"], "unsupported database 'oracle'"),
    ],
)
def test_bad_options_are_refused(cli: Cli, args: list[str], message: str) -> None:
    result = cli("lint", *args)
    assert result.exit_code != 0 and message in result.stderr


def test_sarif_validates_on_every_engine(
    engine_name: str, cli: Cli, make_migrations: Callable[..., Path]
) -> None:
    make_migrations(
        {
            "1000_clean_up.sql": """
                -- uno:allow delete-without-where because audit only holds test rows
                DELETE FROM audit;
                UPDATE accounts SET name = 'x';
                DROP TABLE sessions;
            """
        },
        name="migrations",
    )
    result = cli("lint", "--engine", engine_name, "--format", "sarif")
    log = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)
    results = [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in log["runs"][0]["results"]
    ]
    assert results == [
        ("delete-without-where", "error", 2),
        ("update-without-where", "warning", 3),
        ("drop-table-or-column", "warning", 4),
    ]
    assert log["runs"][0]["results"][0]["suppressions"] == [
        {"kind": "inSource", "justification": "audit only holds test rows"}
    ]
    assert result.exit_code == 0

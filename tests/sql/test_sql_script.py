"""Tests for the SQL script lexer: splitting, separators, header directives, placeholders."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from uno_migrations.dialects import syntax_of
from uno_migrations.errors import ConfigurationError, ParameterError, SQLScriptError
from uno_migrations.files.sql_script import SQLHeader, parse_script
from uno_migrations.sql.params import bind_parameters
from uno_migrations.sql.splitter import Statement, is_blank, split_statements

SEED = """\
-- Migration: Create users table
-- Description: Creates the initial users table with basic fields

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(255) NOT NULL UNIQUE,
    email VARCHAR(255) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- Create indexes
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_email ON users(email);

INSERT INTO users (username, email, password_hash) VALUES
    ('John Doe', '  John@Example.com ', 'x'),
    ('ana_maria', 'ana@example.com', 'x');

-- DOWN

DROP TABLE IF EXISTS users;
"""


def texts(sql: str, dialect: str) -> list[str]:
    return [statement.text for statement in split_statements(sql, syntax_of(dialect))]


# --- split_statements ----------------------------------------------------------------------


def test_two_simple_statements() -> None:
    assert split_statements("SELECT 1;\nSELECT 2;\n", syntax_of("sqlite")) == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 2),
    ]


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgresql", "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("sqlite", "SELECT 'it''s; x'; SELECT 2", ["SELECT 'it''s; x'", "SELECT 2"]),
        ("postgresql", 'SELECT "a;b" FROM t; SELECT 2', ['SELECT "a;b" FROM t', "SELECT 2"]),
        ("sqlite", 'SELECT "a"";b" FROM t; SELECT 2', ['SELECT "a"";b" FROM t', "SELECT 2"]),
        ("mysql", "SELECT `a;b` FROM t; SELECT 2", ["SELECT `a;b` FROM t", "SELECT 2"]),
        ("sqlite", "SELECT `a;b` FROM t; SELECT 2", ["SELECT `a;b` FROM t", "SELECT 2"]),
        ("sqlite", "SELECT [a;b] FROM t; SELECT 2", ["SELECT [a;b] FROM t", "SELECT 2"]),
        ("mysql", 'SELECT "a;b"; SELECT 2', ['SELECT "a;b"', "SELECT 2"]),
        ("mysql", r"SELECT 'it\'s; x'; SELECT 2", [r"SELECT 'it\'s; x'", "SELECT 2"]),
        ("mysql", r'SELECT "say \"hi\"; now"; SELECT 2', [r'SELECT "say \"hi\"; now"', "SELECT 2"]),
        ("mysql", r"SELECT 'a\\'; SELECT 2", [r"SELECT 'a\\'", "SELECT 2"]),
        ("postgresql", r"SELECT E'it\'s; x'; SELECT 2", [r"SELECT E'it\'s; x'", "SELECT 2"]),
        ("postgresql", r"SELECT e'a\\'; SELECT 2", [r"SELECT e'a\\'", "SELECT 2"]),
        # Outside E'...' a backslash is an ordinary character in PostgreSQL and SQLite.
        ("postgresql", r"SELECT 'C:\'; SELECT 2", [r"SELECT 'C:\'", "SELECT 2"]),
        ("sqlite", r"SELECT 'C:\'; SELECT 2", [r"SELECT 'C:\'", "SELECT 2"]),
        ("postgresql", "SELECT 1 -- a; b\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("sqlite", "SELECT /* ; */ 1; SELECT 2", ["SELECT /* ; */ 1", "SELECT 2"]),
        ("mysql", "SELECT 1 # a; b\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("postgresql", "SELECT 1 # 2; SELECT 3", ["SELECT 1 # 2", "SELECT 3"]),
        ("mysql", "SELECT 1--1; SELECT 2", ["SELECT 1--1", "SELECT 2"]),
        ("postgresql", "SELECT 1--1; SELECT 2", ["SELECT 1"]),
        ("postgresql", "/* a /* b; */ c; */ SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("sqlite", "/* a /* b; */ SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("mysql", "/* a /* b; */ SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("postgresql", "SELECT $1; SELECT $2", ["SELECT $1", "SELECT $2"]),
        ("postgresql", "SELECT a$$b FROM t; SELECT 2", ["SELECT a$$b FROM t", "SELECT 2"]),
        ("postgresql", "SELECT 1;;  ; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("sqlite", "SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("sqlite", "SELECT 1;\n  SELECT 2  \n", ["SELECT 1", "SELECT 2"]),
        ("mysql", "/*!40101 SET NAMES x */;\nSELECT 1", ["/*!40101 SET NAMES x */", "SELECT 1"]),
        ("sqlite", "SELECT CASE WHEN a THEN 1 END; END", ["SELECT CASE WHEN a THEN 1 END"]),
        (
            "sqlite",
            "CREATE TABLE t (event TEXT, begin_at INT); SELECT 1",
            ["CREATE TABLE t (event TEXT, begin_at INT)", "SELECT 1"],
        ),
    ],
)
def test_semicolons_inside_quotes_and_comments_do_not_split(
    dialect: str, sql: str, expected: list[str]
) -> None:
    assert texts(sql, dialect) == expected


def test_dollar_quoted_function_body() -> None:
    sql = "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT f();"
    assert texts(sql, "postgresql") == [
        "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql",
        "SELECT f()",
    ]


def test_tagged_dollar_quote_containing_double_dollars() -> None:
    sql = "DO $body$ BEGIN PERFORM $$ ; $$; RAISE NOTICE 'x;'; END $body$; SELECT 1"
    assert texts(sql, "postgresql") == [
        "DO $body$ BEGIN PERFORM $$ ; $$; RAISE NOTICE 'x;'; END $body$",
        "SELECT 1",
    ]


def test_seed_script_gives_four_statements() -> None:
    statements = split_statements(parse_script(SEED).up, syntax_of("postgresql"))
    assert [s.text.split()[0:2] for s in statements] == [
        ["CREATE", "TABLE"],
        ["CREATE", "INDEX"],
        ["CREATE", "INDEX"],
        ["INSERT", "INTO"],
    ]
    assert [s.line for s in statements] == [4, 14, 15, 17]
    assert statements[3].text.endswith("('ana_maria', 'ana@example.com', 'x')")


def test_comments_inside_a_statement_are_kept_and_leading_ones_dropped() -> None:
    sql = "-- lead\n/* block */\nSELECT a, -- the a\n  b /* the b */\nFROM t;\n-- trailing only\n"
    assert split_statements(sql, syntax_of("postgresql")) == [
        Statement("SELECT a, -- the a\n  b /* the b */\nFROM t", 3)
    ]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("sql", ["", "  \n\t", ";", "; ;\n;", "-- only\n/* comments */;", "/**/"])
def test_empty_and_comment_only_statements_are_dropped(dialect: str, sql: str) -> None:
    assert split_statements(sql, syntax_of(dialect)) == []


def test_trailing_statement_without_semicolon_is_kept() -> None:
    assert split_statements("SELECT 1;\n\nSELECT 2 -- done", syntax_of("sqlite")) == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 3),
    ]


def test_statement_lines_count_from_first_code_character() -> None:
    sql = "\n\n-- one\nSELECT\n  1;\n/* two\n*/ SELECT 'a\nb';\n\n\nSELECT 3"
    assert [s.line for s in split_statements(sql, syntax_of("postgresql"))] == [4, 7, 11]


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_trigger_body_is_one_statement(dialect: str) -> None:
    trigger = (
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (new.id); UPDATE c SET n = n + 1; END"
    )
    assert texts(trigger + ";\nSELECT 1;", dialect) == [trigger, "SELECT 1"]


def test_mysql_trigger_with_if_block() -> None:
    trigger = (
        "CREATE TRIGGER trg BEFORE INSERT ON users FOR EACH ROW\nBEGIN\n"
        "  IF NEW.email IS NULL THEN\n    SET NEW.email = '';\n  END IF;\n"
        "  SET NEW.created = NOW();\nEND"
    )
    assert texts(trigger + ";\nINSERT INTO users VALUES (1);", "mysql") == [
        trigger,
        "INSERT INTO users VALUES (1)",
    ]


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        (
            "sqlite",
            "CREATE TEMP TRIGGER t AFTER UPDATE ON a WHEN CASE WHEN new.x > 0 THEN 1 ELSE 0 END "
            "BEGIN UPDATE b SET y = CASE new.x WHEN 1 THEN 'one' ELSE 'many' END; "
            "DELETE FROM c; END",
        ),
        (
            "mysql",
            "CREATE DEFINER=`root`@`%` PROCEDURE p(IN x INT)\nBEGIN\n"
            "  CASE x WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\n"
            "  lbl: LOOP\n    SET x = x + 1;\n"
            "    IF x > 9 THEN LEAVE lbl; END IF;\n  END LOOP lbl;\n"
            "  WHILE x > 0 DO SET x = x - 1; END WHILE;\n"
            "  REPEAT SET x = x + 1; UNTIL x > 3 END REPEAT;\n"
            "  BEGIN\n    SELECT CASE WHEN x THEN 1 END;\n  END;\nEND",
        ),
        (
            "mysql",
            "CREATE DEFINER = CURRENT_USER FUNCTION f() RETURNS INT DETERMINISTIC\nBEGIN\n  RETURN 1;\nEND",
        ),
        ("mysql", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END"),
        (
            "postgresql",
            "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
            "  SELECT CASE WHEN x > 0 THEN 1 END;\n  SELECT x;\nEND",
        ),
        (
            "postgresql",
            "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END",
        ),
    ],
)
def test_compound_bodies_with_nested_blocks(dialect: str, body: str) -> None:
    assert texts(f"{body};\nSELECT 'after';", dialect) == [body, "SELECT 'after'"]


def test_create_without_body_still_splits() -> None:
    sql = "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1; SELECT 2"
    assert texts(sql, "mysql") == [
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1",
        "SELECT 2",
    ]


def test_postgresql_trigger_calling_a_function_splits_normally() -> None:
    sql = "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f(); SELECT 1"
    assert len(split_statements(sql, syntax_of("postgresql"))) == 2


@pytest.mark.parametrize(
    "control",
    [
        "BEGIN",
        "BEGIN TRANSACTION",
        "begin work",
        "START TRANSACTION",
        "COMMIT",
        "END",
        "COMMIT TRANSACTION",
        "commit work",
        "END TRANSACTION",
        "BEGIN IMMEDIATE",
    ],
)
def test_transaction_control_is_dropped_with_a_warning(
    control: str, caplog: pytest.LogCaptureFixture
) -> None:
    sql = f"{control};\nCREATE TABLE a (id INT);\n{control} -- again\n;"
    with caplog.at_level(logging.WARNING, logger="uno_migrations.sql.splitter"):
        assert texts(sql, "sqlite") == ["CREATE TABLE a (id INT)"]
    assert len(caplog.records) == 1
    assert "runner manages the transaction" in caplog.records[0].getMessage()
    assert "1, 3" in caplog.records[0].getMessage()


def test_no_warning_when_nothing_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    sql = "SELECT 'BEGIN'; SELECT begin_at FROM t; INSERT INTO log VALUES ('COMMIT')"
    with caplog.at_level(logging.WARNING):
        assert len(split_statements(sql, syntax_of("postgresql"))) == 3
    assert caplog.records == []


@pytest.mark.parametrize(
    ("dialect", "sql", "line", "what"),
    [
        ("postgresql", "SELECT 1;\nSELECT 'abc;\nSELECT 2;", 2, "string literal"),
        ("mysql", "SELECT 1;\n\nSELECT 'it\\'s", 3, "string literal"),
        ("mysql", 'SELECT "abc', 1, "string literal"),
        ("postgresql", 'SELECT 1;\nSELECT "abc', 2, "quoted identifier"),
        ("mysql", "\nSELECT `abc", 2, "quoted identifier"),
        ("sqlite", "SELECT [abc", 1, "quoted identifier"),
        ("postgresql", "SELECT 1;\n\n\nDO $fn$ BEGIN END $$;", 4, "dollar quote"),
        ("postgresql", "SELECT 1; /* a /* b */", 1, "comment"),
        ("sqlite", "SELECT 1;\n/* a", 2, "comment"),
        ("postgresql", "SELECT E'abc\\'", 1, "string literal"),
    ],
)
def test_unterminated_quote_names_its_line(dialect: str, sql: str, line: int, what: str) -> None:
    with pytest.raises(SQLScriptError, match=f"unterminated .*{what}.* line {line}$"):
        split_statements(sql, syntax_of(dialect))


def test_mysql_delimiter_command() -> None:
    sql = (
        "DELIMITER //\n"
        "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n"
        "CREATE PROCEDURE q() SELECT 'a;b' //\n"
        "DELIMITER ;\n"
        "SELECT 3;\n"
    )
    assert split_statements(sql, syntax_of("mysql")) == [
        Statement("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND", 2),
        Statement("CREATE PROCEDURE q() SELECT 'a;b'", 7),
        Statement("SELECT 3", 9),
    ]


def test_mysql_delimiter_dollars() -> None:
    sql = "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END$$"
    assert texts(sql, "mysql") == ["CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END"]


def test_delimiter_is_only_a_command_on_mysql() -> None:
    assert texts("SELECT delimiter FROM t; SELECT 2", "mysql") == [
        "SELECT delimiter FROM t",
        "SELECT 2",
    ]
    assert texts("DELIMITER //\nSELECT 1;", "sqlite") == ["DELIMITER //\nSELECT 1"]


def test_postgresql_semicolons_inside_parentheses_do_not_split() -> None:
    rule = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); DELETE FROM b)"
    assert texts(f"{rule};\nSELECT (1);", "postgresql") == [rule, "SELECT (1)"]
    assert texts("SELECT (1; SELECT 2", "sqlite") == ["SELECT (1", "SELECT 2"]


def test_crlf_input_splits() -> None:
    assert split_statements("SELECT 1;\r\n-- c\r\nSELECT 2;\r\n", syntax_of("postgresql")) == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 3),
    ]


def test_unknown_dialect_is_rejected_and_mariadb_is_mysql() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database 'oracle'"):
        syntax_of("oracle")
    assert texts(r"SELECT 'a\';'; SELECT 2", "mariadb") == [r"SELECT 'a\';'", "SELECT 2"]


def test_splitting_is_linear_on_large_input() -> None:
    row = "(1, 'O''Brien; x', E'\\'', \"q\", $$;$$)"
    sql = ("INSERT INTO t VALUES " + ",".join([row] * 20000) + ";\n") * 3
    statements = split_statements(sql, syntax_of("postgresql"))
    assert len(statements) == 3
    assert statements[2].line == 3


# --- parse_script --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "up", "down", "up_line", "down_line"),
    [
        ("SELECT 1;\n-- DOWN\nSELECT 2;\n", "SELECT 1;\n", "SELECT 2;\n", 1, 3),
        ("SELECT 1;\n  --   down  \nSELECT 2;", "SELECT 1;\n", "SELECT 2;", 1, 3),
        (
            "-- header\n-- === UP MIGRATION ===\nSELECT 1;\n-- === DOWN MIGRATION ===\nSELECT 2;\n",
            "SELECT 1;\n",
            "SELECT 2;\n",
            3,
            5,
        ),
        ("-- === up migration ===\nSELECT 1;\n", "SELECT 1;\n", None, 2, None),
        (
            "-- migrate:up\nSELECT 1;\n\n-- migrate:down\nSELECT 2;\n",
            "SELECT 1;\n\n",
            "SELECT 2;\n",
            2,
            5,
        ),
        ("-- migrate:up\nSELECT 1;\n", "SELECT 1;\n", None, 2, None),
        ("SELECT 1;\n-- DOWN\n", "SELECT 1;\n", "", 1, 3),
        ("SELECT 1;\n-- DOWN", "SELECT 1;\n", "", 1, 3),
        ("SELECT 1;\n-- DOWN\n\n  \n", "SELECT 1;\n", "", 1, 3),
        ("-- DOWN\nDROP TABLE t;\n", "", "DROP TABLE t;\n", 1, 2),
        ("SELECT 1;\n", "SELECT 1;\n", None, 1, None),
        ("", "", None, 1, None),
        ("-- just a comment\n", "-- just a comment\n", None, 1, None),
    ],
)
def test_separator_styles(text: str, up: str, down: str | None, up_line: int, down_line: int | None) -> None:
    script = parse_script(text)
    assert (script.up, script.down, script.up_line, script.down_line) == (
        up,
        down,
        up_line,
        down_line,
    )


@pytest.mark.parametrize(
    "line",
    [
        "-- DOWNGRADE notes",
        "-- DOWN here",
        "-- down: later",
        "-- migrate:upx",
        "--- DOWN -",
        "-- === DOWN ===",
        "SELECT 1; -- DOWN",
        "/* x */ -- DOWN",
    ],
)
def test_lookalike_lines_are_comments(line: str) -> None:
    script = parse_script(f"SELECT 1;\n{line}\nSELECT 2;\n")
    assert script.down is None
    assert script.up == f"SELECT 1;\n{line}\nSELECT 2;\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\n-- DOWN\nSELECT 2;\n-- DOWN\n", r"two down separators \(lines 2 and 4\)"),
        (
            "-- migrate:up\nSELECT 1;\n-- migrate:down\n\n-- === DOWN MIGRATION ===\n",
            r"two down separators \(lines 3 and 5\)",
        ),
        (
            "-- migrate:up\n-- === UP MIGRATION ===\nSELECT 1;\n",
            r"two up separators \(lines 1 and 2\)",
        ),
        (
            "-- DOWN\nSELECT 1;\n-- migrate:up\nSELECT 2;\n",
            "up separator on line 3 comes after the down separator on line 1",
        ),
        ("SELECT 0;\n-- migrate:up\nSELECT 1;\n", "line 1: SQL before the up separator on line 2"),
        ("-- migrate:up foo:bar\nSELECT 1;\n", "line 1: unknown option 'foo:bar'"),
        ("-- migrate:up transaction:maybe\n", "line 1: invalid transaction value 'maybe'"),
        ("SELECT 'abc;\n-- DOWN\n", "unterminated string literal starting on line 1"),
    ],
)
def test_invalid_scripts(text: str, message: str) -> None:
    with pytest.raises(SQLScriptError, match=message):
        parse_script(text)


@pytest.mark.parametrize(
    "text",
    [
        "CREATE FUNCTION f() RETURNS int AS $$\n-- DOWN\nSELECT 1;\n$$ LANGUAGE sql;\n",
        "CREATE FUNCTION f() RETURNS int AS $fn$\n-- migrate:down\n$fn$ LANGUAGE sql;\n",
        "INSERT INTO notes VALUES ('\n-- DOWN\n');\n",
        "INSERT INTO notes VALUES (E'\\'\n-- DOWN\n');\n",
        "/* commented out:\n-- DOWN\nDROP TABLE t;\n*/\nSELECT 1;\n",
        'SELECT 1 AS "\n-- === DOWN MIGRATION ===\n";\n',
    ],
)
def test_separator_inside_quotes_or_comments_is_not_a_separator(text: str) -> None:
    script = parse_script(text)
    assert script.down is None
    assert script.up == text


def test_separator_inside_quotes_is_found_after_them() -> None:
    text = "SELECT $$\n-- DOWN\n$$;\n-- DOWN\nSELECT '\n-- DOWN\n';\n"
    script = parse_script(text)
    assert script.up == "SELECT $$\n-- DOWN\n$$;\n"
    assert script.down == "SELECT '\n-- DOWN\n';\n"
    assert script.down_line == 5


def test_dialect_rules_for_mysql_scripts() -> None:
    text = "# don't forget\nSELECT 'it\\'s';\n-- DOWN\nSELECT 2;\n"
    script = parse_script(text, "mysql")
    assert script.down == "SELECT 2;\n"
    assert split_statements(script.up, syntax_of("mysql")) == [Statement("SELECT 'it\\'s'", 2)]


def test_many_separators_fail_fast() -> None:
    text = "SELECT 1;\n" + "-- DOWN\n" * 50000
    with pytest.raises(SQLScriptError, match=r"two down separators \(lines 2 and 3\)"):
        parse_script(text)


def test_header_directives() -> None:
    text = (
        "-- Migration: Add roles\n"
        "-- some note: not a directive\n"
        "\n"
        "/* block comment */\n"
        "-- DESCRIPTION:   Adds the roles table  \n"
        "-- Dependencies: 0001_users, 0002_groups 0003_x,,0001_users\n"
        "-- tags: auth, users\n"
        "-- Transactional: false\n"
        "CREATE TABLE roles (id INT);\n"
        "-- Tags: late\n"
        "-- Transactional: true\n"
    )
    assert parse_script(text).header == SQLHeader(
        title="Add roles",
        description="Adds the roles table",
        dependencies=("0001_users", "0002_groups", "0003_x"),
        tags=("auth", "users"),
        transactional=False,
    )


def test_header_defaults_and_seed_header() -> None:
    assert parse_script("SELECT 1;").header == SQLHeader()
    header = parse_script(SEED).header
    assert header.title == "Create users table"
    assert header.description == "Creates the initial users table with basic fields"
    assert header.dependencies == ()
    assert header.transactional is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("false", False),
        ("FALSE", False),
        ("no", False),
        ("Off", False),
        ("0", False),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("1", True),
    ],
)
def test_transactional_values(value: str, expected: bool) -> None:
    script = parse_script(f"-- Transactional: {value}\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert script.header.transactional is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", "falsey"])
def test_invalid_transactional_value(value: str) -> None:
    with pytest.raises(SQLScriptError, match="line 2: invalid Transactional value"):
        parse_script(f"-- Migration: x\n-- Transactional: {value}\nSELECT 1;\n")


def test_dbmate_transaction_option_and_header_after_marker() -> None:
    text = "-- migrate:up transaction:false\n-- Tags: slow\nSELECT 1;\n-- migrate:down\n"
    script = parse_script(text)
    assert script.header.transactional is False
    assert script.header.tags == ("slow",)
    assert (script.up, script.down, script.up_line) == ("-- Tags: slow\nSELECT 1;\n", "", 2)


def test_duplicate_title_is_an_error() -> None:
    with pytest.raises(SQLScriptError, match=r"two -- Migration: directives \(lines 1 and 2\)"):
        parse_script("-- Migration: a\n-- Migration: b\n")


def test_directives_in_the_down_section_are_not_header() -> None:
    script = parse_script("-- DOWN\n-- Tags: x\n-- Transactional: false\n")
    assert script.header == SQLHeader()


def test_crlf_script() -> None:
    text = SEED.replace("\n", "\r\n")
    script = parse_script(text)
    assert script == parse_script(SEED)
    assert "\r" not in script.up
    assert script.header.title == "Create users table"


def test_seed_statement_lines_map_to_file_lines() -> None:
    script = parse_script(SEED)
    file_lines = SEED.splitlines()
    assert script.up_line == 1
    assert script.down_line == 22
    up = split_statements(script.up, syntax_of("postgresql"))
    assert script.down is not None
    down = split_statements(script.down, syntax_of("postgresql"))
    assert down == [Statement("DROP TABLE IF EXISTS users", 2)]
    for statement in up:
        assert file_lines[script.up_line + statement.line - 2].startswith(statement.text[:12])
    assert file_lines[script.down_line + down[0].line - 2] == "DROP TABLE IF EXISTS users;"


def test_marker_line_numbers_for_explicit_up() -> None:
    text = "-- Migration: x\n\n-- migrate:up\n\nCREATE TABLE a (id INT);\n-- migrate:down\nDROP TABLE a;"
    script = parse_script(text)
    assert (script.up_line, script.down_line) == (4, 7)
    statement = split_statements(script.up, syntax_of("sqlite"))[0]
    assert script.up_line + statement.line - 1 == 5


# --- bind_parameters -----------------------------------------------------------------------

LITERALS = "'$1', ':x', '%', '?', \"c:x\" -- $1 :x % ?\n /* $1 :x % ? */"


@pytest.mark.parametrize(
    ("sql", "params", "paramstyle", "dialect", "expected_sql", "expected_args"),
    [
        # numeric_dollar (asyncpg)
        ("SELECT $1", [5], "numeric_dollar", "postgresql", "SELECT $1", (5,)),
        ("SELECT $2, $1", ["a", "b"], "numeric_dollar", "postgresql", "SELECT $2, $1", ("a", "b")),
        ("SELECT $1::int, $1", [5], "numeric_dollar", "postgresql", "SELECT $1::int, $1", (5,)),
        (
            f"SELECT $1, {LITERALS}",
            [7],
            "numeric_dollar",
            "postgresql",
            f"SELECT $1, {LITERALS}",
            (7,),
        ),
        (
            "SELECT :b, :a, :b::text, $$ :a $1 $$",
            {"a": 1, "b": 2, "unused": 3},
            "numeric_dollar",
            "postgresql",
            "SELECT $1, $2, $1::text, $$ :a $1 $$",
            (2, 1),
        ),
        (
            f"SELECT :x, {LITERALS}",
            {"x": 1},
            "numeric_dollar",
            "postgresql",
            f"SELECT $1, {LITERALS}",
            (1,),
        ),
        (
            "DO $x$ x := 1 $x$; SELECT :a",
            {"a": 1},
            "numeric_dollar",
            "postgresql",
            "DO $x$ x := 1 $x$; SELECT $1",
            (1,),
        ),
        (
            "SELECT a[lo:hi] FROM t WHERE id=:id",
            {"id": 4},
            "numeric_dollar",
            "postgresql",
            "SELECT a[lo:hi] FROM t WHERE id=$1",
            (4,),
        ),
        # qmark (sqlite)
        ("SELECT $2, $1, $2", ["a", "b"], "qmark", "sqlite", "SELECT ?, ?, ?", ("b", "a", "b")),
        (f"SELECT $1, {LITERALS}", [7], "qmark", "sqlite", f"SELECT ?, {LITERALS}", (7,)),
        (
            "SELECT :x, :y, :x",
            {"x": 1, "y": 2},
            "qmark",
            "sqlite",
            "SELECT ?, ?, ?",
            (1, 2, 1),
        ),
        ("SELECT :x::text, [c:x]", {"x": 1}, "qmark", "sqlite", "SELECT ?::text, [c:x]", (1,)),
        ("SELECT `c:x`, :x", {"x": 1}, "qmark", "sqlite", "SELECT `c:x`, ?", (1,)),
        # format (aiomysql): every '%' is doubled, even in literals and comments
        ("SELECT $1", [5], "format", "mysql", "SELECT %s", (5,)),
        ("SELECT $2, $1, $2", [1, 2], "format", "mysql", "SELECT %s, %s, %s", (2, 1, 2)),
        (
            f"SELECT $1, {LITERALS}",
            [7],
            "format",
            "mysql",
            "SELECT %s, '$1', ':x', '%%', '?', \"c:x\" -- $1 :x %% ?\n /* $1 :x %% ? */",
            (7,),
        ),
        (
            "SELECT :x, 10 % 3, 'a%', `c:x` # :x %\n",
            {"x": "v"},
            "format",
            "mysql",
            "SELECT %s, 10 %% 3, 'a%%', `c:x` # :x %%\n",
            ("v",),
        ),
        (
            "SELECT @v := :x, 'it\\'s :x'",
            {"x": 1},
            "format",
            "mysql",
            "SELECT @v := %s, 'it\\'s :x'",
            (1,),
        ),
        ("SELECT $1", (9,), "format", "mysql", "SELECT %s", (9,)),
        ("SELECT $1 || '%s' || $2", [1, 2], "format", "mysql", "SELECT %s || '%%s' || %s", (1, 2)),
        (
            "SELECT E'\\' $1', $1",
            [3],
            "qmark",
            "postgresql",
            "SELECT E'\\' $1', ?",
            (3,),
        ),
    ],
)
def test_bind_parameters(
    sql: str,
    params: Any,
    paramstyle: str,
    dialect: str,
    expected_sql: str,
    expected_args: tuple[Any, ...],
) -> None:
    assert bind_parameters(sql, params, paramstyle, syntax_of(dialect)) == (expected_sql, expected_args)


@pytest.mark.parametrize("paramstyle", ["numeric_dollar", "qmark", "format"])
@pytest.mark.parametrize("params", [[], (), {}])
def test_empty_params_leave_the_statement_untouched(paramstyle: str, params: Any) -> None:
    sql = "SELECT '%', $1, :x"
    assert bind_parameters(sql, params, paramstyle, syntax_of("postgresql")) == (sql, ())


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("SELECT $1, $3", [1, 2], r"statement uses \$3 but 2 parameters were given"),
        ("SELECT $2", [1], r"statement uses \$2 but 1 parameter was given"),
        ("SELECT $0", [1], r"statement uses \$0; placeholders are numbered from \$1"),
        ("SELECT :1, :x", {"1": 1}, "no value for parameter :x"),
        ("SELECT $1", [1, 2], r"parameter \$2 is never used"),
        ("SELECT :name, :email", {"name": 1}, "no value for parameter :email"),
        ("SELECT 1", [1, 2], r"2 parameters given but the statement has no \$n placeholders"),
        ("SELECT '$1' -- $2", [1], r"1 parameter given but the statement has no \$n placeholders"),
        ("SELECT ':x', $1", {"x": 1}, "1 parameter given but the statement has no :name placehold"),
        ("SELECT x::int", {"x": 1}, "has no :name placeholders"),
        ("SELECT 1", "ab", "params must be a list, tuple or dict"),
        ("SELECT 1", b"ab", "params must be a list, tuple or dict"),
        ("SELECT 1", 5, "params must be a list, tuple or dict"),
    ],
)
@pytest.mark.parametrize(
    ("paramstyle", "dialect"),
    [("numeric_dollar", "postgresql"), ("qmark", "sqlite"), ("format", "mysql")],
)
def test_bind_parameters_errors(sql: str, params: Any, message: str, paramstyle: str, dialect: str) -> None:
    with pytest.raises(ParameterError, match=message):
        bind_parameters(sql, params, paramstyle, syntax_of(dialect))


@pytest.mark.parametrize("paramstyle", ["named", "pyformat", "numeric", ""])
def test_unsupported_paramstyle(paramstyle: str) -> None:
    with pytest.raises(ParameterError, match="unsupported paramstyle"):
        bind_parameters("SELECT :x", {"x": 1}, paramstyle, syntax_of("postgresql"))


# --- is_blank ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("", "postgresql", True),
        ("  \n\t\r\n", "sqlite", True),
        ("-- a\n/* b */\n", "postgresql", True),
        ("/* a /* nested */ b */", "postgresql", True),
        ("# mysql comment\n-- DOWN\n", "mysql", True),
        ("# not a comment here", "postgresql", False),
        ("/*!40101 SET NAMES utf8 */", "mysql", False),
        ("SELECT 1", "sqlite", False),
        ("-- a\n;", "sqlite", False),
        ("'-- not a comment'", "postgresql", False),
        ("$$ x $$", "postgresql", False),
    ],
)
def test_is_blank(sql: str, dialect: str, expected: bool) -> None:
    assert is_blank(sql, syntax_of(dialect)) is expected


def test_is_blank_reports_an_unterminated_comment() -> None:
    with pytest.raises(SQLScriptError, match="unterminated /\\* comment starting on line 2"):
        is_blank("\n/* open", syntax_of("sqlite"))


def _lexer_split(sql: str, dialect: str) -> list[Statement]:
    from uno_migrations.sql.lexer import _tokens
    from uno_migrations.sql.splitter import _Splitter

    splitter = _Splitter(sql, syntax_of(dialect))
    for token in _tokens(sql, syntax_of(dialect)):
        splitter.feed(*token)
    splitter.finish()
    return splitter.statements


def test_plain_text_is_split_as_the_lexer_splits_it() -> None:
    """Text without quotes or comments skips the lexer; it must not change a single statement."""
    import random

    from uno_migrations.sql.splitter import _split_plain

    parts = [
        "CREATE TABLE t (id INT)",
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 2\n WHERE b = 3",
        "SELECT 1",
        "\n",
        "  ",
        ";",
        ";\n\n",
        "(",
        ")",
        "commit",
        "COMMIT WORK",
        "CREATE RULE r AS ON INSERT TO t DO (INSERT INTO x VALUES (1); INSERT INTO y VALUES (2))",
        "INSERT INTO t VALUES ('a;b', 'it''s', '-- no comment', '(', 'begin')",
        "'",
        "x'",
    ]
    rng = random.Random(7)
    compared = 0
    for _ in range(3000):
        sql = "".join(rng.choice(parts) for _ in range(rng.randint(0, 8)))
        plain = _split_plain(sql)
        if plain is None:
            continue
        compared += 1
        for dialect in ("postgresql", "mysql", "sqlite"):
            assert plain == _lexer_split(sql, dialect), (sql, dialect)
    assert compared > 1000


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'a;b",
        "SELECT 'a\\';b'",
        "SELECT 1 -- c",
        "CREATE TRIGGER x BEGIN SELECT 1; END",
        "BEGIN",
        "SELECT $1",
        "DO (a; b",
    ],
)
def test_text_that_needs_the_lexer_is_not_split_plainly(sql: str) -> None:
    from uno_migrations.sql.splitter import _split_plain

    assert _split_plain(sql) is None


# --- the header part read by regex, the rest without the lexer ------------------------------


def _outcome(text: str, dialect: str | None) -> object:
    try:
        return parse_script(text, dialect)
    except SQLScriptError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("dialect", [None, "postgresql", "mysql", "sqlite"])
def test_shortcuts_give_what_the_lexer_gives(dialect: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_script reads line-comment headers with a regex and skips lexing plain text after
    the first statement; the result (or error) must be the lexer's, whatever the text."""
    import random

    from uno_migrations.files import sql_script

    parts = [
        "SELECT 1;",
        "\n",
        "\n",
        " ",
        "\t",
        "-- DOWN\n",
        "  -- down  \n",
        "-- migrate:up\n",
        "-- migrate:down\n",
        "-- === UP MIGRATION ===\n",
        "-- === DOWN MIGRATION ===\n",
        "-- migrate:up transaction:false\n",
        "-- migrate:down foo:bar\n",
        "-- Migration: t\n",
        "-- Tags: a, b\n",
        "-- Dependencies: x y\n",
        "-- Transactional: no\n",
        "-- Transactional: maybe\n",
        "-- Description: d\n",
        "-- downgrade notes\n",
        "'",
        "'a''b'",
        "'x\n-- DOWN\n'",
        '"',
        '"q"',
        "$$",
        "$$\n-- DOWN\n$$",
        "$1",
        "/*",
        "*/",
        "/* c */",
        "/*\n-- DOWN\n*/",
        "/* /* */",
        "#",
        "# c\n",
        "#\n-- DOWN\n",
        "--x\n",
        "--DOWN\n",
        "--\n",
        "---\n",
        "DELIMITER //\n",
        "DELIMITER ;\n",
        "//",
        "\\",
        "E'\\''",
        "`b`",
        "`\n-- DOWN\n`",
        "[i]",
        "[\n-- DOWN\n]",
        "-",
        "/",
        "d",
        "delimiter",
        "BEGIN",
        "END;",
        "(",
        ")",
        ";",
        "\r\n",
        "x--1",
        "'--'",
        "-- 'quoted\n",
        "'it''s\n'",
    ]
    real_plain = sql_script._plain_lines
    fast = 0

    def counting(*args: object) -> bool:
        nonlocal fast
        result = real_plain(*args)  # type: ignore[arg-type]
        fast += result
        return result

    rng = random.Random(16)
    texts = ["".join(rng.choice(parts) for _ in range(rng.randint(0, 12))) for _ in range(4000)]
    monkeypatch.setattr(sql_script, "_plain_lines", counting)
    with_shortcuts = [_outcome(text, dialect) for text in texts]
    monkeypatch.setattr(sql_script, "_plain_lines", lambda *args: False)
    monkeypatch.setattr(sql_script, "_comments_end", lambda text, dialect: 0)
    for text, expected in zip(texts, with_shortcuts, strict=True):
        assert _outcome(text, dialect) == expected, (text, dialect)
    assert fast > 500, "the test must exercise the shortcut"


def test_shortcut_gives_up_in_linear_time() -> None:
    """The plain-text regex is never exponential, whether it matches or not."""
    import time

    from uno_migrations.sql.lexer import _plain_lines

    for text in ["-- a'b\n" * 20_000 + '"', "'a' - 'b' / x\n" * 20_000 + "$", "x -- 'c\n'y' -/- \n" * 20_000]:
        started = time.perf_counter()
        for dialect in ("postgresql", "mysql", "sqlite", None):
            _plain_lines(text, 0, len(text), syntax_of(dialect))
        assert time.perf_counter() - started < 2

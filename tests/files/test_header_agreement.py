"""Discovery (what planning, ``status`` and ``info`` use) and the loader (what runs) read an SQL
file's headers and sections alike, for every layout of headers and every engine's rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from uno_migrations import InvalidMigrationError
from uno_migrations.files.discovery import discover
from uno_migrations.files.loader import load_migration
from uno_migrations.files.migration import MigrationBase

MakeDir = Callable[..., Path]

HEADERS = [
    "-- Migration: Create the orders",
    "-- Description: What customers ordered",
    "-- Dependencies: 1_a, 2_b",
    "-- Tags: sales, orders",
    "-- Transactional: false",
]
EXPECTED = {
    "name": "Create the orders",
    "description": "What customers ordered",
    "dependencies": ["1_a", "2_b"],
    "tags": ["sales", "orders"],
    "transactional": False,
    "reversible": True,
}
BODY = "\nCREATE TABLE orders (id INTEGER);\nINSERT INTO orders VALUES (1);\n-- DOWN\nDROP TABLE orders;\n"

LAYOUTS: dict[str, Callable[[list[str]], str]] = {
    "plain": lambda h: "\n".join(h),
    "after a block comment": lambda h: "/* The orders. */\n" + "\n".join(h),
    "after a block comment on the first header's line": lambda h: "/* The orders. */ " + "\n".join(h),
    "after a multi-line block comment holding a header": lambda h: (
        "/*\n-- Tags: no\n-- DOWN\n*/\n" + "\n".join(h)
    ),
    "after line comments": lambda h: "-- The orders\n--\n-- (see the wiki)\n" + "\n".join(h),
    "with blank lines between": lambda h: "\n\n" + "\n\n\n".join(h),
    "with comments among them": lambda h: "\n".join(f"{line}\n-- note: {i}" for i, line in enumerate(h)),
    "with block comments among them": lambda h: "\n".join(f"/* {i} */\n{line}" for i, line in enumerate(h)),
    "with indentation and odd spacing": lambda h: "\n".join(
        "  " + line.replace("-- ", "--\t").replace(": ", "  :  ") for line in h
    ),
    "in lower and upper case": lambda h: "\n".join(
        line.split(":")[0].upper() + ":" + line.split(":", 1)[1] for line in h
    ),
    "after a dbmate up marker": lambda h: "-- migrate:up\n" + "\n".join(h),
    "before a dbmate up marker": lambda h: "\n".join(h) + "\n-- migrate:up",
    "after a banner up marker": lambda h: "-- === UP MIGRATION ===\n" + "\n".join(h),
    "with Windows line endings": lambda h: "\n".join(h),  # made CRLF below
    "after a byte order mark": lambda h: "\ufeff" + "\n".join(h),
    "after a MySQL-style # comment": lambda h: "# The orders\n" + "\n".join(h),
}


def _compared(base: MigrationBase) -> dict[str, object]:
    return {key: getattr(base, key) for key in EXPECTED} | {"problem": getattr(base, "problem", None)}


def _both(directory: Path, dialect: str) -> tuple[dict[str, object], dict[str, object] | str]:
    """What discovery says about the last file, and what the loader says (or its error)."""
    found = discover([directory], dialect)[-1]
    try:
        loaded = load_migration(found, dialect).base
    except InvalidMigrationError as exc:
        return _compared(found), f"invalid: {exc.reason}"
    return _compared(found), _compared(loaded)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_every_header_layout_is_read_alike(layout_name: str, dialect: str, make_migrations: MakeDir) -> None:
    text = LAYOUTS[layout_name](HEADERS) + "\n" + BODY
    if layout_name == "with Windows line endings":
        text = text.replace("\n", "\r\n")
    directory = make_migrations({"1_a.sql": "SELECT 1;", "2_b.sql": "SELECT 1;"})
    (directory / "3_orders.sql").write_bytes(text.encode("utf-8"))
    discovered, loaded = _both(directory, dialect)
    assert discovered == loaded
    if layout_name == "after a MySQL-style # comment" and dialect != "mysql":
        # Elsewhere "#" is no comment: the file starts with SQL, and has no header.
        assert discovered["dependencies"] == [] and discovered["name"] == "orders"
    else:
        assert discovered == EXPECTED | {"problem": None}


CASES = {
    "no header": "CREATE TABLE t (id INTEGER);\n",
    "no separator": "-- Migration: One way\nUPDATE t SET id = 1;\n",
    "empty title": "-- Migration:\n-- Tags:\nSELECT 1;\n",
    "headers repeated": "-- Dependencies: 1_a\n-- Tags: x\n-- Dependencies: 2_b, 1_a\n-- Tags: y\nSELECT 1;\n",
    "headers after the first statement": "SELECT 1;\n-- Dependencies: 1_a\n-- Transactional: false\n",
    "headers after the down separator": "-- DOWN\n-- Dependencies: 1_a\n-- Tags: x\n",
    "header in a string": "SELECT '\n-- Dependencies: 1_a\n';\n",
    "separator in a string": "SELECT '\n-- DOWN\n';\n",
    "separator in a block comment": "SELECT 1;\n/*\n-- DOWN\n*/\n",
    "separator in a dollar quote": "SELECT $$\n-- DOWN\n$$;\n",
    "separator in a quoted identifier": 'SELECT 1 AS "\n-- DOWN\n";\n',
    "separator after a multi-line string": "SELECT 'a\nb';\n-- DOWN\nSELECT 2;\n",
    "separator after a trigger": "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;\n-- DOWN\nDROP TRIGGER t;\n",
    "separator after a # comment": "SELECT 1; # it's\n-- DOWN\nSELECT 2;\n",
    "separator written --DOWN": "SELECT 1;\n--DOWN\nSELECT 2;\n",
    "dbmate sections": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
    "dbmate transaction option": "-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\n",
    "dbmate transaction option on the down marker": "-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\n",
    "banner sections": "-- === UP MIGRATION ===\nSELECT 1;\n-- === DOWN MIGRATION ===\nSELECT 2;\n",
    "comments only": "-- Migration: Draft\n-- write it later\n-- DOWN\n",
    "mysql delimiter": "-- Tags: x\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n-- DOWN\n",
    "invalid transactional value": "-- Migration: x\n-- Transactional: maybe\nSELECT 1;\n",
    "two titles": "-- Migration: a\n-- Migration: b\nSELECT 1;\n",
    "two down separators": "SELECT 1;\n-- DOWN\nSELECT 2;\n-- DOWN\n",
    "unknown marker option": "-- migrate:up foo:bar\nSELECT 1;\n",
    "unterminated string": "-- Migration: x\nINSERT INTO t VALUES ('oops);\n",
    "unterminated string after the separator": "SELECT 1;\n-- DOWN\nSELECT 'oops;\n",
    "unterminated block comment in the header": "/* a note\n-- Dependencies: 1_a\nSELECT 1;\n",
    "statement before the up marker": "SELECT 0;\n-- migrate:up\nSELECT 1;\n",
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("case", list(CASES))
def test_discovery_and_loader_agree(case: str, dialect: str, make_migrations: MakeDir) -> None:
    directory = make_migrations({"1_a.sql": "SELECT 1;", "2_b.sql": "SELECT 1;", "3_c.sql": CASES[case]})
    discovered, loaded = _both(directory, dialect)
    if isinstance(loaded, str):
        # The loader refuses the file: discovery must have found the same reason (status and
        # verify show it), unless only splitting the statements finds it.
        assert discovered["problem"] == loaded.removeprefix("invalid: "), loaded
    else:
        assert discovered == loaded


def test_what_the_cases_say(make_migrations: MakeDir) -> None:
    """A few of the cases above, spelled out (the agreement alone would let both be wrong)."""

    def read(case: str, dialect: str = "postgresql") -> MigrationBase:
        directory = make_migrations({"1_a.sql": "SELECT 1;", "2_b.sql": "SELECT 1;", "3_c.sql": CASES[case]})
        return discover([directory], dialect)[-1]

    assert read("headers repeated").dependencies == ["1_a", "2_b"]
    assert read("headers repeated").tags == ["x", "y"]
    assert read("empty title").name == "c"
    after = read("headers after the first statement")
    assert after.dependencies == [] and after.transactional is True
    assert read("headers after the down separator").dependencies == []
    assert read("header in a string").dependencies == []
    for case in ("separator in a string", "separator in a block comment", "separator in a dollar quote"):
        assert read(case).reversible is False, case
    assert read("separator in a quoted identifier").reversible is False
    assert read("separator after a multi-line string").reversible is True
    assert read("separator after a # comment", "mysql").reversible is True
    assert read("separator written --DOWN", "postgresql").reversible is True
    assert read("separator written --DOWN", "mysql").reversible is False  # "--D" is no comment there
    assert read("dbmate transaction option").transactional is False
    assert read("dbmate transaction option on the down marker").transactional is False
    assert read("no separator").reversible is False
    assert read("mysql delimiter", "mysql").tags == ["x"]
    assert read("unterminated string").problem == "unterminated string literal starting on line 2"
    assert read("unterminated string after the separator").problem == (
        "unterminated string literal starting on line 3"
    )
    assert read("invalid transactional value").problem == (
        "line 2: invalid Transactional value 'maybe'; use true or false"
    )

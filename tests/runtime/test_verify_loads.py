"""``verify`` loads every migration, applied and pending, as ``migrate`` would before running
anything; ``status`` marks an SQL file that does not parse, and ``info`` on it is an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import Cli, TestDatabase, version_rows

GOOD = {
    "1_a.sql": "-- Migration: A\nCREATE TABLE a (id INTEGER);\n-- DOWN\nDROP TABLE a;\n",
    "2_b.sql": "CREATE TABLE b (id INTEGER);\n-- DOWN\nDROP TABLE b;\n",
    "3_c.py": "async def up(context):\n    await context.execute_sql('CREATE TABLE c (id INTEGER)')\n",
}
BROKEN = {
    "4_open_string.sql": "-- Migration: Open string\nINSERT INTO b VALUES ('oops);\n",
    "5_no_up_statements.sql": "-- DOWN\nDROP TABLE b;\n",
    "6_syntax.py": "def up(context)\n    pass\n",
    "7_no_up.py": "X = 1\n",
}
REASONS = {
    "4_open_string": "unterminated string literal starting on line 2",
    "5_no_up_statements": "the up section holds no statements",
    "6_syntax": "syntax error at line 1",
    "7_no_up": "defines neither up(context) nor a Migration subclass",
}


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(exist_ok=True)
    for name, content in files.items():
        (directory / name).write_text(content, encoding="utf-8")


async def test_verify_checks_pending_files_too(db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    _write(directory, GOOD)
    args = ("-u", db.url, "-d", str(directory))
    assert (await cli.run(*args, "migrate", "--steps", "1")).exit_code == 0

    clean = await cli.run(*args, "verify")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == "All 3 migrations verified (1 applied, 2 pending)\n", clean.stdout

    _write(directory, BROKEN)
    result = await cli.run(*args, "verify")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(BROKEN), result.stdout
    for line, (migration_id, reason) in zip(lines, REASONS.items(), strict=True):
        assert line.startswith(f"invalid  {migration_id} ("), line
        assert reason in line, line
    assert "verify found 4 problems" in result.stderr
    assert "verified" not in result.stdout

    # migrate makes the same checks before it runs anything.
    refused = await cli.run(*args, "migrate")
    assert refused.exit_code == 1
    assert REASONS["4_open_string"] in refused.stderr
    assert await version_rows(db) == ["1_a"]


async def test_status_and_info_on_a_file_that_does_not_parse(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    _write(directory, {**GOOD, "4_open_string.sql": BROKEN["4_open_string.sql"]})
    args = ("-u", db.url, "-d", str(directory))
    assert (await cli.run(*args, "migrate", "--target", "1_a")).exit_code == 0

    status = await cli.run(*args, "status")
    assert status.exit_code == 0, status.output
    assert re.search(r"^4_open_string +invalid ", status.stdout, re.MULTILINE), status.stdout
    assert re.search(r"^2_b +pending ", status.stdout, re.MULTILINE), status.stdout

    info = await cli.run(*args, "info", "4_open_string")
    assert info.exit_code == 1
    assert f"4_open_string.sql: {REASONS['4_open_string']}" in info.stderr

    assert (await cli.run(*args, "migrate", "--target", "3_c")).exit_code == 0
    only_invalid = await cli.run(*args, "status", "--exit-code")
    assert only_invalid.exit_code == 3, only_invalid.output
    document = json.loads((await cli.run(*args, "status", "--json")).stdout)
    broken = next(m for m in document["migrations"] if m["id"] == "4_open_string")
    assert broken["status"] == "invalid" and broken["problem"] == REASONS["4_open_string"], broken


async def test_an_applied_file_that_no_longer_loads(db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    _write(directory, GOOD)
    args = ("-u", db.url, "-d", str(directory))
    assert (await cli.run(*args, "migrate")).exit_code == 0
    (directory / "3_c.py").write_text("def up(context)\n", encoding="utf-8")

    result = await cli.run(*args, "verify")
    assert result.exit_code == 1, result.output
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["modified", "3_c"],
        ["invalid", "3_c"],
    ]

"""Lock timeouts and retries from the command line (docs/safety.md): the options and config keys
set them, each retry is a line on stderr, and the last failure names the session waited behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase
from sqlalchemy import text

MakeDir = Callable[..., Path]
both = pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
TIMEOUT = {"postgresql": "0.3", "mysql": "1"}
FILES = {
    "1000_items.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY);\n-- DOWN\nDROP TABLE items;\n",
    "1001_price.sql": "ALTER TABLE items ADD COLUMN price INTEGER;\n-- DOWN\nALTER TABLE items DROP COLUMN price;\n",
}


@both
async def test_each_retry_is_shown_and_the_last_failure_names_the_blocker(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli
) -> None:
    directory = str(make_migrations(FILES))
    assert (await cli.run("-u", db.url, "-d", directory, "migrate", "--target", "1000")).exit_code == 0
    timeout = TIMEOUT[db.dialect]
    async with db.engine.connect() as blocker:
        await blocker.execute(text("SELECT * FROM items"))
        result = await cli.process(  # a real process: its -v logs go to its stderr
            "script",
            "-v",
            "-u",
            db.url,
            "-d",
            directory,
            "--statement-lock-timeout",
            timeout,
            "--lock-retries",
            "2",
            "migrate",
        )
        await blocker.rollback()
    assert result.exit_code == 1
    retries = [line for line in result.stderr.splitlines() if " timed out waiting for a lock" in line]
    assert len(retries) == 2, result.stderr
    assert retries[0].startswith("1001_price timed out waiting for a lock behind ")
    assert retries[0].endswith("(attempt 2)") and retries[1].endswith("(attempt 3)")
    assert (
        f"1001_price waited {float(timeout):g} s for a lock and gave up (attempt 1 of 3)" in result.stderr
    )  # -v
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: migration 1001_price (")
    assert f"it waited {float(timeout):g} s for a lock (3 attempts); waiting behind " in error
    assert "Applying 1001_price ... failed" in result.stdout


@both
async def test_the_config_file_sets_them_and_a_run_without_a_blocker_waits_for_nothing(
    db: TestDatabase, make_migrations: MakeDir, cli: Cli, tmp_path: Path
) -> None:
    directory = make_migrations(FILES)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.uno_migrations]\ndirectories = ["{directory.name}"]\n'
        f"statement_lock_timeout = {TIMEOUT[db.dialect]}\nlock_retries = 0\nstatement_timeout = 30\n"
    )
    assert (await cli.run("-u", db.url, "migrate", "--target", "1000")).exit_code == 0
    async with db.engine.connect() as blocker:
        await blocker.execute(text("SELECT * FROM items"))
        blocked = await cli.run("-u", db.url, "migrate")
        await blocker.rollback()
    assert blocked.exit_code == 1
    assert "(1 attempt)" in blocked.stderr and "timed out waiting for a lock behind" not in blocked.stderr
    done = await cli.run("-u", db.url, "migrate")
    assert done.exit_code == 0, done.output
    assert "Applying 1001_price ... " in done.stdout


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("lock_retries", "-1", "lock_retries must be a whole number >= 0, not -1"),
        (
            "statement_lock_timeout",
            '"soon"',
            "statement_lock_timeout must be a number of seconds, not 'soon'",
        ),
    ],
)
def test_a_bad_value_in_the_config_file_is_one_line(
    cli: Cli, tmp_path: Path, key: str, value: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.uno_migrations]\n{key} = {value}\n")
    result = cli("-u", "sqlite:///app.db", "migrate")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: pyproject.toml: {message}"
    assert not (tmp_path / "app.db").exists()


def test_a_bad_option_is_a_usage_error(cli: Cli) -> None:
    result = cli("-u", "sqlite:///app.db", "--lock-retries", "many", "migrate")
    assert result.exit_code == 2 and "'many' is not a valid integer" in result.stderr

"""Every up/down separator style README.md and docs/sql-migrations.md name, applied and reverted
through the command line on every engine; and Flyway's file names, which are not accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Cli, TestDatabase

UP = "CREATE TABLE sections (id INTEGER);\n"
DOWN = "DROP TABLE sections;\n"

FORMS = {
    "-- DOWN": f"{UP}\n-- DOWN\n{DOWN}",
    "-- down, indented": f"{UP}\n   --   down\n{DOWN}",
    "banners": f"-- === UP MIGRATION ===\n{UP}\n-- === DOWN MIGRATION ===\n{DOWN}",
    "a down banner alone": f"{UP}\n-- === DOWN MIGRATION ===\n{DOWN}",
    "dbmate markers": f"-- migrate:up\n{UP}\n-- migrate:down\n{DOWN}",
    "a dbmate down marker alone": f"{UP}\n-- migrate:down\n{DOWN}",
    "dbmate markers with headers before them": f"-- Migration: Sections\n\n-- migrate:up\n{UP}\n-- migrate:down\n{DOWN}",
    "dbmate markers with transaction:false": f"-- migrate:up transaction:false\n{UP}\n-- migrate:down\n{DOWN}",
}


@pytest.mark.parametrize("form", list(FORMS))
async def test_each_separator_style_applies_and_reverts(
    form: str, db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "1_sections.sql").write_text(FORMS[form], encoding="utf-8")
    args = ("-u", db.url, "-d", str(directory))
    applied = await cli.run(*args, "migrate")
    assert applied.exit_code == 0, applied.output
    assert "sections" in await db.tables()
    reverted = await cli.run(*args, "rollback")
    assert reverted.exit_code == 0, reverted.output
    assert "sections" not in await db.tables()


@pytest.mark.parametrize("name", ["V1__create_sections.sql", "U1__create_sections.sql", "V2_1__more.sql"])
async def test_flyway_file_names_are_not_migrations(
    name: str, db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """Flyway keeps its undo step in a separate U<version>__ file; uno-migrations has no such
    naming, and says so instead of skipping the file."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / name).write_text(UP, encoding="utf-8")
    result = await cli.run("-u", db.url, "-d", str(directory), "migrate")
    assert result.exit_code == 1
    assert f"{name}: does not match <version>_<slug>" in result.stderr
    assert await db.tables() == set()

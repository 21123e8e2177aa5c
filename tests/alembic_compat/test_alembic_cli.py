"""``--alembic-directory`` and ``alembic_directories``: Alembic revisions on the command line."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from alembic_support import HEAD, ORDER, VERSIONS
from helpers import Cli, TestDatabase, imported_after, only, version_rows


async def test_the_option_before_or_after_the_command(db: TestDatabase, cli: Cli) -> None:
    first = await cli.run("--alembic-directory", str(VERSIONS), "-u", db.url, "migrate", "--target", "d4c0")
    assert first.exit_code == 0, first.output
    assert [line.split(" ... ")[0] for line in first.stdout.splitlines()[:-1]] == [
        f"Applying {rev}" for rev in ORDER[:4]
    ]
    status = await cli.run("-u", db.url, "status", "--alembic-directory", str(VERSIONS))
    assert status.exit_code == 0, status.output
    assert re.search(r"^a1c0ffee0001\s+applied\s", status.stdout, re.M)
    assert re.search(rf"^{HEAD}\s+pending\s+-\s", status.stdout, re.M)
    rest = await cli.run("-u", db.url, "migrate", "--alembic-directory", str(VERSIONS))
    assert rest.exit_code == 0 and f"Applied {len(ORDER) - 4} migrations" in rest.stdout
    assert await version_rows(db) == sorted(ORDER)


@only("sqlite")
async def test_config_key_beside_uno_directories(db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.uno_migrations]\ndirectories = ["migrations"]\nalembic_directories = ["{VERSIONS.as_posix()}"]\n',
        encoding="utf-8",
    )
    created = cli("create", "tag posts", "--type", "sql", "--depends-on", "c9c0ff")
    assert created.exit_code == 0, created.output
    path = tmp_path / created.stdout.strip()
    assert "-- Dependencies: c9c0ffee0009\n" in path.read_text(encoding="utf-8")
    info = cli("info")
    assert re.search(
        r"^ebc0ffee0011\s+alembic\s+a7c0ffee0007, dac0ffee0010\s+merge billing and tagging$",
        info.stdout,
        re.M,
    )
    assert info.stdout.splitlines()[-1].startswith(path.stem)
    detail = cli("info", "dac0")
    assert "  kind:          alembic\n" in detail.stdout and "  tags:          -\n" in detail.stdout
    migrated = await cli.run("-u", db.url, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert await version_rows(db) == sorted([*ORDER, path.stem])


@only("sqlite")
async def test_alembic_directory_alone_needs_no_migrations_directory(db: TestDatabase, cli: Cli) -> None:
    result = await cli.run("-u", db.url, "--alembic-directory", str(VERSIONS), "migrate", "--steps", "1")
    assert result.exit_code == 0, result.output
    missing = await cli.run("-u", db.url, "--alembic-directory", "nowhere/versions", "status")
    assert missing.exit_code == 1
    assert missing.stderr == "error: Alembic versions directory not found: nowhere/versions\n"


def test_a_clear_line_when_alembic_is_not_installed(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "alembic" else real(name, *args)
    )
    result = cli("-u", "sqlite:///x.db", "--alembic-directory", str(VERSIONS), "status")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --alembic-directory needs Alembic, which is not installed: "
        "pip install 'uno-migrations[alembic]'\n"
    )
    generated = cli("-u", "sqlite:///x.db", "create", "x", "--autogenerate", "--metadata", "m:md")
    assert generated.stderr.startswith("error: --autogenerate needs Alembic, which is not installed")


@only("sqlite")
def test_nothing_to_apply_does_not_import_alembic(db: TestDatabase, tmp_path: Path) -> None:
    """Listing reads the revision files; Alembic is imported once a revision has to run."""
    base = ["-q", "-u", db.url, "--alembic-directory", str(VERSIONS)]
    status, first, rest = (
        [*base, "status"],
        [*base, "migrate", "--target", "a1c0ffee0001"],
        [*base, "migrate"],
    )
    assert imported_after([status], ["alembic"], tmp_path) == [[]]
    assert imported_after([first, rest], ["alembic"], tmp_path) == [["alembic"], ["alembic"]]
    assert imported_after([rest, status], ["alembic"], tmp_path) == [[], []]

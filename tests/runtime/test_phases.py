"""Deploy phases through the library, on every engine: ``migrate(phase="pre")`` applies the pending
migrations in plan order up to the first post-deploy one, ``phase="post"`` the rest, each exactly
once; ``target``, ``steps``, ``dry_run`` and ``sql`` combine with it; a bad phase or a file with a
bad ``phase`` changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase, version_rows

import uno_migrations
from uno_migrations import InvalidMigrationError, MigrationError, Migrator

MakeDir = Callable[..., Path]

#: The zero-downtime rename of people.name to full_name, and a pre-deploy migration merged after
#: the post-deploy one (it waits for it: the plan's order is kept).
RENAME = {
    "1000_create_people.sql": """
        CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50));
        INSERT INTO people (id, name) VALUES (1, 'ada');
        -- DOWN
        DROP TABLE people;
    """,
    "1001_add_full_name.sql": """
        -- Lock-timeout: 2s
        ALTER TABLE people ADD COLUMN full_name VARCHAR(50);
        UPDATE people SET full_name = name;
        -- DOWN
        ALTER TABLE people DROP COLUMN full_name;
    """,
    "1002_drop_name.py": """
        phase = "post-deploy"


        async def up(context):
            await context.execute_sql("ALTER TABLE people DROP COLUMN name")


        async def down(context):
            await context.execute_sql("ALTER TABLE people ADD COLUMN name VARCHAR(50)")
    """,
    "1003_create_audit.sql": """
        CREATE TABLE audit (id INTEGER PRIMARY KEY);
        -- DOWN
        DROP TABLE audit;
    """,
    "1004_drop_audit_default.sql": """
        -- Phase: post-deploy
        INSERT INTO audit (id) VALUES (1);
        -- DOWN
        DELETE FROM audit;
    """,
}
IDS = sorted(name.split(".")[0] for name in RENAME)


@pytest.fixture
def rename(make_migrations: MakeDir) -> Path:
    return make_migrations(RENAME)


async def test_pre_stops_before_the_first_post_deploy_migration_and_post_applies_the_rest(
    db: TestDatabase, rename: Path
) -> None:
    migrator = Migrator(db.url, [rename])
    before = await migrator.migrate(phase="pre")
    assert before.ids == IDS[:2] and before.stopped_before == "1002_drop_name"
    assert await version_rows(db) == IDS[:2]
    assert await db.columns("people") == {"id", "name", "full_name"}  # the old code still works
    assert "audit" not in await db.tables()  # pre-deploy, but after the post-deploy one: it waits

    again = await migrator.migrate(phase="pre")
    assert (again.ids, again.stopped_before) == ([], "1002_drop_name")

    after = await migrator.migrate(phase="post")
    assert after.ids == IDS[2:] and after.stopped_before is None
    assert await db.columns("people") == {"id", "full_name"}
    assert await db.fetch("SELECT id, full_name FROM people") == [(1, "ada")]
    assert await db.fetch("SELECT id FROM audit") == [(1,)]

    done = await migrator.migrate(phase="pre")
    assert (done.ids, done.stopped_before) == ([], None)
    assert (await migrator.migrate(phase="post")).ids == []
    applies = [e.migration_id for e in await migrator.history() if e.action == "apply"]
    assert applies == IDS  # in plan order, each exactly once


async def test_status_reports_each_phase(db: TestDatabase, rename: Path) -> None:
    migrator = Migrator(db.url, [rename])
    await migrator.migrate(phase="pre")
    states = {s.id: (s.status, s.phase) for s in await migrator.status()}
    assert states == {
        "1000_create_people": ("applied", "pre-deploy"),
        "1001_add_full_name": ("applied", "pre-deploy"),
        "1002_drop_name": ("pending", "post-deploy"),
        "1003_create_audit": ("pending", "pre-deploy"),
        "1004_drop_audit_default": ("pending", "post-deploy"),
    }
    assert migrator.plan().get("1001_add_full_name").lock_timeout == 2.0  # type: ignore[union-attr]


async def test_without_a_phase_everything_applies_as_before(db: TestDatabase, rename: Path) -> None:
    report = await Migrator(db.url, [rename]).migrate()
    assert report.ids == IDS and report.stopped_before is None


@pytest.mark.parametrize(
    "limits,applied,stopped",
    [
        ({"steps": 1}, IDS[:1], None),  # the steps end first: nothing was left for the phase
        ({"steps": 3}, IDS[:2], "1002_drop_name"),  # the phase ends first
        ({"target": "1003"}, IDS[:2], "1002_drop_name"),
        ({"target": "1001"}, IDS[:2], None),
    ],
)
async def test_pre_with_a_target_or_steps_applies_the_smaller_set(
    db: TestDatabase, rename: Path, limits: dict[str, object], applied: list[str], stopped: str | None
) -> None:
    report = await Migrator(db.url, [rename]).migrate(phase="pre", **limits)  # type: ignore[arg-type]
    assert (report.ids, report.stopped_before) == (applied, stopped)
    assert await version_rows(db) == applied


async def test_post_with_a_target_stops_there(db: TestDatabase, rename: Path) -> None:
    report = await Migrator(db.url, [rename]).migrate(phase="post", target="1002")
    assert report.ids == IDS[:3] and report.stopped_before is None


async def test_dry_run_and_sql_honour_the_phase(db: TestDatabase, rename: Path) -> None:
    migrator = Migrator(db.url, [rename])
    plan = await migrator.migrate(phase="pre", dry_run=True)
    assert (plan.ids, plan.stopped_before) == (IDS[:2], "1002_drop_name")
    script = await migrator.migrate(phase="pre", sql=True)
    assert script.script is not None and script.stopped_before == "1002_drop_name"
    assert script.script.ids == IDS[:2]
    assert "ADD COLUMN full_name" in script.script.text and "DROP COLUMN name" not in script.script.text
    assert "people" not in await db.tables()  # neither changed anything


async def test_the_one_call_api_takes_the_phase(db: TestDatabase, rename: Path) -> None:
    report = await uno_migrations.migrate(db.url, rename, phase="pre")
    assert (report.ids, report.stopped_before) == (IDS[:2], "1002_drop_name")


async def test_an_unknown_phase_is_refused_before_anything_runs(db: TestDatabase, rename: Path) -> None:
    with pytest.raises(MigrationError, match="phase must be 'pre' or 'post', not 'post-deploy'"):
        await Migrator(db.url, [rename]).migrate(phase="post-deploy")  # type: ignore[arg-type]
    assert await db.tables() == set()


async def test_a_file_with_a_bad_phase_is_invalid_and_migrate_refuses_it(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {
            **{name: RENAME[name] for name in ("1000_create_people.sql", "1001_add_full_name.sql")},
            "1002_drop_name.py": RENAME["1002_drop_name.py"].replace('"post-deploy"', '"after-deploy"'),
        }
    )
    migrator = Migrator(db.url, [directory])
    states = {s.id: s for s in await migrator.status()}
    assert states["1002_drop_name"].status == "invalid"
    assert (
        states["1002_drop_name"].problem
        == "line 1: invalid phase 'after-deploy'; use pre-deploy or post-deploy"
    )
    with pytest.raises(
        InvalidMigrationError, match=r"1002_drop_name\.py: line 1: invalid phase 'after-deploy'"
    ):
        await migrator.migrate()
    assert await db.tables() == set()  # loaded before the first migration ran: nothing changed

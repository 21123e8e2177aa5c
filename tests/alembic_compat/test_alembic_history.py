"""The test history (16 revisions: branches, a merge, batch mode, data migrations, a project helper)
runs through uno on every engine and leaves the schema Alembic itself leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic_support import HEAD, ORDER, VERSION_TABLES, VERSIONS, alembic, history_migrator, schema_of
from helpers import TestDatabase, fresh_database

from alembic_compat import AlembicSource


async def test_history_to_head_and_back_matches_alembic(db: TestDatabase, tmp_path: Path) -> None:
    migrator = history_migrator(db.url)
    report = await migrator.migrate()
    assert report.ids == ORDER
    rows = await db.fetch("SELECT id, kind, status FROM uno_migrations ORDER BY id")
    assert rows == [(rev, "alembic", "applied") for rev in sorted(ORDER)]

    # The data migrations ran: bulk_insert, raw SQL through op.get_bind(), op.execute.
    assert await db.fetch("SELECT id, full_name, status FROM users ORDER BY id") == [
        (1, "Ada Lovelace", "active"),
        (2, "Grace Hopper", "active"),
        (3, None, "active"),
    ]
    assert await db.fetch("SELECT number, amount_cents FROM invoices ORDER BY number") == [
        ("INV-0001", 1000),
        ("INV-0002", 2000),
        ("INV-0003", 3000),
    ]
    assert await db.fetch("SELECT kind FROM audit_events") == [("migrated",)]

    ours = await schema_of(db.url)
    async with fresh_database(db.dialect, tmp_path) as theirs:
        await alembic(theirs.url)
        assert await theirs.scalar("SELECT version_num FROM alembic_version") == HEAD
        assert ours == await schema_of(theirs.url)
    assert set(ours) == {"users", "posts", "invoices", "tags", "post_tags", "audit_events"}
    assert ("ix_posts_user_id_title", ("user_id", "title"), False) in ours["posts"]["indexes"]

    back = await migrator.rollback(all=True)
    assert back.ids == ORDER[::-1]
    assert await db.tables() == VERSION_TABLES
    assert (await migrator.migrate()).ids == ORDER
    assert await schema_of(db.url) == ours


async def test_targets_prefixes_and_partial_rollbacks(db: TestDatabase) -> None:
    migrator = history_migrator(db.url)
    # A target applies it and everything before it in plan order; a unique prefix is enough.
    assert (await migrator.migrate(target="c9c0ff")).ids == ORDER[: ORDER.index("c9c0ffee0009") + 1]
    assert await db.tables() == VERSION_TABLES | {"users", "posts", "tags", "post_tags"}
    assert (await migrator.migrate(steps=2)).ids == ["e5c0ffee0005", "dac0ffee0010"]
    assert "created_at" in await db.columns("tags")
    assert (await migrator.rollback(steps=3)).ids == ["dac0ffee0010", "e5c0ffee0005", "c9c0ffee0009"]
    assert "created_at" not in await db.columns("tags")
    states = {state.id: state.status for state in await migrator.status()}
    assert [rev for rev in ORDER if states[rev] == "applied"] == ORDER[:5]


async def test_two_histories_at_once_each_on_its_own_database(db: TestDatabase, tmp_path: Path) -> None:
    """``op`` inside a revision is the running migration's, even with two runs interleaved."""
    async with fresh_database(db.dialect, tmp_path) as other:
        first, second = history_migrator(db.url), history_migrator(other.url)
        reports = await asyncio.gather(first.migrate(), second.migrate())
        assert [r.ids for r in reports] == [ORDER, ORDER]
        assert await schema_of(db.url) == await schema_of(other.url)
        assert await other.scalar("SELECT COUNT(*) FROM invoices") == 3


def test_listing_reads_the_files_without_importing_them(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        (versions / path.name).write_text(f"raise RuntimeError('imported')\n{text}", encoding="utf-8")
    found = {m.id: m for m in AlembicSource([versions]).discover(None)}
    assert sorted(found) == sorted(ORDER)
    merge = found["ebc0ffee0011"]
    assert merge.dependencies == ["a7c0ffee0007", "dac0ffee0010"] and merge.kind == "alembic"
    # depends_on="billing" names the revision that declares the label.
    assert found["dac0ffee0010"].dependencies == ["c9c0ffee0009", "e5c0ffee0005"]
    assert found["e5c0ffee0005"].tags == ["billing"]
    assert found["a1c0ffee0001"].name == "create users" and found["a1c0ffee0001"].version is None
    assert found["2fc0ffee0015"].reversible  # a downgrade() that only passes still reverts

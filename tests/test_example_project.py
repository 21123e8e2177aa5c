"""The example project in examples/ migrates and rolls back on every engine."""

from __future__ import annotations

from pathlib import Path

from helpers import TestDatabase

from uno_migrations import Migrator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "migrations"


async def test_example_project_round_trip(db: TestDatabase) -> None:
    migrator = Migrator(db.url, directories=[EXAMPLES])
    report = await migrator.migrate()
    assert report.ids == [
        "1700000000_create_authors",
        "1700000100_create_posts",
        "1700000200_add_post_slugs",
        "1700000300_create_tags",
        "1700000400_normalize_author_emails",
    ]
    assert await db.fetch("SELECT email FROM authors ORDER BY id") == [
        ("ada@example.com",),
        ("grace@example.com",),
    ]
    assert await db.fetch("SELECT slug FROM posts ORDER BY id") == [
        ("notes-on-the-analytical-engine",),
        ("debugging-a-moth-s-tale",),
    ]
    assert await db.fetch("SELECT name FROM tags ORDER BY id") == [("history",), ("computing",)]
    body = await db.scalar("SELECT body FROM posts WHERE id = 1")
    assert "patterns; just as" in body

    states = {s.id: s.status for s in await migrator.status()}
    assert set(states.values()) == {"applied"}

    await migrator.rollback(all=True)
    assert await db.tables() == {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
    # And forward again: the down steps left nothing behind that would block a re-apply.
    assert len((await migrator.migrate()).runs) == 5

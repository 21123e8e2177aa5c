"""What docs/alembic.md promises in its prose, tried on every engine through the command line."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

from helpers import Cli, TestDatabase

MakeDir = Callable[..., Path]


def _revision(directory: Path, revision: str, down: str | None, upgrade: str, downgrade: str | None) -> None:
    """One Alembic revision file, as Alembic writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    text = f'''
        """revision {revision}"""
        import sqlalchemy as sa
        from alembic import op

        revision = {revision!r}
        down_revision = {down!r}
        branch_labels = None
        depends_on = None


        def upgrade():
            {upgrade}
    '''
    if downgrade is not None:
        text += f"""

        def downgrade():
            {downgrade}
    """
    (directory / f"{revision}_rev.py").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _states(result_stdout: str) -> dict[str, tuple[str, bool]]:
    document = json.loads(result_stdout)
    return {m["id"]: (m["status"], m["out_of_order"]) for m in document["migrations"]}


async def test_revisions_come_first_and_a_late_revision_still_runs(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/alembic.md, "1. Run the versions directory" (**Ids and order**): "where nothing
    orders them, they come before every uno migration, and among themselves by revision id"; and
    "3. Write new migrations as uno files": "A revision added to the Alembic directory later
    still runs: the next `migrate` applies it (and `status` marks it "out of order" while uno
    migrations applied after it exist)"."""
    versions = tmp_path / "alembic" / "versions"
    _revision(versions, "bbbb", None, "op.create_table('b_table', sa.Column('id', sa.Integer))", "pass")
    _revision(versions, "aaaa", None, "op.create_table('a_table', sa.Column('id', sa.Integer))", "pass")
    uno = str(make_migrations({"1_uno.sql": "CREATE TABLE uno_table (id INTEGER);"}))
    base = ["-u", db.url, "-d", uno, "--alembic-directory", str(versions)]
    first = await cli.run(*base, "migrate")
    assert first.exit_code == 0, first.output
    log = await db.fetch("SELECT migration_id FROM uno_migrations_log WHERE action = 'apply' ORDER BY seq")
    assert [row[0] for row in log] == ["aaaa", "bbbb", "1_uno"]

    _revision(versions, "cccc", None, "op.create_table('c_table', sa.Column('id', sa.Integer))", "pass")
    status = await cli.run(*base, "status", "--json")
    assert _states(status.stdout)["cccc"] == ("pending", True), status.stdout
    again = await cli.run(*base, "migrate")
    assert again.exit_code == 0, again.output
    assert "c_table" in await db.tables()
    assert _states((await cli.run(*base, "status", "--json")).stdout)["cccc"][0] == "applied"


async def test_a_pass_downgrade_is_a_no_op_and_no_downgrade_is_irreversible(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """docs/alembic.md, "1. Run the versions directory" (**Running**): "A `downgrade()` that only
    says `pass` reverts as a no-op, as in Alembic; a revision without `downgrade()` is
    irreversible"."""
    versions = tmp_path / "versions"
    _revision(versions, "a1", None, "op.create_table('kept', sa.Column('id', sa.Integer))", "pass")
    _revision(versions, "b2", "a1", "op.create_table('forward', sa.Column('id', sa.Integer))", None)
    base = ["-u", db.url, "--alembic-directory", str(versions)]
    assert (await cli.run(*base, "migrate")).exit_code == 0
    refused = await cli.run(*base, "rollback")
    assert refused.exit_code == 1 and "b2" in refused.stderr, refused.output
    assert [row[0] for row in await db.fetch("SELECT id FROM uno_migrations ORDER BY id")] == ["a1", "b2"]
    assert (await cli.run(*base, "rollback", "--fake")).exit_code == 0
    reverted = await cli.run(*base, "rollback")
    assert reverted.exit_code == 0, reverted.output
    assert await db.fetch("SELECT id FROM uno_migrations") == []
    assert {"kept", "forward"} <= await db.tables()


async def test_alembic_version_is_read_never_written(db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    """docs/alembic.md, "2. Adopt the databases Alembic migrated": "`alembic_version` is read,
    never written" -- neither by `adopt` nor by the `migrate` and `rollback` after it; "running
    it again is harmless"."""
    versions = tmp_path / "versions"
    _revision(
        versions, "a1", None, "op.create_table('one', sa.Column('id', sa.Integer))", "op.drop_table('one')"
    )
    _revision(
        versions, "b2", "a1", "op.create_table('two', sa.Column('id', sa.Integer))", "op.drop_table('two')"
    )
    await db.execute("CREATE TABLE one (id INTEGER)")
    await db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    await db.execute("INSERT INTO alembic_version (version_num) VALUES ('a1')")
    base = ["-u", db.url, "--alembic-directory", str(versions)]
    for _ in range(2):
        adopted = await cli.run(*base, "alembic", "adopt")
        assert adopted.exit_code == 0, adopted.output
    assert [row[0] for row in await db.fetch("SELECT id FROM uno_migrations")] == ["a1"]
    assert (await cli.run(*base, "migrate")).exit_code == 0
    assert "two" in await db.tables()
    assert (await cli.run(*base, "rollback", "--all")).exit_code == 0
    assert "one" not in await db.tables()
    assert await db.fetch("SELECT version_num FROM alembic_version") == [("a1",)]

"""Alembic operations inside uno Python migrations, and uno migrations that depend on revisions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic_support import ORDER, VERSION_TABLES, history_migrator, write_revision
from helpers import TestDatabase, only

from uno_migrations import ExecutionError, Migrator

OPS_MIGRATIONS = {
    "1000_create_accounts.py": """
        import sqlalchemy as sa

        from alembic_compat import alembic_ops


        async def up(context):
            async with alembic_ops(context) as op:
                accounts = op.create_table(
                    "accounts",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("email", sa.String(100), nullable=False),
                )
                op.bulk_insert(accounts, [{"id": 1, "email": "a@example.com"}, {"id": 2, "email": "b@example.com"}])
                op.create_index(op.f("ix_accounts_email"), "accounts", ["email"], unique=True)


        async def down(context):
            async with alembic_ops(context) as op:
                op.drop_table("accounts")
    """,
    "1001_account_status.py": """
        import sqlalchemy as sa

        from alembic_compat import alembic_ops

        dependencies = ["1000_create_accounts"]


        async def up(context):
            async with alembic_ops(context) as op:
                op.add_column("accounts", sa.Column("status", sa.String(20)))
            # After the block: the column exists by now.
            await context.execute_sql("UPDATE accounts SET status = 'active'")
            async with alembic_ops(context) as op:
                with op.batch_alter_table("accounts") as batch:
                    batch.alter_column("status", existing_type=sa.String(20), nullable=False)
                    batch.create_index("ix_accounts_status", ["status"])


        async def down(context):
            async with alembic_ops(context) as op:
                with op.batch_alter_table("accounts") as batch:
                    batch.drop_index("ix_accounts_status")
                    batch.drop_column("status")
    """,
    "1002_count_accounts.py": """
        import sqlalchemy as sa

        from alembic_compat import run_operations

        dependencies = ["1001_account_status"]


        def add_counts(op):
            op.create_table("account_counts", sa.Column("n", sa.Integer(), nullable=False))
            bind = op.get_bind()
            total = bind.execute(sa.text("SELECT COUNT(*) FROM accounts")).scalar_one()
            bind.execute(sa.text("INSERT INTO account_counts (n) VALUES (:n)"), {"n": total})
            return total


        async def up(context):
            assert await run_operations(context, add_counts) == 2
            assert await context.has_table("account_counts")  # the same connection and transaction


        async def down(context):
            await run_operations(context, lambda op: op.drop_table("account_counts"))
    """,
}


async def test_alembic_operations_in_uno_migrations(
    db: TestDatabase, make_migrations: Callable[..., Path]
) -> None:
    migrator = Migrator(db.url, [make_migrations(OPS_MIGRATIONS)])
    assert len((await migrator.migrate()).ids) == 3
    assert await db.fetch("SELECT id, email, status FROM accounts ORDER BY id") == [
        (1, "a@example.com", "active"),
        (2, "b@example.com", "active"),
    ]
    assert await db.fetch("SELECT n FROM account_counts") == [(2,)]
    assert "status" in await db.columns("accounts")
    assert len((await migrator.rollback(all=True)).ids) == 3
    assert await db.tables() == VERSION_TABLES


async def test_a_failing_operation_rolls_back_and_names_its_statement(
    db: TestDatabase, make_migrations: Callable[..., Path]
) -> None:
    directory = make_migrations(
        {
            "1_broken.py": """
                import sqlalchemy as sa

                from alembic_compat import alembic_ops


                async def up(context):
                    async with alembic_ops(context) as op:
                        op.create_table("kept_out", sa.Column("id", sa.Integer(), primary_key=True))
                        op.add_column("no_such_table", sa.Column("x", sa.Integer()))
            """
        }
    )
    with pytest.raises(ExecutionError) as raised:
        await Migrator(db.url, [directory]).migrate()
    assert raised.value.migration_id == "1_broken"
    assert raised.value.statement is not None and "no_such_table" in raised.value.statement
    assert "\n" not in str(raised.value)
    if db.dialect != "mysql":  # MySQL commits DDL as it goes
        assert "kept_out" not in await db.tables()


async def test_uno_migration_depending_on_an_alembic_revision(
    db: TestDatabase, make_migrations: Callable[..., Path]
) -> None:
    uno = make_migrations(
        {
            "1_tag_posts.sql": """
                -- Dependencies: c9c0ffee0009
                INSERT INTO tags (id, name) VALUES (1, 'news');
                -- DOWN
                DELETE FROM tags;
            """,
            "2_first.py": """
                async def up(context):
                    await context.execute_sql("CREATE TABLE uno_first (id INTEGER PRIMARY KEY)")


                async def down(context):
                    await context.execute_sql("DROP TABLE uno_first")
            """,
        }
    )
    migrator = history_migrator(db.url, uno)
    plan = [m.id for m in migrator.plan().migrations]
    # Revisions (no version) come before uno migrations unless a dependency says otherwise.
    assert plan == [*ORDER, "1_tag_posts", "2_first"]
    assert (await migrator.migrate(target="1_tag")).ids == [*ORDER, "1_tag_posts"]
    assert await db.fetch("SELECT name FROM tags") == [("news",)]
    # Rolling back to before the revision reverts the uno migration that needs it first.
    back = await migrator.rollback(target="b8c0ffee0008")
    assert back.ids[0] == "1_tag_posts" and "c9c0ffee0009" in back.ids and "b8c0ffee0008" not in back.ids


async def test_a_migration_after_revisions_in_the_same_run_is_still_atomic(
    db: TestDatabase, tmp_path: Path, make_migrations: Callable[..., Path]
) -> None:
    """Revisions run on the run's own connection (on PostgreSQL with its own BEGIN and COMMIT
    around SQLAlchemy's statements): the connection is left as it was, so a uno migration after
    them that fails half-way still takes back everything it wrote."""
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None, "op.create_table('notes', sa.Column('id', sa.Integer()))")
    write_revision(versions, "bbbb", "aaaa", "op.execute('INSERT INTO notes (id) VALUES (1)')")
    uno = make_migrations(
        {
            "1_half_done.py": """
                dependencies = ["bbbb"]


                async def up(context):
                    await context.execute_sql("INSERT INTO notes (id) VALUES (2)")
                    await context.execute_sql("INSERT INTO no_such_table (id) VALUES (3)")
            """
        }
    )
    migrator = history_migrator(db.url, uno, versions=versions)
    with pytest.raises(ExecutionError) as raised:
        await migrator.migrate()
    assert raised.value.migration_id == "1_half_done"
    assert await db.fetch("SELECT id FROM notes") == [(1,)]
    assert await db.fetch("SELECT id, status FROM uno_migrations ORDER BY id") == [
        ("aaaa", "applied"),
        ("bbbb", "applied"),
    ]


async def test_a_revision_that_raises_keeps_nothing_and_the_next_run_applies_it(
    db: TestDatabase, tmp_path: Path
) -> None:
    """A Python exception in upgrade() (not a failing statement) rolls back what the revision
    wrote through op.get_bind(), and leaves the run's connection fit for the next run."""
    versions = tmp_path / "versions"
    write_revision(versions, "aaaa", None, "op.create_table('kept', sa.Column('id', sa.Integer()))")
    write_revision(
        versions,
        "bbbb",
        "aaaa",
        """
        op.get_bind().execute(sa.text("INSERT INTO kept (id) VALUES (1)"))
        raise RuntimeError("boom")
        """,
    )
    migrator = history_migrator(db.url, versions=versions)
    with pytest.raises(ExecutionError) as raised:
        await migrator.migrate()
    assert raised.value.migration_id == "bbbb" and "boom" in str(raised.value)
    assert await db.fetch("SELECT id FROM kept") == []
    assert await db.fetch("SELECT id, status FROM uno_migrations ORDER BY id") == [("aaaa", "applied")]
    write_revision(versions, "bbbb", "aaaa", 'op.execute("INSERT INTO kept (id) VALUES (2)")')
    assert (await migrator.migrate()).ids == ["bbbb"]
    assert await db.fetch("SELECT id FROM kept") == [(2,)]


async def test_revision_names_are_recorded_as_written(db: TestDatabase, tmp_path: Path) -> None:
    """Quotes and backslashes in what a revision records (its message here): on PostgreSQL such
    values are sent as parameters rather than written into the query."""
    versions = tmp_path / "versions"
    path = write_revision(versions, "aaaa", None, "op.create_table('t', sa.Column('id', sa.Integer()))")
    message = "copy C:\\data\\it's in"
    text = path.read_text(encoding="utf-8").replace('"""revision aaaa"""', f'r"""{message}"""')
    path.write_text(text, encoding="utf-8")
    migrator = history_migrator(db.url, versions=versions)
    assert (await migrator.migrate()).ids == ["aaaa"]
    assert await db.fetch("SELECT name, status FROM uno_migrations") == [
        ("copy C:\\data\\it's in", "applied")
    ]
    assert [entry.action for entry in await migrator.history()] == ["apply"]


async def test_context_and_autocommit_block_inside_revisions(db: TestDatabase, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = .\nmarker = yes\n", encoding="utf-8")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        header="from alembic import context",
        upgrade="""
            assert context.get_context() is op.get_context()
            assert not context.is_offline_mode() and context.get_x_argument() == []
            assert context.config.get_main_option("marker") == "yes"
            op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("sku", sa.String(20)))
        """,
        downgrade='op.drop_table("items")',
    )
    write_revision(
        project / "versions",
        "bbbb",
        "aaaa",
        upgrade="""
            with op.get_context().autocommit_block():
                if op.get_bind().dialect.name == "postgresql":
                    op.execute("CREATE INDEX CONCURRENTLY ix_items_sku ON items (sku)")
                else:
                    op.create_index("ix_items_sku", "items", ["sku"])
        """,
        downgrade='op.drop_index("ix_items_sku", table_name="items")',
    )
    migrator = history_migrator(db.url, versions=project / "versions")
    bases = {m.id: m for m in migrator.plan().migrations}
    assert bases["aaaa"].transactional and not bases["bbbb"].transactional
    assert (await migrator.migrate()).ids == ["aaaa", "bbbb"]
    async with db.engine.connect() as connection:
        assert await connection.run_sync(lambda c: sa.inspect(c).has_index("items", "ix_items_sku"))
    assert (await migrator.rollback(all=True)).ids == ["bbbb", "aaaa"]
    assert await db.tables() == VERSION_TABLES


@only("sqlite")
@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('op.add_colum("typo", None)', "AttributeError: Alembic Operations have no operation 'add_colum'"),
        ("op.get_bind()", "op.get_bind() needs the connection while the operations run"),
    ],
)
async def test_recorded_blocks_refuse_what_they_cannot_do(
    db: TestDatabase, make_migrations: Callable[..., Path], call: str, message: str
) -> None:
    directory = make_migrations(
        {
            "1_refused.py": f"""
                from alembic_compat import alembic_ops


                async def up(context):
                    async with alembic_ops(context) as op:
                        {call}
            """
        }
    )
    with pytest.raises(ExecutionError) as raised:
        await Migrator(db.url, [directory]).migrate()
    assert message in str(raised.value)

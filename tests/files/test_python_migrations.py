"""Python migrations: function and class forms, names, sync steps, ids, loading errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase

from uno_migrations import InvalidMigrationError, Migrator

MakeDir = Callable[..., Path]


async def test_sync_functions_and_upgrade_downgrade_names(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "1_sync.py": """\
                def up(context):
                    # A plain function may return the coroutine; the runner awaits it.
                    return context.execute_sql("CREATE TABLE sync_made (id INTEGER)")

                def down(context):
                    return context.execute_sql("DROP TABLE sync_made")
            """,
            "2_alembic_names.py": """\
                async def upgrade(context):
                    await context.execute_sql("CREATE TABLE upgraded (id INTEGER)")

                async def downgrade(context):
                    await context.execute_sql("DROP TABLE upgraded")
            """,
        }
    )
    migrator = Migrator(db.url, [directory])
    assert (await migrator.migrate()).ids == ["1_sync", "2_alembic_names"]
    assert {"sync_made", "upgraded"} <= await db.tables()
    assert [s.kind for s in await migrator.status()] == ["python", "python"]
    await migrator.rollback(all=True)
    assert not {"sync_made", "upgraded"} & await db.tables()


async def test_class_based_ids_come_from_the_file(db: TestDatabase, make_migrations: MakeDir) -> None:
    directory = make_migrations(
        {
            "1616725000_add_roles.py": """\
                from uno_migrations.migration import Migration, MigrationBase, create_migration

                class AddRoles(Migration):
                    transactional = True

                    def __init__(self):
                        base = create_migration(name="Add roles", description="RBAC", tags=["auth"])
                        assert isinstance(base, MigrationBase) and base.id is None
                        super().__init__(base)

                    async def apply(self, context):
                        assert context.migration is self and self.id == "1616725000_add_roles"
                        await context.execute_sql("CREATE TABLE roles (id INTEGER)")

                    async def revert(self, context):
                        await context.execute_sql("DROP TABLE roles")
            """
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    rows = await db.fetch("SELECT id, name, description, kind FROM uno_migrations")
    assert rows == [("1616725000_add_roles", "Add roles", "RBAC", "class")]
    await migrator.rollback()
    assert "roles" not in await db.tables()


def test_public_names_from_both_module_paths() -> None:
    import uno_migrations
    import uno_migrations.migration as seed_path

    for name in ("Migration", "MigrationBase", "create_migration", "MigrationStatus"):
        assert getattr(seed_path, name) is getattr(uno_migrations, name)
    statuses = {"pending", "applied", "failed", "modified", "missing", "invalid"}
    assert {s.value for s in uno_migrations.MigrationStatus} == statuses
    for name in ("MigrationContext", "Migrator", "MigrationError"):
        assert hasattr(uno_migrations, name)


BROKEN = {
    "syntax": ("def up(context)\n    pass\n", "syntax error at line 1"),
    "import": ("import not_a_module_anywhere\n\nasync def up(context):\n    pass\n", "No module named"),
    "nothing": ("X = 1\n", "neither up(context) nor a Migration subclass"),
    "not_callable": ("up = 3\n", "up is not callable"),
    "two_classes": (
        "from uno_migrations import Migration, create_migration\n"
        "class A(Migration):\n    def __init__(self):\n        super().__init__(create_migration('a'))\n"
        "class B(Migration):\n    def __init__(self):\n        super().__init__(create_migration('b'))\n",
        "defines 2 Migration classes (A, B)",
    ),
    "other_id": (
        "from uno_migrations import Migration, create_migration\n"
        "class A(Migration):\n    def __init__(self):\n"
        "        super().__init__(create_migration('a', id='7_other'))\n",
        "differs from the file's id",
    ),
    "no_super": (
        "from uno_migrations import Migration\nclass A(Migration):\n    def __init__(self):\n        pass\n",
        "must call super().__init__",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_python_files_stop_the_run_before_any_change(
    case: str, tmp_path: Path, make_migrations: MakeDir
) -> None:
    source, message = BROKEN[case]
    directory = make_migrations({"1_fine.sql": "CREATE TABLE fine (id INTEGER);\n", f"2_{case}.py": source})
    database = tmp_path / "app.db"
    with pytest.raises(InvalidMigrationError) as info:
        await Migrator(f"sqlite:///{database}", [directory]).migrate()
    assert message in str(info.value)
    assert f"2_{case}.py" in str(info.value)
    # Nothing changed: not the first migration, not even the version table.
    assert not database.exists() or database.stat().st_size == 0

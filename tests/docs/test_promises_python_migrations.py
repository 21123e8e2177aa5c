"""What docs/python-migrations.md promises in its prose, tried on every engine through the public API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase
from sqlalchemy.ext.asyncio import create_async_engine

from uno_migrations import (
    ChecksumMismatchError,
    DiscoveryError,
    DuplicateMigrationError,
    FailedMigrationError,
    IrreversibleMigrationError,
    MigrationError,
    Migrator,
    UnknownDependencyError,
)

MakeDir = Callable[..., Path]

TABLE = {
    "1616724000_create_settings.py": """
        async def up(context):
            await context.execute_sql("CREATE TABLE settings (id INTEGER PRIMARY KEY)")


        async def down(context):
            await context.execute_sql("DROP TABLE settings")
    """,
}


def _recorder(name: str, deps: str = "[]") -> str:
    """A migration that appends its own id to ``runs`` when applied."""
    return f"""
        dependencies = {deps}


        async def up(context):
            await context.execute_sql("INSERT INTO runs (name) VALUES ($1)", [{name!r}])


        async def down(context):
            pass
    """


async def _ids(migrator: Migrator) -> dict[str, str]:
    return {state.id: state.status for state in await migrator.status()}


async def test_a_unique_prefix_works_for_targets_and_repair(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "File names and ids": "A unique prefix (`1616724000`) works
    for `--target`, `rollback(target=...)` and `repair`" -- `migrate(target=...)`,
    `rollback(target=...)` and `repair`; `dependencies` takes the whole id."""
    directory = make_migrations(
        {
            **TABLE,
            "1616724100_fill_settings.py": """
                dependencies = ["1616724000_create_settings"]


                async def up(context):
                    await context.execute_sql("INSERT INTO settings (id) VALUES (1)")


                async def down(context):
                    await context.execute_sql("DELETE FROM settings")
            """,
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate(target="1616724000")
    assert await _ids(migrator) == {
        "1616724000_create_settings": "applied",
        "1616724100_fill_settings": "pending",
    }
    await migrator.migrate(target="1616724100")
    assert await db.fetch("SELECT id FROM settings") == [(1,)]
    await migrator.rollback(target="1616724000")
    assert await _ids(migrator) == {
        "1616724000_create_settings": "applied",
        "1616724100_fill_settings": "pending",
    }
    assert await db.fetch("SELECT id FROM settings") == []
    assert await migrator.repair(["1616724000"]) == []  # a prefix names it; nothing to repair
    by_prefix = make_migrations({**TABLE, "1616724100_fill_settings.py": _recorder("x", '["1616724000"]')})
    with pytest.raises(UnknownDependencyError):  # `dependencies` takes the whole id
        await Migrator(db.url, [by_prefix]).migrate()


async def test_ignored_files_and_misnamed_files(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/python-migrations.md, "File names and ids": files starting with `_` or `.` and files
    that are not `.py`/`.sql` are ignored; "A `.py` or `.sql` file that does not match the pattern
    ... is an error naming the file", before anything runs."""
    ignored = {
        **TABLE,
        "__init__.py": "raise RuntimeError('imported')",
        "_helpers.py": "raise RuntimeError('imported')",
        ".hidden.sql": "THIS IS NOT SQL;",
        "README.md": "not a migration",
    }
    directory = make_migrations(ignored)
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    assert await _ids(migrator) == {"1616724000_create_settings": "applied"}
    for bad in ("add_users.py", "123-add.py", "1616724000_Settings.py", "12_bad name.sql"):
        other = make_migrations({**TABLE, bad: "async def up(context):\n    pass\n"})
        with pytest.raises(DiscoveryError) as info:
            await Migrator(db.url, [other], table="other_versions").migrate()
        assert bad in str(info.value), (bad, str(info.value))
    assert "other_versions" not in await db.tables()


async def test_ids_must_be_unique_across_directories(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/python-migrations.md, "File names and ids": "Several directories may be used at once
    ...; ids must be unique across them"."""
    first = make_migrations(TABLE)
    second = make_migrations({"1616724000_create_settings.sql": "CREATE TABLE settings (id INTEGER);"})
    third = make_migrations({"1616724200_other.sql": "CREATE TABLE other (id INTEGER);"})
    with pytest.raises(DuplicateMigrationError) as info:
        await Migrator(db.url, [first, second]).migrate()
    assert "1616724000_create_settings" in str(info.value)
    assert await db.tables() == set()
    await Migrator(db.url, [first, third]).migrate()
    assert {"settings", "other"} <= await db.tables()


async def test_order_is_dependencies_then_numeric_versions_then_ids(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "File names and ids": "Migrations run after the migrations they
    depend on; otherwise in the order of their versions (compared as numbers), then ids"."""
    key = {"postgresql": "seq SERIAL PRIMARY KEY", "mysql": "seq INTEGER PRIMARY KEY AUTO_INCREMENT"}
    runs = f"CREATE TABLE runs ({key.get(db.dialect, 'seq INTEGER PRIMARY KEY')}, name VARCHAR(20));"
    directory = make_migrations(
        {
            "1_runs.sql": runs,
            "2_needs_ten.py": _recorder("2_needs_ten", '["10_b"]'),
            "9_nine.py": _recorder("9_nine"),
            "10_b.py": _recorder("10_b"),
            "10_a.py": _recorder("10_a"),
        }
    )
    await Migrator(db.url, [directory]).migrate()
    assert [row[0] for row in await db.fetch("SELECT name FROM runs ORDER BY seq")] == [
        "9_nine",
        "10_a",
        "10_b",
        "2_needs_ten",
    ]


async def test_a_description_attribute_wins_over_the_header(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "Module attributes and header comments": `# Migration:` is the
    title (default: the slug, with spaces); "`description = "..."` ... wins over the header
    comment"."""
    directory = make_migrations(
        {
            "1_titled.py": """
                # Migration: A title
                # Description: from the header
                description = "from the attribute"


                async def up(context):
                    pass
            """,
            "2_add_display_names.py": """
                # Description: only the header


                async def up(context):
                    pass
            """,
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    states = {state.id: (state.name, state.description) for state in await migrator.status()}
    assert states == {
        "1_titled": ("A title", "from the attribute"),
        "2_add_display_names": ("add display names", "only the header"),
    }


async def test_a_non_transactional_migration_that_fails_half_way_keeps_its_failed_row(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "Module attributes and header comments": "If such a migration
    fails half-way ... what ran before stays, and so does its `failed` row: the next `migrate`
    stops at it instead of running it again. Undo what it did by hand and `repair` it"."""
    directory = make_migrations(
        {
            "1_half_way.py": """
                transactional = False


                async def up(context):
                    await context.execute_sql("CREATE TABLE first_half (id INTEGER)")
                    await context.execute_sql("INSERT INTO nowhere VALUES (1)")
            """,
            "2_after.sql": "CREATE TABLE after_it (id INTEGER);",
        }
    )
    migrator = Migrator(db.url, [directory])
    with pytest.raises(MigrationError):
        await migrator.migrate()
    assert "first_half" in await db.tables()
    assert await _ids(migrator) == {"1_half_way": "failed", "2_after": "pending"}
    with pytest.raises(FailedMigrationError) as info:
        await migrator.migrate()
    assert "1_half_way" in str(info.value)
    assert "after_it" not in await db.tables()
    await db.execute("DROP TABLE first_half")
    assert await migrator.repair(["1_half_way"]) == ["1_half_way"]
    assert await _ids(migrator) == {"1_half_way": "pending", "2_after": "pending"}


async def test_a_class_without_revert_is_irreversible_and_fake_removes_its_record(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "Irreversible migrations" and "Class-based Migrations": a
    module without `down`, or a class without `revert`, is irreversible: "rolling it back stops
    with an error naming it, before anything is reverted", and "`rollback(fake=True)` removes its
    record without running anything"."""
    directory = make_migrations(
        {
            **TABLE,
            "1616724100_class_forward.py": """
                from uno_migrations import Migration, create_migration


                class Forward(Migration):
                    def __init__(self):
                        super().__init__(create_migration("Forward only"))

                    async def apply(self, context):
                        await context.execute_sql("INSERT INTO settings (id) VALUES (1)")
            """,
            "1616724200_reversible.py": """
                async def up(context):
                    await context.execute_sql("CREATE TABLE later (id INTEGER)")


                async def down(context):
                    await context.execute_sql("DROP TABLE later")
            """,
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate()
    with pytest.raises(IrreversibleMigrationError) as info:
        await migrator.rollback(all=True)
    assert "1616724100_class_forward" in str(info.value)
    assert "later" in await db.tables()  # the later, reversible one was not reverted either
    assert set((await _ids(migrator)).values()) == {"applied"}
    await migrator.rollback(steps=1)
    await migrator.rollback(steps=1, fake=True)
    assert await db.fetch("SELECT id FROM settings") == [(1,)]  # nothing ran
    assert await _ids(migrator) == {
        "1616724000_create_settings": "applied",
        "1616724100_class_forward": "pending",
        "1616724200_reversible": "pending",
    }


_CLASS = """
from uno_migrations import Migration, create_migration


class Roles(Migration):
    def __init__(self):
        super().__init__(create_migration("Roles"))

    async def apply(self, context):
        await context.execute_sql("CREATE TABLE roles (id INTEGER)")

    async def revert(self, context):
        await context.execute_sql("DROP TABLE roles")
{extra}
"""


async def test_an_edited_file_is_modified_unless_the_class_decides_its_checksum(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """docs/python-migrations.md, "Class-based Migrations": "an applied migration whose file later
    changes is reported as `modified` (and `migrate` refuses to run until you restore the file or
    run `repair`). A class that overrides `get_checksum()` decides that value itself"."""
    constant = '\n    def get_checksum(self):\n        return "v1"\n'
    directory = make_migrations(
        {
            "1_roles.py": _CLASS.format(extra=""),
            "2_roles_fixed.py": _CLASS.format(extra=constant).replace("roles", "fixed"),
            "3_later.sql": "CREATE TABLE later (id INTEGER);",
        }
    )
    migrator = Migrator(db.url, [directory])
    await migrator.migrate(target="2_roles_fixed")
    original = (directory / "1_roles.py").read_text()
    for name in ("1_roles.py", "2_roles_fixed.py"):
        path = directory / name
        path.write_text(path.read_text() + "\n# edited\n")
    assert await _ids(migrator) == {"1_roles": "modified", "2_roles_fixed": "applied", "3_later": "pending"}
    with pytest.raises(ChecksumMismatchError) as info:
        await migrator.migrate()
    assert "1_roles" in str(info.value) and "2_roles_fixed" not in str(info.value)
    (directory / "1_roles.py").write_text(original)
    assert (await _ids(migrator))["1_roles"] == "applied"
    (directory / "1_roles.py").write_text(original + "\n# edited again\n")
    assert await migrator.repair() == ["1_roles"]
    await migrator.migrate()
    assert "later" in await db.tables()


async def test_the_library_adds_no_logging_handlers(
    db: TestDatabase, make_migrations: MakeDir, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/python-migrations.md, "Logging During Migration": the logger is named
    `uno_migrations.migration.<id>`; "The library adds no handlers"; "one line per migration
    (`applied 002_row in 3 ms`)" at INFO."""
    directory = make_migrations(
        {
            "001_table.sql": "CREATE TABLE t (id INTEGER);",
            "002_row.py": """
                async def up(context):
                    context.logger.info("inside %s", context.migration.id)
                    await context.execute_sql("INSERT INTO t (id) VALUES (1)")
            """,
        }
    )
    caplog.set_level(logging.INFO, logger="uno_migrations")
    await Migrator(db.url, [directory]).migrate()
    package = logging.getLogger("uno_migrations")
    loggers = [package] + [
        logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if name.startswith("uno_migrations") and isinstance(logger, logging.Logger)
    ]
    assert [logger.name for logger in loggers if logger.handlers] == []
    records = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert ("uno_migrations.migration.002_row", "inside 002_row") in records
    applied = [message for _, message in records if message.startswith("applied ")]
    assert [message.split(" in ")[0] for message in applied] == ["applied 001_table", "applied 002_row"]
    assert all(message.endswith(" ms") for message in applied)


@pytest.mark.parametrize("engine_name", ["mysql"], indirect=True)
async def test_mariadb_is_mysql_to_context_dialect(db: TestDatabase, make_migrations: MakeDir) -> None:
    """docs/python-migrations.md, "Multi-database Support": "MariaDB is `"mysql"`";
    "`context.connection.dialect.name` gives the same names when the migrator was given a URL, but
    an engine you create yourself from a `mariadb+aiomysql://` URL calls itself `"mariadb"`, so
    prefer `context.dialect`"."""
    directory = make_migrations(
        {
            "1_names.py": """
                async def up(context):
                    await context.execute_sql("CREATE TABLE IF NOT EXISTS names (a VARCHAR(20), b VARCHAR(20))")
                    await context.execute_sql(
                        "INSERT INTO names (a, b) VALUES ($1, $2)", [context.dialect, context.connection.dialect.name]
                    )


                async def down(context):
                    pass
            """
        }
    )
    mariadb_url = db.url.replace("mysql+aiomysql://", "mariadb+aiomysql://", 1)
    assert mariadb_url != db.url
    await Migrator(mariadb_url, [directory]).migrate()
    assert await db.fetch("SELECT a, b FROM names") == [("mysql", "mysql")]
    await Migrator(db.url, [directory]).rollback()
    engine = create_async_engine(mariadb_url)
    try:
        await Migrator(engine, [directory]).migrate()
    finally:
        await engine.dispose()
    assert await db.fetch("SELECT a, b FROM names") == [("mysql", "mysql"), ("mysql", "mariadb")]

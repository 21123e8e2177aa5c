"""The migration context on every engine: parameters, results, batches, streams, savepoints."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import TestDatabase

from uno_migrations import ExecutionError, Migrator

MakeDir = Callable[..., Path]

SERIAL = {
    "postgresql": "SERIAL PRIMARY KEY",
    "mysql": "INTEGER AUTO_INCREMENT PRIMARY KEY",
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
}


async def apply(db: TestDatabase, make_migrations: MakeDir, *files: tuple[str, str]) -> Migrator:
    migrator = Migrator(db.url, directories=[make_migrations(dict(files))])
    await migrator.migrate()
    return migrator


async def test_parameters_never_touch_literals_or_comments(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_params.py",
            f"""
            async def up(context):
                await context.execute_sql("CREATE TABLE t (id {SERIAL[db.dialect]}, v VARCHAR(100), n INTEGER)")
                await context.execute_sql(
                    "INSERT INTO t (v, n) VALUES ('$1 :x % ? $$', $1) -- $2 :y ? %",
                    [1],
                )
                await context.execute_sql(
                    "INSERT INTO t (v, n) /* :n $1 */ VALUES (':n %s 100%', :n)",
                    {{"n": 2}},
                )
                await context.execute_sql(
                    "INSERT INTO t (v, n) VALUES ($2, $1), ($2, $1)",
                    [3, "repeated $1"],
                )
                await context.execute_sql("INSERT INTO t (v, n) VALUES ('no params: 50% ? :x', 4)")
                rows = await (await context.execute_sql("SELECT v, n FROM t WHERE n = :n", {{"n": 3}})).fetchall()
                assert [(row.v, row.n) for row in rows] == [("repeated $1", 3)] * 2, rows
            """,
        ),
    )
    assert await db.fetch("SELECT v, n FROM t ORDER BY id") == [
        ("$1 :x % ? $$", 1),
        (":n %s 100%", 2),
        ("repeated $1", 3),
        ("repeated $1", 3),
        ("no params: 50% ? :x", 4),
    ]


async def test_postgresql_casts_and_dollar_quoted_bodies(
    pg_db: TestDatabase, make_migrations: MakeDir
) -> None:
    await apply(
        pg_db,
        make_migrations,
        (
            "1_pg.py",
            '''
            async def up(context):
                assert await (await context.execute_sql("SELECT $1::int + 1", [41])).scalar() == 42
                assert await (await context.execute_sql("SELECT :x::text || '::'", {"x": "a"})).scalar() == "a::"
                await context.execute_sql(
                    """
                    CREATE FUNCTION label(n integer) RETURNS text AS $$
                        SELECT 'n;' || n::text || '; $1 :x';
                    $$ LANGUAGE sql;
                    CREATE FUNCTION other() RETURNS text AS $body$ BEGIN RETURN 'x;$$;y'; END; $body$ LANGUAGE plpgsql;
                    DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;
                    """
                )
                assert await (await context.execute_sql("SELECT label($1)", [7])).scalar() == "n;7; $1 :x"
                assert await (await context.execute_sql("SELECT other()")).scalar() == "x;$$;y"
            ''',
        ),
    )
    assert await pg_db.scalar("SELECT label(3)") == "n;3; $1 :x"


async def test_results_are_awaitable_and_rows_unpack(db: TestDatabase, make_migrations: MakeDir) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_results.py",
            """
            async def up(context):
                await context.execute_sql("CREATE TABLE r (id INTEGER PRIMARY KEY, name VARCHAR(20))")
                insert = await context.execute_sql("INSERT INTO r (id, name) VALUES (1, 'a'), (2, 'b')")
                assert insert.rowcount == 2
                result = await context.execute_sql("SELECT id, name FROM r ORDER BY id")
                first = await result.fetchone()
                assert first.name == "a" and tuple(first) == (1, "a")
                rest = await result.fetchall()
                assert [(i, n) for i, n in rest] == [(2, "b")]
                assert await result.fetchone() is None
                assert await (await context.execute_sql("SELECT count(*) FROM r")).scalar() == 2
                ddl = await context.execute_sql("CREATE TABLE done (ok INTEGER)")
                assert await ddl.fetchall() == []
                await context.execute_sql("INSERT INTO done (ok) VALUES (1)")
            """,
        ),
    )
    assert await db.fetch("SELECT ok FROM done") == [(1,)]


async def test_execute_many_iterate_and_core_statements(db: TestDatabase, make_migrations: MakeDir) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_data.py",
            """
            from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
            from sqlalchemy.schema import CreateTable

            items = Table("items", MetaData(), Column("id", Integer, primary_key=True, autoincrement=False),
                          Column("email", String(100)))

            async def up(context):
                await context.execute(CreateTable(items))
                await context.execute(insert(items).values(id=0, email="  ZERO@X.ORG"))
                count = await context.execute_many(
                    "INSERT INTO items (id, email) VALUES ($1, $2)",
                    [(i, f" User{i}@Example.COM ") for i in range(1, 2501)],
                )
                await context.execute_many(
                    "INSERT INTO items (email, id) VALUES (:email, :id)",
                    [{"id": 3000 + i, "email": f"N{i}@X.ORG"} for i in range(5)],
                )
                seen = 0
                sizes = []
                async for batch in context.iterate("SELECT id, email FROM items WHERE id >= $1 ORDER BY id",
                                                   [0], batch_size=1000):
                    sizes.append(len(batch))
                    seen += len(batch)
                    await context.execute_many(
                        "UPDATE items SET email = $1 WHERE id = $2",
                        [(email.strip().lower(), item_id) for item_id, email in batch],
                    )
                assert seen == 2506, seen
                assert sizes == [1000, 1000, 506], sizes
                rows = await (await context.execute(select(items.c.email).where(items.c.id == 0))).fetchall()
                assert rows[0].email == "zero@x.org"
            """,
        ),
    )
    assert await db.scalar("SELECT count(*) FROM items") == 2506
    assert await db.scalar("SELECT email FROM items WHERE id = 2500") == "user2500@example.com"
    assert await db.scalar("SELECT email FROM items WHERE id = 3004") == "n4@x.org"


async def test_iterate_gives_rows_stops_early_and_raises_database_errors(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_stream.py",
            """
            from sqlalchemy.engine import Row
            from sqlalchemy.exc import DBAPIError

            async def up(context):
                await context.execute_sql("CREATE TABLE items (id INTEGER PRIMARY KEY, email VARCHAR(100))")
                await context.execute_sql("CREATE TABLE outcome (what VARCHAR(20))")
                await context.execute_many(
                    "INSERT INTO items (id, email) VALUES ($1, $2)", [(i, f"u{i}@x.org") for i in range(1, 31)]
                )
                sizes, seen = [], []
                async for batch in context.iterate("SELECT id, email AS mail FROM items ORDER BY id", batch_size=7):
                    sizes.append(len(batch))
                    for row in batch:
                        assert isinstance(row, Row), type(row)
                        assert row.mail == row._mapping["mail"] == row[1] == f"u{row.id}@x.org", row
                        seen.append(tuple(row))
                assert sizes == [7, 7, 7, 7, 2], sizes
                assert seen == [(i, f"u{i}@x.org") for i in range(1, 31)], seen

                async for batch in context.iterate("SELECT id FROM items WHERE id < $1", [0]):
                    raise AssertionError(f"rows from an empty result: {batch}")

                async for batch in context.iterate("SELECT id FROM items ORDER BY id", batch_size=5):
                    assert [row.id for row in batch] == [1, 2, 3, 4, 5], batch
                    break
                await context.execute_sql("UPDATE items SET email = $1 WHERE id = $2", ["first@x.org", 1])
                async for batch in context.iterate("SELECT email FROM items WHERE id = 1"):
                    assert [row.email for row in batch] == ["first@x.org"], batch

                async def probe():
                    async for batch in context.iterate("SELECT id FROM no_such_table"):
                        raise AssertionError(batch)

                try:
                    await context.execute_transaction(probe)
                except DBAPIError:
                    await context.execute_sql("INSERT INTO outcome (what) VALUES ('caught')")
            """,
        ),
    )
    assert await db.fetch("SELECT what FROM outcome") == [("caught",)]
    assert await db.scalar("SELECT email FROM items WHERE id = 1") == "first@x.org"


async def test_iterate_in_a_migration_outside_a_transaction(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    """PostgreSQL keeps cursors only in a transaction: the stream gets one of its own there."""
    await apply(
        db,
        make_migrations,
        (
            "1_outside.py",
            """
            transactional = False

            async def up(context):
                await context.execute_sql("CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER)")
                await context.execute_many("INSERT INTO items (id, n) VALUES ($1, $2)", [(i, i) for i in range(10)])
                sizes = []
                async for batch in context.iterate("SELECT id, n FROM items ORDER BY id", batch_size=4):
                    sizes.append(len(batch))
                    await context.execute_many("UPDATE items SET n = $1 WHERE id = $2", [(n * 10, i) for i, n in batch])
                assert sizes == [4, 4, 2], sizes
            """,
        ),
    )
    assert await db.fetch("SELECT n FROM items ORDER BY id") == [(n * 10,) for n in range(10)]


async def test_execute_transaction_is_a_savepoint(db: TestDatabase, make_migrations: MakeDir) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_savepoint.py",
            """
            async def up(context):
                await context.execute_sql("CREATE TABLE s (id INTEGER PRIMARY KEY)")

                async def good(first, second=None):
                    await context.execute_sql("INSERT INTO s (id) VALUES ($1)", [first])
                    await context.execute_sql("INSERT INTO s (id) VALUES ($1)", [second])
                    return "ok"

                async def bad():
                    await context.execute_sql("INSERT INTO s (id) VALUES (10)")
                    raise RuntimeError("undo this")

                assert await context.execute_transaction(good, 1, second=2) == "ok"
                try:
                    await context.execute_transaction(bad)
                except RuntimeError as exc:
                    assert str(exc) == "undo this"
                else:
                    raise AssertionError("the error must be re-raised")
            """,
        ),
    )
    assert await db.fetch("SELECT id FROM s ORDER BY id") == [(1,), (2,)]


async def test_introspection_run_sync_and_attributes(db: TestDatabase, make_migrations: MakeDir) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_base.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100));\n"
            "CREATE INDEX idx_users_email ON users (email);\n",
        ),
        (
            "2_introspect.py",
            f"""
            from sqlalchemy import inspect

            async def up(context):
                assert context.dialect == {db.dialect!r} == context.connection.dialect.name
                assert context.direction == "up"
                assert context.migration.id == "2_introspect"
                assert context.logger.name == "uno_migrations.migration.2_introspect"
                assert await context.has_table("users") and not await context.has_table("nope")
                assert await context.has_column("users", "email")
                assert not await context.has_column("users", "status")
                assert not await context.has_column("nope", "email")
                assert await context.has_index("users", "idx_users_email")
                assert not await context.has_index("users", "idx_nope")
                names = await context.run_sync(lambda conn, t: [c["name"] for c in inspect(conn).get_columns(t)], "users")
                assert names == ["id", "email"], names
                await context.execute_sql("CREATE TABLE checked (ok INTEGER)")
            """,
        ),
    )
    assert "checked" in await db.tables()


async def test_params_with_several_statements_is_a_clear_error(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    directory = make_migrations(
        {"1_bad.py": 'async def up(context):\n    await context.execute_sql("SELECT 1; SELECT $1", [1])\n'}
    )
    with pytest.raises(ExecutionError, match="one statement per execute_sql call"):
        await Migrator(db.url, directories=[directory]).migrate()


async def test_trigger_bodies_are_not_split(db: TestDatabase, make_migrations: MakeDir) -> None:
    if db.dialect == "postgresql":
        trigger = """
            CREATE FUNCTION bump() RETURNS trigger AS $$
            BEGIN
                UPDATE counters SET n = n + 1;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER bump_on_insert AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION bump();
        """
    elif db.dialect == "mysql":
        trigger = """
            CREATE TRIGGER bump_on_insert AFTER INSERT ON events FOR EACH ROW
            BEGIN
                IF NEW.id > 0 THEN
                    UPDATE counters SET n = n + 1;
                END IF;
                UPDATE counters SET n = n + CASE WHEN NEW.id > 100 THEN 100 ELSE 0 END;
            END;
        """
    else:
        trigger = """
            CREATE TRIGGER bump_on_insert AFTER INSERT ON events
            BEGIN
                UPDATE counters SET n = n + 1;
                UPDATE counters SET n = n + CASE WHEN NEW.id > 100 THEN 100 ELSE 0 END;
            END;
        """
    directory = make_migrations(
        {
            "1_trigger.sql": f"""
                CREATE TABLE events (id INTEGER PRIMARY KEY);
                CREATE TABLE counters (n INTEGER NOT NULL);
                INSERT INTO counters (n) VALUES (0);
                {trigger}
                INSERT INTO events (id) VALUES (1);
                -- DOWN
                DROP TABLE events;
                DROP TABLE counters;
            """
        }
    )
    migrator = Migrator(db.url, directories=[directory])
    await migrator.migrate()
    assert await db.scalar("SELECT n FROM counters") == 1
    await db.execute("INSERT INTO events (id) VALUES (2)")
    assert await db.scalar("SELECT n FROM counters") == 2
    await migrator.rollback()
    assert "events" not in await db.tables()


async def test_database_errors_are_sqlalchemy_errors_a_migration_can_catch(
    db: TestDatabase, make_migrations: MakeDir
) -> None:
    await apply(
        db,
        make_migrations,
        (
            "1_catch.py",
            """
            from sqlalchemy.exc import DBAPIError

            async def up(context):
                await context.execute_sql("CREATE TABLE caught (id INTEGER)")

                async def probe():
                    await context.execute_sql("SELECT * FROM no_such_table")

                try:
                    await context.execute_transaction(probe)
                except DBAPIError:
                    await context.execute_sql("INSERT INTO caught (id) VALUES (1)")
            """,
        ),
    )
    assert await db.fetch("SELECT id FROM caught") == [(1,)]


async def test_execute_transaction_around_ddl(db: TestDatabase, make_migrations: MakeDir) -> None:
    """On MySQL the DDL commits implicitly (taking the savepoint with it): that must not fail."""
    await apply(
        db,
        make_migrations,
        (
            "1_ddl.py",
            """
            async def up(context):
                async def make():
                    await context.execute_sql("CREATE TABLE made_in_savepoint (id INTEGER)")
                    await context.execute_sql("INSERT INTO made_in_savepoint (id) VALUES (1)")

                await context.execute_transaction(make)
            """,
        ),
    )
    assert await db.fetch("SELECT id FROM made_in_savepoint") == [(1,)]


async def test_a_migration_logger_is_made_only_when_used(db: TestDatabase, make_migrations: MakeDir) -> None:
    await apply(
        db,
        make_migrations,
        ("7_plain.sql", "CREATE TABLE plain (id INTEGER)"),
        ("8_logs.py", 'async def up(context):\n    context.logger.info("hello")\n'),
    )
    registered = logging.root.manager.loggerDict
    assert "uno_migrations.migration.7_plain" not in registered
    assert "uno_migrations.migration.8_logs" in registered

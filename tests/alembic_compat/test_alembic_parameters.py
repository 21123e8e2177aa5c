"""Parameters in Alembic revisions as the synchronous drivers Alembic users run take them
(docs/alembic.md, "Parameters"): a tuple bound to ``IN :names`` works where PyMySQL and psycopg2
take it, and fails on SQLite as it does under Alembic; several DDL statements in one
``op.execute`` run on PostgreSQL as under psycopg2.

Each history runs through uno and through Alembic itself, on databases of their own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic_support import HISTORY, alembic, write_revision
from helpers import TestDatabase, fresh_database, only

from alembic_compat import AlembicSource
from uno_migrations import ExecutionError, Migrator

TABLE = """
op.create_table("fruit", sa.Column("name", sa.String(20), primary_key=True), sa.Column("ripe", sa.Integer))
op.bulk_insert(
    sa.table("fruit", sa.column("name"), sa.column("ripe")),
    [{"name": "apple", "ripe": 0}, {"name": "pear", "ripe": 0}, {"name": "plum", "ripe": 0}],
)
"""
RIPEN = """
op.get_bind().execute(
    sa.text("UPDATE fruit SET ripe = 1 WHERE name IN :names"), {"names": ("apple", "plum")}
)
"""


def _project(root: Path) -> Path:
    """An Alembic project (the test history's alembic.ini and env.py) with an empty versions/."""
    root.mkdir(parents=True)
    for name in ("alembic.ini", "env.py"):
        shutil.copy(HISTORY / name, root / name)
    (root / "versions").mkdir()
    return root


def _ripening_history(root: Path) -> Path:
    project = _project(root)
    write_revision(project / "versions", "aaaa", None, upgrade=TABLE, downgrade='op.drop_table("fruit")')
    write_revision(project / "versions", "bbbb", "aaaa", upgrade=RIPEN)
    return project


async def _ripe(db: TestDatabase) -> list[tuple[object, ...]]:
    return await db.fetch("SELECT name, ripe FROM fruit ORDER BY name")


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
async def test_a_tuple_after_in_in_a_revision_works_as_under_alembic(
    db: TestDatabase, engine_name: str, tmp_path: Path
) -> None:
    """The reported defect: on MySQL, ``TypeError: tuple can not be used as parameter``."""
    project = _ripening_history(tmp_path / "project")
    migrator = Migrator(db.url, [], sources=[AlembicSource([project / "versions"])])
    assert (await migrator.migrate()).ids == ["aaaa", "bbbb"]
    expected = [("apple", 1), ("pear", 0), ("plum", 1)]
    assert await _ripe(db) == expected
    async with fresh_database(engine_name, tmp_path / "alembic") as other:
        await alembic(other.url, history=project)
        assert await _ripe(other) == expected


@only("sqlite")
async def test_on_sqlite_a_tuple_parameter_fails_as_under_alembic(db: TestDatabase, tmp_path: Path) -> None:
    """sqlite3 binds one value per placeholder, so ``IN ?`` is a syntax error, under Alembic too:
    the revision fails, with its line, and nothing of it stays."""
    project = _ripening_history(tmp_path / "project")
    migrator = Migrator(db.url, [], sources=[AlembicSource([project / "versions"])])
    with pytest.raises(ExecutionError) as failure:
        await migrator.migrate()
    assert failure.value.migration_id == "bbbb"
    assert "bbbb_rev.py:" in str(failure.value) and "syntax error" in str(failure.value)
    assert await _ripe(db) == [("apple", 0), ("pear", 0), ("plum", 0)]
    (tmp_path / "alembic").mkdir()
    async with fresh_database("sqlite", tmp_path / "alembic") as other:
        with pytest.raises(Exception, match="syntax error"):
            await alembic(other.url, history=project)


@only("mysql")
async def test_a_list_anywhere_is_rendered_as_pymysql_renders_it(db: TestDatabase, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    write_revision(project / "versions", "aaaa", None, upgrade=TABLE)
    write_revision(
        project / "versions",
        "bbbb",
        "aaaa",
        upgrade="""
        op.get_bind().execute(
            sa.text("UPDATE fruit SET ripe = 2 WHERE (name, ripe) IN (:pair)"), {"pair": ["pear", 0]}
        )
        """,
    )
    await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    assert await _ripe(db) == [("apple", 0), ("pear", 2), ("plum", 0)]


@only("postgresql")
async def test_several_ddl_statements_in_one_execute_run_as_under_psycopg2(
    db: TestDatabase, tmp_path: Path
) -> None:
    """psycopg2 sends a statement as it is, so a revision may hold several in one string; asyncpg
    prepares what it sends, and a prepared statement holds one. A statement without parameters
    that returns no rows goes as a simple query, several at once as under psycopg2."""
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        op.execute("CREATE TABLE a (id INT); CREATE TABLE b (id INT); COMMENT ON TABLE b IS 'two'")
        """,
        downgrade='op.execute("DROP TABLE a; DROP TABLE b")',
    )
    migrator = Migrator(db.url, [], sources=[AlembicSource([project / "versions"])])
    await migrator.migrate()
    assert {"a", "b"} <= await db.tables()
    assert await db.scalar("SELECT obj_description('b'::regclass)") == "two"
    async with fresh_database("postgresql", tmp_path / "alembic") as other:
        await alembic(other.url, history=project)
        assert {"a", "b"} <= await other.tables()
    await migrator.rollback(all=True)
    assert not {"a", "b"} & await db.tables()


async def test_a_failing_ddl_statement_rolls_the_revision_back_and_names_its_line(
    db: TestDatabase, tmp_path: Path
) -> None:
    """DDL without parameters takes one round trip on PostgreSQL; its failure is the same error,
    with the same line, and the revision's earlier statements are undone (where DDL is
    transactional) or counted (MySQL)."""
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        op.create_table("kept", sa.Column("id", sa.Integer))
        op.execute("CREATE TABLE broken (id INT,)")
        """,
    )
    migrator = Migrator(db.url, [], sources=[AlembicSource([project / "versions"])])
    with pytest.raises(ExecutionError) as failure:
        await migrator.migrate()
    message = str(failure.value)
    assert "aaaa_rev.py:" in message and "CREATE TABLE broken" in message
    assert ("kept" in await db.tables()) is (db.dialect == "mysql")


@pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
async def test_a_callers_connection_is_given_back_as_it_was(db: TestDatabase, tmp_path: Path) -> None:
    """The driver's ways are the run's only: after it, the caller's connection behaves as
    asyncpg and aiomysql do (a tuple after IN refused, one statement per prepared query)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError, StatementError

    project = _ripening_history(tmp_path / "project")
    async with db.engine.connect() as connection:
        await Migrator(connection, [], sources=[AlembicSource([project / "versions"])]).migrate()
        assert await _ripe(db) == [("apple", 1), ("pear", 0), ("plum", 1)]
        with pytest.raises((DBAPIError, StatementError, TypeError)):
            await connection.execute(sa.text("SELECT 1 WHERE 'a' IN :names"), {"names": ("a", "b")})
        await connection.rollback()
        if db.dialect == "postgresql":
            with pytest.raises(DBAPIError, match="multiple commands"):
                await connection.execute(sa.text("CREATE TABLE c (id INT); CREATE TABLE d (id INT)"))


@only("postgresql")
async def test_a_string_compared_with_an_enum_column_works_as_under_psycopg2(
    db: TestDatabase, tmp_path: Path
) -> None:
    """SQLAlchemy types a text() statement's string values as VARCHAR for asyncpg, and PostgreSQL
    has no ``enum = character varying``; psycopg2 sends them untyped. They go untyped here too."""
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        kind = sa.Enum("plain", "vip", name="tier")
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True), sa.Column("tier", kind))
        op.execute("INSERT INTO members (id, tier) VALUES (1, 'plain'), (2, 'vip')")
        op.get_bind().execute(sa.text("UPDATE members SET id = id + 10 WHERE tier = :tier"), {"tier": "vip"})
        """,
    )
    await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    assert await db.fetch("SELECT id, tier::text FROM members ORDER BY id") == [(1, "plain"), (12, "vip")]


VALUES = """
import datetime
import decimal

op.create_table(
    "vals",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("s", sa.String(40)),
    sa.Column("n", sa.Integer),
    sa.Column("d", sa.Numeric(10, 2)),
    sa.Column("f", sa.Float),
    sa.Column("b", sa.Boolean),
    sa.Column("t", sa.DateTime),
)
bind = op.get_bind()
insert = sa.text("INSERT INTO vals (id, s, n, d, f, b, t) VALUES (:id, :s, :n, :d, :f, :b, :t)").bindparams(
    sa.bindparam("d", type_=sa.Numeric(10, 2)), sa.bindparam("t", type_=sa.DateTime)
)
rows = [
    {"id": 1, "s": "it's", "n": -3, "d": decimal.Decimal("-1.25"), "f": 0.5, "b": True,
     "t": datetime.datetime(2026, 1, 2, 3, 4, 5)},
    {"id": 2, "s": "back\\\\slash", "n": None, "d": None, "f": -2.0, "b": False, "t": None},
    {"id": 3, "s": "$1 and :s -- not a comment", "n": 7, "d": decimal.Decimal("3"), "f": 1e-05, "b": None,
     "t": datetime.datetime(2026, 1, 2, 3, 4, 5, 6)},
]
for row in rows:
    bind.execute(insert, row)
bind.execute(sa.text("UPDATE vals SET n = n-:by WHERE n IS NOT NULL"), {"by": -10})
updated = bind.execute(sa.text("UPDATE vals SET f = f * 2 WHERE id <> :skip"), {"skip": 2})
bind.execute(sa.text("INSERT INTO vals (id, s) VALUES (:id, :s)"), {"id": 4, "s": f"rowcount {updated.rowcount}"})
"""


async def test_values_of_every_plain_kind_arrive_as_under_alembic(
    db: TestDatabase, engine_name: str, tmp_path: Path
) -> None:
    """Strings with quotes, backslashes and placeholder look-alikes, negative numbers after a
    minus, decimals, floats, booleans, NULLs and times: the same rows through uno as through
    Alembic, and an UPDATE's row count as the driver gives it (on PostgreSQL such a statement
    goes as one simple query, its values written in)."""
    project = _project(tmp_path / "project")
    write_revision(project / "versions", "aaaa", None, upgrade=VALUES)
    await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    select = "SELECT id, s, n, d, f, b, t FROM vals ORDER BY id"
    found = await db.fetch(select)
    (tmp_path / "alembic").mkdir()
    async with fresh_database(engine_name, tmp_path / "alembic") as other:
        await alembic(other.url, history=project)
        assert found == await other.fetch(select)
    assert [row[2] for row in found] == [7, None, 17, None]
    assert found[1][1] == "back\\slash" and found[2][1] == "$1 and :s -- not a comment"
    assert found[3][1] == "rowcount 2"


async def test_a_failing_write_with_values_rolls_back_and_names_its_line(
    db: TestDatabase, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))
        op.get_bind().execute(sa.text("INSERT INTO kept (id) VALUES (:id)"), {"id": 1})
        op.get_bind().execute(sa.text("INSERT INTO kept (id) VALUES (:id)"), {"id": 1})
        """,
    )
    with pytest.raises(ExecutionError) as failure:
        await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    message = str(failure.value)
    assert "aaaa_rev.py:14" in message and "INSERT INTO kept" in message, message
    if db.dialect != "mysql":
        assert "kept" not in await db.tables()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"], indirect=True)  # MySQL: no RETURNING
async def test_a_write_returning_rows_gives_them(db: TestDatabase, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String(9)))
        got = op.get_bind().execute(sa.text("INSERT INTO t (id, v) VALUES (:id, :v) RETURNING id"), {"id": 5, "v": "x"})
        op.get_bind().execute(sa.text("INSERT INTO t (id, v) VALUES (:id, 'seen')"), {"id": got.scalar() + 1})
        """,
    )
    await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    assert await db.fetch("SELECT id, v FROM t ORDER BY id") == [(5, "x"), (6, "seen")]


async def test_a_failing_bulk_insert_rolls_back_and_names_its_line(db: TestDatabase, tmp_path: Path) -> None:
    """A bulk insert of plain values goes as one simple query on PostgreSQL: its failure is the
    same error, naming the revision's line, and undoes the revision where DDL is transactional."""
    project = _project(tmp_path / "project")
    write_revision(
        project / "versions",
        "aaaa",
        None,
        upgrade="""
        op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True), sa.Column("b", sa.LargeBinary))
        kept = sa.table("kept", sa.column("id", sa.Integer), sa.column("b", sa.LargeBinary))
        op.bulk_insert(kept, [{"id": 1, "b": b"\\\\x00"}, {"id": 2, "b": None}])
        op.bulk_insert(kept, [{"id": 3, "b": None}, {"id": 3, "b": None}])
        """,
    )
    with pytest.raises(ExecutionError) as failure:
        await Migrator(db.url, [], sources=[AlembicSource([project / "versions"])]).migrate()
    assert "aaaa_rev.py:15" in str(failure.value), str(failure.value)
    if db.dialect != "mysql":
        assert "kept" not in await db.tables()
    else:  # CREATE TABLE committed itself; the rows went with the migration's transaction
        assert await db.fetch("SELECT id FROM kept") == []

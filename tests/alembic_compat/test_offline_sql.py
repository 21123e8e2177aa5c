"""``migrate --sql`` and ``rollback --sql`` (docs/cli.md, "Offline SQL"): a script of the plan
that the engine's own client (psql, mariadb, sqlite3) runs to the same schema and version rows as
``migrate``; ``--scratch-url`` for migrations that read data; bad input refused, nothing changed.

Each project has one migration of every kind: an SQL file, a Python migration (execute_sql with
parameters, a Core insert, execute_many) and an Alembic revision (a table, a bulk insert, an index).
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from alembic_support import schema_of, write_revision
from helpers import Cli, TestDatabase, fresh_database, only, version_rows
from sqlalchemy.engine import make_url

SQL_FILE = """
-- Migration: Create authors
CREATE TABLE authors (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO authors (id, name) VALUES (1, 'Ada; the first'), (2, 'Grace ''Amazing'' Hopper');

-- DOWN
DROP TABLE authors;
"""

PYTHON_FILE = """
# Migration: Add books
import sqlalchemy as sa

dependencies = ["1000_authors"]
books = sa.table("books", sa.column("id"), sa.column("title"), sa.column("author_id"))


async def up(context):
    await context.execute_sql(
        "CREATE TABLE books (id INTEGER PRIMARY KEY, title VARCHAR(100), author_id INTEGER)"
    )
    await context.execute_sql("INSERT INTO books (id, title, author_id) VALUES ($1, $2, $3)", [1, "50% off: it's here", 1])
    await context.execute(sa.insert(books).values(id=2, title="Notes", author_id=2))
    await context.execute_many("INSERT INTO books (id, title, author_id) VALUES (:id, :title, 1)",
                               [{"id": 3, "title": "C"}, {"id": 4, "title": "D"}])
    await context.execute_sql("UPDATE books SET title = 'Ada' WHERE id IN $1", [(3, 4)])


async def down(context):
    await context.execute_sql("DROP TABLE books")
"""

READER_FILE = """
# Migration: Count books
dependencies = ["1001_books"]


async def up(context):
    await context.execute_sql("CREATE TABLE book_counts (author_id INTEGER PRIMARY KEY, n INTEGER)")
    result = await context.execute_sql("SELECT author_id, COUNT(*) FROM books GROUP BY author_id ORDER BY 1")
    for author_id, n in await result.fetchall():
        await context.execute_sql("INSERT INTO book_counts (author_id, n) VALUES ($1, $2)", [author_id, n])


async def down(context):
    await context.execute_sql("DROP TABLE book_counts")
"""

REVISION = """
op.create_table("shelves", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(40)))
shelves = sa.table("shelves", sa.column("id", sa.Integer), sa.column("label", sa.String))
op.bulk_insert(shelves, [{"id": 1, "label": "new"}, {"id": 2, "label": "old"}])
op.create_index("ix_shelves_label", "shelves", ["label"])
"""


def _project(root: Path, reader: bool = False) -> Path:
    """A project of every kind of migration (``reader``: with one that reads data)."""
    migrations = root / "migrations"
    migrations.mkdir(parents=True)
    files = {"1000_authors.sql": SQL_FILE, "1001_books.py": PYTHON_FILE}
    if reader:
        files["1002_counts.py"] = READER_FILE
    for name, text in files.items():
        (migrations / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    write_revision(root / "versions", "aaaa", None, upgrade=REVISION, downgrade='op.drop_table("shelves")')
    return root


def _args(project: Path, url: str) -> list[str]:
    return ["-u", url, "-d", str(project / "migrations"), "--alembic-directory", str(project / "versions")]


def run_client(engine: str, url: str, script: str) -> None:
    """The engine's own command-line client runs ``script`` on the database at ``url``, stopping
    at the first error."""
    parsed = make_url(url)
    if engine == "postgresql":
        command = [
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", parsed.host or "127.0.0.1",
            "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres", "-d", parsed.database or "",
        ]  # fmt: skip
    elif engine == "mysql":
        client = shutil.which("mariadb") or "mysql"
        command = [
            client, "-h", parsed.host or "127.0.0.1", "-P", str(parsed.port or 3306),
            "-u", parsed.username or "root", parsed.database or "",
        ]  # fmt: skip
        if parsed.password:
            command.insert(1, f"-p{parsed.password}")
    else:
        command = ["sqlite3", "-bail", parsed.database or ""]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    done = subprocess.run(command, input=script, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


async def _state(db: TestDatabase) -> tuple[object, ...]:
    """What a run leaves: the schema, the version rows (id, status, kind), the data."""
    rows = await db.fetch("SELECT id, status, kind FROM uno_migrations ORDER BY applied_at, id")
    log = await db.fetch("SELECT migration_id, action FROM uno_migrations_log ORDER BY seq")
    data = []
    for table, key in (("authors", "id"), ("books", "id"), ("shelves", "id"), ("book_counts", "author_id")):
        if table in await db.tables():
            data.append(await db.fetch(f"SELECT * FROM {table} ORDER BY {key}"))
    return await schema_of(db.url), rows, log, data


def fresh(engine: str, tmp_path: Path, name: str) -> AbstractAsyncContextManager[TestDatabase]:
    """Another fresh database (an SQLite file in a directory of its own)."""
    (tmp_path / name).mkdir(exist_ok=True)
    return fresh_database(engine, tmp_path / name)


async def test_the_script_of_every_kind_runs_in_the_engine_client_as_migrate_runs(
    db: TestDatabase, engine_name: str, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    cli = Cli(tmp_path)
    written = await cli.run(*_args(project, db.url), "migrate", "--sql")
    assert written.exit_code == 0, written.output
    script = written.stdout
    assert script.startswith("-- uno-migrations migrate --sql, for ")
    assert await db.tables() == set(), "--sql changes nothing"
    run_client(engine_name, db.url, script)
    assert await version_rows(db) == ["1000_authors", "1001_books", "aaaa"]
    async with fresh(engine_name, tmp_path, "online") as online:
        ran = await cli.run(*_args(project, online.url), "migrate")
        assert ran.exit_code == 0, ran.output
        assert await _state(db) == await _state(online)
    status = await cli.run(*_args(project, db.url), "status", "--exit-code")
    assert status.exit_code == 0, status.output  # nothing pending, nothing modified


async def test_rollback_sql_runs_as_rollback_runs(db: TestDatabase, engine_name: str, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    cli = Cli(tmp_path)
    async with fresh(engine_name, tmp_path, "online") as online:
        for target in (db, online):
            assert (await cli.run(*_args(project, target.url), "migrate")).exit_code == 0
        written = await cli.run(*_args(project, db.url), "rollback", "--sql", "--steps", "2")
        assert written.exit_code == 0, written.output
        assert await version_rows(db) == ["1000_authors", "1001_books", "aaaa"], "--sql changes nothing"
        run_client(engine_name, db.url, written.stdout)
        assert (await cli.run(*_args(project, online.url), "rollback", "--steps", "2")).exit_code == 0
        assert await _state(db) == await _state(online)
    assert len(await version_rows(db)) == 1


async def test_a_migration_that_reads_data_is_a_comment_and_the_command_fails(
    db: TestDatabase, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project", reader=True)
    written = await Cli(tmp_path).run(*_args(project, db.url), "migrate", "--sql")
    assert written.exit_code == 1
    assert "-- NOT WRITTEN OUT: 1002_counts reads the result of 'SELECT author_id, COUNT(*)" in written.stdout
    assert written.stderr.strip().splitlines() == [
        "error: 1002_counts cannot be written out without a database: it reads the result of "
        "'SELECT author_id, COUNT(*) FROM books GROUP BY author_id ORDER BY 1', which needs a database; "
        "give --scratch-url to run the plan on a scratch database and write out what ran"
    ]
    assert await db.tables() == set()


async def test_scratch_url_writes_out_what_ran_there_data_reading_migrations_too(
    db: TestDatabase, engine_name: str, tmp_path: Path
) -> None:
    """The reader's inserts are written with the values it read on the scratch database."""
    project = _project(tmp_path / "project", reader=True)
    cli = Cli(tmp_path)
    args = _args(project, db.url)
    assert (await cli.run(*args, "migrate", "--target", "1000_authors")).exit_code == 0
    async with fresh(engine_name, tmp_path, "scratch") as scratch:
        written = await cli.run(*args, "migrate", "--sql", "--scratch-url", scratch.url)
        assert written.exit_code == 0, written.output
        assert await version_rows(db) == ["1000_authors", "aaaa"], "--sql changes nothing on the database"
        # The scratch database was brought to the database's state, then ran the plan.
        assert await version_rows(scratch) == ["1000_authors", "1001_books", "1002_counts", "aaaa"]
    assert "INSERT INTO book_counts (author_id, n) VALUES (1, 3)" in written.stdout
    assert "-- Apply 1000_authors" not in written.stdout and "-- Apply aaaa" not in written.stdout
    run_client(engine_name, db.url, written.stdout)
    assert await db.fetch("SELECT author_id, n FROM book_counts ORDER BY author_id") == [(1, 3), (2, 1)]
    async with fresh(engine_name, tmp_path, "online") as online:
        assert (await cli.run(*_args(project, online.url), "migrate")).exit_code == 0
        assert await _state(db) == await _state(online)


async def test_a_scratch_database_ahead_of_the_database_is_refused(db: TestDatabase, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    cli = Cli(tmp_path)
    async with fresh(db.dialect, tmp_path, "scratch") as scratch:
        assert (await cli.run(*_args(project, scratch.url), "migrate")).exit_code == 0
        before = await _state(scratch)
        written = await cli.run(*_args(project, db.url), "migrate", "--sql", "--scratch-url", scratch.url)
        assert written.exit_code == 1
        assert written.stderr.strip().splitlines() == [
            "error: the scratch database has 1000_authors applied, which the database has not: "
            "give an empty database, or a copy of this one"
        ]
        assert await _state(scratch) == before
    assert await db.tables() == set()


@only("sqlite")
async def test_bad_combinations_are_usage_errors(db: TestDatabase, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    cli = Cli(tmp_path)
    args = _args(project, db.url)
    cases = {
        ("migrate", "--scratch-url", "sqlite:///x.db"): "--scratch-url goes with --sql",
        ("migrate", "--sql", "--fake"): "--sql writes a script; it does not go with --fake",
        ("rollback", "--sql", "--dry-run"): "--sql writes a script; it does not go with --dry-run",
    }
    for given, message in cases.items():
        result = await cli.run(*args, *given)
        assert result.exit_code == 2 and message in result.stderr, result.output
    other = "postgresql://postgres@127.0.0.1:1/none"
    result = await cli.run(*args, "migrate", "--sql", "--scratch-url", other)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: the scratch database is postgresql, not sqlite like the database"
    ]
    assert await db.tables() == set()


async def test_the_script_is_written_out_for_each_transaction(db: TestDatabase, tmp_path: Path) -> None:
    """One transaction per migration, where the migration runs in one; the version tables first
    when the database has none."""
    project = _project(tmp_path / "project")
    written = await Cli(tmp_path).run(*_args(project, db.url), "migrate", "--sql")
    lines = written.stdout.splitlines()
    begin = "START TRANSACTION;" if db.dialect == "mysql" else "BEGIN;"
    assert lines.count(begin) == lines.count("COMMIT;") == 3
    assert lines.index("-- uno-migrations' version tables") < lines.index(
        "-- Apply aaaa (alembic): revision aaaa"
    )


@only("mysql")
async def test_a_mysql_trigger_body_goes_between_delimiter_lines(db: TestDatabase, tmp_path: Path) -> None:
    """The mysql client ends a statement at its first ';': a trigger's body holds several."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "1_audit.sql").write_text(
        textwrap.dedent(
            """
            CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER);
            CREATE TABLE audit (id INTEGER, n INTEGER);
            DELIMITER $$
            CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW
            BEGIN
                INSERT INTO audit (id, n) VALUES (NEW.id, NEW.n);
                INSERT INTO audit (id, n) VALUES (NEW.id, NEW.n * 2);
            END$$
            DELIMITER ;
            INSERT INTO items (id, n) VALUES (1, 21);
            """
        ),
        encoding="utf-8",
    )
    written = await Cli(tmp_path).run("-u", db.url, "-d", str(migrations), "migrate", "--sql")
    assert written.exit_code == 0, written.output
    assert "DELIMITER //" in written.stdout
    run_client("mysql", db.url, written.stdout)
    assert await db.fetch("SELECT id, n FROM audit ORDER BY n") == [(1, 21), (1, 42)]

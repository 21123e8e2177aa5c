"""``check --metadata module:attr`` on every engine: the drift check for CI, like ``alembic check``.

It compares the migrated database with the models as autogenerate does and writes nothing: exit 0
with one line when they match, exit 1 with one line per difference (or when migrations are
pending) and an ``error:`` line, and one document with ``--json``.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
import uuid
from pathlib import Path

import pytest
from helpers import Cli, TestDatabase, version_rows

MIGRATIONS = {
    "1000_create_customers.sql": """
        CREATE TABLE customers (
            id INTEGER NOT NULL PRIMARY KEY,
            name VARCHAR(50) NOT NULL,
            nickname VARCHAR(30)
        );
        CREATE INDEX ix_customers_nickname ON customers (nickname);
        -- DOWN
        DROP TABLE customers;
    """,
    "1001_create_legacy_notes.sql": """
        CREATE TABLE legacy_notes (id INTEGER NOT NULL PRIMARY KEY, body VARCHAR(50));
        -- DOWN
        DROP TABLE legacy_notes;
    """,
}
#: The models the migrations make, with places for each case to change them.
MODELS = """
    import sqlalchemy as sa

    metadata = sa.MetaData()

    customers = sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", {name_type}, nullable={name_nullable}),
        sa.Column("nickname", sa.String(30)),
        {customer_extra}
    )
    {tables}
"""
MATCHING = {
    "name_type": "sa.String(50)",
    "name_nullable": "False",
    "customer_extra": 'sa.Index("ix_customers_nickname", "nickname"),',
    "tables": 'legacy_notes = sa.Table("legacy_notes", metadata, sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("body", sa.String(50)))',
}
ORDERS = 'orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))'

#: Each kind of drift: what changes in the models, and the lines ``check`` prints for it.
DRIFTS = {
    "a new table": (
        {"tables": f"{MATCHING['tables']}\n{ORDERS}"},
        ["add table 'orders'"],
    ),
    "a table the models dropped": (
        {"tables": ""},
        ["remove table 'legacy_notes'"],
    ),
    "a new column": (
        {"customer_extra": f'{MATCHING["customer_extra"]} sa.Column("email", sa.String(255)),'},
        ["add column 'customers.email'"],
    ),
    "a new index": (
        {"customer_extra": f'{MATCHING["customer_extra"]} sa.Index("ix_customers_name", "name"),'},
        ["add index 'ix_customers_name' on 'customers' (name)"],
    ),
    "an index the models dropped": (
        {"customer_extra": ""},
        ["remove index 'ix_customers_nickname' on 'customers' (nickname)"],
    ),
    "a new unique constraint": (
        {
            "customer_extra": f'{MATCHING["customer_extra"]} sa.UniqueConstraint("name", name="uq_customers_name"),'
        },
        ["add unique constraint 'uq_customers_name' on 'customers' (name)"],
    ),
    "a type change": (
        {"name_type": "sa.String(100)"},
        ["modify type 'customers.name': VARCHAR(50) -> VARCHAR(100)"],
    ),
    "a nullability change": (
        {"name_nullable": "True"},
        ["modify nullable 'customers.name': NOT NULL -> NULL"],
    ),
}


def _models(tmp_path: Path, **changes: str) -> str:
    """Write a models module of a name of its own (modules stay imported); its ``module:attr``."""
    module = f"models_{uuid.uuid4().hex[:8]}"
    text = textwrap.dedent(MODELS).format(**{**MATCHING, **changes})
    (tmp_path / f"{module}.py").write_text(text, encoding="utf-8")
    return f"{module}:metadata"


@pytest.fixture
def migrations(make_migrations: object) -> Path:
    return make_migrations(MIGRATIONS, name="migrations")  # type: ignore[operator,no-any-return]


async def _migrated(cli: Cli, db: TestDatabase, *args: str) -> None:
    result = await cli.run("-u", db.url, *args, "migrate")
    assert result.exit_code == 0, result.output


async def test_no_difference_exits_0(db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path) -> None:
    reference = _models(tmp_path)
    await _migrated(cli, db, "--table", "app_versions")
    # Alembic's table and uno's, under the name configured, are not the application's schema.
    await db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    result = await cli.run("-u", db.url, "--table", "app_versions", "check", "--metadata", reference)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout == f"No differences: the database matches {reference}\n"
    as_json = await cli.run(
        "-u", db.url, "--table", "app_versions", "check", "--metadata", reference, "--json"
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {
        "command": "check",
        "database": json.loads(as_json.stdout)["database"],
        "metadata": reference,
        "pending": 0,
        "differences": [],
        "error": None,
    }
    assert list(json.loads(as_json.stdout)) == [
        "command", "database", "metadata", "pending", "differences", "error"
    ]  # fmt: skip
    quiet = await cli.run("-q", "-u", db.url, "--table", "app_versions", "check", "--metadata", reference)
    assert (quiet.exit_code, quiet.output) == (0, "")


@pytest.mark.parametrize("drift", list(DRIFTS))
async def test_each_kind_of_difference(
    db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path, drift: str
) -> None:
    changes, lines = DRIFTS[drift]
    reference = _models(tmp_path, **changes)
    await _migrated(cli, db)
    tables = await db.tables()
    result = await cli.run("-u", db.url, "check", "--metadata", reference)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == lines
    assert result.stderr == f"error: the database differs from {reference} (1 difference)\n"
    assert await db.tables() == tables  # nothing written, nothing created
    assert sorted(p.name for p in migrations.iterdir()) == sorted(MIGRATIONS)


async def test_every_difference_at_once_and_as_json(
    db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path
) -> None:
    reference = _models(
        tmp_path,
        name_type="sa.String(100)",
        customer_extra='sa.Column("email", sa.String(255)),',
        tables=ORDERS,
    )
    await _migrated(cli, db)
    result = await cli.run("-u", db.url, "check", "--metadata", reference)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [  # in Alembic's order: tables, then each table's changes
        "add table 'orders'",
        "remove table 'legacy_notes'",
        "add column 'customers.email'",
        "modify type 'customers.name': VARCHAR(50) -> VARCHAR(100)",
        "remove index 'ix_customers_nickname' on 'customers' (nickname)",
    ]
    assert result.stderr == f"error: the database differs from {reference} (5 differences)\n"

    quiet = await cli.run("-u", db.url, "check", "--metadata", reference, "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (1, "", result.stderr)

    as_json = await cli.run("-u", db.url, "check", "--metadata", reference, "--json")
    assert as_json.exit_code == 1
    assert as_json.stderr == result.stderr  # the error line too, as every command gives it
    document = json.loads(as_json.stdout)
    assert document["command"] == "check" and document["metadata"] == reference
    assert document["database"].split("://")[0] in (
        "sqlite+aiosqlite",
        "postgresql+asyncpg",
        "mysql+aiomysql",
    )
    assert document["pending"] == 0
    assert document["error"] == f"the database differs from {reference} (5 differences)"
    assert [(d["kind"], d["table"], d["detail"]) for d in document["differences"]] == [
        ("add_table", "orders", None),
        ("remove_table", "legacy_notes", None),
        ("add_column", "customers", "email"),
        ("modify_type", "customers", "name: VARCHAR(50) -> VARCHAR(100)"),
        ("remove_index", "customers", "ix_customers_nickname (nickname)"),
    ]
    assert all(list(d) == ["kind", "table", "detail"] for d in document["differences"])


async def test_pending_migrations_fail_without_comparing(
    db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path
) -> None:
    reference = _models(tmp_path)
    partly = await cli.run("-u", db.url, "migrate", "--target", "1000")
    assert partly.exit_code == 0, partly.output
    tables, rows = await db.tables(), await version_rows(db)
    message = (
        "the database is behind its migrations (1 pending): run migrate first; "
        f"check compares the migrated database with {reference}"
    )
    result = await cli.run("-u", db.url, "check", "--metadata", reference)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    as_json = await cli.run("-u", db.url, "check", "--metadata", reference, "--json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert (document["pending"], document["differences"], document["error"]) == (1, None, message)
    assert (await db.tables(), await version_rows(db)) == (tables, rows)  # nothing changed

    await _migrated(cli, db)
    done = await cli.run("-u", db.url, "check", "--metadata", reference)
    assert (done.exit_code, done.stdout) == (0, f"No differences: the database matches {reference}\n")


async def test_bad_input_is_one_line_and_changes_nothing(
    db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path
) -> None:
    reference = _models(tmp_path)
    module = reference.partition(":")[0]
    await _migrated(cli, db)
    tables, rows = await db.tables(), await version_rows(db)
    cases = {
        "nowhere_at_all:metadata": (
            "error: cannot import nowhere_at_all for --metadata: "
            "ModuleNotFoundError: No module named 'nowhere_at_all'\n"
        ),
        f"{module}:nothing": f"error: {module} has no attribute 'nothing' (from --metadata {module}:nothing)\n",
        f"{module}:sa": f"error: {module}:sa is a module, not a SQLAlchemy MetaData\n",
        module: f"error: --metadata takes module:attribute (app.models:metadata), not '{module}'\n",
    }
    for given, error in cases.items():
        result = await cli.run("-u", db.url, "check", "--metadata", given)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", error), given
    as_json = await cli.run("-u", db.url, "check", "--metadata", f"{module}:nothing", "--json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["differences"] is None and document["error"].startswith(f"{module} has no attribute")
    assert (await db.tables(), await version_rows(db)) == (tables, rows)


def test_usage_errors_and_unreachable_databases(cli: Cli, tmp_path: Path, migrations: Path) -> None:
    missing = cli("-u", "sqlite:///app.db", "check")
    assert missing.exit_code == 2 and "give --metadata MODULE:ATTR, or metadata in the config file" in missing.stderr
    reference = _models(tmp_path)
    no_url = cli("check", "--metadata", reference)
    assert (no_url.exit_code, no_url.stdout) == (1, "")
    assert no_url.stderr == "error: no database URL: pass --database-url or set UNO_MIGRATIONS_DATABASE_URL\n"
    unreachable = cli("-u", "postgresql://app:s3cr3t@127.0.0.1:1/app", "check", "--metadata", reference)
    assert (unreachable.exit_code, unreachable.stdout) == (1, "")
    assert unreachable.stderr.startswith(
        "error: cannot connect to postgresql+asyncpg://app:***@127.0.0.1:1/app"
    )
    assert "s3cr3t" not in unreachable.stderr and len(unreachable.stderr.splitlines()) == 1
    assert not (tmp_path / "app.db").exists()


async def test_a_missing_sqlite_file_is_not_created(cli: Cli, tmp_path: Path, migrations: Path) -> None:
    reference = _models(tmp_path)
    result = await cli.run("-u", "sqlite:///nothing_yet.db", "check", "--metadata", reference)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the database is behind its migrations (2 pending)")
    assert not (tmp_path / "nothing_yet.db").exists()


def test_a_clear_line_when_alembic_is_not_installed(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "alembic" else real(name, *args)
    )
    result = cli("-u", "sqlite:///x.db", "check", "--metadata", "m:md")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: check needs Alembic, which is not installed: pip install 'uno-migrations[alembic]'\n"
    )


async def test_the_models_come_from_the_config_file_when_not_given(
    db: TestDatabase, cli: Cli, tmp_path: Path, migrations: Path
) -> None:
    """``metadata`` in the config file, else ``alembic_metadata``, stands for ``--metadata``;
    with neither, a usage error."""
    await _migrated(cli, db)
    drifted = _models(tmp_path, tables="")
    matching = _models(tmp_path)
    config = tmp_path / "uno.toml"
    for keys, code, line in (
        (f'metadata = "{drifted}"\nalembic_metadata = "{matching}"', 1, "remove table 'legacy_notes'"),
        (f'alembic_metadata = "{matching}"', 0, f"No differences: the database matches {matching}"),
    ):
        config.write_text(keys + "\n", encoding="utf-8")
        result = await cli.run("-u", db.url, "--config", str(config), "check")
        assert result.exit_code == code, result.output
        assert result.stdout.splitlines()[0] == line
    config.write_text("", encoding="utf-8")
    result = await cli.run("-u", db.url, "--config", str(config), "check")
    assert result.exit_code == 2
    assert "give --metadata MODULE:ATTR, or metadata in the config file" in result.stderr

"""Testing a project's migrations: ``uno-migrations test`` against pytest-alembic, side by side.

    python benchmarks/testing_kit.py [--engines sqlite,postgresql,mysql] [--migrations 100]
                                     [--repeat 5] [--postgresql-url URL] [--mysql-url URL]

One project of ``--migrations`` migrations is written twice from one description of its schema
(:data:`TABLES`, :data:`KINDS`): as uno SQL migrations with an up and a down section (and an
engine variant where MySQL spells DROP INDEX its own way), and as Alembic revisions
(``op.create_table`` and the like, each with a ``downgrade()``), with the SQLAlchemy models of the
last schema, a ``conftest.py`` that gives pytest-alembic a new database per test and a test
module importing pytest-alembic's default tests. The migrations come in cycles of eight kinds,
each cycle on tables of its own: customers, products, orders, order lines (several column types,
defaults, foreign keys, unique constraints, a composite primary key), two indexes, a few rows, a
column added to two tables, one index dropped.

Per engine, first, untimed, each project is applied to an empty database and the two schemas
must be the same. Then, interleaved, each on new scratch databases, the wall time of the whole
process, median of ``--repeat``:

- ``uno-migrations -d DIR test --json [--url SERVER]``: its report must count every migration,
  skip none and hold no finding;
- ``pytest -k test_up_down_consistency``: one test must pass;
- ``pytest`` of pytest-alembic's four default tests: four must pass.

pytest loads no plugin but pytest-alembic's (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BenchmarkError,
    ProcessResult,
    Series,
    executable,
    log,
    run_process,
    subprocess_env,
    temp_dir,
)
from databases import Database, Server, add_server_options, fresh_database, server_urls

#: A column: name, SQL type, SQLAlchemy type, and what follows the type in SQL.
Column = tuple[str, str, str, str]
#: A constraint: name, kind, columns, and for a foreign key (table, column, ON DELETE or "").
Constraint = tuple[str, str, tuple[str, ...], tuple[str, str, str] | None]

#: Every table, ``{s}`` standing for its cycle's two digits: columns, then constraints.
TABLES: dict[str, tuple[list[Column], list[Constraint]]] = {
    "cust_{s}": (
        [
            ("id", "INTEGER", "sa.Integer()", "NOT NULL PRIMARY KEY"),
            ("email", "VARCHAR(255)", "sa.String(255)", "NOT NULL"),
            ("name", "VARCHAR(100)", "sa.String(100)", "NOT NULL"),
            ("active", "BOOLEAN", "sa.Boolean()", "NOT NULL DEFAULT TRUE"),
            ("balance", "NUMERIC(12, 2)", "sa.Numeric(12, 2)", "NOT NULL DEFAULT 0"),
            ("created_at", "TIMESTAMP", "sa.TIMESTAMP()", "NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        ],
        [("uq_cust_{s}_email", "UNIQUE", ("email",), None)],
    ),
    "prod_{s}": (
        [
            ("id", "INTEGER", "sa.Integer()", "NOT NULL PRIMARY KEY"),
            ("sku", "VARCHAR(32)", "sa.String(32)", "NOT NULL"),
            ("title", "VARCHAR(200)", "sa.String(200)", "NOT NULL"),
            ("description", "TEXT", "sa.Text()", ""),
            ("price", "NUMERIC(10, 2)", "sa.Numeric(10, 2)", "NOT NULL"),
            ("released_on", "DATE", "sa.Date()", ""),
        ],
        [("uq_prod_{s}_sku", "UNIQUE", ("sku",), None)],
    ),
    "ordr_{s}": (
        [
            ("id", "INTEGER", "sa.Integer()", "NOT NULL PRIMARY KEY"),
            ("cust_id", "INTEGER", "sa.Integer()", "NOT NULL"),
            ("status", "VARCHAR(16)", "sa.String(16)", "NOT NULL DEFAULT 'new'"),
            ("total", "NUMERIC(12, 2)", "sa.Numeric(12, 2)", "NOT NULL DEFAULT 0"),
            ("placed_at", "TIMESTAMP", "sa.TIMESTAMP()", "NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        ],
        [("fk_ordr_{s}_cust", "FOREIGN KEY", ("cust_id",), ("cust_{s}", "id", "CASCADE"))],
    ),
    "line_{s}": (
        [
            ("ordr_id", "INTEGER", "sa.Integer()", "NOT NULL"),
            ("prod_id", "INTEGER", "sa.Integer()", "NOT NULL"),
            ("quantity", "INTEGER", "sa.Integer()", "NOT NULL DEFAULT 1"),
            ("unit_price", "NUMERIC(10, 2)", "sa.Numeric(10, 2)", "NOT NULL"),
        ],
        [
            ("pk_line_{s}", "PRIMARY KEY", ("ordr_id", "prod_id"), None),
            ("fk_line_{s}_ordr", "FOREIGN KEY", ("ordr_id",), ("ordr_{s}", "id", "CASCADE")),
            ("fk_line_{s}_prod", "FOREIGN KEY", ("prod_id",), ("prod_{s}", "id", "")),
        ],
    ),
}
#: Every index: its table and columns.
INDEXES = {
    "ix_line_{s}_prod": ("line_{s}", ("prod_id",)),
    "ix_ordr_{s}_status": ("ordr_{s}", ("status", "placed_at")),
    "ix_prod_{s}_title": ("prod_{s}", ("title",)),
}
#: The columns added later, by table.
ADDED: dict[str, Column] = {
    "cust_{s}": ("phone", "VARCHAR(32)", "sa.String(32)", ""),
    "ordr_{s}": ("note", "TEXT", "sa.Text()", ""),
}
#: The rows inserted, by table: the columns given, and the rows.
ROWS = {
    "cust_{s}": (("id", "email", "name"), [(1, "ada@example.com", "Ada"), (2, "alan@example.com", "Alan")]),
    "prod_{s}": (
        ("id", "sku", "title", "price"),
        [(1, "KB-1", "Keyboard", 49.9), (2, "SC-1", "Screen", 229.0)],
    ),
    "ordr_{s}": (("id", "cust_id", "status", "total"), [(1, 1, "paid", 279.8), (2, 2, "new", 229.0)]),
    "line_{s}": (("ordr_id", "prod_id", "quantity", "unit_price"), [(1, 1, 1, 49.9), (1, 2, 1, 229.0)]),
}
#: The kinds of migration, in the order each cycle makes them: the steps of each, applied in
#: order and undone in reverse. A step is (``table``, ``index``, ``column``, ``rows`` or
#: ``drop_index``, what it acts on).
KINDS = {
    "customers": [("table", "cust_{s}")],
    "products": [("table", "prod_{s}")],
    "orders": [("table", "ordr_{s}")],
    "lines": [("table", "line_{s}"), ("index", "ix_line_{s}_prod")],
    "indexes": [("index", "ix_ordr_{s}_status"), ("index", "ix_prod_{s}_title")],
    "seed": [("rows", table) for table in ROWS],
    "columns": [("column", table) for table in ADDED],
    "drop_index": [("drop_index", "ix_prod_{s}_title")],
}


def plan(count: int) -> list[tuple[int, str, str]]:
    """Each migration: its number (from 1), its kind, its cycle's two digits."""
    return [
        (n, list(KINDS)[(n - 1) % len(KINDS)], f"{(n - 1) // len(KINDS) + 1:02d}")
        for n in range(1, count + 1)
    ]


def undo_steps(kind: str) -> list[tuple[str, str]]:
    """A kind's steps in the order its down step undoes them, without the indexes of a table it
    creates: they go with the table (and MySQL refuses to drop an index a foreign key uses)."""
    created = {name for verb, name in KINDS[kind] if verb == "table"}
    return [(v, n) for v, n in reversed(KINDS[kind]) if not (v == "index" and INDEXES[n][0] in created)]


# -- SQL -------------------------------------------------------------------------------------------


def sql_constraint(
    name: str, kind: str, columns: tuple[str, ...], target: tuple[str, str, str] | None
) -> str:
    text = f"CONSTRAINT {name} {kind} ({', '.join(columns)})"
    if target is not None:
        text += f" REFERENCES {target[0]} ({target[1]})" + (f" ON DELETE {target[2]}" if target[2] else "")
    return text


def sql_literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def sql_step(verb: str, name: str, engine: str, undo: bool = False) -> str:
    """One step as SQL; ``undo``: the statement that reverts it."""
    if verb == "drop_index":
        return sql_step("index", name, engine, not undo)
    if verb == "table":
        if undo:
            return f"DROP TABLE {name};"
        columns, constraints = TABLES[name]
        lines = [" ".join(filter(None, (c[0], c[1], c[3]))) for c in columns]
        lines += [sql_constraint(*constraint) for constraint in constraints]
        return f"CREATE TABLE {name} (\n" + ",\n".join(f"    {line}" for line in lines) + "\n);"
    if verb == "index":
        table, columns = INDEXES[name]
        if undo:
            return f"DROP INDEX {name} ON {table};" if engine == "mysql" else f"DROP INDEX {name};"
        return f"CREATE INDEX {name} ON {table} ({', '.join(columns)});"
    if verb == "column":
        column = ADDED[name]
        return (
            f"ALTER TABLE {name} DROP COLUMN {column[0]};"
            if undo
            else f"ALTER TABLE {name} ADD COLUMN {column[0]} {column[1]};"
        )
    if undo:
        return f"DELETE FROM {name};"
    columns, rows = ROWS[name]
    values = ",\n".join(f"    ({', '.join(map(sql_literal, row))})" for row in rows)
    return f"INSERT INTO {name} ({', '.join(columns)}) VALUES\n{values};"


def uno_migration(kind: str, engine: str) -> str:
    up = "\n".join(sql_step(verb, name, engine) for verb, name in KINDS[kind])
    down = "\n".join(sql_step(verb, name, engine, undo=True) for verb, name in undo_steps(kind))
    return f"{up}\n\n-- DOWN\n\n{down}\n"


def write_uno(root: Path, count: int) -> Path:
    """The uno SQL migrations; a ``.mysql.sql`` variant of each that differs on MySQL."""
    directory = root / "uno"
    directory.mkdir(parents=True)
    for number, kind, suffix in plan(count):
        name = f"{number:04d}_{kind}_{suffix}"
        portable, mysql = (
            uno_migration(kind, engine).replace("{s}", suffix) for engine in ("sqlite", "mysql")
        )
        (directory / f"{name}.sql").write_text(portable, encoding="utf-8")
        if mysql != portable:
            (directory / f"{name}.mysql.sql").write_text(mysql, encoding="utf-8")
    return directory


# -- Alembic ---------------------------------------------------------------------------------------


def sa_column(column: Column) -> str:
    """``sa.Column(...)`` for a column of :data:`TABLES`: the same DDL as its SQL."""
    name, _, sa_type, rest = column
    arguments = [repr(name), sa_type]
    if "PRIMARY KEY" in rest:
        arguments += ["primary_key=True", "autoincrement=False"]
    elif "NOT NULL" in rest:
        arguments.append("nullable=False")
    if "DEFAULT " in rest:
        arguments.append(f"server_default=sa.text({rest.split('DEFAULT ', 1)[1]!r})")
    return f"sa.Column({', '.join(arguments)})"


def sa_constraint(name: str, kind: str, columns: tuple[str, ...], target: tuple[str, str, str] | None) -> str:
    if target is None:
        cls = "sa.UniqueConstraint" if kind == "UNIQUE" else "sa.PrimaryKeyConstraint"
        return f"{cls}({', '.join(map(repr, columns))}, name={name!r})"
    ondelete = f", ondelete={target[2]!r}" if target[2] else ""
    referred = f"{target[0]}.{target[1]}"
    return f"sa.ForeignKeyConstraint({list(columns)!r}, [{referred!r}], name={name!r}{ondelete})"


def table_items(name: str) -> list[str]:
    """What ``op.create_table`` and ``sa.Table`` take after the table's name: columns, constraints."""
    columns, constraints = TABLES[name]
    return [sa_column(c) for c in columns] + [sa_constraint(*c) for c in constraints]


def alembic_step(verb: str, name: str, undo: bool = False) -> str:
    """One step as Alembic operations; ``undo``: the operation that reverts it."""
    if verb == "drop_index":
        return alembic_step("index", name, not undo)
    if verb == "table":
        items = "".join(f"    {item},\n" for item in table_items(name))
        return f"op.drop_table({name!r})" if undo else f"op.create_table(\n    {name!r},\n{items})"
    if verb == "index":
        table, columns = INDEXES[name]
        if undo:
            return f"op.drop_index({name!r}, table_name={table!r})"
        return f"op.create_index({name!r}, {table!r}, {list(columns)!r})"
    if verb == "column":
        column = ADDED[name]
        return (
            f"op.drop_column({name!r}, {column[0]!r})"
            if undo
            else f"op.add_column({name!r}, {sa_column(column)})"
        )
    if undo:
        return f'op.execute("DELETE FROM {name}")'
    columns, rows = ROWS[name]
    dicts = [dict(zip(columns, row, strict=True)) for row in rows]
    return f"op.bulk_insert(sa.table({name!r}, {', '.join(f'sa.column({c!r})' for c in columns)}), {dicts!r})"


REVISION = '''\
"""{title}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''
ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = %(here)s
path_separator = os
"""
ENV = '''\
"""The engine is pytest-alembic's ``alembic_engine`` (or the caller's), in the config's attributes."""

from alembic import context

from models import metadata

config = context.config
with config.attributes["connection"].connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''
CONFTEST = '''\
"""pytest-alembic's engine: a new database for each test, on the server TESTING_KIT_SERVER names."""

import os
import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture
def alembic_engine(tmp_path):
    server = sa.make_url(os.environ["TESTING_KIT_SERVER"])
    if server.get_backend_name() == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        engine.dispose()
        return
    name = f"kit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(server.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()
'''
#: pytest-alembic's default tests, imported into a test module as its documentation shows for
#: not using ``--test-alembic``: with pytest 9, pytest-alembic 0.13.1 fails to collect the
#: ``tests/conftest.py`` ``--test-alembic`` binds them to (it sets the node's ``_nodeid``). So
#: the fixtures are in the project's root ``conftest.py``.
TEST_MODULE = '''\
"""pytest-alembic's default tests."""

from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
'''


def indent(lines: list[str]) -> str:
    return "\n".join(f"    {line}".replace("\n", "\n    ") for line in lines)


def models(count: int) -> str:
    """models.py: the tables the ``count`` migrations leave, for pytest-alembic's comparison of
    the models with the migrated schema."""
    tables: dict[tuple[str, str], list[str]] = {}
    for _, kind, suffix in plan(count):
        for verb, name in KINDS[kind]:
            if verb == "table":
                tables[name, suffix] = table_items(name)
            elif verb == "column":
                tables[name, suffix].append(sa_column(ADDED[name]))
            elif verb in ("index", "drop_index"):
                table, columns = INDEXES[name]
                index = f"sa.Index({name!r}, {', '.join(map(repr, columns))})"
                if verb == "index":
                    tables[table, suffix].append(index)
                else:
                    tables[table, suffix].remove(index)
    body = "".join(
        f"\nsa.Table(\n    {t!r},\n    metadata,\n{indent([f'{i},' for i in items])}\n)\n".replace("{s}", s)
        for (t, s), items in tables.items()
    )
    return f'"""The models."""\n\nimport sqlalchemy as sa\n\nmetadata = sa.MetaData()\n{body}'


def write_alembic(root: Path, count: int) -> Path:
    """The project pytest runs in: alembic.ini, migrations/, models.py, conftest.py, tests/."""
    project = root / "alembic"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (project / "tests").mkdir()
    for path, text in {
        "alembic.ini": ALEMBIC_INI,
        "pytest.ini": "[pytest]\n",
        "migrations/env.py": ENV,
        "conftest.py": CONFTEST,
        "tests/test_migrations.py": TEST_MODULE,
        "models.py": models(count),
    }.items():
        (project / path).write_text(text, encoding="utf-8")
    for number, kind, suffix in plan(count):
        text = REVISION.format(
            title=f"{kind} {suffix}",
            revision=f"r{number:04d}",
            down=f"r{number - 1:04d}" if number > 1 else None,
            upgrade=indent([alembic_step(verb, name) for verb, name in KINDS[kind]]),
            downgrade=indent([alembic_step(verb, name, undo=True) for verb, name in undo_steps(kind)]),
        )
        (versions / f"r{number:04d}_{kind}_{suffix}.py").write_text(
            text.replace("{s}", suffix), encoding="utf-8"
        )
    return project


# -- checks ----------------------------------------------------------------------------------------


def check_same_schema(server: Server, uno_dir: Path, project: Path) -> None:
    """Each project applied to an empty database (uno's ``Migrator``, Alembic's ``command.upgrade``):
    the two schemas, as uno's snapshots read them, must be equal."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from uno_migrations import Migrator
    from uno_migrations.testing import snapshot_diff, take_snapshot

    async def snapshots() -> list[Any]:
        return [await take_snapshot(database.url("uno")) for database in (by_uno, by_alembic)]

    with fresh_database(server, "kit") as by_uno, fresh_database(server, "kit") as by_alembic:
        with warnings.catch_warnings():  # MySQL's "Name 'pk_line_01' ignored for PRIMARY key"
            warnings.simplefilter("ignore")
            asyncio.run(Migrator(by_uno.url("uno"), uno_dir).migrate())
        config = Config(str(project / "alembic.ini"))
        config.attributes["connection"] = engine = sa.create_engine(by_alembic.url("sync"))
        try:
            command.upgrade(config, "head")
        finally:
            engine.dispose()
        uno, alembic = asyncio.run(snapshots())
    differences = snapshot_diff(uno, alembic)
    if differences or not uno.tables:
        raise BenchmarkError(f"the two projects make different schemas on {server.engine}: {differences}")


def check_uno(result: ProcessResult, engine: str, count: int) -> None:
    """Exit 0; one database, ``engine``'s, ``count`` migrations checked, none skipped, no finding."""
    result.check()
    document = json.loads(result.stdout)
    runs = [(d["engine"], d["migrations"], d["skipped"], d["findings"]) for d in document["databases"]]
    if document["error"] is not None or runs != [(engine, count, [], [])]:
        raise BenchmarkError(f"uno-migrations test did not pass every check on {engine}: {result.stdout}")


def check_pytest(result: ProcessResult, run: str, engine: str) -> None:
    """Exit 0, and as many tests passed as the run has."""
    result.check()
    passed = re.search(r"(\d+) passed", result.stdout)
    if passed is None or int(passed.group(1)) != PASSED[run]:
        raise BenchmarkError(f"pytest ({run}) did not pass {PASSED[run]} tests on {engine}: {result.stdout}")


# -- measuring -------------------------------------------------------------------------------------

#: The timed runs, in the order of the table's columns, and how many tests each pytest run passes.
RUNS = ("uno", "up_down", "default")
PASSED = {"up_down": 1, "default": 4}


@dataclass(frozen=True)
class Bench:
    """One engine's runs: its server, the server's URL as given (empty for SQLite), the projects."""

    server: Server
    url: str
    uno_dir: Path
    alembic_dir: Path
    count: int

    def run(self, run: str) -> ProcessResult:
        """One run of ``run``, timed and checked."""
        if run == "uno":
            argv = [executable("uno-migrations"), "-d", str(self.uno_dir), "test", "--json"]
            argv += ["--url", self.url] if self.url else []
            result = run_process(argv, self.uno_dir.parent, subprocess_env())
            check_uno(result, self.server.engine, self.count)
            return result
        env = subprocess_env()
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        admin = Database(self.server, self.server.admin_database)
        env["TESTING_KIT_SERVER"] = admin.url("sync") if self.url else "sqlite://"
        argv = [executable("pytest"), "-p", "pytest_alembic.plugin", "-q", "tests"]
        argv += ["-k", "test_up_down_consistency"] if run == "up_down" else []
        result = run_process(argv, self.alembic_dir, env)
        check_pytest(result, run, self.server.engine)
        return result

    def measure(self, repeat: int) -> dict[str, Series]:
        series = {run: Series() for run in RUNS}
        for _ in range(repeat):
            for run in RUNS:  # interleaved, so a slow patch of the machine hits all alike
                result = self.run(run)
                series[run].add(result)
                log(f"  {self.server.engine} {run}: {result.seconds:.3f} s, CPU {result.cpu_seconds:.3f} s")
        return series


HEADER = (
    "| engine | migrations | uno-migrations test | pytest-alembic test_up_down_consistency | uno / up_down "
    "| uno faster | pytest-alembic, 4 default tests | uno / 4 tests | uno CPU | up_down CPU |\n"
    "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"
)


def row(engine: str, count: int, series: dict[str, Series]) -> str:
    uno, up_down, default = (series[run] for run in RUNS)
    ratio = uno.median / up_down.median
    cells = [engine, str(count), f"{uno.median:.2f}", f"{up_down.median:.2f}", f"{ratio:.2f}x"]
    cells += ["yes" if ratio < 1 else "NO", f"{default.median:.2f}", f"{uno.median / default.median:.2f}x"]
    cells += [f"{uno.cpu_median or 0:.2f}", f"{up_down.cpu_median or 0:.2f}"]
    return "| " + " | ".join(cells) + " |"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql,mysql")
    parser.add_argument("--migrations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    add_server_options(parser)
    args = parser.parse_args(argv)
    urls = server_urls(args)
    rows, loads = [], [load_average()]
    with temp_dir("kit") as root, temp_dir("sqlite") as sqlite_dir:
        uno_dir, alembic_dir = write_uno(root, args.migrations), write_alembic(root, args.migrations)
        for engine in args.engines.split(","):
            server = Server.from_url(engine, urls[engine], sqlite_dir)
            log(f"{engine}: both projects make the same schema?")
            check_same_schema(server, uno_dir, alembic_dir)
            bench = Bench(server, urls[engine], uno_dir, alembic_dir, args.migrations)
            rows.append(row(engine, args.migrations, bench.measure(args.repeat)))
            loads.append(load_average())
    print(f"Testing {args.migrations} migrations, median of {args.repeat} runs, seconds\n\n{HEADER}")
    print("\n".join(rows))
    print(
        "\nWall time from spawn to exit; CPU: the process's own user + system time. Load average "
        f"(1, 5, 15 min) at the start: {loads[0]}; after each engine: {'; '.join(loads[1:])}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Alembic's runtime objects inside revisions run by uno, as Alembic provides them: the Config (its
main options, ``sqlalchemy.url``, ``script_location``, ``attributes``), the ``-x`` arguments, the
runtime context's ``opts``; and errors raised inside a revision, which name its file and line.

Each revision here writes what it sees into a table ``facts``, read back by the test.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from alembic_support import write_revision
from helpers import Cli, TestDatabase, fresh_database
from sqlalchemy.engine import make_url

from alembic_compat import AlembicSource
from uno_migrations import ExecutionError, Migrator

#: A project helper, shared by the revisions as projects do: it reads the configuration through
#: ``op.get_context().config``, as helpers written for Alembic's env.py do.
HELPER = '''
"""Shared by the revisions."""

import json

import sqlalchemy as sa
from alembic import op


def audit_table():
    return op.get_context().config.get_main_option("audit_table")


def record(name, value):
    op.get_bind().execute(
        sa.text("INSERT INTO facts (name, value) VALUES (:name, :value)"),
        {"name": name, "value": json.dumps(value)},
    )
'''

FACTS = """
from alembic import context
from project_helpers import record

op.create_table("facts", sa.Column("name", sa.String(40)), sa.Column("value", sa.String(400)))
config = context.config
runtime = op.get_context()
record("url", config.get_main_option("sqlalchemy.url"))
record("script_location", config.get_main_option("script_location"))
record("marker", config.get_main_option("marker"))
record("overridden", config.get_main_option("overridden"))
record("missing", config.get_main_option("missing"))
record("percent", config.get_main_option("percent"))
record("same config", config is runtime.config is context.get_context().config)
record("same context", context.get_context() is runtime)
record("x", context.get_x_argument())
record("x dict", context.get_x_argument(as_dictionary=True))
record("offline", context.is_offline_mode())
record("opts", sorted(k for k in runtime.opts if k in ("target_metadata", "transaction_per_migration", "as_sql")))
record("per migration", runtime.opts["transaction_per_migration"])
record("shared opts", runtime.opts is context.get_context().opts)
record("attribute", config.attributes.get("given"))
config.attributes["first"] = "seen by the next revision"
"""


def _project(root: Path, ini: str | None = None) -> Path:
    """A project: ``alembic.ini`` (when given), the shared helper, and the versions directory."""
    (root / "versions").mkdir(parents=True)
    if ini is not None:
        (root / "alembic.ini").write_text(textwrap.dedent(ini).lstrip(), encoding="utf-8")
    (root / "project_helpers.py").write_text(HELPER.lstrip(), encoding="utf-8")
    return root / "versions"


async def _facts(db: TestDatabase) -> dict[str, object]:
    return {name: json.loads(value) for name, value in await db.fetch("SELECT name, value FROM facts")}


def _run_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


async def test_a_shared_helper_reads_main_options_through_op_get_context(
    db: TestDatabase, tmp_path: Path
) -> None:
    """The reported defect: a helper reading ``op.get_context().config.get_main_option(...)``
    failed on the first revision with ``AttributeError: 'NoneType' object has no attribute
    'get_main_option'``; the option now comes from the source's main options."""
    versions = _project(tmp_path / "project")
    write_revision(
        versions,
        "aaaa",
        None,
        header="from project_helpers import audit_table",
        upgrade='op.create_table(audit_table(), sa.Column("id", sa.Integer(), primary_key=True))',
        downgrade="op.drop_table(audit_table())",
    )
    source = AlembicSource([versions], options={"audit_table": "audit_log"})
    migrator = Migrator(db.url, [], sources=[source])
    assert (await migrator.migrate()).ids == ["aaaa"]
    assert "audit_log" in await db.tables()
    assert (await migrator.rollback(all=True)).ids == ["aaaa"]
    assert "audit_log" not in await db.tables()


async def test_config_x_arguments_and_opts_as_alembic_gives_them(db: TestDatabase, tmp_path: Path) -> None:
    versions = _project(
        tmp_path / "project",
        ini="""
            [alembic]
            script_location = %(here)s
            sqlalchemy.url = sqlite:///not-this-one.db
            marker = from the ini
            overridden = from the ini
        """,
    )
    write_revision(versions, "aaaa", None, upgrade=FACTS, downgrade='op.drop_table("facts")')
    write_revision(
        versions,
        "bbbb",
        "aaaa",
        header="from alembic import context\nfrom project_helpers import record",
        upgrade='record("next revision", context.config.attributes.get("first"))',
    )
    source = AlembicSource(
        [versions],
        x_arguments=["tenant=acme", "dry"],
        options={"overridden": "from the source", "percent": "100%"},
        attributes={"given": "by the caller"},
    )
    assert (await Migrator(db.url, [], sources=[source]).migrate()).ids == ["aaaa", "bbbb"]
    facts = await _facts(db)
    assert facts == {
        "url": _run_url(db.url),
        "script_location": str((tmp_path / "project").resolve()),
        "marker": "from the ini",
        "overridden": "from the source",
        "missing": None,
        "percent": "100%",
        "same config": True,
        "same context": True,
        "x": ["tenant=acme", "dry"],
        "x dict": {"tenant": "acme", "dry": ""},
        "offline": False,
        "opts": ["as_sql", "target_metadata", "transaction_per_migration"],
        "per migration": True,
        "shared opts": True,
        "attribute": "by the caller",
        "next revision": "seen by the next revision",
    }
    assert source.attributes["first"] == "seen by the next revision"


async def test_without_an_ini_script_location_is_the_versions_parent(
    db: TestDatabase, tmp_path: Path
) -> None:
    versions = _project(tmp_path / "project")
    write_revision(versions, "aaaa", None, upgrade=FACTS, downgrade='op.drop_table("facts")')
    assert (await Migrator(db.url, [], sources=[AlembicSource([versions])]).migrate()).ids == ["aaaa"]
    facts = await _facts(db)
    assert facts["script_location"] == str((tmp_path / "project").resolve())
    assert facts["url"] == _run_url(db.url)
    assert facts["x"] == [] and facts["x dict"] == {} and facts["marker"] is None


def test_main_options_and_x_arguments_must_be_strings(tmp_path: Path) -> None:
    from uno_migrations import ConfigurationError

    with pytest.raises(ConfigurationError, match="main options must be strings"):
        AlembicSource([tmp_path], options={"retries": 3})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="x_arguments must be a sequence of strings"):
        AlembicSource([tmp_path], x_arguments="tenant=acme")


async def test_the_command_line_gives_x_arguments_and_main_options(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """``-x`` (repeatable, before or after the command) replaces the file's ``alembic_x_args``;
    ``alembic_options`` are main options."""
    versions = _project(tmp_path / "alembic")
    write_revision(versions, "aaaa", None, upgrade=FACTS, downgrade='op.drop_table("facts")')
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.uno_migrations]
            alembic_directories = ["alembic/versions"]
            alembic_x_args = ["tenant=from-file"]
            alembic_options = {marker = "from pyproject", overridden = "yes"}
            """
        ),
        encoding="utf-8",
    )
    done = await cli.run("-u", db.url, "-x", "tenant=acme", "migrate", "--x-arg", "region=eu", "-x", "dry")
    assert done.exit_code == 0, done.output
    facts = await _facts(db)
    # Given after the command, they win (as -d does); the command line's replace the file's.
    assert facts["x"] == ["region=eu", "dry"] and facts["x dict"] == {"region": "eu", "dry": ""}
    assert facts["marker"] == "from pyproject" and facts["overridden"] == "yes"
    assert facts["url"] == _run_url(db.url)

    for before, seen in ((["-x", "tenant=before"], ["tenant=before"]), ([], ["tenant=from-file"])):
        rolled = await cli.run("-u", db.url, "rollback", "--all")
        assert rolled.exit_code == 0, rolled.output
        again = await cli.run("-u", db.url, *before, "migrate")
        assert again.exit_code == 0, again.output
        assert (await _facts(db))["x"] == seen


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('alembic_options = ["a"]', "alembic_options must be a table, not a list"),
        ("alembic_options = {retries = 3}", "alembic_options.retries must be a string, not an integer"),
        ("alembic_x_args = 3", "alembic_x_args must be a list of non-empty strings"),
        ("alembic_metadata = 3", "alembic_metadata must be a string, not an integer"),
    ],
)
def test_bad_settings_in_the_config_file_are_one_line(
    cli: Cli, tmp_path: Path, table: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.uno_migrations]\n{table}\n", encoding="utf-8")
    done = cli("-u", "sqlite:///app.db", "status")
    assert done.exit_code == 1
    assert done.stderr.startswith(f"error: pyproject.toml: {message}"), done.output


# -- errors raised inside a revision name its file and line ------------------------------------------


async def test_errors_inside_a_revision_name_its_file_and_line(
    db: TestDatabase, cli: Cli, tmp_path: Path
) -> None:
    """A failing ``op.*`` call (the database's error) and a Python error raised in a helper the
    revision calls, each named by the revision file and the line of the call, through the command
    line (before, the database's error named no line)."""
    versions = tmp_path / "alembic" / "versions"
    path = write_revision(
        versions,
        "aaaa",
        None,
        upgrade="""
            op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True))
            op.execute("INSERT INTO no_such_table (id) VALUES (1)")
        """,
    )
    done = await cli.run("-u", db.url, "--alembic-directory", "alembic/versions", "migrate")
    assert done.exit_code == 1
    first = done.stderr.splitlines()[0]
    line = _line_of(path, "no_such_table")
    assert first.startswith(f"error: migration aaaa (alembic/versions/aaaa_rev.py:{line}) failed: "), (
        done.output
    )
    assert "no_such_table" in first

    other = tmp_path / "other" / "versions"
    path = write_revision(
        other,
        "bbbb",
        None,
        header="from tenant_helpers import current_tenant",
        upgrade="""
            op.create_table("tenants", sa.Column("id", sa.Integer(), primary_key=True))
            current_tenant()
        """,
    )
    (tmp_path / "other" / "tenant_helpers.py").write_text(
        "def current_tenant():\n    raise LookupError('no tenant configured')\n", encoding="utf-8"
    )
    async with fresh_database(db.dialect, tmp_path) as fresh:
        done = await cli.run("-u", fresh.url, "--alembic-directory", "other/versions", "migrate")
        assert done.exit_code == 1
        line = _line_of(path, "current_tenant()")
        assert done.stderr.splitlines()[0] == (
            f"error: migration bbbb (other/versions/bbbb_rev.py:{line}) failed: LookupError: no tenant configured"
        ), done.output


async def test_the_error_of_a_failing_op_keeps_its_line_from_the_library(
    db: TestDatabase, tmp_path: Path
) -> None:
    versions = tmp_path / "versions"
    path = write_revision(
        versions,
        "aaaa",
        None,
        upgrade="""
            op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True))
            op.add_column("no_such_table", sa.Column("extra", sa.Integer()))
        """,
    )
    with pytest.raises(ExecutionError) as raised:
        await Migrator(db.url, [], sources=[AlembicSource([versions])]).migrate()
    assert raised.value.migration_id == "aaaa"
    assert raised.value.line == _line_of(path, "no_such_table")
    assert "no_such_table" in str(raised.value)


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)

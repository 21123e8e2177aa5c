"""The history's MetaData (Alembic's ``target_metadata``): its naming convention names the
constraints revisions leave unnamed, as under an env.py that configures it, on every engine.

The history: ``aaaa`` creates two tables whose foreign key and unique constraint have no name;
``bbbb`` drops both by the names the convention gives them (in batch mode, which SQLite needs);
``cccc`` adds the foreign key again with ``create_foreign_key(None, ...)``. Alembic itself, with
an env.py whose ``target_metadata`` has the convention, runs it; so must uno with the option.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic_support import VERSION_TABLES, alembic, schema_of, write_revision
from helpers import Cli, TestDatabase, fresh_database

from alembic_compat import AlembicSource
from uno_migrations import ExecutionError, Migrator

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MODELS = f"""
import sqlalchemy as sa

CONVENTION = {CONVENTION!r}
metadata = sa.MetaData(naming_convention=CONVENTION)
"""
ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

from naming_models import metadata

config = context.config
target_metadata = metadata

connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""
FK = "fk_books_author_id_authors"
UQ = "uq_books_isbn"


def _project(root: Path) -> Path:
    """The history as an Alembic project: alembic.ini, the env.py with ``target_metadata``, the
    models module holding the MetaData, the versions."""
    versions = root / "versions"
    root.mkdir(parents=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\nprepend_sys_path = %(here)s\npath_separator = os\n",
        encoding="utf-8",
    )
    (root / "env.py").write_text(ENV.lstrip(), encoding="utf-8")
    (root / "naming_models.py").write_text(MODELS.lstrip(), encoding="utf-8")
    write_revision(
        versions,
        "aaaa",
        None,
        upgrade="""
            op.create_table("authors", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(50)))
            op.create_table(
                "books",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("author_id", sa.Integer(), sa.ForeignKey("authors.id")),
                sa.Column("isbn", sa.String(20)),
                sa.UniqueConstraint("isbn"),
            )
        """,
        downgrade="""
            op.drop_table("books")
            op.drop_table("authors")
        """,
    )
    write_revision(
        versions,
        "bbbb",
        "aaaa",
        upgrade=f"""
            with op.batch_alter_table("books") as batch_op:
                batch_op.drop_constraint("{FK}", type_="foreignkey")
                batch_op.drop_constraint("{UQ}", type_="unique")
        """,
        downgrade=f"""
            with op.batch_alter_table("books") as batch_op:
                batch_op.create_unique_constraint("{UQ}", ["isbn"])
                batch_op.create_foreign_key("{FK}", "authors", ["author_id"], ["id"])
        """,
    )
    write_revision(
        versions,
        "cccc",
        "bbbb",
        upgrade="""
            with op.batch_alter_table("books") as batch_op:
                batch_op.create_foreign_key(None, "authors", ["author_id"], ["id"])
        """,
        downgrade=f"""
            with op.batch_alter_table("books") as batch_op:
                batch_op.drop_constraint("{FK}", type_="foreignkey")
        """,
    )
    return versions


def _foreign_keys(schema: dict[str, dict[str, list[tuple[object, ...]]]]) -> list[object]:
    return [fk[0] for fk in schema["books"]["foreign keys"]]


def _uniques(schema: dict[str, dict[str, list[tuple[object, ...]]]]) -> list[object]:
    return [uq[0] for uq in schema["books"]["unique"]]


async def test_without_the_metadata_the_history_fails_as_it_would_without_env_py(
    db: TestDatabase, tmp_path: Path
) -> None:
    """The defect: run without the env.py's ``target_metadata``, the constraints get the
    database's own names and ``bbbb`` cannot drop them by the convention's."""
    versions = _project(tmp_path / "project")
    migrator = Migrator(db.url, [], sources=[AlembicSource([versions])])
    with pytest.raises(ExecutionError) as raised:
        await migrator.migrate()
    assert raised.value.migration_id == "bbbb"
    assert FK in str(raised.value)
    assert FK not in _foreign_keys(await schema_of(db.url))


async def test_with_the_metadata_revisions_name_constraints_as_under_alembic(
    db: TestDatabase, tmp_path: Path
) -> None:
    versions = _project(tmp_path / "project")
    migrator = Migrator(db.url, [], sources=[AlembicSource([versions], metadata="naming_models:metadata")])
    assert (await migrator.migrate(target="aaaa")).ids == ["aaaa"]
    first = await schema_of(db.url)
    assert _foreign_keys(first) == [FK]
    assert _uniques(first) == [UQ]
    assert (await migrator.migrate()).ids == ["bbbb", "cccc"]
    ours = await schema_of(db.url)
    assert _foreign_keys(ours) == [FK]  # create_foreign_key(None, ...) named by the convention
    assert UQ not in _uniques(ours)

    async with fresh_database(db.dialect, tmp_path) as theirs:
        await alembic(theirs.url, "upgrade", "aaaa", history=tmp_path / "project")
        assert await schema_of(theirs.url) == first
        await alembic(theirs.url, "upgrade", "head", history=tmp_path / "project")
        assert await schema_of(theirs.url) == ours

    assert (await migrator.rollback(all=True)).ids == ["cccc", "bbbb", "aaaa"]
    assert await db.tables() == VERSION_TABLES


async def test_a_metadata_object_names_constraints_and_its_schema_is_not_applied(
    db: TestDatabase, tmp_path: Path
) -> None:
    """From the library, a ``MetaData`` object; as under Alembic, only its naming convention is
    used: its ``schema`` does not move the tables the operations create."""
    versions = _project(tmp_path / "project")
    metadata = sa.MetaData(schema="no_such_schema", naming_convention=CONVENTION)
    migrator = Migrator(db.url, [], sources=[AlembicSource([versions], metadata=metadata)])
    assert (await migrator.migrate()).ids == ["aaaa", "bbbb", "cccc"]
    assert await db.tables() == VERSION_TABLES | {"authors", "books"}
    assert _foreign_keys(await schema_of(db.url)) == [FK]


async def test_the_command_line_option_and_the_config_key(db: TestDatabase, cli: Cli, tmp_path: Path) -> None:
    versions = _project(tmp_path / "alembic")
    base = ["-u", db.url, "--alembic-directory", str(versions.relative_to(tmp_path))]
    failed = await cli.run(*base, "migrate")
    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: migration bbbb (alembic/versions/bbbb_rev.py:"), failed.output

    async with fresh_database(db.dialect, tmp_path) as fresh:
        done = await cli.run(
            "-u",
            fresh.url,
            "--alembic-directory",
            "alembic/versions",
            "migrate",
            "--alembic-metadata",
            "naming_models:metadata",
        )
        assert done.exit_code == 0, done.output
        assert _foreign_keys(await schema_of(fresh.url)) == [FK]

    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.uno_migrations]
            alembic_directories = ["alembic/versions"]
            alembic_metadata = "naming_models:metadata"
            """
        ),
        encoding="utf-8",
    )
    async with fresh_database(db.dialect, tmp_path) as fresh:
        done = await cli.run("-u", fresh.url, "migrate")
        assert done.exit_code == 0, done.output
        assert _foreign_keys(await schema_of(fresh.url)) == [FK]
        back = await cli.run("-u", fresh.url, "rollback", "--all")
        assert back.exit_code == 0, back.output
        assert await fresh.tables() == VERSION_TABLES


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "naming_models",
            "error: the Alembic metadata 'naming_models' (alembic_metadata, --alembic-metadata) "
            "must be module:attribute, as app.models:metadata",
        ),
        (
            "no_such_models:metadata",
            "error: cannot import no_such_models for the Alembic metadata "
            "'no_such_models:metadata' (alembic_metadata, --alembic-metadata): ModuleNotFoundError: "
            "No module named 'no_such_models'",
        ),
        (
            "naming_models:nothing",
            "error: naming_models has no attribute 'nothing', for the Alembic metadata "
            "'naming_models:nothing' (alembic_metadata, --alembic-metadata)",
        ),
        ("naming_models:CONVENTION", None),
    ],
)
def test_a_bad_metadata_reference_is_one_line(
    cli: Cli, tmp_path: Path, reference: str, message: str | None
) -> None:
    _project(tmp_path / "alembic")
    done = cli(
        "-u",
        "sqlite:///app.db",
        "--alembic-directory",
        "alembic/versions",
        "migrate",
        "--alembic-metadata",
        reference,
    )
    assert done.exit_code == 1, done.output
    expected = message or (
        "error: the Alembic metadata 'naming_models:CONVENTION' (alembic_metadata, --alembic-metadata) "
        "is a dict, not a SQLAlchemy MetaData"
    )
    assert done.stderr.strip() == expected, done.output

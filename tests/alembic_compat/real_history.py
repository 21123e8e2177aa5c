"""An Alembic history in one line whose revisions do real work, for a test and for timing against Alembic.

``write_real_history(root, revisions)`` writes ``root/alembic.ini``, ``root/env.py``,
``root/myapp_schema.py`` (the project's own helpers: shared audit columns and a step counter,
imported by every revision) and ``root/versions/`` with ``revisions`` revisions. The first
creates ``counters`` and ``regions``; the others cycle through :data:`KINDS`, each cycle ``NN``
on tables of its own (``acct_NN``, ``ordr_NN``, ``tag_NN`` renamed ``label_NN``, ``arch_NN``):

- ``accounts``: ``op.create_table`` with a foreign key to ``regions``, a unique constraint and
  server defaults;
- ``orders``: ``op.create_table`` with a named foreign key to the cycle's accounts, a composite
  unique constraint, a boolean and a numeric default;
- ``indexes``: ``op.create_index``, a composite one and a unique one;
- ``data``: ``op.bulk_insert`` of 30 accounts and 45 orders, then UPDATEs with parameters through
  ``op.execute(sa.text(...))`` and ``op.get_bind().execute(...)`` (one with a list of parameter
  sets, one with a correlated subquery);
- ``enums``: a table with an ``sa.Enum`` column (CREATE TYPE on PostgreSQL) filled by
  ``op.bulk_insert``, and an UPDATE reading it;
- ``batch``: ``op.batch_alter_table`` on the accounts (a table other tables refer to): a new
  column, a wider type, a column made nullable, a unique constraint dropped, another created;
- ``columns``: ``op.add_column`` with a server default, ``op.alter_column`` renaming a column in a
  unique constraint, ``op.drop_index`` and a column dropped in batch mode;
- ``archive``: ``op.rename_table``, a new table filled by INSERT ... SELECT, a DELETE with a parameter.

Every revision but the first adds one to the ``steps`` counter, so a run of ``revisions`` leaves
``revisions - 1`` there. Every revision runs on PostgreSQL, MySQL/MariaDB and SQLite, under
Alembic and under uno, and has a downgrade that undoes it (but the rows ``archive`` deletes).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

HELPERS = '''
    """The project's own helpers, imported by its revisions."""

    import sqlalchemy as sa
    from alembic import op


    def audit_columns():
        return [
            sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
            sa.Column("updated_at", sa.DateTime(), nullable=True),
        ]


    def count_step(by=1):
        op.execute(sa.text("UPDATE counters SET n = n + :by WHERE name = 'steps'").bindparams(by=by))


    def drop_enum(name):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TYPE {name}")
'''
INI = """
    [alembic]
    script_location = %(here)s
    prepend_sys_path = %(here)s
    path_separator = os
    sqlalchemy.url = sqlite:///alembic.db
"""
ENV = """
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    section = config.get_section(config.config_ini_section, {})
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
"""
FIRST = (
    """
    op.create_table(
        "counters",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.execute("INSERT INTO counters (name, n) VALUES ('steps', 0)")
    regions = op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.UniqueConstraint("code", name="uq_regions_code"),
    )
    op.bulk_insert(
        regions,
        [{{"id": i, "code": f"R{{i}}", "name": f"Region {{i}}"}} for i in range(1, 6)],
    )
    """,
    """
    op.drop_table("regions")
    op.drop_table("counters")
    """,
)
#: (name, upgrade, downgrade) of each kind of revision; ``{s}`` is the cycle's two digits.
KINDS = (
    (
        "accounts",
        """
        op.create_table(
            "acct_{s}",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("region_id", sa.Integer(), sa.ForeignKey("regions.id", name="fk_acct_{s}_region"), nullable=False),
            sa.Column("code", sa.String(20), nullable=False),
            sa.Column("name", sa.String(60), nullable=False),
            sa.Column("state", sa.String(16), nullable=False, server_default="new"),
            sa.Column("score", sa.Integer(), nullable=False, server_default="0"),
            *myapp_schema.audit_columns(),
            sa.UniqueConstraint("code", name="uq_acct_{s}_code"),
        )
        """,
        'op.drop_table("acct_{s}")',
    ),
    (
        "orders",
        """
        op.create_table(
            "ordr_{s}",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("acct_id", sa.Integer(), nullable=False),
            sa.Column("number", sa.String(20), nullable=False),
            sa.Column("amount", sa.Numeric(10, 2), nullable=False, server_default="0"),
            sa.Column("paid", sa.Boolean(), nullable=False, server_default=sa.false()),
            sa.Column("legacy_ref", sa.String(30), nullable=True),
            *myapp_schema.audit_columns(),
            sa.ForeignKeyConstraint(["acct_id"], ["acct_{s}.id"], name="fk_ordr_{s}_acct", ondelete="CASCADE"),
            sa.UniqueConstraint("acct_id", "number", name="uq_ordr_{s}_num"),
        )
        """,
        'op.drop_table("ordr_{s}")',
    ),
    (
        "indexes",
        """
        op.create_index("ix_acct_{s}_name", "acct_{s}", ["name"])
        op.create_index("ix_ordr_{s}_paid", "ordr_{s}", ["paid", "created_at"])
        op.create_index("ux_ordr_{s}_legacy", "ordr_{s}", ["legacy_ref"], unique=True)
        """,
        """
        op.drop_index("ux_ordr_{s}_legacy", table_name="ordr_{s}")
        op.drop_index("ix_ordr_{s}_paid", table_name="ordr_{s}")
        op.drop_index("ix_acct_{s}_name", table_name="acct_{s}")
        """,
    ),
    (
        "data",
        """
        accounts = sa.table(
            "acct_{s}",
            sa.column("id", sa.Integer()),
            sa.column("region_id", sa.Integer()),
            sa.column("code", sa.String()),
            sa.column("name", sa.String()),
        )
        op.bulk_insert(
            accounts,
            [{{"id": i, "region_id": i % 5 + 1, "code": f"A{s}-{{i:03d}}", "name": f"Account {{i}}"}} for i in range(1, 31)],
        )
        orders = sa.table(
            "ordr_{s}",
            sa.column("id", sa.Integer()),
            sa.column("acct_id", sa.Integer()),
            sa.column("number", sa.String()),
            sa.column("amount", sa.Numeric()),
            sa.column("legacy_ref", sa.String()),
        )
        op.bulk_insert(
            orders,
            [
                {{
                    "id": i,
                    "acct_id": i % 30 + 1,
                    "number": f"N-{{i:04d}}",
                    "amount": i * 37 % 250,
                    "legacy_ref": f"L-{s}-{{i}}" if i % 3 else None,
                }}
                for i in range(1, 46)
            ],
        )
        op.execute(sa.text("UPDATE ordr_{s} SET paid = :paid WHERE amount >= :least").bindparams(paid=True, least=100))
        bind = op.get_bind()
        bind.execute(
            sa.text("UPDATE acct_{s} SET score = score + :bonus, state = :state WHERE region_id = :region"),
            [{{"bonus": 10 * region, "state": "active", "region": region}} for region in (1, 2, 3)],
        )
        bind.execute(
            sa.text(
                "UPDATE acct_{s} SET score = score + "
                "(SELECT count(*) FROM ordr_{s} WHERE ordr_{s}.acct_id = acct_{s}.id AND ordr_{s}.paid = :paid)"
            ),
            {{"paid": True}},
        )
        paid = bind.execute(sa.text("SELECT count(*) FROM ordr_{s} WHERE paid = :paid"), {{"paid": True}}).scalar_one()
        bind.execute(sa.text("UPDATE acct_{s} SET updated_at = CURRENT_TIMESTAMP WHERE id <= :n"), {{"n": paid}})
        """,
        """
        op.execute("DELETE FROM ordr_{s}")
        op.execute("DELETE FROM acct_{s}")
        """,
    ),
    (
        "enums",
        """
        tags = op.create_table(
            "tag_{s}",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("acct_id", sa.Integer(), sa.ForeignKey("acct_{s}.id", name="fk_tag_{s}_acct"), nullable=False),
            sa.Column(
                "kind",
                sa.Enum("vip", "trial", "churned", name="tagkind_{s}"),
                nullable=False,
                server_default="trial",
            ),
            sa.Column("label", sa.String(40), nullable=False),
        )
        op.bulk_insert(
            tags,
            [
                {{"id": i, "acct_id": i, "kind": ("vip", "trial", "churned")[i % 3], "label": f"tag {{i}}"}}
                for i in range(1, 25)
            ],
        )
        op.execute(
            sa.text(
                "UPDATE acct_{s} SET state = :state WHERE id IN (SELECT acct_id FROM tag_{s} WHERE kind = :kind)"
            ).bindparams(state="vip", kind="vip")
        )
        """,
        """
        op.drop_table("tag_{s}")
        myapp_schema.drop_enum("tagkind_{s}")
        """,
    ),
    (
        "batch",
        """
        with op.batch_alter_table("acct_{s}") as batch:
            batch.add_column(sa.Column("note", sa.String(80), nullable=True))
            batch.alter_column("name", existing_type=sa.String(60), type_=sa.String(120), existing_nullable=False)
            batch.alter_column("state", existing_type=sa.String(16), nullable=True, existing_server_default="new")
            batch.drop_constraint("uq_acct_{s}_code", type_="unique")
            batch.create_unique_constraint("uq_acct_{s}_rc", ["code", "region_id"])
        """,
        """
        with op.batch_alter_table("acct_{s}") as batch:
            batch.drop_constraint("uq_acct_{s}_rc", type_="unique")
            batch.create_unique_constraint("uq_acct_{s}_code", ["code"])
            batch.alter_column("state", existing_type=sa.String(16), nullable=False, existing_server_default="new")
            batch.alter_column("name", existing_type=sa.String(120), type_=sa.String(60), existing_nullable=False)
            batch.drop_column("note")
        """,
    ),
    (
        "columns",
        """
        op.add_column("ordr_{s}", sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"))
        op.alter_column("ordr_{s}", "number", new_column_name="ref_no", existing_type=sa.String(20), existing_nullable=False)
        op.drop_index("ux_ordr_{s}_legacy", table_name="ordr_{s}")
        with op.batch_alter_table("ordr_{s}") as batch:
            batch.drop_column("legacy_ref")
        """,
        """
        with op.batch_alter_table("ordr_{s}") as batch:
            batch.add_column(sa.Column("legacy_ref", sa.String(30), nullable=True))
            batch.drop_column("currency")
        op.create_index("ux_ordr_{s}_legacy", "ordr_{s}", ["legacy_ref"], unique=True)
        op.alter_column("ordr_{s}", "ref_no", new_column_name="number", existing_type=sa.String(20), existing_nullable=False)
        """,
    ),
    (
        "archive",
        """
        op.rename_table("tag_{s}", "label_{s}")
        op.create_table(
            "arch_{s}",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("ordr_id", sa.Integer(), sa.ForeignKey("ordr_{s}.id", name="fk_arch_{s}_ordr"), nullable=False),
            sa.Column("amount", sa.Numeric(10, 2), nullable=False),
            sa.Column("archived_at", sa.DateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        )
        op.execute(
            sa.text(
                "INSERT INTO arch_{s} (ordr_id, amount) SELECT id, amount FROM ordr_{s} WHERE paid = :paid ORDER BY id"
            ).bindparams(paid=True)
        )
        op.execute(
            sa.text(
                "DELETE FROM label_{s} WHERE kind = :gone "
                "AND acct_id IN (SELECT id FROM acct_{s} WHERE score < :least)"
            ).bindparams(gone="churned", least=25)
        )
        """,
        """
        op.drop_table("arch_{s}")
        op.rename_table("label_{s}", "tag_{s}")
        """,
    ),
)
REVISION = '''\
"""{title}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

import myapp_schema

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def revision_id(number: int) -> str:
    return f"{number * 2246822519 % 16**12:012x}"


def kind_of(number: int) -> tuple[str, str]:
    """Revision ``number``'s kind (the first is ``base``) and its cycle's two digits."""
    if number == 1:
        return "base", ""
    cycle, kind = divmod(number - 2, len(KINDS))
    return KINDS[kind][0], f"{cycle + 1:02d}"


def write_real_history(root: Path, revisions: int) -> list[str]:
    """Write the project; return the revision ids, oldest first."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "myapp_schema.py").write_text(textwrap.dedent(HELPERS).lstrip(), encoding="utf-8")
    (root / "alembic.ini").write_text(textwrap.dedent(INI).lstrip(), encoding="utf-8")
    (root / "env.py").write_text(textwrap.dedent(ENV).lstrip(), encoding="utf-8")
    ids = [revision_id(number) for number in range(1, revisions + 1)]
    for number, revision in enumerate(ids, 1):
        kind, suffix = kind_of(number)
        if number == 1:
            upgrade, downgrade = (textwrap.dedent(body).strip().format() for body in FIRST)
        else:
            _, up, down = KINDS[(number - 2) % len(KINDS)]
            upgrade = textwrap.dedent(up).strip().format(s=suffix) + "\nmyapp_schema.count_step()"
            downgrade = "myapp_schema.count_step(-1)\n" + textwrap.dedent(down).strip().format(s=suffix)
        text = REVISION.format(
            title=f"{kind} {suffix}".strip(),
            revision=revision,
            down=ids[number - 2] if number > 1 else None,
            upgrade=textwrap.indent(upgrade, "    "),
            downgrade=textwrap.indent(downgrade, "    "),
        )
        (versions / f"{revision}_{kind}_{number:04d}.py").write_text(text, encoding="utf-8")
    return ids

"""The migration files each tool reads: uno (.sql and .py), Alembic revisions, yoyo .sql files.

Every generator writes into a directory it is given and returns what the tool is pointed at.
Migration ``i`` (1-based) creates table ``t_i`` and inserts one row into it.
"""

from __future__ import annotations

from pathlib import Path


def statements(i: int) -> list[str]:
    return [
        f"CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name VARCHAR(50))",
        f"INSERT INTO t_{i} (id, name) VALUES (1, 'x')",
    ]


def sql_text(i: int) -> str:
    return "".join(f"{statement};\n" for statement in statements(i))


def python_text(i: int) -> str:
    body = "".join(f"    await context.execute_sql({statement!r})\n" for statement in statements(i))
    return f"async def up(context):\n{body}"


def uno_directory(root: Path, count: int, python_every: int = 0) -> Path:
    """``count`` uno migrations; with ``python_every`` = n, every n-th is a Python migration."""
    directory = root / "uno"
    directory.mkdir(parents=True)
    for i in range(1, count + 1):
        if python_every and i % python_every == 0:
            (directory / f"{i:05d}_create_t{i}.py").write_text(python_text(i), encoding="utf-8")
        else:
            (directory / f"{i:05d}_create_t{i}.sql").write_text(sql_text(i), encoding="utf-8")
    return directory


def yoyo_directory(root: Path, count: int) -> Path:
    """``count`` yoyo migrations, one .sql file each (yoyo runs the file's statements as one step)."""
    directory = root / "yoyo"
    directory.mkdir(parents=True)
    for i in range(1, count + 1):
        (directory / f"{i:05d}_create_t{i}.sql").write_text(sql_text(i), encoding="utf-8")
    return directory


ALEMBIC_ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with connectable.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

ALEMBIC_REVISION = '''\
"""create t_{i}"""
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{body}

def downgrade():
    op.execute("DROP TABLE t_{i}")
'''


def revision_id(i: int) -> str:
    return f"r{i:05d}"


def alembic_project(root: Path, count: int) -> Path:
    """An Alembic script directory with ``count`` revisions in one line; returns the directory.

    Point ``alembic -c`` at :func:`alembic_ini` for a database.
    """
    directory = root / "alembic"
    versions = directory / "versions"
    versions.mkdir(parents=True)
    (directory / "env.py").write_text(ALEMBIC_ENV, encoding="utf-8")
    for i in range(1, count + 1):
        body = "".join(f"    op.execute({statement!r})\n" for statement in statements(i))
        down = revision_id(i - 1) if i > 1 else None
        text = ALEMBIC_REVISION.format(i=i, revision=revision_id(i), down=down, body=body)
        (versions / f"{revision_id(i)}_create_t{i}.py").write_text(text, encoding="utf-8")
    return directory


def alembic_ini(project: Path, url: str, path: Path) -> Path:
    """An alembic.ini at ``path`` for ``project`` and the database ``url`` (SQLAlchemy sync URL)."""
    escaped = url.replace("%", "%%")  # configparser interpolation
    path.write_text(
        f"[alembic]\nscript_location = {project}\npath_separator = os\nsqlalchemy.url = {escaped}\n",
        encoding="utf-8",
    )
    return path


DATA_MIGRATION = """\
# Migration: Clean e-mail addresses
# Description: lower(trim(email)) for every user, computed in Python, in batches.

BATCH_SIZE = {batch_size}


async def up(context):
    async for batch in context.iterate("SELECT id, email FROM users ORDER BY id", batch_size=BATCH_SIZE):
        await context.execute_many(
            "UPDATE users SET email = $1 WHERE id = $2",
            [(email.strip().lower(), user_id) for user_id, email in batch],
        )
"""


def uno_data_migration(root: Path, batch_size: int) -> Path:
    directory = root / "uno_data"
    directory.mkdir(parents=True)
    text = DATA_MIGRATION.format(batch_size=batch_size)
    (directory / "00001_clean_emails.py").write_text(text, encoding="utf-8")
    return directory

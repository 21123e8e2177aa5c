"""Many deploys at once, and a deploy killed half-way (SPEC §4).

Real processes: eight `uno-migrations migrate` started together against one database apply each
migration exactly once; a `migrate` killed with SIGKILL inside a migration leaves the database as
it was before that migration (PostgreSQL, SQLite) or a `failed` row (MySQL), and no stale lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from helpers import TestDatabase

MakeDir = Callable[..., Path]
SCRIPT = str(Path(sys.executable).with_name("uno-migrations"))
PROCESSES = 8


def _environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNO_MIGRATIONS_", "DATABASE_URL"))}
    env["UNO_MIGRATIONS_DATABASE_URL"] = url
    return env


def _concurrent_project(make_migrations: MakeDir) -> Path:
    files = {
        f"{i:03d}_table_{i}.sql": f"CREATE TABLE t{i} (id INTEGER);\nINSERT INTO t{i} (id) VALUES ({i});\n"
        for i in range(1, 13)
    }
    # A slower Python migration in the middle, so that the runs really overlap.
    files["006_slow.py"] = (
        "import asyncio\n\nasync def up(context):\n"
        "    await context.execute_sql('CREATE TABLE slow (id INTEGER)')\n"
        "    await asyncio.sleep(0.5)\n"
    )
    return make_migrations(files)


async def test_eight_deploys_at_once_apply_each_migration_once(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    directory = _concurrent_project(make_migrations)
    env = _environment(db.url)
    runs = [
        subprocess.Popen(
            [SCRIPT, "-d", str(directory), "migrate", "--lock-timeout", "120"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outcomes = [(run.wait(timeout=180), *run.communicate()) for run in runs]
    for code, stdout, stderr in outcomes:
        assert code == 0, f"exit {code}\n{stdout}\n{stderr}"
    applied = await db.fetch("SELECT id FROM uno_migrations WHERE status = 'applied' ORDER BY id")
    assert len(applied) == 13
    log = await db.fetch(
        "SELECT migration_id, count(*) FROM uno_migrations_log WHERE action = 'apply' GROUP BY migration_id"
    )
    assert sorted(log) == sorted((mid, 1) for (mid,) in applied), "each migration applied exactly once"
    assert await db.fetch("SELECT count(*) FROM uno_migrations_log WHERE action <> 'apply'") == [(0,)]
    for i in range(1, 13):
        assert await db.fetch(f"SELECT id FROM t{i}") == [(i,)]
    # Every run printed a summary; together they applied 13 migrations, one line each.
    done_lines = sum(out.count(" ms\n") - out.count("Applied ") for _, out, _ in outcomes)
    assert done_lines >= 13


def _killable_project(make_migrations: MakeDir, marker: Path) -> Path:
    return make_migrations(
        {
            "1_before.sql": "CREATE TABLE before_kill (id INTEGER);\n-- DOWN\nDROP TABLE before_kill;\n",
            "2_long.py": f"""\
                import asyncio
                import os
                from pathlib import Path


                async def up(context):
                    await context.execute_sql("CREATE TABLE IF NOT EXISTS doomed (id INTEGER)")
                    await context.execute_sql("INSERT INTO doomed (id) VALUES (1)")
                    if not os.environ.get("QUICK"):
                        Path({str(marker)!r}).write_text("inside")
                        await asyncio.sleep(120)


                async def down(context):
                    await context.execute_sql("DROP TABLE doomed")
            """,
        }
    )


def _start_inside(directory: Path, env: dict[str, str], marker: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start `migrate` and return once it is inside the long migration."""
    run = subprocess.Popen(
        [SCRIPT, "-d", str(directory), "migrate"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the migration never started"
        time.sleep(0.05)
    return run


def _start_and_kill(directory: Path, env: dict[str, str], marker: Path, cwd: Path) -> None:
    run = _start_inside(directory, env, marker, cwd)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


async def test_killed_migration_leaves_nothing_on_transactional_engines(
    tx_db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    marker = tmp_path / "inside"
    directory = _killable_project(make_migrations, marker)
    env = _environment(tx_db.url)
    _start_and_kill(directory, env, marker, tmp_path)

    tables = await tx_db.tables()
    assert "before_kill" in tables and "doomed" not in tables
    assert await tx_db.fetch("SELECT id, status FROM uno_migrations") == [("1_before", "applied")]

    # No stale lock: the next run starts at once and finishes the job.
    quick = {**env, "QUICK": "1"}
    started = time.monotonic()
    again = _cli(quick, tmp_path, "-d", str(directory), "migrate", "--lock-timeout", "5")
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < 30
    assert "Applying 2_long" in again.stdout
    assert await tx_db.fetch("SELECT id FROM doomed") == [(1,)]


async def test_killed_migration_on_mysql_leaves_a_failed_row(
    mysql_db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    marker = tmp_path / "inside"
    directory = _killable_project(make_migrations, marker)
    env = _environment(mysql_db.url)
    _start_and_kill(directory, env, marker, tmp_path)

    rows = await mysql_db.fetch("SELECT id, status FROM uno_migrations ORDER BY id")
    assert rows == [("1_before", "applied"), ("2_long", "failed")]
    status = _cli(env, tmp_path, "-d", str(directory), "status")
    assert status.returncode == 0
    assert any(line.startswith("2_long") and "failed" in line for line in status.stdout.splitlines())

    quick = {**env, "QUICK": "1"}
    refused = _cli(quick, tmp_path, "-d", str(directory), "migrate", "--lock-timeout", "5")
    assert refused.returncode == 1
    assert "2_long" in refused.stderr and "repair 2_long" in refused.stderr
    assert _cli(quick, tmp_path, "-d", str(directory), "repair", "2_long").returncode == 0
    again = _cli(quick, tmp_path, "-d", str(directory), "migrate", "--lock-timeout", "5")
    assert again.returncode == 0, again.stderr
    assert await mysql_db.fetch("SELECT status FROM uno_migrations WHERE id = '2_long'") == [("applied",)]


async def test_lock_timeout_fails_with_a_clear_message(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    marker = tmp_path / "inside"
    directory = _killable_project(make_migrations, marker)
    env = _environment(db.url)
    holder = _start_inside(directory, env, marker, tmp_path)
    try:
        started = time.monotonic()
        waiting = _cli(env, tmp_path, "-d", str(directory), "migrate", "--lock-timeout", "1")
        assert time.monotonic() - started < 20
        assert waiting.returncode == 1
        assert waiting.stderr.startswith("error: could not take the migration lock within 1 s"), (
            waiting.stderr
        )
        assert len(waiting.stderr.strip().splitlines()) == 1
        holders = {
            "postgresql": "held by PostgreSQL backend pid",
            "mysql": "held by MySQL connection",
            "sqlite": "held by process ",
        }
        assert holders[db.dialect] in waiting.stderr
    finally:
        holder.kill()
        holder.wait()

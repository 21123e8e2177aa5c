"""W4: start-up of the command line, cold processes, on SQLite."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import data
import tools
from common import Series, Sizes, executable, log, temp_dir
from databases import Database, Server, fresh_database
from workloads import Result, timed

#: (tool, case, needs a database) in the order they are run and shown.
CASES = (
    ("uno", "--help", False),
    ("uno", "status (empty)", True),
    ("alembic", "--help", False),
    ("alembic", "current (empty)", True),
    ("yoyo", "--help", False),
    ("yoyo", "list (empty)", True),
    ("floor", "python -c pass", False),
    ("floor", "status (empty)", True),
)

Command = Callable[[Database | None], list[str]]


def commands(root: Path) -> dict[tuple[str, str], Command]:
    """The command of each case, given a fresh SQLite database when the case needs one."""
    empty = root / "migrations"
    empty.mkdir()
    project = data.alembic_project(root, 0)

    def need(database: Database | None) -> Database:
        assert database is not None
        return database

    def alembic_current(database: Database | None) -> list[str]:
        ini = data.alembic_ini(project, need(database).url("sync"), root / "alembic.ini")
        return tools.alembic(ini, "current")

    return {
        ("uno", "--help"): lambda _: [executable("uno-migrations"), "--help"],
        ("uno", "status (empty)"): lambda db: tools.uno(need(db), empty, "status"),
        ("alembic", "--help"): lambda _: [executable("alembic"), "--help"],
        ("alembic", "current (empty)"): alembic_current,
        ("yoyo", "--help"): lambda _: [executable("yoyo"), "--help"],
        ("yoyo", "list (empty)"): lambda db: tools.yoyo("list", need(db), empty),
        ("floor", "python -c pass"): lambda _: [sys.executable, "-c", "pass"],
        ("floor", "status (empty)"): lambda db: tools.floor("status", need(db), empty),
    }


def w4_startup(sizes: Sizes, repeat: int) -> list[Result]:
    """Median of several cold processes per case (after one untimed warm-up run of each)."""
    runs = max(sizes.startup_runs, 3 * repeat) if sizes.warm_up else sizes.startup_runs
    first = 1 if sizes.warm_up else 0
    with temp_dir("w4") as root:
        server = Server("sqlite", directory=root)
        table = commands(root)
        series = {case: Series() for case in table}
        for index in range(runs + first):
            for tool, case, needs_db in CASES:
                if needs_db:
                    with fresh_database(server, "w4") as database:
                        result = timed(table[tool, case](database), root)
                else:
                    result = timed(table[tool, case](None), root)
                if index >= first:  # with warm-up, the first round only warms caches
                    series[tool, case].add(result)
        for (tool, case), one in series.items():
            log(f"  W4 {tool} {case}: {one.median:.3f} s")
        return [Result("W4", "sqlite", tool, case, 0, series[tool, case]) for tool, case, _ in CASES]

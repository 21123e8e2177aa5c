"""W4: start-up of the command line, cold processes: ``--help`` once, and the commands that
connect (``status`` on an empty directory and the like) on each engine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import data
import tools
from common import Series, Sizes, executable, log, temp_dir
from databases import Database, Server, fresh_database
from workloads import Result, timed

#: The engine of the cases that touch no database.
NO_ENGINE = "-"

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
    """The command of each case, given a fresh database when the case needs one."""
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


def w4_startup(server: Server, sizes: Sizes, repeat: int, without_database: bool) -> list[Result]:
    """Median of several cold processes per case (after one untimed warm-up run of each): the
    cases that connect, on ``server``'s engine; with ``without_database``, the others too."""
    runs = max(sizes.startup_runs, 3 * repeat) if sizes.warm_up else sizes.startup_runs
    first = 1 if sizes.warm_up else 0
    cases = [(tool, case, db) for tool, case, db in CASES if db or without_database]
    with temp_dir("w4") as root:
        table = commands(root)
        series = {(tool, case): Series() for tool, case, _ in cases}
        for index in range(runs + first):
            for tool, case, needs_db in cases:
                if needs_db:
                    with fresh_database(server, "w4") as database:
                        result = timed(table[tool, case](database), root)
                else:
                    result = timed(table[tool, case](None), root)
                if index >= first:  # with warm-up, the first round only warms caches
                    series[tool, case].add(result)
        results = []
        for tool, case, needs_db in cases:
            engine = server.engine if needs_db else NO_ENGINE
            log(f"  W4 {engine} {tool} {case}: {series[tool, case].median:.3f} s")
            results.append(Result("W4", engine, tool, case, 0, series[tool, case]))
        return results

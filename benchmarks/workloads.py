"""W1 (apply 1,000 migrations) and W2 (status / no-op migrate at 1,000 and 10,000 files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import data
import tools
from common import (
    TOOLS,
    BenchmarkError,
    ProcessResult,
    Series,
    Sizes,
    log,
    run_process,
    subprocess_env,
    temp_dir,
)
from databases import Database, Server, fresh_database


@dataclass
class Result:
    """The median of one measured thing: a tool doing one case of a workload on one engine."""

    workload: str
    engine: str
    tool: str
    case: str
    size: int
    series: Series
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.series.median

    @property
    def rss_mb(self) -> float | None:
        return self.series.rss

    @property
    def runs(self) -> int:
        return len(self.series.seconds)


def timed(argv: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> ProcessResult:
    return run_process(argv, cwd=cwd, env=subprocess_env()).check(*ok)


# -- W1 -----------------------------------------------------------------------------------------


def apply_command(tool: str, database: Database, root: Path, count: int) -> list[str]:
    """Write ``tool``'s ``count`` migrations under ``root``; return the command that applies them."""
    if tool == "uno":
        return tools.uno(database, data.uno_directory(root, count), "migrate")
    if tool == "floor":
        return tools.floor("apply", database, data.uno_directory(root, count))
    if tool == "alembic":
        project = data.alembic_project(root, count)
        return tools.alembic(
            data.alembic_ini(project, database.url("sync"), root / "alembic.ini"), "upgrade", "head"
        )
    if tool == "yoyo":
        return tools.yoyo("apply", database, data.yoyo_directory(root, count))
    raise ValueError(tool)


def w1_apply(server: Server, sizes: Sizes, repeat: int, selected: tuple[str, ...] = TOOLS) -> list[Result]:
    """Each tool applies ``apply_count`` migrations to an empty database, as one whole process."""
    count = sizes.apply_count
    series = {tool: Series() for tool in selected}
    for run in range(repeat):
        for tool in selected:  # interleaved, so drift over the run hits every tool alike
            with temp_dir("w1") as root, fresh_database(server, "w1") as database:
                argv = apply_command(tool, database, root, count)
                result = timed(argv, root)
                made = database.count_tables("t_")
                if made != count:
                    raise BenchmarkError(f"W1 {tool} on {server.engine}: {made} of {count} tables created")
                series[tool].add(result)
                log(f"  W1 {server.engine} {tool} run {run + 1}: {result.seconds:.3f} s")
    return [Result("W1", server.engine, tool, "apply", count, series[tool]) for tool in selected]


# -- W2 -----------------------------------------------------------------------------------------


@dataclass
class Scale:
    """The migration files of one W2 size, written once and read by every run."""

    count: int
    uno: Path
    alembic: Path
    yoyo: Path


def scale_files(root: Path, count: int, python_every: int) -> Scale:
    return Scale(
        count,
        data.uno_directory(root, count, python_every),
        data.alembic_project(root, count),
        data.yoyo_directory(root, count),
    )


def scale_commands(tool: str, database: Database, files: Scale, root: Path) -> dict[str, list[str]]:
    """Record every migration as applied (fast, untimed); return the ``status`` and ``migrate`` commands."""
    if tool == "uno":
        tools.mark_uno(database, files.uno)
        return {
            "status": tools.uno(database, files.uno, "status"),
            "migrate": tools.uno(database, files.uno, "migrate"),
        }
    if tool == "floor":
        tools.mark_floor(database, files.uno)
        return {
            "status": tools.floor("status", database, files.uno),
            "migrate": tools.floor("apply", database, files.uno),
        }
    if tool == "alembic":
        tools.mark_alembic(database, data.revision_id(files.count))
        ini = data.alembic_ini(files.alembic, database.url("sync"), root / f"alembic-{database.name}.ini")
        return {"status": tools.alembic(ini, "current"), "migrate": tools.alembic(ini, "upgrade", "head")}
    if tool == "yoyo":
        tools.mark_yoyo(database, files.yoyo)
        return {
            "status": tools.yoyo("list", database, files.yoyo),
            "migrate": tools.yoyo("apply", database, files.yoyo),
        }
    raise ValueError(tool)


#: What each tool's "status" and "migrate" are, for the table.
SCALE_LABELS = {
    "uno": {"status": "uno-migrations status", "migrate": "uno-migrations migrate"},
    "floor": {"status": "floor.py status", "migrate": "floor.py apply"},
    "alembic": {"status": "alembic current", "migrate": "alembic upgrade head"},
    "yoyo": {"status": "yoyo list", "migrate": "yoyo apply --batch"},
}


def w2_scale(server: Server, sizes: Sizes, repeat: int, selected: tuple[str, ...] = TOOLS) -> list[Result]:
    """``status`` and a ``migrate`` with nothing to do, with every migration already applied.

    Per tool and size: a fresh database, the migrations recorded as applied, one untimed warm-up
    of each command (full sizes), then ``repeat`` timed runs of each. Both
    commands change nothing, so the runs of a series see the same state.
    """
    results: list[Result] = []
    for count in sizes.scale_counts:
        with temp_dir("w2") as root:
            files = scale_files(root, count, sizes.python_every)
            for tool in selected:
                with fresh_database(server, "w2") as database:
                    commands = scale_commands(tool, database, files, root)
                    if sizes.warm_up:  # file system and bytecode caches
                        for argv in commands.values():
                            timed(argv, root)
                    series = {case: Series() for case in commands}
                    for _ in range(repeat):
                        for case, argv in commands.items():
                            series[case].add(timed(argv, root))
                    if database.count_tables("t_"):
                        raise BenchmarkError(f"W2 {tool} on {server.engine}: a no-op migrate ran migrations")
                    for case in commands:
                        results.append(Result("W2", server.engine, tool, case, count, series[case]))
                        log(f"  W2 {server.engine} {tool} {case} {count}: {series[case].median:.3f} s")
    return results


Workload = Callable[[Server, Sizes, int], list[Result]]

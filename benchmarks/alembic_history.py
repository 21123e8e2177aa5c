"""A long Alembic history run through uno-migrations and through Alembic itself, side by side.

    python benchmarks/alembic_history.py [--engines sqlite,postgresql,mysql] [--revisions 300]
                                         [--repeat 3] [--postgresql-url URL] [--mysql-url URL]

The history is the one the tests use (tests/alembic_compat/long_history.py): revisions in one
line, each importing the project's own Alembic plugin (found through ``prepend_sys_path``) and
calling its operation, an UPDATE; every 25th also creates a table. Each run gets a fresh
database; the time is the whole process's: ``uno-migrations --alembic-directory versions
migrate`` against ``alembic upgrade head`` (``transaction_per_migration=True``, sync drivers),
wall time and the process's own CPU time (steadier on a busy machine), and whether uno's wall
time is within TARGET (1.15x) of Alembic's.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from common import HERE, Series, executable, log, temp_dir
from databases import Database, Server, add_server_options, fresh_database, server_urls
from workloads import timed

sys.path.insert(0, str(HERE.parent / "tests" / "alembic_compat"))
from long_history import write_long_history

TOOLS = ("uno", "alembic")
#: "About as fast as Alembic itself": uno's median wall time over Alembic's, at most.
TARGET = 1.15


def command(tool: str, database: Database, root: Path) -> list[str]:
    if tool == "uno":
        uno = [executable("uno-migrations"), "-u", database.url("uno")]
        return [*uno, "--alembic-directory", str(root / "versions"), "migrate"]
    ini = root / f"alembic_{database.name}.ini"
    text = (root / "alembic.ini").read_text(encoding="utf-8")
    url = database.url("sync").replace("%", "%%")
    ini.write_text(re.sub(r"(?m)^sqlalchemy\.url = .*$", f"sqlalchemy.url = {url}", text), encoding="utf-8")
    return [executable("alembic"), "-c", str(ini), "upgrade", "head"]


def measure(server: Server, root: Path, revisions: int, repeat: int) -> dict[str, Series]:
    series = {tool: Series() for tool in TOOLS}
    for _ in range(repeat):
        for tool in TOOLS:  # interleaved, so a slow patch of the machine hits both alike
            with fresh_database(server, "history") as database:
                result = timed(command(tool, database, root), root)
                steps = database.scalar("SELECT n FROM counters WHERE name = 'steps'")
                if steps != revisions - 1:
                    raise SystemExit(f"{tool} applied {steps} of {revisions - 1} steps on {server.engine}")
            series[tool].add(result)
            log(f"  {server.engine} {tool}: {result.seconds:.3f} s")
    return series


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql,mysql")
    parser.add_argument("--revisions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    add_server_options(parser)
    args = parser.parse_args(argv)
    urls = server_urls(args)
    rows = []
    with temp_dir("history") as root, temp_dir("sqlite") as sqlite_dir:
        write_long_history(root, args.revisions)
        for engine in args.engines.split(","):
            server = Server.from_url(engine, urls[engine], sqlite_dir)
            series = measure(server, root, args.revisions, args.repeat)
            uno, alembic = series["uno"], series["alembic"]
            wall = uno.median / alembic.median
            cpu_uno, cpu_alembic = uno.cpu_median or 0.0, alembic.cpu_median or 0.0
            cpu = cpu_uno / cpu_alembic if cpu_alembic else 0.0
            met = "yes" if wall <= TARGET else "NO"
            rows.append(
                f"| {engine} | {args.revisions} | {uno.median:.3f} | {alembic.median:.3f} | {wall:.2f}x "
                f"| {cpu_uno:.3f} | {cpu_alembic:.3f} | {cpu:.2f}x | {met} |"
            )
    print(f"Alembic history, {args.revisions} revisions in one line, median of {args.repeat}, seconds\n")
    print(
        "| engine | revisions | uno-migrations | alembic upgrade head | uno / alembic "
        f"| uno CPU | alembic CPU | CPU uno / alembic | uno <= {TARGET:.2f}x alembic |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print(
        "\nWall time from spawn to exit; CPU: the process's own user + system time (what the "
        "database server does for it and other work on the machine are not in it)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

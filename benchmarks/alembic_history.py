"""A long Alembic history run through uno-migrations and through Alembic itself, side by side.

    python benchmarks/alembic_history.py [--engines sqlite,postgresql,mysql] [--revisions 300]
                                         [--history noop|real] [--repeat 3]
                                         [--postgresql-url URL] [--mysql-url URL]

Two histories of revisions in one line, both the ones the tests use; without ``--history``, both
are timed, a row each:

- ``noop`` (tests/alembic_compat/long_history.py): each revision imports the project's own
  Alembic plugin (found through ``prepend_sys_path``) and calls its operation, an UPDATE; every
  25th also creates a table. What uno itself costs per revision.
- ``real`` (tests/alembic_compat/real_history.py): revisions doing real work, in a cycle of eight
  kinds: tables with foreign keys, unique constraints and server defaults, indexes, bulk inserts
  and UPDATEs with parameters, an enum (CREATE TYPE on PostgreSQL), batch mode (the table
  rebuilt on SQLite), added, renamed and dropped columns, a renamed table.

Every revision but the first adds one to a counter, read after each run to check that the tool
applied them all. Each run gets a fresh database; the time is the whole process's:
``uno-migrations --alembic-directory versions migrate`` against ``alembic upgrade head``
(``transaction_per_migration=True``, sync drivers), wall time and the process's own CPU time
(steadier on a busy machine), and whether uno's wall time is within TARGET (1.10x) of Alembic's.
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
from real_history import write_real_history

TOOLS = ("uno", "alembic")
#: Each history kind and the function that writes it.
HISTORIES = {"noop": write_long_history, "real": write_real_history}
#: "About as fast as Alembic itself": uno's median wall time over Alembic's, at most, on every engine.
TARGET = 1.10


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
                    raise SystemExit(
                        f"{tool} applied {steps} of {revisions - 1} steps of the {root.name} history "
                        f"on {server.engine}"
                    )
            series[tool].add(result)
            log(f"  {server.engine} {tool}: {result.seconds:.3f} s")
    return series


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql,mysql")
    parser.add_argument("--revisions", type=int, default=300)
    parser.add_argument("--history", choices=sorted(HISTORIES), help="one history only (default: both)")
    parser.add_argument("--repeat", type=int, default=3)
    add_server_options(parser)
    args = parser.parse_args(argv)
    urls = server_urls(args)
    kinds = [args.history] if args.history else list(HISTORIES)
    rows = []
    with temp_dir("history") as histories, temp_dir("sqlite") as sqlite_dir:
        for kind in kinds:
            HISTORIES[kind](histories / kind, args.revisions)
        for engine in args.engines.split(","):
            server = Server.from_url(engine, urls[engine], sqlite_dir)
            for kind in kinds:
                log(f"{kind} history on {engine}")
                series = measure(server, histories / kind, args.revisions, args.repeat)
                uno, alembic = series["uno"], series["alembic"]
                wall = uno.median / alembic.median
                cpu_uno, cpu_alembic = uno.cpu_median or 0.0, alembic.cpu_median or 0.0
                cpu = cpu_uno / cpu_alembic if cpu_alembic else 0.0
                met = "yes" if wall <= TARGET else "NO"
                rows.append(
                    f"| {engine} | {kind} | {args.revisions} | {uno.median:.3f} | {alembic.median:.3f} "
                    f"| {wall:.2f}x | {cpu_uno:.3f} | {cpu_alembic:.3f} | {cpu:.2f}x | {met} |"
                )
    print(f"Alembic history, {args.revisions} revisions in one line, median of {args.repeat}, seconds\n")
    print(
        "| engine | history | revisions | uno-migrations | alembic upgrade head | uno / alembic "
        f"| uno CPU | alembic CPU | CPU uno / alembic | uno <= {TARGET:.2f}x alembic |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print(
        "\nWall time from spawn to exit; CPU: the process's own user + system time (what the "
        "database server does for it and other work on the machine are not in it)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

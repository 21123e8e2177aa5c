"""W3: a data migration over every row of a table, uno's Python migration against the raw driver."""

from __future__ import annotations

from pathlib import Path

import data
import tools
from common import Series, Sizes, log, temp_dir
from databases import Database, Server, check_users, fresh_database, load_users
from workloads import Result, timed

TOOLS = ("uno", "floor")


def data_command(tool: str, database: Database, root: Path, batch_size: int) -> list[str]:
    if tool == "uno":
        return tools.uno(database, data.uno_data_migration(root, batch_size), "migrate")
    return tools.floor("data", database)


def run_once(server: Server, tool: str, rows: int, batch_size: int, series: Series) -> None:
    with temp_dir("w3") as root, fresh_database(server, "w3") as database:
        load_users(database, rows)
        result = timed(data_command(tool, database, root, batch_size), root)
        check_users(database, rows)
        series.add(result)
        log(f"  W3 {server.engine} {tool} {rows} rows: {result.seconds:.3f} s, {result.maxrss_mb} MB")


def w3_data(server: Server, sizes: Sizes, repeat: int, big: bool = False) -> list[Result]:
    """``rows`` rows updated to lower(trim(email)), whole process timed; with ``big``, one more run
    of each at ``big_rows`` for peak memory (ru_maxrss of the process)."""
    series = {tool: Series() for tool in TOOLS}
    for _ in range(repeat):
        for tool in TOOLS:
            run_once(server, tool, sizes.rows, sizes.batch_size, series[tool])
    results = [Result("W3", server.engine, tool, "update", sizes.rows, series[tool]) for tool in TOOLS]
    if big:
        for tool in TOOLS:
            one = Series()
            run_once(server, tool, sizes.big_rows, sizes.batch_size, one)
            results.append(Result("W3", server.engine, tool, "memory", sizes.big_rows, one))
    return results

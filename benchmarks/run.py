"""Run the uno-migrations benchmark suite: every tool side by side, in one run, on one machine.

    python benchmarks/run.py [--engines sqlite,postgresql,mysql] [--workloads W1,W2,W3,W4]
                             [--sizes small|full] [--repeat N] [--markdown FILE]

Database servers: --postgresql-url / --mysql-url (or UNO_BENCH_POSTGRESQL_URL, UNO_BENCH_MYSQL_URL);
each measurement makes its own database there (``uno_bench_*``) and drops it. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import report
from common import ENGINES, HERE, SIZES, WORKLOADS, BenchmarkError, Table, log, temp_dir
from data_migration import w3_data
from databases import Server, add_server_options, server_urls
from startup import w4_startup
from workloads import Result, w1_apply, w2_scale

PACKAGES = (
    "uno-migrations",
    "SQLAlchemy",
    "alembic",
    "yoyo-migrations",
    "asyncpg",
    "aiomysql",
    "aiosqlite",
    "psycopg2-binary",
    "PyMySQL",
)


def parse_list(value: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    lookup = {a.lower(): a for a in allowed}
    unknown = [v for v in items if v.lower() not in lookup]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return [lookup[v.lower()] for v in items]


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--sizes", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--repeat", type=int, help="runs per measurement, median reported (full: 3, small: 1)"
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the results as markdown")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every measurement as JSON")
    parser.add_argument(
        "--million",
        default="sqlite,postgresql",
        metavar="ENGINES",
        help="engines on which W3 also runs its large peak-memory size (1,000,000 rows at full size); "
        "'none' for none, 'all' for every engine [default: sqlite,postgresql; slow on mysql]",
    )
    add_server_options(parser)
    args = parser.parse_args(argv)
    try:
        args.engines = parse_list(args.engines, ENGINES, "engine")
        args.workloads = parse_list(args.workloads, WORKLOADS, "workload")
        million = args.million.strip().lower()
        args.million = (
            []
            if million == "none"
            else list(ENGINES)
            if million == "all"
            else parse_list(million, ENGINES, "engine")
        )
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if args.repeat is None:
        args.repeat = SIZES[args.sizes].repeat
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def source_revision() -> str:
    """The commit the measured uno-migrations comes from, and whether the tree had local changes."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty=+uncommitted changes", "--abbrev=10"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    described = done.stdout.strip()
    if done.returncode != 0 or not described:
        return "unknown"
    commit, _, dirty = described.partition("+")
    return f"commit {commit}" + (f" ({dirty})" if dirty else "")


def versions(servers: dict[str, Server]) -> list[str]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    memory = "-"
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB"
    lines = [
        f"- uno-migrations source: {source_revision()}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {memory} memory, "
        f"{platform.system()} {platform.machine()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        "- packages: " + ", ".join(f"{name} {version(name)}" for name in PACKAGES),
    ]
    for engine, server in servers.items():
        try:
            lines.append(f"- {engine}: {server.version()} ({server.settings()})")
        except Exception as exc:  # a server that cannot be asked is reported, not fatal here
            lines.append(f"- {engine}: version unknown ({type(exc).__name__})")
    return lines


def command_line(argv: Sequence[str] | None) -> str:
    given = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["python", "benchmarks/run.py", *given])


def markdown(tables: list[Table], environment: list[str], command: str, sizes: str, repeat: int) -> str:
    parts = [
        "## Benchmark results",
        "",
        f"Command: `{command}` (sizes: {sizes}, median of {repeat} run(s) per measurement unless noted)",
        "",
        *environment,
    ]
    for table in tables:
        parts += ["", report.render_markdown(table)]
    return "\n".join(parts) + "\n"


def as_json(result: Result) -> dict[str, object]:
    return {
        "workload": result.workload,
        "engine": result.engine,
        "tool": result.tool,
        "case": result.case,
        "size": result.size,
        "seconds": result.seconds,
        "runs": result.series.seconds,
        "peak_rss_mb": result.rss_mb,
    }


def stop(signum: int, frame: object) -> None:
    """On SIGTERM, unwind like Ctrl-C does, so temp dirs and databases are still dropped."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    signal.signal(signal.SIGTERM, stop)
    sizes = SIZES[args.sizes]
    results: list[Result] = []
    with temp_dir("sqlite") as sqlite_dir:
        urls = server_urls(args)
        servers = {e: Server.from_url(e, urls[e], sqlite_dir) for e in args.engines}
        environment = versions(servers)
        for line in environment:
            log(line)
        try:
            for engine, server in servers.items():
                if "W1" in args.workloads:
                    log(f"W1 {engine}")
                    results += w1_apply(server, sizes, args.repeat)
                if "W2" in args.workloads:
                    log(f"W2 {engine}")
                    results += w2_scale(server, sizes, args.repeat)
                if "W3" in args.workloads:
                    log(f"W3 {engine}")
                    results += w3_data(server, sizes, args.repeat, big=engine in args.million)
            for index, (engine, server) in enumerate(servers.items()):
                if "W4" in args.workloads:
                    log(f"W4 {engine}")
                    results += w4_startup(server, sizes, args.repeat, without_database=index == 0)
        except BenchmarkError as exc:
            log(f"error: {exc}")
            return 1
    built = report.tables(results, sizes)
    for table in built:
        print()
        print(report.render_text(table))
    if args.json:
        args.json.write_text(json.dumps([as_json(r) for r in results], indent=2), encoding="utf-8")
    if args.markdown:
        text = markdown(built, environment, command_line(argv), sizes.name, args.repeat)
        args.markdown.write_text(text, encoding="utf-8")
        log(f"markdown written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

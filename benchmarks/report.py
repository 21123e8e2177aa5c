"""Results to tables (printed, and as markdown) and the targets they are held to."""

from __future__ import annotations

import re
from collections.abc import Sequence

from common import ENGINES, TOOLS, Sizes, Table, fmt_mb, fmt_ratio, fmt_seconds
from startup import CASES, NO_ENGINE
from tools import MARK_METHODS
from workloads import SCALE_LABELS, Result

#: W1: uno's time over the floor's, at most.
APPLY_TARGET = {"postgresql": 1.10, "sqlite": 1.20, "mysql": 1.20}
SCALE_TARGET_SECONDS = 0.5
DATA_TARGET_RATIO = 0.8
MEMORY_TARGET_MB = 200.0


def find(results: Sequence[Result], **match: object) -> Result | None:
    for result in results:
        if all(getattr(result, key) == value for key, value in match.items()):
            return result
    return None


def ratio(a: Result | None, b: Result | None) -> float | None:
    return a.seconds / b.seconds if a and b and b.seconds else None


def engines_of(results: Sequence[Result], workload: str) -> list[str]:
    present = {r.engine for r in results if r.workload == workload}
    return [e for e in ENGINES if e in present]


def apply_table(results: Sequence[Result]) -> Table:
    table = Table(
        "W1 apply: N migrations from an empty database, whole CLI process",
        ["engine", "tool", "migrations", "seconds", "ms/migration", "vs floor"],
    )
    for engine in engines_of(results, "W1"):
        floor = find(results, workload="W1", engine=engine, tool="floor")
        for tool in TOOLS:
            r = find(results, workload="W1", engine=engine, tool=tool)
            if r:
                per = f"{r.seconds / r.size * 1000:.2f}"
                table.rows.append(
                    [engine, tool, f"{r.size:,}", fmt_seconds(r.seconds), per, fmt_ratio(ratio(r, floor))]
                )
    return table


def scale_table(results: Sequence[Result], sizes: Sizes) -> Table:
    small, big = sizes.scale_counts
    table = Table(
        f"W2 scale: nothing to do, {small:,} and {big:,} migrations all applied, whole CLI process",
        ["engine", "tool", "command", f"{small:,} s", f"{big:,} s", "growth", "us/extra file", "vs floor"],
    )
    for engine in engines_of(results, "W2"):
        for tool in TOOLS:
            for case in ("status", "migrate"):
                one = find(results, workload="W2", engine=engine, tool=tool, case=case, size=small)
                ten = find(results, workload="W2", engine=engine, tool=tool, case=case, size=big)
                if not one or not ten:
                    continue
                floor = find(results, workload="W2", engine=engine, tool="floor", case=case, size=big)
                growth = ten.seconds / one.seconds
                marginal = (ten.seconds - one.seconds) / (big - small) * 1e6
                label = SCALE_LABELS[tool][case]
                table.rows.append(
                    [
                        engine,
                        tool,
                        label,
                        fmt_seconds(one.seconds),
                        fmt_seconds(ten.seconds),
                        f"{growth:.2f}x",
                        f"{marginal:.0f}",
                        fmt_ratio(ratio(ten, floor)),
                    ]
                )
    table.notes = [f"{tool} setup: {how}" for tool, how in MARK_METHODS.items()]
    table.notes.append(
        f"uno files: every {sizes.python_every}th is a Python migration (never imported by status or a "
        "no-op migrate); growth = time at the larger size over time at the smaller (linear or better: "
        f"<= {big / small:.0f}x)"
    )
    return table


def data_table(results: Sequence[Result]) -> Table:
    table = Table(
        "W3 data migration: every row set to lower(trim(email)) computed in Python, whole CLI process",
        ["engine", "tool", "rows", "seconds", "rows/s", "vs floor (rows/s)", "peak RSS MB"],
    )
    for engine in engines_of(results, "W3"):
        for case in ("update", "memory"):
            floor = find(results, workload="W3", engine=engine, tool="floor", case=case)
            for tool in ("uno", "floor"):
                r = find(results, workload="W3", engine=engine, tool=tool, case=case)
                if r:
                    speed = ratio(floor, r)  # rows/s ratio = inverse of the time ratio
                    table.rows.append(
                        [
                            engine,
                            tool,
                            f"{r.size:,}",
                            fmt_seconds(r.seconds),
                            f"{r.size / r.seconds:,.0f}",
                            fmt_ratio(speed),
                            fmt_mb(r.rss_mb),
                        ]
                    )
    table.notes = [
        "uno: one Python migration, `context.iterate(..., batch_size)` + `context.execute_many` per batch; "
        "floor: the driver reads every row, then one executemany; both in one transaction with one "
        "version row. The largest size runs once (peak memory)."
    ]
    return table


def startup_table(results: Sequence[Result]) -> Table:
    table = Table(
        "W4 start-up: cold processes (median)",
        ["engine", "tool", "command", "seconds", "runs", "peak RSS MB"],
    )
    for engine in (NO_ENGINE, *ENGINES):
        for tool, case, _ in CASES:
            r = find(results, workload="W4", engine=engine, tool=tool, case=case)
            if r:
                row = [engine, tool, case, fmt_seconds(r.seconds), str(r.runs), fmt_mb(r.rss_mb)]
                table.rows.append(row)
    table.notes.append(f"engine {NO_ENGINE}: the command touches no database")
    return table


def _startup_ratio(results: Sequence[Result], engine: str, uno_case: str, alembic_case: str) -> float | None:
    uno = find(results, workload="W4", engine=engine, tool="uno", case=uno_case)
    alembic = find(results, workload="W4", engine=engine, tool="alembic", case=alembic_case)
    return ratio(uno, alembic)


def _target(
    rows: list[list[str]], what: str, engine: str, value: float | None, limit: float, unit: str, at_most: bool
) -> None:
    if value is None:
        return
    met = value <= limit if at_most else value >= limit
    miss = "-" if met else f"{abs(value - limit):.2f}{unit} ({abs(value / limit - 1) * 100:.0f}%)"
    shown = f"{value:.2f}{unit}"
    rows.append([what, engine, shown, "yes" if met else "NO", miss])


def targets_table(results: Sequence[Result], sizes: Sizes) -> Table:
    table = Table("Targets", ["target", "engine", "measured", "met", "missed by"])
    rows = table.rows
    big = sizes.scale_counts[1]
    for engine in ENGINES:
        uno_w1 = find(results, workload="W1", engine=engine, tool="uno")
        floor_w1 = find(results, workload="W1", engine=engine, tool="floor")
        limit = APPLY_TARGET[engine]
        _target(rows, f"W1 uno <= {limit:.2f}x floor", engine, ratio(uno_w1, floor_w1), limit, "x", True)
        for case in ("status", "migrate"):
            r = find(results, workload="W2", engine=engine, tool="uno", case=case, size=big)
            seconds = r.seconds if r else None
            _target(
                rows,
                f"W2 uno {case} at {big:,} < {SCALE_TARGET_SECONDS} s",
                engine,
                seconds,
                SCALE_TARGET_SECONDS,
                " s",
                True,
            )
            one = find(
                results, workload="W2", engine=engine, tool="uno", case=case, size=sizes.scale_counts[0]
            )
            growth = r.seconds / one.seconds if r and one else None
            linear = big / sizes.scale_counts[0]
            _target(rows, f"W2 uno {case} growth <= linear", engine, growth, linear, "x", True)
        uno_w3 = find(results, workload="W3", engine=engine, tool="uno", case="update")
        floor_w3 = find(results, workload="W3", engine=engine, tool="floor", case="update")
        _target(
            rows,
            f"W3 uno >= {DATA_TARGET_RATIO}x floor rows/s",
            engine,
            ratio(floor_w3, uno_w3),
            DATA_TARGET_RATIO,
            "x",
            False,
        )
        memory = find(results, workload="W3", engine=engine, tool="uno", case="memory")
        rss = memory.rss_mb if memory else None
        size = f"{memory.size:,}" if memory else ""
        _target(
            rows,
            f"W3 uno peak RSS at {size} rows < {MEMORY_TARGET_MB:.0f} MB",
            engine,
            rss,
            MEMORY_TARGET_MB,
            " MB",
            True,
        )
        startup = _startup_ratio(results, engine, "status (empty)", "current (empty)")
        _target(rows, "W4 uno status (empty) below alembic current", engine, startup, 1.0, "x", True)
    helps = _startup_ratio(results, NO_ENGINE, "--help", "--help")
    _target(rows, "W4 uno --help below alembic --help", NO_ENGINE, helps, 1.0, "x", True)
    if sizes.name != "full":
        table.notes.append("small sizes: the targets are meant for --sizes full; these are not meaningful")
    return table


def tables(results: Sequence[Result], sizes: Sizes) -> list[Table]:
    built = [apply_table(results), scale_table(results, sizes), data_table(results), startup_table(results)]
    return [t for t in built if t.rows] + [targets_table(results, sizes)]


_NUMBER = re.compile(r"-|-?[\d.,]+(x| s| MB)?( \(\d+%\))?")


def numeric(table: Table) -> list[bool]:
    """Which columns hold numbers only (right-aligned)."""
    return [
        bool(table.rows) and all(_NUMBER.fullmatch(row[i]) for row in table.rows)
        for i in range(len(table.headers))
    ]


def render_text(table: Table) -> str:
    widths = [max([len(h)] + [len(row[i]) for row in table.rows]) for i, h in enumerate(table.headers)]
    right = numeric(table)

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [table.title, line(table.headers), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in table.rows]
    lines += [f"  * {note}" for note in table.notes]
    return "\n".join(lines)


def render_markdown(table: Table) -> str:
    lines = [f"### {table.title}", "", "| " + " | ".join(table.headers) + " |"]
    lines.append("|" + "|".join("---:" if r else "---" for r in numeric(table)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines)

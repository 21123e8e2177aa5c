"""The benchmark suite runs end to end at its smallest sizes and measures every tool.

Only that numbers come out is checked, never how fast anything is.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import server_url

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"
HISTORY = ROOT / "benchmarks" / "alembic_history.py"
#: The comparison tools, and the synchronous drivers Alembic and yoyo use on each engine.
NEEDED = {
    "sqlite": ("alembic", "yoyo"),
    "postgresql": ("alembic", "yoyo", "psycopg2"),
    "mysql": ("alembic", "yoyo", "pymysql"),
}


def test_benchmarks_small(engine_name: str, tmp_path: Path) -> None:
    missing = [m for m in NEEDED[engine_name] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"benchmarks/requirements.txt not installed (missing {', '.join(missing)})")
    workloads = ["W1", "W2", "W3", "W4"]
    out, markdown = tmp_path / "results.json", tmp_path / "results.md"
    argv = [sys.executable, str(RUN), "--sizes", "small", "--engines", engine_name]
    argv += ["--workloads", ",".join(workloads), "--million", engine_name]
    argv += ["--json", str(out), "--markdown", str(markdown)]
    if engine_name != "sqlite":
        argv += [f"--{engine_name}-url", server_url(engine_name)]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]

    results = json.loads(out.read_text(encoding="utf-8"))
    measured = {(r["workload"], r["tool"], r["case"], r["size"]): r for r in results}
    expected = [("W1", tool, "apply") for tool in ("uno", "floor", "alembic", "yoyo")]
    expected += [("W2", t, c) for t in ("uno", "floor", "alembic", "yoyo") for c in ("status", "migrate")]
    expected += [("W3", tool, case) for tool in ("uno", "floor") for case in ("update", "memory")]
    expected += [("W4", "uno", "--help"), ("W4", "uno", "status (empty)")]
    expected += [("W4", "alembic", "--help"), ("W4", "alembic", "current (empty)")]
    for workload, tool, case in expected:
        found = [r for key, r in measured.items() if key[:3] == (workload, tool, case)]
        assert found, f"no measurement for {workload} {tool} {case}"
        for r in found:
            # --help touches no database: W4 reports it once, under no engine.
            assert r["engine"] == ("-" if case == "--help" else engine_name), r
            assert r["seconds"] > 0 and math.isfinite(r["seconds"]), r
    assert len({key[3] for key in measured if key[:3] == ("W2", "uno", "status")}) == 2  # both sizes

    for title in ("W1 apply", "W2 scale", "W3 data migration", "W4 start-up", "Targets"):
        assert title in done.stdout
        assert title in markdown.read_text(encoding="utf-8")


def test_alembic_history_small(engine_name: str, tmp_path: Path) -> None:
    """The Alembic-history comparison runs a short history of each kind (no-op revisions, and
    revisions doing real work) through both tools and reports wall and CPU time for each."""
    missing = [m for m in NEEDED[engine_name] if m != "yoyo" and importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"benchmarks/requirements.txt not installed (missing {', '.join(missing)})")
    argv = [sys.executable, str(HISTORY), "--engines", engine_name, "--revisions", "6", "--repeat", "1"]
    if engine_name != "sqlite":
        argv += [f"--{engine_name}-url", server_url(engine_name)]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(f"| {engine_name} |")]
    assert [row.split("|")[2].strip() for row in rows] == ["noop", "real"], done.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[2] == "6" and len(cells) == 10 and cells[9] in ("yes", "NO"), row
        for seconds in (cells[3], cells[4], cells[6], cells[7]):
            assert float(seconds) > 0, row


KIT = ROOT / "benchmarks" / "testing_kit.py"


def test_testing_kit_small(engine_name: str, tmp_path: Path) -> None:
    """The comparison of `uno-migrations test` with pytest-alembic writes a project of one cycle of
    every kind of migration twice, checks that both make the same schema, runs both tools' tests
    (each must pass) and reports the wall and CPU time of each."""
    needed = [m for m in NEEDED[engine_name] if m != "yoyo"] + ["pytest_alembic"]
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"benchmarks/requirements.txt not installed (missing {', '.join(missing)})")
    argv = [sys.executable, str(KIT), "--engines", engine_name, "--migrations", "8", "--repeat", "1"]
    if engine_name != "sqlite":
        argv += [f"--{engine_name}-url", server_url(engine_name)]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "| uno-migrations test | pytest-alembic test_up_down_consistency |" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith(f"| {engine_name} |")]
    assert len(rows) == 1, done.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 10 and cells[1] == "8" and cells[5] in ("yes", "NO"), rows[0]
    for seconds in (cells[2], cells[3], cells[6], cells[8], cells[9]):
        assert float(seconds) > 0, rows[0]
    for ratio in (cells[4], cells[7]):
        assert ratio.endswith("x") and float(ratio[:-1]) > 0, rows[0]
    assert "Load average (1, 5, 15 min) at the start:" in done.stdout

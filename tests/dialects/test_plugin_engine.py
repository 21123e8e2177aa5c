"""A third-party engine runs a whole engine test module: entry points are all it takes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require_engine

ROOT = Path(__file__).parents[2]
MODULE = "tests/runtime/test_rollback.py"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNO_TEST_ENGINES": "unopg", "UNO_TEST_REQUIRE_ENGINES": "unopg"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, MODULE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_unopg_engine_passes_an_engine_test_module() -> None:
    """UNO_TEST_ENGINES=unopg runs every test of the module on ``unopg+asyncpg://`` URLs, whose
    SQLAlchemy dialect and uno adapter come from the entry points of tests/dialects/plugin_site
    (the other engines' parametrisations are deselected)."""
    require_engine("postgresql")
    collected = _pytest("--collect-only")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    on_unopg = [line for line in collected.stdout.splitlines() if line.endswith("[unopg]")]
    assert on_unopg, collected.stdout
    done = _pytest("-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert re.match(rf"{len(on_unopg)} passed, \d+ deselected in ", summary), summary

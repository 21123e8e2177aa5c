"""Shared pieces: sizes, results, timing a whole process (wall time and peak memory)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ENGINES = ("sqlite", "postgresql", "mysql")
WORKLOADS = ("W1", "W2", "W3", "W4")
TOOLS = ("uno", "floor", "alembic", "yoyo")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; ``small`` exists for the smoke test."""

    name: str
    apply_count: int  # W1: migrations applied from an empty database
    scale_counts: tuple[int, int]  # W2: migration files, all applied
    python_every: int  # W2: every n-th uno migration is a .py file
    rows: int  # W3: rows updated
    big_rows: int  # W3: rows for the peak-memory run
    batch_size: int  # W3: context.iterate batch size
    startup_runs: int  # W4: cold processes per command
    repeat: int  # default --repeat
    warm_up: bool  # W2, W4: one untimed run of each command first


SIZES = {
    "full": Sizes("full", 1_000, (1_000, 10_000), 10, 200_000, 1_000_000, 5_000, 9, 3, True),
    "small": Sizes("small", 20, (20, 200), 10, 200, 1_000, 50, 1, 1, False),
}


@dataclass
class ProcessResult:
    argv: list[str]
    seconds: float
    maxrss_mb: float | None
    returncode: int
    stdout: str
    stderr: str
    #: The process's own CPU time (user + system), which other work on the machine and the
    #: database server's share of the run do not count in.
    cpu_seconds: float | None = None

    def check(self, *ok: int) -> ProcessResult:
        if self.returncode not in (ok or (0,)):
            raise BenchmarkError(
                f"{' '.join(self.argv[:4])} ... exited {self.returncode}\n"
                f"stdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
            )
        return self


class BenchmarkError(RuntimeError):
    """A tool failed (non-zero exit, wrong result): the measurement is not valid."""


def executable(name: str) -> str:
    """A console script of the running interpreter's environment (or from PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BenchmarkError(f"{name} not found; install benchmarks/requirements.txt")
    return found


#: Spawns the command, waits for it, writes "<wall seconds> <ru_maxrss> <exit code> <cpu seconds>"
#: to a file.
#: A small process of its own, so the child's ru_maxrss is the child's (Linux carries the
#: spawning process's high-water mark into the child), and the wall time excludes our overhead.
TRAMPOLINE = """\
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(out, "w") as f:
    cpu = usage.ru_utime + usage.ru_stime
    f.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


def run_process(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> ProcessResult:
    """Run ``argv`` to completion: wall time from spawn to exit, and the process's peak RSS.

    ``argv[0]`` must be a path to an executable (see :func:`executable`).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, temp_dir("rusage") as tmp:
        measured = tmp / "rusage"
        launcher = [sys.executable, "-S", "-E", "-c", TRAMPOLINE, str(measured), *argv]
        process = subprocess.run(launcher, stdout=out, stderr=err, cwd=cwd, env=env, check=False)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if process.returncode != 0 or not measured.exists():
            raise BenchmarkError(f"could not run {argv[0]}: {stderr[-2000:]}")
        seconds, maxrss, returncode, cpu = measured.read_text().split()
    # Linux reports KiB, macOS bytes.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return ProcessResult(
        list(argv), float(seconds), int(maxrss) / scale, int(returncode), stdout, stderr, float(cpu)
    )


def subprocess_env() -> dict[str, str]:
    """The environment the tools run in: ours, minus settings that would change what they read."""
    env = dict(os.environ)
    for key in ("UNO_MIGRATIONS_DATABASE_URL", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(key, None)
    return env


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"uno_bench_{prefix}_"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Series:
    """Repeated measurements of one thing; reported as the median."""

    seconds: list[float] = field(default_factory=list)
    maxrss_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def add(self, result: ProcessResult) -> None:
        self.seconds.append(result.seconds)
        if result.maxrss_mb is not None:
            self.maxrss_mb.append(result.maxrss_mb)
        if result.cpu_seconds is not None:
            self.cpu_seconds.append(result.cpu_seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    @property
    def rss(self) -> float | None:
        return max(self.maxrss_mb) if self.maxrss_mb else None


@dataclass
class Table:
    """One printed table: a title, column headers, rows of cells, notes under it."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

"""Exactly once, in some serial order: scenario tests with real `uno-migrations` processes.

The invariant every scenario checks, on every engine: **the history of a database is always one
that some serial order of the runs could have produced, and each migration's effects happen
exactly once**, whatever is killed, cut, timed out or started concurrently (docs/safety.md:
"Concurrent deploys", "A killed run", "What each engine guarantees").

After each scenario the shared checks (:func:`verify`) look at the database and at what every
run printed:

(a) the log: replaying its apply/revert entries in ``seq`` order never applies an applied
    migration nor reverts one that is not applied, and ends with the version table's applied set;
(b) the schema: every migration recorded ``applied`` has its table with exactly its rows; a
    transactional migration without a row left no table (PostgreSQL, SQLite); a migration's
    row in ``counter`` (its non-transactional effect) is there once if it is applied, never twice;
(c) the runs: each run is its own actor (``LOGNAME`` names it, and the version table records
    ``user@host``), so the log entries of each run are known. Its ``Applying <id> ... <n> ms``
    (``Reverting``) lines equal its apply (revert) entries when it exits 0, and are among them
    otherwise (a killed run cannot print what it committed last); a run that exits 0 has no
    ``fail`` entry.

Every migration's effect is countable: ``NNN_tNNN.sql`` creates ``tNNN`` and inserts ``NNN``;
the non-transactional ones insert their number into ``counter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import TestDatabase
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

MakeDir = Callable[..., Path]
SCRIPT = str(Path(sys.executable).with_name("uno-migrations"))
SERVERS = pytest.mark.parametrize("engine_name", ["postgresql", "mysql"], indirect=True)
KINDS = pytest.mark.parametrize("kind", ["transactional", "non-transactional"])
DONE_LINE = re.compile(r"^(Applying|Reverting) (\S+) \.\.\. (\d+) ms$", re.MULTILINE)
FAILED_EARLIER = re.compile(r"migration '([^']+)' failed earlier")
LOCK_TIMEOUT_LINE = "error: could not take the migration lock within 1 s"
KILL_SEED = 20240611
DB_TIMEOUT = 60  # seconds for any look into the database


# -- migrations whose effects can be counted ---------------------------------------------------


@dataclass(frozen=True)
class Mig:
    """One migration file and the effects it has when applied once."""

    id: str
    filename: str
    content: str
    table: str | None = None  # the table it creates
    rows: tuple[int, ...] | None = None  # the rows of that table (None: not checked)
    counter: int | None = None  # the value it inserts into counter, outside a transaction
    transactional: bool = True


def table_sql(n: int, idempotent: bool = False) -> Mig:
    """``NNN_tNNN.sql``: CREATE TABLE tNNN, INSERT NNN; idempotent for re-running on MySQL."""
    name = f"t{n:03d}"
    if idempotent:
        up = (
            f"CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY);\n"
            f"INSERT IGNORE INTO {name} (id) VALUES ({n});\n"
        )
    else:
        up = f"CREATE TABLE {name} (id INTEGER);\nINSERT INTO {name} (id) VALUES ({n});\n"
    return Mig(f"{n:03d}_{name}", f"{n:03d}_{name}.sql", f"{up}-- DOWN\nDROP TABLE {name};\n", name, (n,))


def counter_table(n: int = 1) -> Mig:
    """Creates ``counter (n INTEGER)``, where the non-transactional migrations count."""
    content = "CREATE TABLE counter (n INTEGER);\n-- DOWN\nDROP TABLE counter;\n"
    return Mig(f"{n:03d}_counter", f"{n:03d}_counter.sql", content, "counter", None)


def counter_sql(n: int) -> Mig:
    """A non-transactional SQL migration inserting ``n`` into counter."""
    content = (
        "-- Transactional: false\n"
        f"INSERT INTO counter (n) VALUES ({n});\n"
        f"-- DOWN\nDELETE FROM counter WHERE n = {n};\n"
    )
    return Mig(f"{n:03d}_count", f"{n:03d}_count.sql", content, counter=n, transactional=False)


def slow_py(
    n: int,
    sleep: float,
    *,
    transactional: bool = True,
    marker: Path | None = None,
    release: Path | None = None,
    down_sleep: float = 0.0,
) -> Mig:
    """A Python migration that sleeps ``sleep`` s after its effect (after writing ``marker``).

    With ``release`` (and ``marker``), only the run that writes the marker first sleeps, and it
    wakes up early once ``release`` exists: the test lets it go once it has seen enough.

    Transactional: creates tNNN and inserts NNN. Non-transactional: a backfill that inserts
    NNN into counter.
    """
    name = f"t{n:03d}"
    if transactional:
        effect = [f"CREATE TABLE {name} (id INTEGER)", f"INSERT INTO {name} (id) VALUES ({n})"]
        undo = f"DROP TABLE {name}"
    else:
        effect = [f"INSERT INTO counter (n) VALUES ({n})"]
        undo = f"DELETE FROM counter WHERE n = {n}"
    lines = ["import asyncio", "import time", "from pathlib import Path", ""]
    if not transactional:
        lines += ["transactional = False", ""]
    lines += ["", "async def up(context):"]
    lines += [f"    await context.execute_sql({sql!r})" for sql in effect]
    if marker is not None:
        lines.append(f"    first = not Path({str(marker)!r}).exists()")
        lines.append(f"    Path({str(marker)!r}).write_text('inside')")
    if release is None:
        lines.append(f"    await asyncio.sleep({sleep})")
    else:
        assert marker is not None
        lines.append(f"    deadline = time.monotonic() + {sleep}")
        lines.append(
            f"    while first and time.monotonic() < deadline and not Path({str(release)!r}).exists():"
        )
        lines.append("        await asyncio.sleep(0.02)")
    lines += ["", "", "async def down(context):"]
    if down_sleep:
        lines.append(f"    await asyncio.sleep({down_sleep})")
    lines += [f"    await context.execute_sql({undo!r})", ""]
    mid = f"{n:03d}_slow"
    if transactional:
        return Mig(mid, f"{mid}.py", "\n".join(lines), name, (n,))
    return Mig(mid, f"{mid}.py", "\n".join(lines), counter=n, transactional=False)


@dataclass
class Project:
    migrations: list[Mig]
    directory: Path

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.migrations]


def project(make_migrations: MakeDir, migrations: Iterable[Mig]) -> Project:
    migs = sorted(migrations, key=lambda m: m.id)
    directory = make_migrations({m.filename: m.content for m in migs})
    return Project(migs, directory)


# -- runs of the real command line -------------------------------------------------------------


def environment(url: str, actor: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNO_MIGRATIONS_", "DATABASE_URL"))}
    env["UNO_MIGRATIONS_DATABASE_URL"] = url
    # getpass.getuser() reads LOGNAME first: the run's log entries are "<actor>@<host>".
    env["LOGNAME"] = env["USER"] = actor
    env["PYTHONUNBUFFERED"] = "1"  # what a killed run printed is still read
    return env


@dataclass
class Run:
    name: str
    args: tuple[str, ...]
    process: asyncio.subprocess.Process
    started: float
    output: asyncio.Future[tuple[bytes, bytes]] = field(init=False)
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    ended: float | None = None
    killed: bool = False
    first_output: float | None = None  # when it printed its first byte (its first migration began)

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
                self.killed = True

    async def wait(self, timeout: float) -> Run:
        """Wait for the run to end; kill it (and fail) after ``timeout`` seconds."""
        try:
            out, err = await asyncio.wait_for(asyncio.shield(self.output), timeout)
        except asyncio.TimeoutError:
            self.kill()
            await self._collect(10)
            raise AssertionError(
                f"{self.title} did not end within {timeout} s\n{self.transcript()}"
            ) from None
        await self._finish(out, err)
        return self

    async def ended_within(self, timeout: float) -> bool:
        """Whether the run ends within ``timeout`` seconds; it is left running if not."""
        done, _ = await asyncio.wait({asyncio.shield(self.output)}, timeout=timeout)
        return bool(done)

    async def _collect(self, timeout: float) -> None:
        out, err = await asyncio.wait_for(asyncio.shield(self.output), timeout)
        await self._finish(out, err)

    async def _finish(self, out: bytes, err: bytes) -> None:
        self.returncode = await asyncio.wait_for(self.process.wait(), 10)
        self.ended = self.ended or time.monotonic()
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")

    @property
    def title(self) -> str:
        return f"{self.name} (uno-migrations {' '.join(self.args)})"

    def reported(self, verb: str) -> Counter[str]:
        """The migrations this run printed as done: ``Applying <id> ... <n> ms``."""
        return Counter(m.group(2) for m in DONE_LINE.finditer(self.stdout) if m.group(1) == verb)

    def transcript(self) -> str:
        out = self.stdout.strip()
        if len(out) > 1500:
            out = "..." + out[-1500:]
        err = self.stderr.strip()
        if len(err) > 2500:
            err = err[:1200] + "\n...\n" + err[-1200:]
        return f"--- {self.title}: exit {self.returncode}{' (killed)' if self.killed else ''}\n{out}\n{err}".rstrip()

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


async def _read_output(run: Run) -> tuple[bytes, bytes]:
    """A run's stdout and stderr until it closes them, noting when stdout began."""

    async def read(stream: asyncio.StreamReader | None, first: bool) -> bytes:
        chunks = []
        while stream is not None:
            chunk = await stream.read(65536)
            if not chunk:
                break
            if first and run.first_output is None:
                run.first_output = time.monotonic()
            chunks.append(chunk)
        return b"".join(chunks)

    out, err = await asyncio.gather(read(run.process.stdout, True), read(run.process.stderr, False))
    return out, err


class Runs:
    """Starts runs of the command line, and kills whatever is left when the block ends.

    ``current`` are the runs whose entries the database's log holds (since the last reset).
    """

    def __init__(self, db: TestDatabase, directory: Path, cwd: Path) -> None:
        self.db = db
        self.directory = directory
        self.cwd = cwd
        self.all: list[Run] = []
        self.current: list[Run] = []
        self._count = 0

    async def __aenter__(self) -> Runs:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for run in self.all:
            run.kill()
        for run in self.all:
            if run.returncode is None:
                with contextlib.suppress(Exception):
                    await run._collect(10)

    async def start(self, *args: str, url: str | None = None, directory: Path | None = None) -> Run:
        self._count += 1
        name = f"run{self._count:03d}"
        env = environment(url or self.db.url, name)
        process = await asyncio.create_subprocess_exec(
            SCRIPT,
            "-d",
            str(directory or self.directory),
            *args,
            env=env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        run = Run(name, args, process, time.monotonic())
        run.output = asyncio.ensure_future(_read_output(run))
        self.all.append(run)
        self.current.append(run)
        return run

    async def run(self, *args: str, timeout: float = 90, **kwargs: Any) -> Run:
        return await (await self.start(*args, **kwargs)).wait(timeout)

    async def wait_all(self, runs: Sequence[Run], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for run in runs:
            await run.wait(max(deadline - time.monotonic(), 0.1))

    def reset(self) -> None:
        """The database was emptied: the runs so far have no entries left in it."""
        self.current = []


async def wait_for_file(path: Path, run: Run, timeout: float = 60) -> None:
    """Return once ``run`` wrote ``path`` (it is inside its slow migration)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if run.process.returncode is not None or run.output.done():
            await run._collect(10)
            raise AssertionError(f"{run.title} ended before its slow migration began\n{run.transcript()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{run.title} never reached its slow migration")
        await asyncio.sleep(0.02)


# -- the shared checks -------------------------------------------------------------------------


@dataclass
class State:
    rows: dict[str, str]  # version table: id -> status
    log: list[tuple[int, str, str, str]]  # seq, migration_id, action, actor name
    tables: set[str]
    counter: Counter[int]
    contents: dict[str, list[int]]  # the ids in each migration's table that exists
    written_by: dict[str, str]  # version table: id -> the run that wrote the row (applied_by)

    @property
    def applied(self) -> set[str]:
        return {mid for mid, status in self.rows.items() if status == "applied"}

    def entries(self, action: str, actor: str | None = None) -> Counter[str]:
        return Counter(m for _, m, a, who in self.log if a == action and (actor is None or who == actor))


async def read_state(db: TestDatabase, project: Project | None = None) -> State:
    """The version rows, the log, the tables and what they hold, read on one connection."""
    return await asyncio.wait_for(_read_state(db, project), DB_TIMEOUT)


async def _read_state(db: TestDatabase, project: Project | None) -> State:
    tables = await db.tables()
    rows: dict[str, str] = {}
    written_by: dict[str, str] = {}
    log: list[tuple[int, str, str, str]] = []
    counter: Counter[int] = Counter()
    contents: dict[str, list[int]] = {}
    wanted = {m.table for m in project.migrations if m.table and m.rows is not None} if project else set()
    async with db.engine.connect() as connection:

        async def fetch(sql: str) -> list[Any]:
            return list((await connection.execute(text(sql))).all())

        if "uno_migrations" in tables:
            for mid, status, actor in await fetch("SELECT id, status, applied_by FROM uno_migrations"):
                rows[mid], written_by[mid] = status, actor.split("@", 1)[0]
        if "uno_migrations_log" in tables:
            raw = await fetch("SELECT seq, migration_id, action, actor FROM uno_migrations_log ORDER BY seq")
            log = [(seq, mid, action, actor.split("@", 1)[0]) for seq, mid, action, actor in raw]
        if "counter" in tables:
            counter = Counter(n for (n,) in await fetch("SELECT n FROM counter"))
        for table in sorted(wanted & tables):
            contents[table] = sorted(r[0] for r in await fetch(f"SELECT id FROM {table}"))
    return State(rows, log, tables, counter, contents, written_by)


@dataclass
class Verdict:
    """What the shared checks found; tests add their own expectations, then ``assert_ok``."""

    state: State
    runs: list[Run]
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.problems.append(problem)
        return condition

    def assert_ok(self, context: str = "") -> None:
        state = self.state
        if not self.problems:
            print(
                f"ok{f' ({context})' if context else ''}: {len(state.applied)} applied, {len(state.log)} log entries"
            )
            for run in self.runs:
                print(run.transcript())
            return
        lines = [f"the invariant is broken{f' ({context})' if context else ''}:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"version rows: {dict(sorted(state.rows.items()))}")
        lines.append(f"log: {[(seq, mid, action, who) for seq, mid, action, who in state.log]}")
        if state.counter:
            lines.append(f"counter: {dict(sorted(state.counter.items()))}")
        lines += [run.transcript() for run in self.runs]
        pytest.fail("\n".join(lines), pytrace=False)


async def verify(db: TestDatabase, project: Project, runs: Sequence[Run]) -> Verdict:
    """The shared checks (a), (b) and (c) of the module's docstring, on the database as it is."""
    state = await read_state(db, project)
    verdict = Verdict(state, list(runs))
    expect = verdict.expect

    # (a) Replaying the log never applies an applied migration nor reverts an unapplied one.
    applied: set[str] = set()
    for seq, mid, action, who in state.log:
        if action in ("apply", "mark"):
            expect(mid not in applied, f"log seq {seq}: {action} of {mid} by {who}, already applied")
            applied.add(mid)
        elif action in ("revert", "unmark"):
            expect(mid in applied, f"log seq {seq}: {action} of {mid} by {who}, which was not applied")
            applied.discard(mid)
    expect(
        applied == state.applied,
        f"the log replays to {sorted(applied)} applied, the version table says {sorted(state.applied)}",
    )

    # (b) The schema matches the version rows; each effect at most once, once if applied.
    transactional_ddl = db.dialect in ("postgresql", "sqlite")
    for mig in project.migrations:
        status = state.rows.get(mig.id)
        if mig.table is not None:
            if status == "applied":
                if expect(mig.table in state.tables, f"{mig.id} is applied but table {mig.table} is missing"):
                    if mig.rows is not None:
                        got = state.contents[mig.table]
                        expect(
                            got == sorted(mig.rows),
                            f"{mig.id} is applied; table {mig.table} holds {got}, not {list(mig.rows)}",
                        )
            elif status is None and mig.transactional and transactional_ddl:
                expect(
                    mig.table not in state.tables,
                    f"{mig.id} has no version row, but its table {mig.table} exists",
                )
        if mig.counter is not None:
            count = state.counter[mig.counter]
            expect(count <= 1, f"counter has {count} rows of {mig.id}: its effect happened {count} times")
            if status == "applied":
                expect(count == 1, f"{mig.id} is applied but counter has {count} rows of it")

    # (c) No run reports work it did not do, nor success over a failure of its own.
    names = {run.name for run in runs}
    strangers = sorted({who for _, _, _, who in state.log} - names)
    expect(not strangers, f"log entries by runs this test did not start: {strangers}")
    for run in runs:
        for verb, action in (("Applying", "apply"), ("Reverting", "revert")):
            reported, logged = run.reported(verb), state.entries(action, run.name)
            if run.returncode == 0:
                expect(
                    reported == logged,
                    f"{run.name} exited 0 and printed {verb} for {sorted(reported.elements())}, "
                    f"but the log has its {action} of {sorted(logged.elements())}",
                )
            else:
                expect(
                    not (reported - logged),
                    f"{run.name} printed {verb} for {sorted((reported - logged).elements())} "
                    f"without the log having its {action} of them",
                )
        if run.returncode == 0:
            fails = state.entries("fail", run.name)
            expect(not fails, f"{run.name} exited 0 but logged a failure of {sorted(fails)}")
    return verdict


def expect_exit_0(verdict: Verdict, runs: Iterable[Run]) -> None:
    for run in runs:
        verdict.expect(
            run.returncode == 0, f"{run.name} exited {run.returncode}: {run.error_lines or run.stderr[-300:]}"
        )


def expect_one_error_line(verdict: Verdict, run: Run) -> None:
    """A run that fails says so in one ``error:`` line (``warning:`` lines allowed), no traceback."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    others = [line for line in lines if not line.startswith(("error:", "warning:"))]
    verdict.expect(run.returncode not in (0, None), f"{run.name} exited {run.returncode}, not an error")
    verdict.expect(len(errors) == 1, f"{run.name} printed {len(errors)} error lines: {errors}")
    verdict.expect("Traceback" not in run.stderr, f"{run.name} printed a Python traceback")
    verdict.expect(not others, f"{run.name} printed other lines on stderr: {others[:5]}")


def refused_as_failed_earlier(run: Run, state: State, migration_id: str) -> bool:
    """The honest answer where DDL commits implicitly: exit 1, "failed earlier" for exactly
    ``migration_id``, whose row is ``failed``."""
    named = {m.group(1) for m in FAILED_EARLIER.finditer(run.stderr)}
    return (
        run.returncode == 1
        and len(run.error_lines) == 1
        and named == {migration_id}
        and state.rows.get(migration_id) == "failed"
    )


async def reset(db: TestDatabase) -> None:
    """Drop every table: the next iteration starts from an empty database."""
    await asyncio.wait_for(_reset(db), DB_TIMEOUT)


async def _reset(db: TestDatabase) -> None:
    tables = await db.tables()
    quote = "`" if db.dialect == "mysql" else '"'
    cascade = " CASCADE" if db.dialect == "postgresql" else ""
    async with db.engine.begin() as connection:
        for table in sorted(tables):
            await connection.execute(text(f"DROP TABLE IF EXISTS {quote}{table}{quote}{cascade}"))


async def kill_sessions(db: TestDatabase) -> int:
    """End every server session on the test's database but the one asking; return how many."""
    return await asyncio.wait_for(_kill_sessions(db), DB_TIMEOUT)


async def _kill_sessions(db: TestDatabase) -> int:
    database = make_url(db.url).database
    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            rows = (
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
            ).all()
            return sum(1 for (ok,) in rows if ok)
        own = await connection.scalar(text("SELECT CONNECTION_ID()"))
        ids = (
            await connection.execute(
                text("SELECT id FROM information_schema.PROCESSLIST WHERE db = :db"), {"db": database}
            )
        ).all()
        killed = 0
        for (pid,) in ids:
            if pid == own:
                continue
            try:
                await connection.execute(text(f"KILL {int(pid)}"))
                killed += 1
            except Exception:  # it ended meanwhile
                pass
        return killed


# -- 1. many deploys at once -------------------------------------------------------------------


@pytest.mark.slow
async def test_sixteen_concurrent_migrates_apply_each_migration_once(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, Concurrent deploys: "Start `uno-migrations migrate` from every pod of a
    deploy at once: each migration is applied exactly once, every run exits 0"."""
    migs = [slow_py(n, 0.5) if n == 10 else table_sql(n) for n in range(1, 21)]
    proj = project(make_migrations, migs)
    async with Runs(db, proj.directory, tmp_path) as runs:
        started = [await runs.start("migrate", "--lock-timeout", "120") for _ in range(16)]
        await runs.wait_all(started, timeout=150)
        verdict = await verify(db, proj, runs.current)
        expect_exit_0(verdict, started)
        verdict.expect(verdict.state.applied == set(proj.ids), "not every migration is applied")
        verdict.expect(
            verdict.state.entries("apply") == Counter(proj.ids), "not every migration has exactly one apply"
        )
        verdict.assert_ok()


# -- 2. non-transactional migrations under concurrency -----------------------------------------


@pytest.mark.slow
async def test_concurrent_migrates_run_non_transactional_migrations_once(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, Concurrent deploys ("each migration is applied exactly once") for the
    migrations that run outside a transaction ("run outside a transaction ... and are recorded
    once they have finished"): their effects cannot be rolled back, so only the run lock keeps
    them from running twice."""
    proj = project(make_migrations, [counter_table(1), counter_sql(2), slow_py(3, 1.0, transactional=False)])
    async with Runs(db, proj.directory, tmp_path) as runs:
        started = [await runs.start("migrate", "--lock-timeout", "120") for _ in range(8)]
        await runs.wait_all(started, timeout=120)
        verdict = await verify(db, proj, runs.current)
        expect_exit_0(verdict, started)
        counter = verdict.state.counter
        verdict.expect(
            sum(counter.values()) == 2, f"counter has {sum(counter.values())} rows, not 2: {dict(counter)}"
        )
        verdict.expect(verdict.state.entries("apply") == Counter(proj.ids), "not one apply each in the log")
        verdict.assert_ok()


# -- 3. migrate and rollback --all at once -----------------------------------------------------


@pytest.mark.slow
async def test_concurrent_migrate_and_rollback_all_end_in_a_serial_order(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, Concurrent deploys: the run lock serialises whole runs ("A waiting run
    polls until the lock is free"), so a `migrate` and a `rollback --all` started together end
    as one of them after the other: nothing applied, or everything."""
    migs = [slow_py(n, 0.2, down_sleep=0.2) if n in (5, 15) else table_sql(n) for n in range(1, 21)]
    proj = project(make_migrations, migs)
    async with Runs(db, proj.directory, tmp_path) as runs:
        for repetition in range(3):
            setup = await runs.run("migrate", "--target", "010")
            assert setup.returncode == 0, setup.transcript()
            up = await runs.start("migrate", "--lock-timeout", "120")
            down = await runs.start("rollback", "--all", "--lock-timeout", "120")
            await runs.wait_all([up, down], timeout=120)
            verdict = await verify(db, proj, runs.current)
            expect_exit_0(verdict, [up, down])
            applied = verdict.state.applied
            verdict.expect(
                applied in (set(), set(proj.ids)),
                f"{len(applied)} migrations applied ({sorted(applied)}): neither migrate-then-rollback "
                "(none) nor rollback-then-migrate (all 20)",
            )
            if applied == set():
                verdict.expect(
                    not {m.table for m in proj.migrations} & verdict.state.tables,
                    f"tables left after everything was rolled back: {sorted(verdict.state.tables)}",
                )
            verdict.assert_ok(f"repetition {repetition + 1} of 3")
            await reset(db)
            runs.reset()


# -- 4 and 5. the connection lost mid-run ------------------------------------------------------


def _lost_connection_project(make_migrations: MakeDir, marker: Path, release: Path, kind: str) -> Project:
    transactional = kind == "transactional"
    return project(
        make_migrations,
        [
            counter_table(1),
            slow_py(2, 30.0, transactional=transactional, marker=marker, release=release),
            table_sql(3),
            table_sql(4),
        ],
    )


async def _lose_connection_mid_run(
    db: TestDatabase,
    make_migrations: MakeDir,
    tmp_path: Path,
    kind: str,
    how: str,
) -> None:
    """Run A is inside 002 (sleeping) when its sessions die; run B starts at once, and once it
    has ended, A wakes up (to find its connections gone); then a last run C."""
    marker, release = tmp_path / "inside-002", tmp_path / "release-002"
    proj = _lost_connection_project(make_migrations, marker, release, kind)
    slow = proj.migrations[1].id
    # A migration whose version row is `failed` may be refused: where DDL commits implicitly
    # (MySQL), or for a non-transactional migration, whose effect no rollback takes back.
    may_refuse = db.dialect == "mysql" or kind == "non-transactional"
    proxy = None
    async with Runs(db, proj.directory, tmp_path) as runs:
        try:
            url = db.url
            if how == "cut":
                server = make_url(db.url)
                proxy = TcpProxy(
                    server.host or "127.0.0.1", server.port or (5432 if db.dialect == "postgresql" else 3306)
                )
                url = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            a = await runs.start("migrate", url=url)
            await wait_for_file(marker, a)
            if proxy is not None:
                lost = proxy.cut()
            else:
                lost = await kill_sessions(db)
            b = await runs.start("migrate")
            # A sleeps until B has ended (B itself may be inside 002's sleep: not for long).
            await b.ended_within(15)
            release.write_text("go")
            await b.wait(60)
            await a.wait(60)
        finally:
            if proxy is not None:
                proxy.close()
        verdict = await verify(db, proj, runs.current)
        verdict.expect(lost >= 1, f"no session of run A was {'cut' if how == 'cut' else 'killed'}")
        expect_one_error_line(verdict, a)
        verdict.expect(
            b.returncode == 0 or (may_refuse and refused_as_failed_earlier(b, verdict.state, slow)),
            f"run B exited {b.returncode}: {b.error_lines or b.stderr[-300:]}",
        )
        verdict.expect(verdict.state.entries("apply")[slow] <= 1, f"{slow} applied twice")
        verdict.assert_ok(f"after runs A ({how} inside {slow}) and B")

        # Whatever A did after it lost its sessions, a later run still finds a consistent state.
        c = await runs.run("migrate", timeout=90)
        verdict = await verify(db, proj, runs.current)
        verdict.expect(
            c.returncode == 0 or (may_refuse and refused_as_failed_earlier(c, verdict.state, slow)),
            f"run C exited {c.returncode}: {c.error_lines or c.stderr[-300:]}",
        )
        verdict.expect(verdict.state.entries("apply")[slow] <= 1, f"{slow} applied twice")
        verdict.assert_ok("after a later run C")


@pytest.mark.slow
@SERVERS
@KINDS
async def test_lock_session_killed_mid_run(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path, kind: str
) -> None:
    """docs/safety.md, A killed run ("whatever stops a run in the middle of a migration, the next
    run finds a consistent state") and the engine table ("A lock held by a killed process: freed
    when its session ends"): the server ends run A's sessions, the lock's among them, while A
    sleeps inside 002. A fails with one error line; B, started at once, completes the run (or,
    where 002's row honestly says `failed`, refuses with "failed earlier" for 002); 002's
    effects happen once, never twice."""
    await _lose_connection_mid_run(db, make_migrations, tmp_path, kind, "kill")


@pytest.mark.slow
@SERVERS
@KINDS
async def test_connection_cut_by_the_network_mid_run(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path, kind: str
) -> None:
    """docs/safety.md, A killed run ("a node that disappears ... the next run finds a consistent
    state"; "Locks live in database sessions"): a TCP proxy cuts every connection of run A while
    it sleeps inside 002, and keeps accepting new ones; B, straight to the server, must not apply
    002 a second time: it sees it applied, or refuses with "failed earlier" naming 002."""
    await _lose_connection_mid_run(db, make_migrations, tmp_path, kind, "cut")


# -- 6. SIGKILL anywhere -----------------------------------------------------------------------


@pytest.mark.slow
async def test_sigkill_at_random_points_then_migrate_completes(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, A killed run: "`SIGKILL` ...: whatever stops a run in the middle of a
    migration, the next run finds a consistent state"; "a run that is killed (even with
    `SIGKILL`) never leaves a stale lock behind: the next run starts at once". On MySQL a kill
    inside a migration may leave a `failed` row, which `migrate --resume` continues."""
    mysql = db.dialect == "mysql"
    count = 50
    proj = project(make_migrations, [table_sql(n, idempotent=mysql) for n in range(1, count + 1)])
    rng = random.Random(KILL_SEED)
    print(f"kill seed {KILL_SEED}")
    async with Runs(db, proj.directory, tmp_path) as runs:
        # A run to the end first, to time it. The kills fall anywhere from 0.1 s before a run's
        # first migration begins (connecting, taking the lock, creating the version table) to
        # the time a whole run takes after that; the interpreter's start-up before it touches
        # no database, and varies too much from run to run to aim past it blindly.
        full = await runs.run("migrate", timeout=60)
        assert full.returncode == 0, full.transcript()
        begins = (full.first_output or full.started) - full.started
        phase = (full.ended or time.monotonic()) - (full.first_output or full.started)
        print(f"a whole run takes {begins + phase:.3f} s, its first migration begins at {begins:.3f} s")
        await reset(db)
        runs.reset()
        for iteration in range(20):
            offset = rng.uniform(-0.1, phase)
            a = await runs.start("migrate")
            if offset < 0:
                await asyncio.sleep(max(begins + offset, 0))
            else:
                deadline = time.monotonic() + 30
                while a.first_output is None and not a.output.done() and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                await asyncio.sleep(offset)
            delay = time.monotonic() - a.started
            a.kill()
            killed_at = time.monotonic()
            await a._collect(20)
            followers = [await runs.run("migrate", timeout=20)]
            last = followers[-1]
            if mysql and last.returncode == 1 and FAILED_EARLIER.search(last.stderr):
                followers.append(await runs.run("migrate", "--resume", timeout=20))
                last = followers[-1]
            took = (last.ended or time.monotonic()) - killed_at
            verdict = await verify(db, proj, runs.current)
            what = "killed" if a.returncode == -signal.SIGKILL else f"ended ({a.returncode}) before the kill"
            context = (
                f"iteration {iteration + 1}, seed {KILL_SEED}: run A {what} {offset:+.3f} s from its "
                f"first migration, {delay:.3f} s after its start"
            )
            expect_exit_0(verdict, [last])
            verdict.expect(
                verdict.state.applied == set(proj.ids), "not everything is applied after the rerun"
            )
            verdict.expect(took <= 15, f"the rerun completed {took:.1f} s after the kill, not within 15 s")
            verdict.assert_ok(context)
            print(
                f"{context}, having printed {sum(a.reported('Applying').values())} applied; "
                f"{' then '.join(' '.join(f.args) for f in followers)} done {took:.2f} s after the kill"
            )
            await reset(db)
            runs.reset()


# -- 7. one version table, spelled two ways ----------------------------------------------------


@pytest.mark.slow
@SERVERS
async def test_schema_spelled_two_ways_is_one_lock(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path
) -> None:
    """docs/safety.md, Concurrent deploys: "The lock is per version table": `--schema public`
    (PostgreSQL) or `--schema <database>` (MySQL) and no `--schema` name the same version table,
    so two runs spelled each way still wait for each other, and a non-transactional backfill
    runs once."""
    proj = project(make_migrations, [counter_table(1), slow_py(2, 1.0, transactional=False)])
    schema = "public" if db.dialect == "postgresql" else make_url(db.url).database
    assert schema
    async with Runs(db, proj.directory, tmp_path) as runs:
        setup = await runs.run("migrate", "--target", "001")
        assert setup.returncode == 0, setup.transcript()
        spelled = await runs.start("migrate", "--schema", schema, "--lock-timeout", "120")
        plain = await runs.start("migrate", "--lock-timeout", "120")
        await runs.wait_all([spelled, plain], timeout=120)
        verdict = await verify(db, proj, runs.current)
        expect_exit_0(verdict, [spelled, plain])
        rows = sum(verdict.state.counter.values())
        verdict.expect(rows == 1, f"counter has {rows} rows, not 1")
        verdict.expect(verdict.state.entries("apply")["002_slow"] == 1, "002_slow has not exactly one apply")
        verdict.assert_ok(f"--schema {schema} and no --schema")


# -- 8. a lock timeout -------------------------------------------------------------------------


@pytest.mark.slow
@KINDS
async def test_lock_timeout_names_the_holder_and_records_nothing(
    db: TestDatabase, make_migrations: MakeDir, tmp_path: Path, kind: str
) -> None:
    """docs/safety.md, Concurrent deploys: "`--lock-timeout SECONDS` ... bounds the wait. When it
    runs out, the run fails with one line naming the holder". The lock is run-wide: it is held
    inside a non-transactional migration too (SQLite included)."""
    marker, release = tmp_path / "inside-002", tmp_path / "release-002"
    proj = project(
        make_migrations,
        [
            counter_table(1),
            slow_py(2, 30.0, transactional=kind == "transactional", marker=marker, release=release),
            table_sql(3),
        ],
    )
    async with Runs(db, proj.directory, tmp_path) as runs:
        holder = await runs.start("migrate", "--lock-timeout", "120")
        await wait_for_file(marker, holder)
        waiting = await runs.start("migrate", "--lock-timeout", "1")
        # The holder sleeps until the waiting run has ended (should the waiting run get into
        # 002's sleep itself, not for long).
        await waiting.ended_within(15)
        release.write_text("go")
        await waiting.wait(60)
        waited = (waiting.ended or time.monotonic()) - waiting.started
        await holder.wait(60)
        verdict = await verify(db, proj, runs.current)
        expect_exit_0(verdict, [holder])
        lines = waiting.stderr.strip().splitlines()
        verdict.expect(waiting.returncode == 1, f"{waiting.name} exited {waiting.returncode}, not 1")
        verdict.expect(
            len(lines) == 1 and lines[0].startswith(LOCK_TIMEOUT_LINE),
            f"{waiting.name}'s stderr is not one line starting {LOCK_TIMEOUT_LINE!r}: {lines}",
        )
        verdict.expect("held by" in waiting.stderr, f"{waiting.name}'s error does not name the holder")
        verdict.expect(waited < 15, f"{waiting.name} ran for {waited:.1f} s")
        mine = [entry for entry in verdict.state.log if entry[3] == waiting.name]
        verdict.expect(not mine, f"{waiting.name} recorded {mine}")
        rows = sorted(mid for mid, who in verdict.state.written_by.items() if who == waiting.name)
        verdict.expect(not rows, f"{waiting.name} wrote the version rows of {rows}")
        verdict.expect(not waiting.reported("Applying"), f"{waiting.name} reported applying migrations")
        verdict.expect(verdict.state.applied == set(proj.ids), "the holder did not apply everything")
        verdict.assert_ok()

"""Every code example in docs/*.md runs: the harness, and the convention pages follow.

A fenced block says how it is tested with an HTML comment on the line just before its opening
fence (blank lines may come between the two):

``<!-- file: DIR/NAME -->``
    The block is the content of the file DIR/NAME in the page's scratch project. Files of one
    page accumulate in one project. ``project=X`` (or ``project=X,Y``) puts it in other projects.
``<!-- project: engines=postgresql -->``
    Anywhere in the page, on its own line: the engines the page's project runs on (default
    ``sqlite,postgresql,mysql``). ``<!-- project: name=X engines=... -->`` declares another
    project of the page. ``database_url=none`` runs the project's examples without
    ``DATABASE_URL`` (for a page whose configuration file gives the URL). For every project with migration files the harness runs
    ``Migrator(url, directories=[every DIR holding migration files]).migrate()`` on a fresh
    database of each engine, checks that every migration is applied, rolls everything back
    (when a migration is irreversible: everything after it) and checks that nothing but the
    version tables is left, then applies everything again.
``<!-- run -->`` on a ```python block
    Run as a script with ``sys.executable`` in a scratch copy of the project (its files, plus a
    copy of the repository's ``examples/``), with ``DATABASE_URL=sqlite:///app.db``; it must exit
    0. ``<!-- shell -->`` on a ```bash block runs the block with ``bash -e``; on a ```console
    block, the lines starting with ``$ `` (output lines are ignored). The directory of
    ``sys.executable`` comes first on ``PATH``. The run and shell blocks of a project run in page
    order, in one directory, so later blocks see what earlier ones did. ``project=X`` picks
    another project.
``<!-- config -->`` on a ```toml or ```ini block
    Parsed only.

Quoted output is real output. The lines after a ``$ `` command of a ```console shell block are
what that command prints (stdout and stderr together, as a terminal shows them), and a
```text or ```output block needs one of these markers:

``<!-- output -->``
    With ``$ `` lines, the block is a transcript: its commands run, in page order with the
    project's run and shell blocks, and each must print the lines quoted after it; unlike a
    console block, a command may fail (the transcript quotes its error). Without ``$ `` lines,
    the block is everything the project's preceding run or shell block printed.
    ``project=X`` picks another project.
``<!-- output test=tests/docs/FILE.py::TEST -->``
    Output that needs a setting the page cannot run (a second session holding the lock, a
    MySQL failure, a cut connection): the named test produces it and compares it with the
    block, which it reads with :func:`quoted_output`. The harness checks that the test exists.
``<!-- synopsis -->``
    A command's synopsis (``uno-migrations create NAME [--type ...]``): every ``--option`` it
    names must be in that command's ``--help``.
``<!-- illustration -->``
    Text that is no program's output and no claim about one (the markup of these markers).

Compared output is normalised for what changes from run to run only: durations (``N ms``),
timestamps and clock times, migration ids ``create`` takes from the clock (numbered in order of
appearance, so the id ``create`` printed must be the one ``migrate`` applies), the ``user@host``
of the actor, and the width of the space between table columns. Any block without a marker
fails, naming the page and line, so no example and no quoted output goes untested.
"""

from __future__ import annotations

import configparser
import getpass
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import ENGINES, TestDatabase

from uno_migrations import IrreversibleMigrationError, MigrationError, Migrator

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, for Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
VERSION_TABLES = {"uno_migrations", "uno_migrations_log", "uno_migrations_layout"}
OUTPUT_LANGUAGES = {"text", "output"}
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
OUTPUT_KINDS = ("output", "synopsis", "illustration")
LANGUAGES = {
    "run": {"python"},
    "shell": SHELL_LANGUAGES,
    "config": {"toml", "ini"},
    **{kind: OUTPUT_LANGUAGES for kind in OUTPUT_KINDS},
}
DEFAULT = "default"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_COMMENT = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
_MARKER = re.compile(
    r"(?P<kind>file|project|run|shell|config|output|synopsis|illustration)\b:?\s*(?P<rest>.*)", re.S
)
_MIGRATION_FILE = re.compile(r"\d+_[a-z0-9_]+(\.(postgresql|mysql|sqlite))?\.(py|sql)")


@dataclass
class Block:
    page: str
    line: int
    language: str
    text: str
    kind: str | None = None
    path: str | None = None
    projects: tuple[str, ...] = (DEFAULT,)
    test: str | None = None  # <!-- output test=... -->: the test that checks this output

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    @property
    def transcript(self) -> bool:
        """An output block of ``$ `` commands, each with what it prints."""
        return self.kind == "output" and any(line.startswith("$ ") for line in self.text.splitlines())


@dataclass
class Project:
    name: str
    engines: tuple[str, ...] = ENGINES
    database_url: bool = True  # whether the examples run with DATABASE_URL set
    files: dict[str, Block] = field(default_factory=dict)
    examples: list[Block] = field(default_factory=list)

    @property
    def migration_dirs(self) -> list[str]:
        dirs = (str(Path(path).parent) for path in self.files if _MIGRATION_FILE.fullmatch(Path(path).name))
        return list(dict.fromkeys(dirs))


@dataclass
class Page:
    name: str
    blocks: list[Block] = field(default_factory=list)
    projects: dict[str, Project] = field(default_factory=lambda: {DEFAULT: Project(DEFAULT)})
    errors: list[str] = field(default_factory=list)


def parse_page(name: str, text: str) -> Page:
    """Read a page's fenced blocks, their markers and its project declarations."""
    page = Page(name)
    lines = text.splitlines()
    marker: tuple[int, str] | None = None  # the comment just before the next fence, if any
    declared = False
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            comment = _COMMENT.match(lines[i])
            found = _MARKER.fullmatch(comment["body"]) if comment is not None else None
            if found is not None and found["kind"] == "project":
                declared = _declare(page, i + 1, found["rest"], declared)
                marker = None
            elif comment is not None:
                marker = (i + 1, comment["body"])
            elif lines[i].strip():
                marker = None
            i += 1
            continue
        close = re.compile(rf"^\s*{re.escape(fence['fence'][0])}{{{len(fence['fence'])},}}\s*$")
        indent = len(fence["indent"])
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            body.append(_dedent(lines[j], indent))
            j += 1
        block = Block(name, i + 1, (fence["info"].split() or [""])[0].lower(), "\n".join(body) + "\n")
        if j == len(lines):
            page.errors.append(f"{block.where}: code fence is never closed")
        _read_marker(page, block, marker)
        page.blocks.append(block)
        marker = None
        i = j + 1
    _assign(page)
    return page


def _dedent(line: str, indent: int) -> str:
    strip = len(line) - len(line.lstrip(" \t"))
    return line[min(strip, indent) :]


def _options(words: list[str], where: str, allowed: set[str], errors: list[str]) -> dict[str, str]:
    options = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in allowed:
            errors.append(f"{where}: unexpected {word!r} in marker (allowed: {', '.join(sorted(allowed))})")
        else:
            options[key] = value
    return options


def _declare(page: Page, line: int, rest: str, declared: bool) -> bool:
    where = f"docs/{page.name}:{line}"
    options = _options(rest.split(), where, {"name", "engines", "database_url"}, page.errors)
    name = options.get("name", DEFAULT)
    engines = tuple(e for e in options.get("engines", ",".join(ENGINES)).split(",") if e)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        page.errors.append(f"{where}: unknown engines {unknown} (known: {', '.join(ENGINES)})")
    if (name == DEFAULT and declared) or (name != DEFAULT and name in page.projects):
        page.errors.append(f"{where}: project {name!r} is declared twice")
    if options.get("database_url", "sqlite:///app.db") not in ("sqlite:///app.db", "none"):
        page.errors.append(f"{where}: database_url is sqlite:///app.db (the default) or none")
    page.projects[name] = Project(name, engines, options.get("database_url") != "none")
    return declared or name == DEFAULT


def _read_marker(page: Page, block: Block, marker: tuple[int, str] | None) -> None:
    found = _MARKER.fullmatch(marker[1]) if marker else None
    if found is None:
        if block.language in OUTPUT_LANGUAGES:
            page.errors.append(
                f"{block.where}: ```{block.language} block has no output marker (<!-- output -->, "
                "<!-- output test=tests/docs/FILE.py::TEST -->, <!-- synopsis --> or <!-- illustration -->)"
            )
        else:
            page.errors.append(
                f"{block.where}: ```{block.language or '(no language)'} block has no test marker "
                "(<!-- file: DIR/NAME -->, <!-- run -->, <!-- shell --> or <!-- config -->)"
            )
        return
    block.kind = found["kind"]
    words = found["rest"].split()
    if block.language in OUTPUT_LANGUAGES and block.kind not in OUTPUT_KINDS:
        page.errors.append(
            f"{block.where}: ```{block.language} blocks are output: mark them <!-- output -->, "
            "<!-- synopsis --> or <!-- illustration -->"
        )
        return
    if block.kind == "file":
        if not words or "=" in words[0]:
            page.errors.append(f"{block.where}: the file marker needs a path: <!-- file: DIR/NAME -->")
            return
        block.path = words.pop(0)
        if Path(block.path).is_absolute() or ".." in Path(block.path).parts:
            page.errors.append(f"{block.where}: {block.path} must be a relative path inside the project")
    elif block.language not in LANGUAGES[block.kind]:
        allowed = ", ".join(sorted(LANGUAGES[block.kind]))
        page.errors.append(f"{block.where}: a {block.kind} marker goes on a {allowed} block")
    allowed = {"config": set(), "synopsis": set(), "illustration": set(), "output": {"project", "test"}}
    options = _options(words, block.where, allowed.get(block.kind, {"project"}), page.errors)
    if "project" in options:
        block.projects = tuple(p for p in options["project"].split(",") if p)
    if "test" in options:
        block.test = options["test"]
        if "project" in options:
            page.errors.append(f"{block.where}: an output checked by a test belongs to no project")
    _check_syntax(page, block)


def _check_syntax(page: Page, block: Block) -> None:
    """Cheap checks that need no database: Python compiles, TOML and INI parse."""
    suffix = Path(block.path).suffix if block.path else {"python": ".py"}.get(block.language, "")
    if block.kind == "config":
        suffix = f".{block.language}"
    try:
        if suffix == ".py":
            compile(block.text, block.where, "exec")
        elif suffix == ".toml":
            tomllib.loads(block.text)
        elif suffix in (".ini", ".cfg"):
            configparser.ConfigParser().read_string(block.text)
    except (SyntaxError, tomllib.TOMLDecodeError, configparser.Error) as exc:
        page.errors.append(f"{block.where}: does not parse: {exc}")


def _assign(page: Page) -> None:
    """Put each file and example block into the projects it names."""
    for block in page.blocks:
        if block.kind not in ("file", "run", "shell", "output") or block.test is not None:
            continue
        for name in block.projects:
            project = page.projects.get(name)
            if project is None:
                page.errors.append(f"{block.where}: no <!-- project: name={name} ... --> in this page")
            elif (
                block.kind == "output"
                and not block.transcript
                and (not project.examples or project.examples[-1].kind == "output")
            ):
                page.errors.append(
                    f"{block.where}: an output block without $ commands must follow the run or shell "
                    f"block of project {name!r} whose output it is"
                )
            elif block.kind != "file":
                project.examples.append(block)
            elif block.path in project.files:
                first = project.files[block.path].where
                page.errors.append(f"{block.where}: {block.path} was already given at {first}")
            elif block.path is not None:
                project.files[block.path] = block


def _pages() -> list[Page]:
    return [parse_page(p.name, p.read_text(encoding="utf-8")) for p in sorted(DOCS.glob("*.md"))]


PAGES = _pages()


def write_project(project: Project, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for path, block in project.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")


# -- the convention ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_block_is_marked_and_parses(page: Page) -> None:
    assert not page.errors, "\n".join(page.errors)


def test_the_harness_rejects_unmarked_blocks_and_bad_markers() -> None:
    page = parse_page(
        "x.md",
        "Intro\n\n```python\nprint(1)\n```\n\n<!-- run -->\n\n```sql\nSELECT 1;\n```\n"
        "<!-- file: ../x.py -->\n```python\nx =\n```\n\n```text\nfine\n```\n"
        "<!-- run project=nope -->\n```python\npass\n```\n",
    )
    assert [e.split(":")[1] for e in page.errors] == ["3", "9", "13", "13", "17", "21"], page.errors
    assert "no test marker" in page.errors[0] and "a run marker goes on a python block" in page.errors[1]
    assert "```text block has no output marker" in page.errors[4]


def test_the_harness_reads_output_markers() -> None:
    page = parse_page(
        "x.md",
        "<!-- output -->\n```text\nalone\n```\n"
        "<!-- shell -->\n```bash\necho hi\n```\n<!-- output -->\n```text\nhi\n```\n"
        "<!-- output -->\n```text\n$ false || echo no\nno\n\n$ echo a \\\n  b\na b\n```\n"
        "<!-- output test=tests/docs/test_x.py::test_y -->\n```output\nx\n```\n"
        "<!-- synopsis -->\n```text\nuno-migrations status [--json]\n```\n"
        "<!-- illustration -->\n```text\n<!-- run -->\n```\n<!-- output -->\n```bash\nls\n```\n",
    )
    assert [e.split(":")[1] for e in page.errors] == ["35", "2", "35"], page.errors
    assert "output marker goes on a output, text block" in page.errors[0]
    assert "must follow the run or shell block" in page.errors[1]
    kinds = [(b.line, b.kind, b.transcript, b.test) for b in page.blocks]
    assert kinds[2:5] == [
        (10, "output", False, None),
        (14, "output", True, None),
        (23, "output", False, "tests/docs/test_x.py::test_y"),
    ]
    examples = page.projects[DEFAULT].examples
    assert [b.line for b in examples] == [6, 10, 14]  # the tested output belongs to no project
    steps = commands(examples[2])
    assert [(c.line, c.source, c.quoted) for c in steps] == [
        (15, "false || echo no", ["no"]),
        (18, "echo a \\\n  b", ["a b"]),
    ]


def test_the_normaliser_keeps_what_does_not_vary() -> None:
    quoted, printed = Normaliser(), Normaliser("bob@build-7")
    assert quoted(
        ["migrations/1795523473_a.py", "Applying 1795523473_a ... 3 ms", "1700000000_b"]
    ) == printed(["migrations/1796319777_a.py", "Applying 1796319777_a ... 12 ms", "1700000000_b"])
    assert quoted(["1  2026-11-24 12:31:16 UTC  apply  1 ms   alice@laptop"]) == printed(
        ["1  2026-12-03 17:41:59 UTC  apply  12 ms  bob@build-7"]
    )
    assert quoted(["Applying 1795523474_b"]) != printed(["Applying 1796319777_a"])  # not the id create gave
    assert quoted(["  indented", "5 applied"]) != printed(["indented", "4 applied"])


def test_the_harness_collects_projects_files_and_examples() -> None:
    page = parse_page(
        "x.md",
        "<!-- project: engines=postgresql -->\n<!-- project: name=all -->\n"
        "<!-- file: migrations/1_a.sql project=default,all -->\n\n```sql\nSELECT 1;\n```\n"
        "  <!-- file: app.py -->\n  ```python\n  print(1)\n  ```\n"
        "<!-- shell project=all -->\n````console\n$ echo hi\nhi\n````\n",
    )
    assert page.errors == []
    default, everywhere = page.projects[DEFAULT], page.projects["all"]
    assert default.engines == ("postgresql",) and everywhere.engines == ENGINES
    assert list(default.files) == ["migrations/1_a.sql", "app.py"]
    assert default.migration_dirs == ["migrations"]
    assert default.files["app.py"].text == "print(1)\n"
    assert list(everywhere.files) == ["migrations/1_a.sql"] and everywhere.examples[0].line == 13


# -- migrations apply and revert on every engine the page names ------------------------------


def _migration_cases() -> list[Any]:
    cases = []
    for page in PAGES:
        for project in page.projects.values():
            if not project.migration_dirs:
                continue
            for engine in project.engines:
                label = f"{page.name}-{project.name}-{engine}"
                cases.append(pytest.param((page.name, project.name), engine, id=label))
    return cases


@pytest.mark.parametrize(("case", "engine_name"), _migration_cases(), indirect=["engine_name"])
async def test_page_migrations_apply_and_revert(
    case: tuple[str, str], db: TestDatabase, tmp_path: Path
) -> None:
    page = next(p for p in PAGES if p.name == case[0])
    project = page.projects[case[1]]
    write_project(project, tmp_path / "project")
    migrator = Migrator(db.url, directories=[tmp_path / "project" / d for d in project.migration_dirs])
    try:
        await _round_trip(migrator, db)
    except (MigrationError, AssertionError) as exc:
        # Point at the page lines of the files the error names.
        named = [b.where for path, b in project.files.items() if Path(path).name.split(".")[0] in str(exc)]
        where = ", ".join(named) or f"docs/{page.name}"
        pytest.fail(f"{where} (project {project.name!r} on {db.dialect}): {exc}", pytrace=False)


async def _round_trip(migrator: Migrator, db: TestDatabase) -> None:
    """Apply everything, roll back as far as possible, check what is left, apply again."""
    every = [state.id for state in await migrator.status()]
    assert (await migrator.migrate()).ids == every
    assert {state.status for state in await migrator.status()} == {"applied"}

    try:
        reverted = (await migrator.rollback(all=True)).ids
        kept: list[str] = []
    except IrreversibleMigrationError as exc:  # revert what comes after it, then stop
        reverted = (await migrator.rollback(target=exc.migration_id)).ids
        kept = every[: len(every) - len(reverted)]
    assert reverted == every[len(kept) :][::-1]
    states = {state.id: state.status for state in await migrator.status()}
    assert states == {mid: "applied" if mid in kept else "pending" for mid in every}
    if not kept:
        assert await db.tables() == VERSION_TABLES, "the down steps left tables behind"
    assert (await migrator.migrate()).ids == every[len(kept) :], "re-applying after the rollback failed"


# -- run and shell examples -------------------------------------------------------------------


def _example_cases() -> list[Any]:
    return [
        pytest.param(page, project, id=f"{page.name}-{project.name}")
        for page in PAGES
        for project in page.projects.values()
        if project.examples
    ]


@dataclass
class Command:
    """One ``$ `` command of a console block or transcript, with the lines quoted after it."""

    line: int
    source: str
    quoted: list[str]


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    continued = False
    for offset, line in enumerate(block.text.splitlines()):
        if continued:
            found[-1].source += "\n" + line
        elif line.startswith("$ "):
            found.append(Command(block.line + 1 + offset, line[2:], []))
        elif found:
            found[-1].quoted.append(line)
        continued = (continued or line.startswith("$ ")) and line.endswith("\\")
    for command in found:
        while command.quoted and not command.quoted[-1].strip():
            command.quoted.pop()
    return found


# What changes from run to run. Clock ids are the versions `create` takes from the current time.
_CLOCK_ID = re.compile(r"(?<!\d)1[7-9]\d{8}(?!\d)")
_FIRST_CLOCK_ID = 1_760_000_000  # the fixed versions of the pages' own files are all below it
_VARYING = [
    (re.compile(r"\b\d+ ms\b"), "N ms"),
    (re.compile(r'"(elapsed_ms|ms|execution_ms)": \d+'), r'"\1": N'),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00| UTC)?"), "TIME"),
    (re.compile(r"^\d\d:\d\d:\d\d "), "HH:MM:SS "),
    (re.compile(r"(?<=\S)  +(?=\S)"), "  "),  # column widths follow the widths of the values
]
DOCS_ACTOR = "alice@laptop"  # the user@host the pages show


class Normaliser:
    """Normalises one side (quoted or printed) of a project's outputs, in page order."""

    def __init__(self, actor: str | None = None) -> None:
        self.actor = actor
        self.clock_ids: dict[str, str] = {}

    def _clock_id(self, found: re.Match[str]) -> str:
        if int(found[0]) < _FIRST_CLOCK_ID:
            return found[0]
        return self.clock_ids.setdefault(found[0], f"<id {len(self.clock_ids) + 1}>")

    def __call__(self, lines: list[str]) -> list[str]:
        normal = []
        for line in lines:
            if self.actor:
                line = line.replace(self.actor, DOCS_ACTOR)
            line = _CLOCK_ID.sub(self._clock_id, line)
            for pattern, replacement in _VARYING:
                line = pattern.sub(replacement, line)
            normal.append(line.rstrip())
        return normal


_STEP = "@@uno-docs-step@@"


def _script(block: Block) -> tuple[str, list[Command]]:
    """The bash script of a block, and its commands when their outputs are to be compared."""
    if block.language != "console" and not block.transcript:
        return block.text, []
    steps = commands(block)
    strict = "set -e -o pipefail\n" if block.kind == "shell" else ""
    body = "".join(f"printf '\\n{_STEP}\\n'\n{step.source}\n" for step in steps)
    return f"exec 2>&1\n{strict}{body}", steps


def _outputs(printed: str) -> list[list[str]]:
    return [
        chunk.rstrip("\n").split("\n") if chunk.strip() else [] for chunk in printed.split(f"\n{_STEP}\n")[1:]
    ]


def _difference(
    where: str, quoted: list[str], printed: list[str], quoted_side: Normaliser, printed_side: Normaliser
) -> str | None:
    if quoted_side(quoted) == printed_side(printed):
        return None
    return (
        f"{where}: quoted output is not what runs\nquoted:\n  "
        + "\n  ".join(quoted)
        + "\nprinted:\n  "
        + "\n  ".join(printed)
    )


def _write_shown_files(steps: list[Command], root: Path) -> None:
    """A transcript's ``$ cat FILE`` of a file the project does not have: the page shows the
    file it then uses, so FILE is what the page shows."""
    for step in steps:
        words = step.source.split()
        if len(words) == 2 and words[0] == "cat" and not (root / words[1]).exists():
            (root / words[1]).parent.mkdir(parents=True, exist_ok=True)
            (root / words[1]).write_text("\n".join(step.quoted) + "\n", encoding="utf-8")


def example_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNO_MIGRATIONS_")}
    env.pop("NO_COLOR", None)
    env["DATABASE_URL"] = "sqlite:///app.db"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update(PYTHONUNBUFFERED="1", COLUMNS="80", USER="alice", LOGNAME="alice")
    return env


@pytest.mark.parametrize(("page", "project"), _example_cases())
def test_page_examples_run(page: Page, project: Project, tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(project, root)
    if not (root / "examples").exists():
        shutil.copytree(REPO / "examples", root / "examples", ignore=shutil.ignore_patterns("*.db"))
    env = example_environment()
    quoted_side, printed_side = Normaliser(), Normaliser(f"alice@{socket.gethostname()}")
    failures = []
    printed = ""
    for block in project.examples:
        if block.kind == "output" and not block.transcript:  # the output of the block before it
            quoted = block.text.rstrip("\n").split("\n")
            lines = printed.rstrip("\n").split("\n") if printed.strip() else []
            failure = _difference(block.where, quoted, lines, quoted_side, printed_side)
            failures += [failure] if failure else []
            continue
        script, steps = _script(block)
        if block.transcript:
            _write_shown_files(steps, root)
        command = [sys.executable, "-c", block.text] if block.kind == "run" else ["bash", "-c", script]
        if block.kind == "shell" and not steps:
            command[1:1] = ["-e", "-o", "pipefail"]
        try:
            done = subprocess.run(
                command,
                cwd=root,
                env=env if project.database_url else {k: v for k, v in env.items() if k != "DATABASE_URL"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{block.where}: {block.kind} block timed out")
            continue
        printed = done.stdout
        if done.returncode != 0 and block.kind != "output":
            failures.append(f"{block.where}: {block.kind} block exited {done.returncode}\n{printed.strip()}")
            continue
        for step, lines in zip(steps, _outputs(printed), strict=True):
            failure = _difference(
                f"docs/{page.name}:{step.line}: $ {step.source}",
                step.quoted,
                lines,
                quoted_side,
                printed_side,
            )
            failures += [failure] if failure else []
    assert not failures, "\n\n".join(failures)


# -- outputs checked elsewhere, and synopses --------------------------------------------------


def quoted_output(page: str, test: str) -> list[list[str]]:
    """The lines of each of the page's output blocks marked ``<!-- output test=TEST -->``, in
    page order, for TEST to compare with what it produces (TEST as in the marker:
    ``tests/docs/FILE.py::NAME``)."""
    blocks = [b for p in PAGES if p.name == page for b in p.blocks if b.test == test]
    assert blocks, f"docs/{page} has no block marked <!-- output test={test} -->"
    return [block.text.rstrip("\n").split("\n") for block in blocks]


def normalise(lines: list[str]) -> list[str]:
    """What :func:`quoted_output`'s callers compare: the harness's normalisation of one output."""
    return Normaliser(f"{getpass.getuser()}@{socket.gethostname()}")(lines)


_TESTED_OUTPUTS = [b for page in PAGES for b in page.blocks if b.test is not None]


@pytest.mark.parametrize("block", _TESTED_OUTPUTS, ids=[b.where for b in _TESTED_OUTPUTS])
def test_outputs_checked_by_a_test_name_one_that_reads_them(block: Block) -> None:
    assert block.test is not None
    path, _, name = block.test.partition("::")
    source = REPO / path
    assert source.is_file() and name, f"{block.where}: no test {block.test}"
    text = source.read_text(encoding="utf-8")
    assert re.search(rf"^(async )?def {re.escape(name)}\(", text, re.M), (
        f"{block.where}: no test {block.test}"
    )
    body = text.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0].split("\nasync def ", 1)[0]
    assert "quoted_output(" in body, (
        f"{block.test} does not read docs/{block.page}'s block with quoted_output"
    )


_SYNOPSES = [b for page in PAGES for b in page.blocks if b.kind == "synopsis"]
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


@pytest.mark.parametrize("block", _SYNOPSES, ids=[b.where for b in _SYNOPSES])
def test_every_option_a_synopsis_names_is_in_the_help(block: Block, tmp_path: Path) -> None:
    from helpers import Cli

    words = block.text.split()
    assert words[0] == "uno-migrations", f"{block.where}: a synopsis starts with uno-migrations"
    command = [w for w in itertools.takewhile(lambda w: re.fullmatch(r"[a-z]+", w), words[1:])]
    shown = Cli(tmp_path)(*command, "--help")
    assert shown.exit_code == 0, shown.output
    missing = [option for option in _OPTION.findall(block.text) if option not in shown.stdout]
    assert not missing, f"{block.where}: {missing} not in uno-migrations {' '.join(command)} --help"

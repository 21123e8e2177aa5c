"""Every code example in docs/*.md runs: the harness, and the convention pages follow.

A fenced block says how it is tested with an HTML comment on the line just before its opening
fence (blank lines may come between the two):

``<!-- file: DIR/NAME -->``
    The block is the content of the file DIR/NAME in the page's scratch project. Files of one
    page accumulate in one project. ``project=X`` (or ``project=X,Y``) puts it in other projects.
``<!-- project: engines=postgresql -->``
    Anywhere in the page, on its own line: the engines the page's project runs on (default
    ``sqlite,postgresql,mysql``). ``<!-- project: name=X engines=... -->`` declares another
    project of the page. For every project with migration files the harness runs
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

```text and ```output blocks are output, not examples, and need no marker. Any other block
without a marker fails, naming the page and line, so no example goes untested.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ENGINES, TestDatabase

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
LANGUAGES = {"run": {"python"}, "shell": SHELL_LANGUAGES, "config": {"toml", "ini"}}
DEFAULT = "default"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_COMMENT = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
_MARKER = re.compile(r"(?P<kind>file|project|run|shell|config)\b:?\s*(?P<rest>.*)", re.S)
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

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


@dataclass
class Project:
    name: str
    engines: tuple[str, ...] = ENGINES
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
    options = _options(rest.split(), where, {"name", "engines"}, page.errors)
    name = options.get("name", DEFAULT)
    engines = tuple(e for e in options.get("engines", ",".join(ENGINES)).split(",") if e)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        page.errors.append(f"{where}: unknown engines {unknown} (known: {', '.join(ENGINES)})")
    if (name == DEFAULT and declared) or (name != DEFAULT and name in page.projects):
        page.errors.append(f"{where}: project {name!r} is declared twice")
    page.projects[name] = Project(name, engines)
    return declared or name == DEFAULT


def _read_marker(page: Page, block: Block, marker: tuple[int, str] | None) -> None:
    found = _MARKER.fullmatch(marker[1]) if marker else None
    if found is None:
        if block.language not in OUTPUT_LANGUAGES:
            page.errors.append(
                f"{block.where}: ```{block.language or '(no language)'} block has no test marker "
                "(<!-- file: DIR/NAME -->, <!-- run -->, <!-- shell --> or <!-- config -->); "
                "```text and ```output are the only unmarked blocks"
            )
        return
    block.kind = found["kind"]
    words = found["rest"].split()
    if block.language in OUTPUT_LANGUAGES:
        page.errors.append(f"{block.where}: ```{block.language} blocks are output; remove the marker")
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
    allowed = {"project"} if block.kind != "config" else set()
    options = _options(words, block.where, allowed, page.errors)
    if "project" in options:
        block.projects = tuple(p for p in options["project"].split(",") if p)
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
        if block.kind not in ("file", "run", "shell"):
            continue
        for name in block.projects:
            project = page.projects.get(name)
            if project is None:
                page.errors.append(f"{block.where}: no <!-- project: name={name} ... --> in this page")
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
    assert [e.split(":")[1] for e in page.errors] == ["3", "9", "13", "13", "21"], page.errors
    assert "no test marker" in page.errors[0] and "a run marker goes on a python block" in page.errors[1]


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


def _commands(block: Block) -> str:
    if block.language != "console":
        return block.text
    commands: list[str] = []
    continued = False
    for line in block.text.splitlines():
        if continued or line.startswith("$ "):
            commands.append(line if continued else line[2:])
            continued = line.endswith("\\")
    return "\n".join(commands) + "\n"


@pytest.mark.parametrize(("page", "project"), _example_cases())
def test_page_examples_run(page: Page, project: Project, tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(project, root)
    if not (root / "examples").exists():
        shutil.copytree(REPO / "examples", root / "examples", ignore=shutil.ignore_patterns("*.db"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNO_MIGRATIONS_")}
    env["DATABASE_URL"] = "sqlite:///app.db"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    failures = []
    for block in project.examples:
        if block.kind == "run":
            command = [sys.executable, "-c", block.text]
        else:
            command = ["bash", "-e", "-o", "pipefail", "-c", _commands(block)]
        try:
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            failures.append(f"{block.where}: {block.kind} block timed out")
            continue
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            failures.append(f"{block.where}: {block.kind} block exited {done.returncode}\n{output}")
    assert not failures, "\n\n".join(failures)

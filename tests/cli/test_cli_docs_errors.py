"""Every error docs/cli.md quotes is what the command prints: the page's examples are replayed in
page order and each one whose quoted output holds ``error:`` (or click's ``Error:``) must print
that output, line for line (times and timestamps aside).

The quoted texts are read from the page, so the test fails as soon as the page and the program
drift apart. The page's console blocks of its main project run in order in one directory (later
ones see what earlier ones did, as a reader running them would); ```text blocks only when they
quote an error. Their setting comes from the page too: the ``<!-- file: ... -->`` blocks, the
``<!-- config -->`` blocks whose first line names a file (``# prod.toml``), and files shown with
``$ cat FILE`` that do not exist yet. A command marked ``# no URL anywhere`` runs in an empty
directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from uno_migrations.cli.config import ENV_CONFIG

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "cli.md"
DEFAULT = "default"

_FENCE = re.compile(r"^(`{3,})(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>shell|file|config)\b:?\s*(?P<rest>.*?)\s*-->$")
_PROJECT = re.compile(r"project=(\S+)")
#: What changes from run to run: durations and timestamps.
_VARYING = [
    (re.compile(r"\b\d+ ms\b"), "N ms"),
    (re.compile(r'"(elapsed_ms|ms|execution_ms)": \d+'), r'"\1": N'),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00| UTC)?"), "TIME"),
]


@dataclass
class Example:
    """One ``$ command`` of the page with the output quoted after it."""

    line: int
    command: str
    output: list[str]

    @property
    def quotes_an_error(self) -> bool:
        return any(line.startswith(("error: ", "Error: ")) for line in self.output)


@dataclass
class Block:
    line: int
    language: str
    marker: str | None
    lines: list[str]
    projects: tuple[str, ...] = (DEFAULT,)
    examples: list[Example] = field(default_factory=list)


def read_page(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    marker: str | None = None
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            found = _MARKER.match(lines[index].strip())
            if found is not None:
                marker = lines[index].strip()
            elif lines[index].strip():
                marker = None
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith(fence[1]):
            end += 1
        block = Block(index + 1, fence[2], marker, lines[index + 1 : end])
        projects = _PROJECT.search(marker or "")
        if projects is not None:
            block.projects = tuple(projects[1].split(","))
        block.examples = _examples(block)
        blocks.append(block)
        marker = None
        index = end + 1
    return blocks


def _examples(block: Block) -> list[Example]:
    examples: list[Example] = []
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            examples.append(Example(block.line + 1 + offset, line[2:], []))
        elif examples:
            examples[-1].output.append(line)
    for example in examples:
        while example.output and not example.output[-1].strip():
            example.output.pop()
    return examples


BLOCKS = read_page(PAGE.read_text(encoding="utf-8"))
CASES = [example for block in BLOCKS for example in block.examples if example.quotes_an_error]


def _files(project: str) -> dict[str, str]:
    """The files the page gives the project: file blocks, and config blocks named in a comment."""
    files = {}
    for block in BLOCKS:
        marker = _MARKER.match(block.marker or "")
        if marker is None or project not in block.projects:
            continue
        if marker["kind"] == "file":
            files[marker["rest"].split()[0]] = "\n".join(block.lines) + "\n"
        elif marker["kind"] == "config" and block.lines and block.lines[0].startswith("# "):
            files[block.lines[0][2:].strip()] = "\n".join(block.lines) + "\n"
    return files


def _normal(lines: list[str]) -> list[str]:
    normal = []
    for line in lines:
        for pattern, replacement in _VARYING:
            line = pattern.sub(replacement, line)
        normal.append(line.rstrip())
    return normal


def _run(command: str, cwd: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_CONFIG and k not in ("NO_COLOR",)}
    env.pop("BLOG_DB_PASSWORD", None)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-c", f"exec 2>&1\n{command}"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    return done.stdout.rstrip("\n").splitlines()


def _materialize(example: Example, cwd: Path) -> None:
    """``$ cat FILE`` of a file the page has not given: it is what the page shows."""
    words = example.command.split()
    if len(words) == 2 and words[0] == "cat" and "*" not in words[1] and not (cwd / words[1]).exists():
        (cwd / words[1]).parent.mkdir(parents=True, exist_ok=True)
        (cwd / words[1]).write_text("\n".join(example.output) + "\n", encoding="utf-8")


def _project(name: str, root: Path) -> Path:
    directory = root / name
    directory.mkdir()
    for path, content in _files(name).items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(content, encoding="utf-8")
    if name == DEFAULT:
        shutil.copytree(REPO / "examples", directory / "examples", ignore=shutil.ignore_patterns("*.db"))
    return directory


def test_the_page_quotes_the_errors_this_test_runs() -> None:
    quoted = {example.command.split(" || ")[0] for example in CASES}
    assert len(CASES) >= 10, quoted
    assert any("--config prod.toml" in command for command in quoted)
    assert any("no URL anywhere" in command for command in quoted)


@pytest.mark.slow
def test_every_error_the_page_quotes_is_what_the_command_prints(tmp_path: Path) -> None:
    projects: dict[str, Path] = {}
    empty = tmp_path / "empty"
    empty.mkdir()
    failures = []
    for block in BLOCKS:
        replay = (block.marker or "").startswith("<!-- shell") or any(
            e.quotes_an_error for e in block.examples
        )
        if not replay or not block.examples:
            continue
        project = block.projects[0]
        if project not in projects:
            projects[project] = _project(project, tmp_path)
        for example in block.examples:
            if project != DEFAULT and not example.quotes_an_error:
                continue  # another project: only its errors, in a directory of its own
            _materialize(example, projects[project])
            cwd = empty if example.command.endswith("# no URL anywhere") else projects[project]
            printed = _run(example.command, cwd)
            if example.quotes_an_error and _normal(printed) != _normal(example.output):
                failures.append(
                    f"docs/cli.md:{example.line}: $ {example.command}\n"
                    "quoted:\n  " + "\n  ".join(example.output) + "\nprinted:\n  " + "\n  ".join(printed)
                )
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("```console\n$ a\nerror: x\n\n$ b\nfine\n```\n", [("a", True), ("b", False)]),
        ("<!-- shell project=shop -->\n```console\n$ c\nError: y\n```\n", [("c", True)]),
    ],
)
def test_the_reader_finds_the_commands_and_their_output(text: str, commands: list[tuple[str, bool]]) -> None:
    blocks = read_page(text)
    assert [(e.command, e.quotes_an_error) for b in blocks for e in b.examples] == commands
    assert blocks[0].examples[0].output[-1].startswith(("error:", "Error:"))
    if "project=" in text:
        assert blocks[0].projects == ("shop",)

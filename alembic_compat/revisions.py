"""Alembic revision files to :class:`MigrationBase` records, without importing them.

Each ``.py`` file of a versions directory is read with :mod:`ast` for its literal ``revision``,
``down_revision``, ``branch_labels`` and ``depends_on`` (plain or annotated assignments, as
Alembic's templates write them) and hashed like uno's own files. :class:`RevisionGraph` checks the
references between revisions and turns each one into a migration whose id is the revision id and
whose dependencies are its down revisions plus what it ``depends_on`` (a branch label stands for
the revision that declares it, as in Alembic).

Alembic revisions have no version number: they get ``version=None``, which the planner orders as
0, so among migrations with no order between them Alembic revisions come first (by revision id),
before every uno migration.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from uno_migrations.errors import ConfigurationError, InvalidMigrationError
from uno_migrations.files.discovery import checksum
from uno_migrations.files.migration import MigrationBase

from .errors import BranchLabelError, DuplicateRevisionError, UnknownRevisionError

KIND: Final = "alembic"
_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on", "transactional")
_HEADER = re.compile(r"(Revision ID|Revises|Create Date):", re.I)


@dataclass(frozen=True)
class Revision:
    """What a revision file declares, read without running it.

    ``transactional`` is False when the file uses ``autocommit_block()`` (or says
    ``transactional = False``): it then runs outside a transaction, as that block needs.
    """

    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    path: str
    checksum: str
    message: str
    description: str
    reversible: bool
    transactional: bool


def scan(directories: Iterable[str | os.PathLike[str]]) -> list[Revision]:
    """Every revision file in ``directories`` (not their subdirectories), in file-name order."""
    found: list[Revision] = []
    for directory in directories:
        folder = Path(directory)
        if not folder.is_dir():
            raise ConfigurationError(f"Alembic versions directory not found: {folder}")
        names = sorted(
            entry.name
            for entry in os.scandir(folder)
            if entry.name.endswith(".py")
            and entry.name != "__init__.py"
            and not entry.name.startswith(".")
            and entry.is_file()
        )
        found.extend(read_revision(folder / name) for name in names)
    return found


def read_revision(path: Path) -> Revision:
    """Read one revision file's identifiers, docstring and shape."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise InvalidMigrationError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidMigrationError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise InvalidMigrationError(str(path), f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    values: dict[str, Any] = {}
    functions: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
        target, value = _assignment(node)
        if target in _FIELDS and value is not None:
            values[target] = _literal(value, target, path)
    revision = values.get("revision")
    if not isinstance(revision, str) or not revision:
        raise InvalidMigrationError(
            str(path),
            "no revision = '<id>' assignment (every .py file in an Alembic versions directory is a revision)",
        )
    if "down_revision" not in values:
        raise InvalidMigrationError(str(path), "no down_revision assignment (None for a first revision)")
    transactional = values.get("transactional")
    if not isinstance(transactional, bool):
        transactional = b"autocommit_block" not in data
    message, description = _docstring(ast.get_docstring(tree) or "")
    return Revision(
        revision=revision,
        down_revisions=_names(values["down_revision"], "down_revision", path),
        branch_labels=_names(values.get("branch_labels"), "branch_labels", path),
        depends_on=_names(values.get("depends_on"), "depends_on", path),
        path=str(path),
        checksum=checksum(data),
        message=message or _slug(path.stem, revision),
        description=description,
        reversible="downgrade" in functions,
        transactional=transactional,
    )


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _literal(node: ast.expr, name: str, path: Path) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidMigrationError(
            str(path), f"{name} must be a literal (a string, a tuple of strings or None) to be read"
        ) from None


def _names(value: Any, name: str, path: Path) -> tuple[str, ...]:
    """Alembic's ``to_tuple``: None, a string, or a collection of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return tuple(dict.fromkeys(items))
    raise InvalidMigrationError(str(path), f"{name} must be None, a string or a tuple of strings")


def _docstring(doc: str) -> tuple[str, str]:
    """The first line (Alembic's message) and any free text after it, minus the header lines."""
    lines = doc.strip().splitlines()
    if not lines:
        return "", ""
    rest = [line for line in lines[1:] if not _HEADER.match(line.strip())]
    return lines[0].strip(), "\n".join(rest).strip()


def _slug(stem: str, revision: str) -> str:
    prefix = f"{revision}_"
    return (stem[len(prefix) :] if stem.startswith(prefix) else stem).replace("_", " ")


class RevisionGraph:
    """Revisions by id, with their references checked and branch labels resolved.

    ``dependencies[rev]`` is what the revision must come after: its down revisions, then the
    revisions its ``depends_on`` names (a label names the revision that declares it).

    >>> # graph = RevisionGraph(scan(["alembic/versions"])); graph.heads()
    """

    def __init__(self, revisions: Sequence[Revision]) -> None:
        self.revisions: dict[str, Revision] = {}
        for rev in revisions:
            other = self.revisions.get(rev.revision)
            if other is not None:
                raise DuplicateRevisionError(rev.revision, [other.path, rev.path])
            self.revisions[rev.revision] = rev
        self.labels = self._labels()
        self.dependencies: dict[str, tuple[str, ...]] = {
            rev.revision: self._dependencies(rev) for rev in self.revisions.values()
        }

    def _labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for rev in self.revisions.values():
            for label in rev.branch_labels:
                holder = labels.get(label) or (label if label in self.revisions else None)
                if holder is not None:
                    raise BranchLabelError(label, [self.revisions[holder].path, rev.path])
                labels[label] = rev.revision
        return labels

    def _dependencies(self, rev: Revision) -> tuple[str, ...]:
        found = list(rev.down_revisions)
        for down in rev.down_revisions:
            if down not in self.revisions:
                raise UnknownRevisionError(rev.path, rev.revision, "down_revision", down)
        for reference in rev.depends_on:
            target = reference if reference in self.revisions else self.labels.get(reference)
            if target is None:
                raise UnknownRevisionError(rev.path, rev.revision, "depends_on", reference)
            found.append(target)
        return tuple(dict.fromkeys(found))

    def __contains__(self, revision: object) -> bool:
        return revision in self.revisions

    def __len__(self) -> int:
        return len(self.revisions)

    def heads(self) -> list[str]:
        """Revisions nothing depends on, sorted."""
        needed = {dep for deps in self.dependencies.values() for dep in deps}
        return sorted(rev for rev in self.revisions if rev not in needed)

    def ancestors(self, revisions: Iterable[str]) -> set[str]:
        """``revisions`` and everything they depend on, directly or not."""
        seen: set[str] = set()
        stack = list(revisions)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.dependencies[current])
        return seen

    def migration(self, revision: str) -> MigrationBase:
        """The uno migration record of one revision: its id is the revision id."""
        rev = self.revisions[revision]
        return MigrationBase(
            id=rev.revision,
            name=rev.message,
            description=rev.description,
            dependencies=list(self.dependencies[revision]),
            tags=list(rev.branch_labels),
            version=None,
            checksum=rev.checksum,
            kind=KIND,
            path=rev.path,
            transactional=rev.transactional,
            reversible=rev.reversible,
        )

    def migrations(self) -> list[MigrationBase]:
        return [self.migration(revision) for revision in sorted(self.revisions)]

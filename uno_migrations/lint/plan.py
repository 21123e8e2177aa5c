"""What to lint: files and directories (:func:`lint_paths`), or what ``migrate`` would apply
(:func:`lint_plan`), Python migrations included by running them on a scratch database.

A Python migration's statements are known only when it runs. :func:`lint_plan` with ``scratch``
runs the plan there as ``migrate --sql --scratch-url`` does (``Migrator.migrate(sql=True,
scratch=...)``, which records what each migration sends) and lints what each sent; without it,
such a migration is an ``info`` finding, ``not-linted``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..dialects import DEFAULT_ENGINE, adapter_class, is_engine
from ..errors import ExecutionError, InvalidMigrationError
from ..files.discovery import VARIANT_PATTERN, discover
from .findings import LintReport
from .linter import Linter
from .statements import LintStatement, MigrationText, read_sent, read_sql

if TYPE_CHECKING:
    from ..files.migration import MigrationBase
    from ..runtime.migrator import Bind, Migrator
    from ..runtime.offline import OfflineScript

NOT_LINTED = "not linted: what a Python migration sends is known only when it runs (--scratch-url)"


@dataclass(frozen=True)
class Target:
    """A file to lint, the engine its statements are for, and whether it is SQL."""

    path: str
    engine: str
    sql: bool


def _variants(directory: str) -> dict[str, dict[str, str]]:
    """The engine variants of a directory: ``{stem: {engine: path}}``."""
    found: dict[str, dict[str, str]] = {}
    for name in sorted(os.listdir(directory)):
        variant = VARIANT_PATTERN.fullmatch(name)
        if variant and is_engine(variant.group(2)):
            found.setdefault(variant.group(1), {})[variant.group(2)] = os.path.join(directory, name)
    return found


def _directory(directory: str, engine: str | None) -> list[Target]:
    """A migrations directory's files in plan order: with ``engine``, the file each migration
    runs on it; without, every SQL file with the engine it is for (the base file: PostgreSQL)."""
    targets = []
    variants = _variants(directory) if engine is None else {}
    for base in discover([directory], engine):
        sql = base.kind == "sql"
        targets.append(Target(str(base.path), engine or DEFAULT_ENGINE, sql))
        for name, path in variants.get(str(base.id), {}).items() if sql else ():
            targets.append(Target(path, name, True))
    return targets


def _file(path: str, engine: str | None) -> Target:
    name = os.path.basename(path)
    if not name.endswith((".sql", ".py")):
        raise InvalidMigrationError(path, "not a migration: lint reads .sql and .py files")
    variant = VARIANT_PATTERN.fullmatch(name)
    suffix = variant.group(2) if variant and is_engine(variant.group(2)) else None
    return Target(path, engine or suffix or DEFAULT_ENGINE, name.endswith(".sql"))


def migration_files(paths: Sequence[str | os.PathLike[str]], engine: str | None = None) -> list[Target]:
    """The files ``paths`` name (files, or migrations directories read as ``migrate`` reads them)."""
    targets: list[Target] = []
    for given in (os.fspath(path) for path in paths):
        if os.path.isdir(given):
            targets += _directory(given, engine)
        elif os.path.exists(given):
            targets.append(_file(given, engine))
        else:
            raise InvalidMigrationError(given, "no such file or directory")
    return targets


def lint_paths(paths: Sequence[str | os.PathLike[str]], *, engine: str | None = None) -> LintReport:
    """Lint the SQL migrations of ``paths`` (files, or migrations directories), for ``engine`` or,
    without it, each for the engine its name says (``<id>.mysql.sql``), else PostgreSQL. Python
    migrations are ``not-linted`` findings (see :func:`lint_plan`). Needs no database.

    >>> # report = lint_paths(["migrations"], engine="postgresql")
    >>> # [f.rule for f in report.errors]
    """
    linter = Linter()
    for target in migration_files(paths, engine and adapter_class(engine).name):
        if target.sql:
            linter.lint(read_sql(target.path, target.engine))
        else:
            linter.note(target.path, NOT_LINTED)
    return linter.report


def sent_statements(script: OfflineScript) -> dict[str, tuple[bool, list[str]]]:
    """What each migration of a ``migrate --sql`` script sent, and whether it ran in a
    transaction."""
    return {mid: (mid in script.transactional, sent) for mid, sent in script.statements.items()}


async def lint_plan(
    migrator: Migrator,
    *,
    target: str | None = None,
    steps: int | None = None,
    scratch: Bind | None = None,
    paths: Collection[str] | None = None,
) -> LintReport:
    """Lint what ``migrator.migrate(target=..., steps=...)`` would apply on its database: SQL
    migrations from their files; with ``scratch`` (an empty database, or a copy of the
    migrator's, on the same engine), the others from what they send when the plan runs there.
    ``paths``: only the migrations of these files. ``migrate --lint`` refuses a plan whose
    report has :attr:`~.findings.LintReport.errors`.

    >>> # report = await lint_plan(Migrator(url, "migrations"), scratch=scratch_url)
    """
    plan = migrator.plan()
    engine = migrator.dialect
    pending = (await migrator.migrate(target=target, steps=steps, dry_run=True)).ids
    wanted = None if paths is None else {os.path.normpath(path) for path in paths}
    if wanted is not None:  # the scratch run stops after the last migration asked for
        pending = [mid for mid in pending if _path_of(plan.get(mid)) in wanted]
        target = pending[-1] if pending else target
    sent: dict[str, tuple[bool, list[str]]] = {}
    failure: ExecutionError | None = None
    if scratch is not None and pending:
        try:
            report = await migrator.migrate(target=target, steps=steps, sql=True, scratch=scratch)
            assert report.script is not None
            sent = sent_statements(report.script)
        except ExecutionError as exc:
            failure = exc
    linter = Linter()
    for migration_id in pending:
        base = plan.get(migration_id)
        if base is not None and base.path is not None:
            _lint_one(linter, base, engine, sent, failure)
    return linter.report


def _path_of(base: MigrationBase | None) -> str | None:
    return os.path.normpath(str(base.path)) if base is not None and base.path is not None else None


def _lint_one(
    linter: Linter,
    base: MigrationBase,
    engine: str,
    sent: dict[str, tuple[bool, list[str]]],
    failure: ExecutionError | None,
) -> None:
    path, migration_id = str(base.path), str(base.id)
    if base.kind == "sql":
        linter.lint(read_sql(path, engine))
    elif failure is not None and failure.migration_id == migration_id:
        linter.failed(path, failure.statement, failure.message)
        failing = [LintStatement(failure.statement, None, None)] if failure.statement else []
        linter.lint(MigrationText(path, engine, base.transactional, failing))
    elif migration_id in sent:
        transactional, statements = sent[migration_id]
        linter.lint(read_sent(path, engine, transactional, statements))
    elif failure is not None:
        linter.note(path, f"not linted: the scratch run failed at {failure.migration_id}")
    else:
        linter.note(path, NOT_LINTED)

"""Migrations directories to :class:`MigrationBase` records, without importing anything.

Listing, planning and ``status`` work from what this module reads: file names, SQL headers and
sections (read by :func:`~uno_migrations.files.sql_script.parse_script`, as the loader reads them),
literal module attributes (read with :mod:`ast` only when a file mentions them) and checksums of
the bytes. Python modules are imported only by :mod:`uno_migrations.files.loader`, for the migrations
that run.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..dialects import engine_names, is_engine
from ..errors import ConfigurationError, DuplicateMigrationError, InvalidMigrationError, SQLScriptError
from .migration import MigrationBase, MigrationKind, parse_lock_timeout, parse_phase
from .sql_script import SQLScript, parse_script

log = logging.getLogger(__name__)

FILE_PATTERN = re.compile(r"(\d+)_([a-z0-9_]+)\.(py|sql)")
VARIANT_PATTERN = re.compile(r"(\d+_[a-z0-9_]+)\.([a-z0-9]+)\.sql")

_PY_DIRECTIVE = re.compile(r"#[ \t]*(migration|description):[ \t]*(.*)", re.I)
_PY_DOWN = re.compile(rb"(?m)^(?:async[ \t]+)?def[ \t]+(?:down|downgrade)[ \t]*\(")
_PY_REVERT = re.compile(rb"(?m)^[ \t]+(?:async[ \t]+)?def[ \t]+revert[ \t]*\(")
_PY_CLASS = re.compile(rb"(?m)^class[ \t]+\w+[ \t]*\([^)]*Migration[^)]*\)[ \t]*:")
_PY_CHECKSUM = re.compile(rb"(?m)^[ \t]+def[ \t]+get_checksum[ \t]*\(")
_PY_SETTING = re.compile(rb"(?m)^(?:phase|lock_timeout)[ \t]*[:=]")
_PY_NEEDS_AST = re.compile(
    rb"dependencies|transactional|create_migration|description[ \t]*=|phase|lock_timeout"
)


def checksum(data: bytes) -> str:
    """SHA-256 of a file's bytes with CRLF normalised to LF, so line endings alone change nothing."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def discover(
    directories: Sequence[str | os.PathLike[str]], dialect: str | None = None
) -> list[MigrationBase]:
    """Read every migration in ``directories``, ordered by (version, id).

    ``dialect`` picks SQL engine variants (``<id>.<dialect>.sql``); without it the base file is
    read. Raises :class:`InvalidMigrationError` for a file that almost matches the naming pattern
    or cannot be read, and :class:`DuplicateMigrationError` for an id given twice.
    """
    found: dict[str, MigrationBase] = {}
    for directory in directories:
        for base in _scan(os.fspath(directory), dialect):
            assert base.id is not None
            other = found.get(base.id)
            if other is not None:
                raise DuplicateMigrationError(base.id, [str(other.path), str(base.path)])
            found[base.id] = base
    return sorted(found.values(), key=lambda m: (m.version or 0, m.id or ""))


def _scan(directory: str, dialect: str | None) -> Iterable[MigrationBase]:
    if not os.path.isdir(directory):
        raise ConfigurationError(f"migrations directory not found: {directory}")
    main: dict[str, tuple[str, str]] = {}
    variants: dict[str, dict[str, str]] = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")) or not name.endswith((".py", ".sql")):
                continue
            path = os.path.join(directory, name)
            match = FILE_PATTERN.fullmatch(name)
            if match:
                stem = name.rsplit(".", 1)[0]
                if stem in main:
                    raise DuplicateMigrationError(stem, [str(main[stem][0]), str(path)])
                main[stem] = (path, match.group(3))
                continue
            variant = VARIANT_PATTERN.fullmatch(name)
            if variant and is_engine(variant.group(2)):
                variants.setdefault(variant.group(1), {})[variant.group(2)] = path
                continue
            if variant:
                reason = f"unknown engine {variant.group(2)!r} (expected one of {', '.join(engine_names())})"
            else:
                reason = "does not match <version>_<slug>.py|.sql (digits, '_', then [a-z0-9_])"
            raise InvalidMigrationError(str(path), reason)
    for stem, engines in variants.items():
        if stem not in main or main[stem][1] != "sql":
            some = next(iter(engines.values()))
            raise InvalidMigrationError(str(some), f"engine variant without its base file {stem}.sql")
    for stem, (path, ext) in main.items():
        if ext == "sql":
            run_path = variants.get(stem, {}).get(dialect or "", path)
            yield _read_sql(stem, run_path, dialect)
        else:
            yield _read_python(stem, path)


def _read_bytes(path: str) -> bytes:
    # os.open/os.read: no buffered file object per file, which is most of the cost of listing
    # thousands of small files.
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, 1 << 16)
            if len(data) < 1 << 16:
                return data  # the whole of a small file, in one read
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InvalidMigrationError(str(path), f"cannot read file: {exc.strerror or exc}") from exc


def _default_name(stem: str) -> str:
    return stem.split("_", 1)[1].replace("_", " ")


def _new_base(stem: str, path: str, kind: MigrationKind, data: bytes, **fields: Any) -> MigrationBase:
    if "name" not in fields:  # not setdefault: the default is worked out only when needed
        fields["name"] = _default_name(stem)
    return MigrationBase(
        id=stem,
        version=int(stem.split("_", 1)[0]),
        checksum=checksum(data),
        kind=kind,
        path=path,
        **fields,
    )


def sql_fields(migration_id: str, script: SQLScript) -> dict[str, Any]:
    """The :class:`MigrationBase` fields an SQL script's header and sections give.

    Discovery and the loader both describe an SQL migration with this, from the same
    :func:`~uno_migrations.files.sql_script.parse_script`, so the plan and the run agree.
    """
    header = script.header
    return {
        "name": header.title or _default_name(migration_id),
        "description": header.description or "",
        "dependencies": list(header.dependencies),
        "tags": list(header.tags),
        "transactional": header.transactional,
        "phase": header.phase,
        "lock_timeout": header.lock_timeout,
        "reversible": script.down is not None,
        "problem": None,
    }


def _read_sql(stem: str, path: str, dialect: str | None) -> MigrationBase:
    data = _read_bytes(path)
    if not data.strip():
        raise InvalidMigrationError(str(path), "empty SQL file (no statements)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMigrationError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    try:
        script = parse_script(text, dialect)
    except SQLScriptError as exc:
        # Kept, not raised: status and verify name the file, and loading it raises the same.
        return _new_base(stem, path, "sql", data, problem=str(exc))
    return _new_base(stem, path, "sql", data, **sql_fields(stem, script))


def _read_python(stem: str, path: str) -> MigrationBase:
    data = _read_bytes(path)
    kind: MigrationKind = "class" if _PY_CLASS.search(data) else "python"
    base = _new_base(stem, path, kind, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMigrationError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    for raw in text.splitlines()[:10]:
        directive = _PY_DIRECTIVE.fullmatch(raw.strip())
        if directive:
            key, value = directive.group(1).lower(), directive.group(2).strip()
            if key == "migration":
                base.name = value
            else:
                base.description = value
    if kind == "class":
        base.reversible = _PY_REVERT.search(data) is not None
        base.custom_checksum = _PY_CHECKSUM.search(data) is not None
    else:
        base.reversible = _PY_DOWN.search(data) is not None
    if _PY_NEEDS_AST.search(data):
        _read_literals(base, text, path)
    return base


def _read_literals(base: MigrationBase, text: str, path: str) -> None:
    """Fill dependencies, description and transactional from literal assignments and calls."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise InvalidMigrationError(str(path), f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    top_level: list[ast.stmt] = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top_level.extend(node.body)
    for node in top_level:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in _MODULE_ATTRIBUTES:
                _apply_literal(base, target.id, node.value, path)
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _call_name(call.func) == "create_migration":
            positional = ("name", "description", "dependencies", "tags", "version", "id")
            pairs = list(zip(positional, call.args, strict=False)) + [
                (k.arg, k.value) for k in call.keywords if k.arg
            ]
            for key, value in pairs:
                _apply_literal(base, key, value, path)


_MODULE_ATTRIBUTES = ("dependencies", "description", "transactional", "phase", "lock_timeout")
#: The attributes that set how a migration runs: their values are checked, and one that is
#: not a literal (so that planning could not read it) makes the file invalid.
_RUN_SETTINGS: dict[str, Callable[[object], object]] = {
    "phase": parse_phase,
    "lock_timeout": parse_lock_timeout,
}


def read_run_settings(base: MigrationBase) -> None:
    """Fill ``phase`` and ``lock_timeout`` of a Python migration another source discovered (an
    Alembic revision) from its module's literal assignments, without importing it; a bad value
    becomes its ``problem``, as for uno's own files."""
    path = str(base.path)
    data = _read_bytes(path)
    if not _PY_SETTING.search(data):
        return
    try:
        tree = ast.parse(data, filename=path)
    except SyntaxError as exc:
        raise InvalidMigrationError(path, f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _RUN_SETTINGS:
            _apply_setting(base, target.id, value)


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _apply_literal(base: MigrationBase, key: str, node: ast.expr, path: str) -> None:
    if key in _RUN_SETTINGS:
        _apply_setting(base, key, node)
        return
    if key not in ("name", "description", "dependencies", "tags", "transactional", "id"):
        return
    try:
        value = ast.literal_eval(node)
    except ValueError as exc:
        if key == "dependencies":
            raise InvalidMigrationError(
                str(path), "dependencies must be a literal list of migration ids"
            ) from exc
        return
    if key in ("dependencies", "tags"):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise InvalidMigrationError(str(path), f"{key} must be a list of strings")
        setattr(base, key, list(value))
    elif key == "transactional" and isinstance(value, bool):
        base.transactional = value
    elif key in ("name", "description") and isinstance(value, str):
        setattr(base, key, value)
    elif key == "id" and isinstance(value, str) and value != base.id:
        raise InvalidMigrationError(
            str(path), f"create_migration(id={value!r}) differs from the file's id {base.id!r}"
        )


def _apply_setting(base: MigrationBase, key: str, node: ast.expr) -> None:
    """Set ``phase`` or ``lock_timeout`` from its literal; a bad value is kept as the file's
    ``problem``, with its line (``status`` shows the file invalid, loading it fails)."""
    try:
        literal = ast.literal_eval(node)
    except (ValueError, TypeError):
        problem = f"{key} must be a literal string or number: it is read without importing the file"
    else:
        try:
            setattr(base, key, _RUN_SETTINGS[key](literal))
            return
        except ValueError as exc:
            problem = str(exc)
    base.problem = base.problem or f"line {node.lineno}: {problem}"

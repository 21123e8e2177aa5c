"""Turn a :class:`MigrationBase` into a runnable :class:`Migration`: import or parse its file.

Only the migrations about to run are loaded, all of them before the first one runs, so that a
broken file stops a run before anything changes in the database.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from dataclasses import replace
from types import ModuleType

from ..dialects import syntax_of
from ..errors import InvalidMigrationError, SQLScriptError
from ..sql.splitter import is_blank, split_statements
from .discovery import checksum, sql_fields
from .migration import FunctionMigration, Migration, MigrationBase, SQLMigration
from .sql_script import parse_script

log = logging.getLogger(__name__)

_BUILTIN_KINDS = (Migration, FunctionMigration, SQLMigration)


def load_migration(base: MigrationBase, dialect: str) -> Migration:
    """Import (Python) or parse and split (SQL) the migration ``base`` describes."""
    if base.kind == "sql":
        return _load_sql(base, dialect)
    return _load_python(base)


def _load_sql(base: MigrationBase, dialect: str) -> SQLMigration:
    path = str(base.path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        text = data.decode("utf-8").lstrip("\ufeff")
    except OSError as exc:
        raise InvalidMigrationError(path, f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidMigrationError(path, f"not UTF-8 text (byte {exc.start})") from exc
    if checksum(data) != base.checksum:
        raise InvalidMigrationError(path, "file changed while the run was starting")
    try:
        script = parse_script(text, dialect)
        syntax = syntax_of(dialect)
        up = split_statements(script.up, syntax)
        down = None if script.down is None else split_statements(script.down, syntax)
    except SQLScriptError as exc:
        raise InvalidMigrationError(path, str(exc)) from exc
    if not up:
        if not is_blank(text, syntax):
            raise InvalidMigrationError(path, "the up section holds no statements")
        log.warning("%s holds only comments: it is applied as a no-op", path)
    loaded = replace(base, **sql_fields(str(base.id), script))
    return SQLMigration(loaded, up, down, (script.up_line, script.down_line))


def _import(base: MigrationBase) -> ModuleType:
    return import_file(str(base.path), f"uno_migrations_scripts.m_{base.id}")


def import_file(path: str, module_name: str, hint: str = "") -> ModuleType:
    """Import a migration file as module ``module_name`` (registered, so dataclasses work).

    A syntax error or any exception raised while importing becomes an InvalidMigrationError
    naming the file; ``hint`` is added to the message of an ImportError.
    """
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidMigrationError(path, "cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise InvalidMigrationError(path, f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    except Exception as exc:  # the user's module may raise anything while importing
        sys.modules.pop(module_name, None)
        extra = hint if isinstance(exc, ImportError) else ""
        raise InvalidMigrationError(path, f"import failed: {type(exc).__name__}: {exc}{extra}") from exc
    return module


def _load_python(base: MigrationBase) -> Migration:
    path = str(base.path)
    if base.problem is not None:  # a bad phase or lock_timeout, found by discovery
        raise InvalidMigrationError(path, base.problem)
    module = _import(base)
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Migration)
        and obj not in _BUILTIN_KINDS
        and obj.__module__ == module.__name__
    ]
    if len(classes) > 1:
        names = ", ".join(sorted(c.__name__ for c in classes))
        raise InvalidMigrationError(path, f"defines {len(classes)} Migration classes ({names}); keep one")
    if classes:
        return _instantiate(classes[0], base)
    up = getattr(module, "up", None) or getattr(module, "upgrade", None)
    down = getattr(module, "down", None) or getattr(module, "downgrade", None)
    if up is None:
        raise InvalidMigrationError(path, "defines neither up(context) nor a Migration subclass")
    for label, step in (("up", up), ("down", down)):
        if step is not None and not callable(step):
            raise InvalidMigrationError(path, f"{label} is not callable")
    loaded = replace(
        base,
        kind="python",
        transactional=bool(getattr(module, "transactional", True)),
        reversible=down is not None,
    )
    return FunctionMigration(loaded, up, down)


def _instantiate(cls: type[Migration], base: MigrationBase) -> Migration:
    path = str(base.path)
    try:
        instance = cls()  # type: ignore[call-arg]  # user classes build their own base
    except Exception as exc:  # the user's __init__ may raise anything
        raise InvalidMigrationError(path, f"{cls.__name__}() failed: {type(exc).__name__}: {exc}") from exc
    own = getattr(instance, "base", None)
    if not isinstance(own, MigrationBase):
        raise InvalidMigrationError(
            path, f"{cls.__name__}.__init__ must call super().__init__(create_migration(...))"
        )
    if own.id is not None and own.id != base.id:
        raise InvalidMigrationError(
            path, f"create_migration(id={own.id!r}) differs from the file's id {base.id!r}"
        )
    own.id = base.id
    own.version = base.version if own.version is None else own.version
    own.kind = "class"
    own.path = base.path
    own.checksum = base.checksum
    own.transactional = bool(getattr(cls, "transactional", True))
    own.phase, own.lock_timeout = base.phase, base.lock_timeout  # read by discovery, as planned
    own.reversible = instance.reversible
    own.custom_checksum = type(instance).get_checksum is not Migration.get_checksum
    if own.custom_checksum:
        try:
            own.checksum = str(instance.get_checksum())
        except Exception as exc:  # the user's get_checksum may raise anything
            raise InvalidMigrationError(path, f"get_checksum() failed: {exc}") from exc
    return instance

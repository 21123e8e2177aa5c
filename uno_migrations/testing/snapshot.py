"""Schema snapshots: a database's schema as plain data, to compare, store as JSON and diff.

A snapshot is what SQLAlchemy's inspector reports, normalised so that one schema reads the same
every time on one engine: tables with their columns, keys, constraints and indexes, views, and
what else the engine has (PostgreSQL's enum types and sequences, through its adapter's
``schema_objects``). uno's own tables and Alembic's are left out, so a snapshot is of the
user's schema only. Snapshots of different engines are not comparable: each engine reports
types and expressions in its own words.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

from ..connections import is_async_connection, is_async_engine
from ..dialects import DialectAdapter, get_adapter
from ..urls import create_engine

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.engine.reflection import Inspector
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.types import TypeEngine

#: Alembic's version table, left out of every snapshot like uno's own.
ALEMBIC_TABLE = "alembic_version"
_FIELDS = ("tables", "views", "enums", "sequences")
_SPACE_OR_LITERAL = re.compile(r"(?P<literal>'(?:[^']|'')*')|\s+")
#: The head of a view's definition where the engine reports the whole statement: the query is
#: what follows it (the definer and options a server adds are not part of the schema).
_VIEW_HEAD = re.compile(
    r"""\s*CREATE\b.*?\bVIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?
    (?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$]+)(?:\s*\.\s*(?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$]+))*
    \s*(?:AS\s+)?""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True)
class Snapshot:
    """The schema of one database (or one schema of it), as plain lists, dicts and scalars.

    ``tables``: one dict per table, sorted by name, with ``name``, ``comment``, ``columns`` (in
    the table's order: ``name``, ``type``, ``nullable``, ``default``, ``autoincrement``,
    ``comment``, ``computed``, ``identity``), ``primary_key`` (``name``, ``columns``, or None),
    ``foreign_keys``, ``unique_constraints``, ``check_constraints`` and ``indexes``. ``views``:
    ``name`` and ``definition``; ``enums``: ``name`` and ``labels``; ``sequences``: names. Two
    snapshots are equal when the schemas are; :func:`~uno_migrations.testing.snapshot_diff`
    says how they differ. A snapshot is read-only: :meth:`to_dict` gives a copy to change.

    >>> snapshot = Snapshot.from_dict({"sequences": ["orders_seq"]})
    >>> Snapshot.from_dict(json.loads(json.dumps(snapshot.to_dict()))) == snapshot
    True
    """

    tables: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    enums: list[dict[str, Any]] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)

    #: It holds lists: the hash a frozen dataclass would have raises, so it has none.
    __hash__ = None  # type: ignore[assignment]

    def table(self, name: str) -> dict[str, Any] | None:
        """The table ``name``, or None when the schema has none."""
        return next((table for table in self.tables if table["name"] == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as a JSON-serialisable dict (a copy); :meth:`from_dict` reads it back."""
        return {name: copy.deepcopy(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """A snapshot from :meth:`to_dict`'s form (as JSON gives it back: tuples become lists).

        Missing keys are empty; an unknown key is a ValueError, as is a value that is not plain
        data (str, int, float, bool, None, and lists and dicts of them).
        """
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(
                f"not a snapshot: unknown keys {', '.join(unknown)}; expected {', '.join(_FIELDS)}"
            )
        return cls(**{name: _plain(data.get(name, []), name) for name in _FIELDS})


async def take_snapshot(
    bind: AsyncEngine | AsyncConnection | str | URL,
    *,
    schema: str | None = None,
    table: str = "uno_migrations",
    ignore: Iterable[str] = (),
) -> Snapshot:
    """The schema of the database ``bind`` is (an ``AsyncEngine``, an ``AsyncConnection`` or a
    URL), or of its ``schema``; :func:`snapshot_of` says what is read and what is left out.

    A URL gets an engine of its own, disposed of afterwards. A connection is read in the
    transaction it is in, so a snapshot sees the caller's uncommitted DDL; one that was in no
    transaction is left in none.
    """
    ignored = frozenset(ignore)

    def read(sync_connection: Connection) -> Snapshot:
        return snapshot_of(sync_connection, schema=schema, table=table, ignore=ignored)

    if isinstance(bind, (str, URL)):
        engine = create_engine(bind)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()
    if is_async_engine(bind):
        async with bind.connect() as connection:
            return await connection.run_sync(read)
    if is_async_connection(bind):
        began = not bind.in_transaction()
        snapshot = await bind.run_sync(read)
        if began and bind.in_transaction():
            await bind.rollback()  # the inspector's reads began it; nothing was written
        return snapshot
    raise TypeError(
        f"take_snapshot needs an AsyncEngine, an AsyncConnection or a URL, not {type(bind).__name__}"
    )


def snapshot_of(
    sync_connection: Connection,
    *,
    schema: str | None = None,
    table: str = "uno_migrations",
    ignore: Iterable[str] = (),
) -> Snapshot:
    """The schema on a synchronous SQLAlchemy connection (the one ``run_sync`` gives).

    Left out: the version table ``table`` with its ``<table>_log`` and ``<table>_layout``,
    Alembic's ``alembic_version``, and every table, view, enum or sequence named in ``ignore``
    (with the sequences their tables own).
    """
    from sqlalchemy import inspect

    ignored = {table, f"{table}_log", f"{table}_layout", ALEMBIC_TABLE, *ignore}
    dialect = sync_connection.dialect
    adapter = get_adapter(dialect.name)
    inspector = inspect(sync_connection)
    tables = [
        _table(inspector, name, schema, dialect, adapter)
        for name in sorted(inspector.get_table_names(schema=schema))
        if name not in ignored
    ]
    views = [
        {"name": name, "definition": _view_definition(inspector.get_view_definition(name, schema=schema))}
        for name in sorted(inspector.get_view_names(schema=schema))
        if name not in ignored
    ]
    objects = adapter.schema_objects(sync_connection, schema, frozenset(ignored))
    return Snapshot(
        tables=tables,
        views=views,
        enums=[_plain(enum, "enums") for enum in objects.get("enums", ()) if enum["name"] not in ignored],
        sequences=[name for name in objects.get("sequences", ()) if name not in ignored],
    )


def _table(
    inspector: Inspector, name: str, schema: str | None, dialect: Dialect, adapter: DialectAdapter
) -> dict[str, Any]:
    uniques = inspector.get_unique_constraints(name, schema=schema)
    # An engine that keeps a unique constraint as an index reports it as both: it is kept once,
    # as the constraint.
    constraint_indexes = {unique.get("duplicates_index") for unique in uniques} - {None}
    indexes = [
        _index(index)
        for index in inspector.get_indexes(name, schema=schema)
        if not index.get("duplicates_constraint") and index["name"] not in constraint_indexes
    ]
    pk = inspector.get_pk_constraint(name, schema=schema)
    return {
        "name": name,
        "comment": _table_comment(inspector, name, schema),
        "columns": [
            _column(column, dialect, adapter) for column in inspector.get_columns(name, schema=schema)
        ],
        "primary_key": (
            {"name": pk.get("name"), "columns": list(pk["constrained_columns"])}
            if pk and pk.get("constrained_columns")
            else None
        ),
        "foreign_keys": _sorted(_foreign_key(fk) for fk in inspector.get_foreign_keys(name, schema=schema)),
        "unique_constraints": _sorted(
            {"name": unique["name"], "columns": list(unique["column_names"])} for unique in uniques
        ),
        "check_constraints": _sorted(
            {"name": check["name"], "sqltext": _squash(check["sqltext"])}
            for check in inspector.get_check_constraints(name, schema=schema)
        ),
        "indexes": _sorted(indexes),
    }


def _column(column: Mapping[str, Any], dialect: Dialect, adapter: DialectAdapter) -> dict[str, Any]:
    default = column.get("default")
    computed = column.get("computed")
    identity = column.get("identity")
    autoincrement = column.get("autoincrement")
    return {
        "name": column["name"],
        "type": _type_name(column["type"], dialect),
        "nullable": bool(column["nullable"]),
        "default": None if default is None else adapter.snapshot_default(_squash(str(default))),
        "autoincrement": autoincrement if isinstance(autoincrement, bool) else None,
        "comment": column.get("comment"),
        "computed": None if computed is None else _squash(str(computed["sqltext"])),
        "identity": None if identity is None else _options(identity),
    }


def _foreign_key(fk: Mapping[str, Any]) -> dict[str, Any]:
    options = fk.get("options") or {}
    return {
        "name": fk.get("name"),
        "columns": list(fk["constrained_columns"]),
        "referred_schema": fk.get("referred_schema"),
        "referred_table": fk["referred_table"],
        "referred_columns": list(fk["referred_columns"]),
        "ondelete": _upper(options.get("ondelete")),
        "onupdate": _upper(options.get("onupdate")),
    }


def _index(index: Mapping[str, Any]) -> dict[str, Any]:
    """An index: its columns, an expression's text in the place of each expression."""
    expressions = index.get("expressions")
    columns = [_squash(str(e)) for e in expressions] if expressions else list(index["column_names"])
    return {
        "name": index["name"],
        "columns": columns,
        "unique": bool(index["unique"]),
        "options": _options(index.get("dialect_options") or {}),
    }


def _table_comment(inspector: Inspector, name: str, schema: str | None) -> str | None:
    try:
        comment: str | None = inspector.get_table_comment(name, schema=schema).get("text")
    except NotImplementedError:  # an engine without table comments
        return None
    return comment


def _type_name(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """The column type as the engine's DDL writes it (``VARCHAR(50)``), so that equal types read
    the same; a type SQLAlchemy does not know (reflected as NullType) by its Python repr."""
    from sqlalchemy.exc import CompileError

    try:
        return _squash(type_.compile(dialect=dialect))
    except CompileError:
        return repr(type_)


def _view_definition(definition: str | None) -> str | None:
    """The view's query, whitespace collapsed, without the ``CREATE VIEW ... AS`` some engines
    report it in, or a trailing semicolon."""
    if definition is None:
        return None
    head = _VIEW_HEAD.match(definition)
    query = definition[head.end() :] if head else definition
    return _squash(query).rstrip(";").rstrip()


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that are set, sorted by name, each a plain value (text otherwise)."""
    return {
        key: value if value is None or isinstance(value, (bool, int, float)) else _squash(str(value))
        for key, value in sorted(options.items())
        if value not in (None, "", [], (), {})
    }


def _sorted(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Constraints and indexes by name, unnamed ones first, by their content."""
    return sorted(entries, key=lambda entry: (entry["name"] or "", json.dumps(entry, sort_keys=True)))


def _squash(text: str) -> str:
    """SQL text with each run of whitespace outside its string literals one space."""
    return _SPACE_OR_LITERAL.sub(lambda match: match["literal"] or " ", text).strip()


def _upper(value: Any) -> str | None:
    return None if value is None else _squash(str(value)).upper()


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON's plain data (tuples as lists), or ValueError naming ``where``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain(item, where) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, where) for item in value]
    raise ValueError(f"not a snapshot: {where} holds a {type(value).__name__}, not plain data")

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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

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
#: What the inspector reports of a table, each read by its ``get_multi_<kind>``.
_KINDS = ("columns", "pk_constraint", "foreign_keys", "indexes", "unique_constraints", "check_constraints")
T = TypeVar("T")
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
                return await read_on(connection, read)
        finally:
            await engine.dispose()
    if is_async_engine(bind):
        async with bind.connect() as connection:
            return await read_on(connection, read)
    if is_async_connection(bind):
        return await read_on(bind, read)
    raise TypeError(
        f"take_snapshot needs an AsyncEngine, an AsyncConnection or a URL, not {type(bind).__name__}"
    )


async def read_on(
    connection: AsyncConnection, read: Callable[[Connection], T], adapter: DialectAdapter | None = None
) -> T:
    """``read(sync_connection)``, a reading of the schema, on ``connection`` the fastest way its
    engine's ``adapter`` has (``read_sync``; one that reads again and again keeps what it needs
    for that between readings), in the transaction it is in; one that was in none is left in
    none."""
    began = not connection.in_transaction()
    adapter = adapter or get_adapter(connection.dialect.name)
    value: T = await adapter.read_sync(connection, read)
    if began and connection.in_transaction():
        await connection.rollback()  # the inspector's reads began it; nothing was written
    return value


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
    return read_snapshot(sync_connection, schema, ignored_names(table, ignore))


def read_snapshot(sync_connection: Connection, schema: str | None, ignored: Collection[str]) -> Snapshot:
    """The schema on ``sync_connection`` without the tables, views, enums and sequences named in
    ``ignored``."""
    from sqlalchemy import inspect

    inspector = inspect(sync_connection)
    names = table_names(inspector, schema, ignored)
    tables = read_tables(inspector, names, schema)
    views, enums, sequences = read_others(inspector, schema, ignored)
    return Snapshot([tables[name] for name in names], views, enums, sequences)


def ignored_names(table: str, ignore: Iterable[str]) -> frozenset[str]:
    """What a snapshot leaves out: uno's tables (of the version table ``table``), Alembic's,
    and the names in ``ignore``."""
    return frozenset({table, f"{table}_log", f"{table}_layout", ALEMBIC_TABLE, *ignore})


def table_names(inspector: Inspector, schema: str | None, ignored: Collection[str]) -> list[str]:
    """The tables of the schema a snapshot holds, sorted."""
    return sorted(name for name in inspector.get_table_names(schema=schema) if name not in ignored)


def read_tables(inspector: Inspector, names: Sequence[str], schema: str | None) -> dict[str, dict[str, Any]]:
    """The tables ``names`` as a snapshot holds them, by name. Each kind of object is read for
    all of them at once (SQLAlchemy's ``get_multi_*``): one catalog query each where the
    engine's dialect reads so (PostgreSQL's), table by table where it does not."""
    if not names:
        return {}

    def every(kind: str) -> dict[str, Any]:
        found = getattr(inspector, f"get_multi_{kind}")(schema=schema, filter_names=names)
        return {name: value for (_, name), value in found.items()}

    found = {kind: every(kind) for kind in _KINDS}
    try:
        comments = every("table_comment")
    except NotImplementedError:  # an engine without table comments
        comments = {}
    dialect = inspector.dialect
    adapter = get_adapter(dialect.name)
    return {
        name: _table(name, {kind: found[kind][name] for kind in _KINDS}, comments.get(name), dialect, adapter)
        for name in names
    }


def read_others(
    inspector: Inspector, schema: str | None, ignored: Collection[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """What a snapshot holds besides its tables: its views, enums and sequences."""
    views = [
        {"name": name, "definition": _view_definition(inspector.get_view_definition(name, schema=schema))}
        for name in sorted(inspector.get_view_names(schema=schema))
        if name not in ignored
    ]
    adapter = get_adapter(inspector.dialect.name)
    sync_connection = cast("Connection", inspector.bind)  # what the inspector was made of
    objects = adapter.schema_objects(sync_connection, schema, frozenset(ignored))
    enums = [_plain(enum, "enums") for enum in objects.get("enums", ()) if enum["name"] not in ignored]
    sequences = [name for name in objects.get("sequences", ()) if name not in ignored]
    return views, enums, sequences


def _table(
    name: str,
    found: Mapping[str, Any],
    comment: Mapping[str, Any] | None,
    dialect: Dialect,
    adapter: DialectAdapter,
) -> dict[str, Any]:
    """One table from what the inspector reports of it (``found``: by :data:`_KINDS`)."""
    uniques = found["unique_constraints"]
    # An engine that keeps a unique constraint as an index reports it as both: it is kept once,
    # as the constraint.
    constraint_indexes = {unique.get("duplicates_index") for unique in uniques} - {None}
    indexes = [
        _index(index)
        for index in found["indexes"]
        if not index.get("duplicates_constraint") and index["name"] not in constraint_indexes
    ]
    pk = found["pk_constraint"]
    return {
        "name": name,
        "comment": None if comment is None else comment.get("text"),
        "columns": [_column(column, dialect, adapter) for column in found["columns"]],
        "primary_key": (
            {"name": pk.get("name"), "columns": list(pk["constrained_columns"])}
            if pk and pk.get("constrained_columns")
            else None
        ),
        "foreign_keys": _sorted(_foreign_key(fk) for fk in found["foreign_keys"]),
        "unique_constraints": _sorted(
            {"name": unique["name"], "columns": list(unique["column_names"])} for unique in uniques
        ),
        "check_constraints": _sorted(
            {"name": check["name"], "sqltext": _squash(check["sqltext"])}
            for check in found["check_constraints"]
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

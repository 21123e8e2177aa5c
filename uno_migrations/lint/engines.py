"""Which reader lints an engine's statements, and what the readers know as they go.

An engine's statements are read by the rules of the closest adapter class that has a reader:
PostgreSQL's parse tree (pglast, :mod:`.pglast_rules`), InnoDB's online DDL for MySQL and
MariaDB (:mod:`.innodb_rules`), else the tokens any engine has (:mod:`.portable_rules`). The
adapter decides, not a name: an engine whose adapter subclasses PostgreSQL's gets PostgreSQL's
rules.

Each reader is given :class:`Facts`: what the migration being linted made so far (its new
tables and indexes, its constraints added ``NOT VALID``) and what the earlier migrations of the
same run made known (validated ``IS NOT NULL`` checks, column types), in plan order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ..dialects import DialectAdapter, adapter_class
from ..dialects.mysql import MySQLAdapter
from ..dialects.postgresql import PostgreSQLAdapter
from ..sql.syntax import SQLSyntax


class Hit(NamedTuple):
    """A rule a statement breaks, and what exactly is wrong."""

    rule: str
    message: str


@dataclass
class PlanFacts:
    """What the migrations linted so far, in plan order, made known about the schema.

    ``not_null_checks``: (table, column) pairs with a validated ``CHECK (column IS NOT NULL)``;
    ``checks``: (table, constraint) of such checks, to the column they are about, validated or
    not; ``column_types``: the type each (table, column) was last given, as the reader writes it.
    """

    not_null_checks: set[tuple[str, str]] = field(default_factory=set)
    checks: dict[tuple[str, str], str] = field(default_factory=dict)
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class Facts:
    """What a reader knows at a statement of one migration: whether the migration runs in a
    ``transactional`` block, the tables and indexes it created (new: empty, and unseen by the
    release running, so nothing done to them locks anyone out), its constraints added
    ``NOT VALID``, and the :class:`PlanFacts` of the run."""

    transactional: bool
    plan: PlanFacts
    new_tables: set[str] = field(default_factory=set)
    new_indexes: set[str] = field(default_factory=set)
    not_valid: set[tuple[str, str]] = field(default_factory=set)

    def is_new(self, table: str) -> bool:
        return table in self.new_tables


class StatementRules(Protocol):
    """An engine's reader: the rules one statement breaks, updating ``facts`` with what it makes."""

    def check(self, sql: str, facts: Facts) -> list[Hit]: ...


def _pglast(syntax: SQLSyntax) -> StatementRules:
    from .pglast_rules import PglastRules  # pglast is imported only for an engine that needs it

    return PglastRules()


def _innodb(syntax: SQLSyntax) -> StatementRules:
    from .innodb_rules import InnoDBRules

    return InnoDBRules(syntax)


#: The adapter classes that have a reader of their own, most specific first.
READERS: tuple[tuple[type[DialectAdapter], Callable[[SQLSyntax], StatementRules]], ...] = (
    (PostgreSQLAdapter, _pglast),
    (MySQLAdapter, _innodb),
)


def rules_for(engine: str) -> StatementRules:
    """The reader of ``engine``'s statements (an engine name or alias)."""
    adapter = adapter_class(engine)
    for served, make in READERS:
        if issubclass(adapter, served):
            return make(adapter.syntax)
    from .portable_rules import PortableRules

    return PortableRules(adapter.syntax)

"""MySQL's and MariaDB's rules: InnoDB's online DDL, on top of the rules every engine has.

InnoDB makes each ``ALTER TABLE`` one of three ways: ``INSTANT`` (the data dictionary only),
``INPLACE`` (rebuilding the table or an index while writes go on, with ``LOCK=NONE``) or ``COPY``
(a new copy of the table, with writes blocked until it is done). Unless the statement says which,
the server picks the cheapest it can do, silently falling back to a copy or a lock. So:

- ``table-copy``: a change only a copy can make (a foreign key or a check constraint, dropping
  the primary key alone, ``ORDER BY``, partitioning), ``ALGORITHM=COPY``, or one that may need a
  copy (a column's type changed by ``MODIFY``/``CHANGE``, ``CONVERT TO CHARACTER SET``) without
  ``ALGORITHM=INPLACE``/``INSTANT`` to make the server refuse instead;
- ``lock-not-none``: a change InnoDB makes online (an index, a column added or dropped, a
  rebuild) without ``LOCK=NONE`` or ``ALGORITHM=INSTANT`` to make the server refuse to lock,
  and the ``FULLTEXT``/``SPATIAL`` indexes it cannot build without blocking writes.

A column's type is known from the ``CREATE TABLE`` or ``ADD COLUMN`` of an earlier statement of
the run; a ``MODIFY`` that keeps it (a new default, ``NOT NULL``) is no copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .engines import Facts, Hit
from .portable_rules import PortableRules
from .tokens import Word, clauses, skip, table_name

#: Where a column's type ends in its definition.
_ATTRIBUTES = frozenset(
    {
        "NOT",
        "NULL",
        "DEFAULT",
        "AUTO_INCREMENT",
        "PRIMARY",
        "UNIQUE",
        "KEY",
        "COMMENT",
        "COLLATE",
        "CHARACTER",
        "CHARSET",
        "REFERENCES",
        "CHECK",
        "GENERATED",
        "AS",
        "ON",
        "INVISIBLE",
        "VISIBLE",
        "FIRST",
        "AFTER",
        "COLUMN_FORMAT",
        "STORAGE",
        "SRID",
        "CONSTRAINT",
    }
)
#: What starts a line of CREATE TABLE's list that is no column.
_NOT_COLUMN_DEFINITIONS = frozenset(
    {"PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT", "FOREIGN", "FULLTEXT", "SPATIAL", "CHECK", "PERIOD"}
)
_INDEXES = frozenset({"INDEX", "KEY", "UNIQUE"})
_REBUILDS = frozenset({"ENGINE", "FORCE", "ROW_FORMAT", "KEY_BLOCK_SIZE"})
_NO_COPY = frozenset({"INPLACE", "INSTANT", "NOCOPY"})
_ONLINE = "ALGORITHM=INPLACE, LOCK=NONE"


def _value(clause: Sequence[Word]) -> str:
    """The value of ``ALGORITHM[=]X`` or ``LOCK[=]X``."""
    rest = [word for word in clause[1:] if word.punct != "="]
    return rest[0].key if rest else ""


def _column_type(found: Sequence[Word]) -> str:
    """A column's type, as written, from the words after its name."""
    parts = []
    for word in found:
        if word.depth == 0 and word.key in _ATTRIBUTES:
            break
        parts.append(word.key or word.punct or word.name)
    return re.sub(r" ?([(),]) ?", r"\1", " ".join(parts)).replace(",", ", ")


class _Change:
    """What the clauses of one ALTER TABLE (or CREATE INDEX) ask InnoDB for."""

    def __init__(self) -> None:
        self.algorithm = ""
        self.lock = ""
        self.copies: list[str] = []  # only a copy makes these
        self.may_copy: list[str] = []  # these copy unless the server can make them in place
        self.online: list[str] = []  # these run online, LOCK=NONE permitting
        self.blocking: list[str] = []  # FULLTEXT and SPATIAL indexes: writes wait, whatever is said

    def option(self, clause: Sequence[Word]) -> bool:
        key = clause[0].key
        if key == "ALGORITHM":
            self.algorithm = _value(clause)
        elif key == "LOCK":
            self.lock = _value(clause)
        return key in ("ALGORITHM", "LOCK")

    def hits(self, table: str) -> list[Hit]:
        if self.algorithm == "COPY":
            return [
                Hit(
                    "table-copy",
                    f"ALGORITHM=COPY copies {table}, and writes to it wait until the copy is done",
                )
            ]
        if self.copies:
            what = ", ".join(self.copies)
            return [
                Hit(
                    "table-copy",
                    f"{what}: only a copy of {table} does that, and writes to it wait until it is done",
                )
            ]
        if self.may_copy and self.algorithm not in _NO_COPY:
            what = ", ".join(self.may_copy)
            return [
                Hit(
                    "table-copy",
                    f"{what}: the server copies {table}, blocking writes, unless it can make the change "
                    "in place, and says nothing either way; ALGORITHM=INPLACE (or INSTANT) makes it refuse "
                    "to copy",
                )
            ]
        if self.blocking:
            what = ", ".join(self.blocking)
            return [
                Hit(
                    "lock-not-none",
                    f"{what}: InnoDB blocks writes to {table} while it builds it (LOCK=SHARED at best)",
                )
            ]
        if self.online and self.lock != "NONE" and self.algorithm != "INSTANT":
            what = ", ".join(self.online)
            return [
                Hit(
                    "lock-not-none",
                    f"{what} without LOCK=NONE: the server may lock {table} instead of failing when it "
                    f"cannot do it online; say {_ONLINE} (or ALGORITHM=INSTANT where it applies)",
                )
            ]
        return []


class InnoDBRules(PortableRules):
    """The rules of :mod:`.innodb_rules` with those of :class:`PortableRules`."""

    def create(self, found: list[Word], facts: Facts) -> list[Hit]:
        hits = super().create(found, facts)
        at = skip(found, 1, "OR", "REPLACE", "TEMPORARY", "ONLINE", "UNIQUE")
        what = found[at].key if at < len(found) else ""
        if what == "TABLE":
            self._columns(found, facts)
            return hits
        if what in ("FULLTEXT", "SPATIAL", "INDEX"):
            hits += self._create_index(found, what, facts)
        return hits

    def _create_index(self, found: list[Word], what: str, facts: Facts) -> list[Hit]:
        """``CREATE [ONLINE] [UNIQUE|FULLTEXT|SPATIAL] INDEX i ON t (...) [ALGORITHM=...] [LOCK=...]``."""
        on = next((i for i, word in enumerate(found) if word.key == "ON" and word.depth == 0), None)
        if on is None:
            return []
        table, after = table_name(found, on + 1)
        if facts.is_new(table):
            return []
        change = _Change()
        if found[1].key == "ONLINE":
            change.lock = "NONE"
        for index in range(after, len(found)):
            if found[index].depth == 0 and found[index].key in ("ALGORITHM", "LOCK"):
                change.option(found[index:])
        if what == "INDEX":
            change.online.append("CREATE INDEX")
        else:
            change.blocking.append(f"CREATE {what} INDEX")
        return change.hits(table)

    def _columns(self, found: list[Word], facts: Facts) -> None:
        """Keep the column types of a CREATE TABLE."""
        table, at = table_name(
            found, skip(found, 1, "OR", "REPLACE", "TEMPORARY", "TABLE", "IF", "NOT", "EXISTS")
        )
        inner = [word for word in found[at:] if word.depth >= 1]
        line: list[Word] = []
        for word in [*inner, Word("", "", 1, ",")]:
            if word.punct == "," and word.depth == 1:
                if line and line[0].key not in _NOT_COLUMN_DEFINITIONS:
                    shallow = [Word(w.key, w.name, w.depth - 1, w.punct) for w in line[1:]]
                    facts.plan.column_types[(table, line[0].name)] = _column_type(shallow)
                line = []
            else:
                line.append(word)

    def alter(self, found: list[Word], facts: Facts) -> list[Hit]:
        hits = super().alter(found, facts)
        at = skip(found, 1, "ONLINE", "IGNORE")
        if at >= len(found) or found[at].key != "TABLE":
            return hits
        table, at = table_name(found, skip(found, at + 1, "IF", "EXISTS"))
        change = _Change()
        if found[1].key == "ONLINE":  # MariaDB: ALTER ONLINE TABLE is LOCK=NONE
            change.lock = "NONE"
        parts = clauses(found[at:])
        adds_primary = any([word.key for word in clause[:2]] == ["ADD", "PRIMARY"] for clause in parts)
        for clause in parts:
            if not change.option(clause):
                self._clause(table, clause, change, facts, adds_primary)
        return hits if facts.is_new(table) else hits + change.hits(table)

    def _clause(
        self, table: str, clause: list[Word], change: _Change, facts: Facts, adds_primary: bool
    ) -> None:
        first = clause[0].key
        second = clause[1].key if len(clause) > 1 else ""
        if first == "ADD":
            self._add(table, clause, change, facts)
        elif first == "DROP" and second == "PRIMARY" and not adds_primary:
            change.copies.append("DROP PRIMARY KEY without ADD PRIMARY KEY")
        elif first == "DROP" and second not in ("INDEX", "KEY", "FOREIGN", "CONSTRAINT", "CHECK", "PRIMARY"):
            change.online.append("DROP COLUMN")
        elif first in ("MODIFY", "CHANGE"):
            self._modify(table, clause, change, facts)
        elif first == "CONVERT":
            change.may_copy.append("CONVERT TO CHARACTER SET")
        elif first in ("ORDER", "PARTITION", "REMOVE"):
            change.copies.append(" ".join(word.key for word in clause[:2]))
        elif first in _REBUILDS:
            change.online.append(f"{first} (a rebuild)")

    def _add(self, table: str, clause: list[Word], change: _Change, facts: Facts) -> None:
        at = 1
        if at < len(clause) and clause[at].key == "CONSTRAINT":
            at = (
                2
                if at + 1 < len(clause) and clause[at + 1].key in ("FOREIGN", "CHECK", "UNIQUE", "PRIMARY")
                else 3
            )
        what = clause[at].key if at < len(clause) else ""
        if what == "FOREIGN":
            change.copies.append("ADD FOREIGN KEY (with foreign_key_checks on)")
        elif what == "CHECK":
            change.copies.append("ADD CHECK")
        elif what in ("FULLTEXT", "SPATIAL"):
            change.blocking.append(f"ADD {what} INDEX")
        elif what in _INDEXES or what == "PRIMARY":
            change.online.append("ADD PRIMARY KEY" if what == "PRIMARY" else "ADD INDEX")
        elif what != "PARTITION":
            at = skip(clause, at, "COLUMN", "IF", "NOT", "EXISTS")
            if at < len(clause):
                facts.plan.column_types[(table, clause[at].name)] = _column_type(clause[at + 1 :])
            change.online.append("ADD COLUMN")

    def _modify(self, table: str, clause: list[Word], change: _Change, facts: Facts) -> None:
        """``MODIFY c type ...`` or ``CHANGE old new type ...``: a copy when the type changes."""
        at = skip(clause, 1, "COLUMN", "IF", "EXISTS")
        renamed = clause[0].key == "CHANGE"
        if at + renamed >= len(clause):
            return
        column, new = clause[at].name, clause[at + renamed].name
        kind = _column_type(clause[at + renamed + 1 :])
        known = facts.plan.column_types.pop((table, column), None)
        facts.plan.column_types[(table, new)] = kind
        if known == kind:
            change.online.append(f"{clause[0].key} COLUMN {column} (same type)")
        else:
            change.may_copy.append(f"{clause[0].key} COLUMN {column} to {kind}")

"""The rules that hold on every engine, read from the statement's words (:mod:`.tokens`).

For an engine without a reader of its own (SQLite, an engine a package adds): renames and drops
the running release would trip over, ``TRUNCATE``, ``DELETE``/``UPDATE`` without ``WHERE``, and
transaction control. :class:`PortableRules` also keeps the new tables and indexes of the
migration, and is the base of :class:`~.innodb_rules.InnoDBRules`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..sql.syntax import SQLSyntax
from . import messages
from .engines import Facts, Hit
from .tokens import Word, clauses, keys, skip, table_name, top_keys, words

#: What follows ``DROP`` in an ALTER TABLE clause when it is not a column.
_NOT_COLUMNS = frozenset(
    {"INDEX", "KEY", "PRIMARY", "FOREIGN", "CONSTRAINT", "CHECK", "PARTITION", "DEFAULT", "PERIOD", "SYSTEM"}
)
#: What bounds a DELETE or an UPDATE besides WHERE: a batch (LIMIT), or the rows of a join.
_BOUNDS = frozenset({"WHERE", "LIMIT", "JOIN"})


def transaction_control(found: Sequence[Word]) -> bool:
    """Whether the statement opens or ends a transaction (a savepoint is no such statement,
    nor MariaDB's compound ``BEGIN NOT ATOMIC``)."""
    first, second = (*keys(found, 2), "", "")[:2]
    if first == "BEGIN":
        return second != "NOT"
    if first == "ROLLBACK":
        return "TO" not in top_keys(found)
    return first in ("COMMIT", "END") or (first, second) == ("START", "TRANSACTION")


class PortableRules:
    """The rules of :mod:`.portable_rules`, on statements lexed with ``syntax``."""

    def __init__(self, syntax: SQLSyntax) -> None:
        self.syntax = syntax
        self._readers: dict[str, Callable[[list[Word], Facts], list[Hit]]] = {
            "CREATE": self.create,
            "ALTER": self.alter,
            "DROP": self.drop,
            "RENAME": self.rename,
            "TRUNCATE": self.truncate,
            "DELETE": self.delete,
            "UPDATE": self.update,
        }

    def check(self, sql: str, facts: Facts) -> list[Hit]:
        found = words(sql, self.syntax)
        if not found:
            return []
        if transaction_control(found):
            return [messages.transaction(" ".join(keys(found, 2)).strip())]
        reader = self._readers.get(found[0].key)
        return reader(found, facts) if reader else []

    def create(self, found: list[Word], facts: Facts) -> list[Hit]:
        """``CREATE TABLE``: a new table; ``CREATE INDEX``: a new index."""
        at = skip(found, 1, "OR", "REPLACE", "TEMPORARY", "TEMP", "UNIQUE", "FULLTEXT", "SPATIAL", "ONLINE")
        what = found[at].key if at < len(found) else ""
        if what == "TABLE":
            facts.new_tables.add(table_name(found, skip(found, at + 1, "IF", "NOT", "EXISTS"))[0])
        elif what == "INDEX":
            facts.new_indexes.add(table_name(found, skip(found, at + 1, "IF", "NOT", "EXISTS"))[0])
        return []

    def alter(self, found: list[Word], facts: Facts) -> list[Hit]:
        at = skip(found, 1, "ONLINE", "IGNORE")
        if at >= len(found) or found[at].key != "TABLE":
            return []
        table, at = table_name(found, skip(found, at + 1, "IF", "EXISTS", "ONLY"))
        if facts.is_new(table):
            return []
        hits: list[Hit] = []
        for clause in clauses(found[at:]):
            hits += self.alter_clause(table, clause)
        return hits

    def alter_clause(self, table: str, clause: list[Word]) -> list[Hit]:
        """What one clause of ``ALTER TABLE table`` breaks."""
        first = clause[0].key
        second = clause[1].key if len(clause) > 1 else ""
        if first == "RENAME":
            if second in ("INDEX", "KEY", "CONSTRAINT"):
                return []
            if second in ("TO", "AS") or len(clause) == 2:  # MySQL: RENAME [TO|AS] new
                return [messages.rename_table(table)]
            at = skip(clause, 1, "COLUMN")  # SQLite: RENAME [COLUMN] a TO b
            return [messages.rename_column(table, clause[at].name)] if at < len(clause) else []
        if first == "CHANGE":
            at = skip(clause, 1, "COLUMN", "IF", "EXISTS")
            if at + 1 < len(clause) and clause[at].name != clause[at + 1].name:
                return [messages.rename_column(table, clause[at].name)]
            return []
        if first == "DROP" and second not in _NOT_COLUMNS:
            at = skip(clause, 1, "COLUMN", "IF", "EXISTS")
            return [messages.drop_column(table, clause[at].name)] if at < len(clause) else []
        return []

    def drop(self, found: list[Word], facts: Facts) -> list[Hit]:
        if keys(found, 2) != ("DROP", "TABLE"):  # DROP TEMPORARY TABLE: no other session sees it
            return []
        at = skip(found, 2, "IF", "EXISTS")
        hits = []
        while at < len(found):
            table, at = table_name(found, at)
            if table and not facts.is_new(table):
                hits.append(messages.drop_table(table))
            if at >= len(found) or found[at].punct != ",":
                break
            at += 1
        return hits

    def rename(self, found: list[Word], facts: Facts) -> list[Hit]:
        """MySQL's ``RENAME TABLE a TO b, c TO d``."""
        if keys(found, 2) != ("RENAME", "TABLE"):
            return []
        return [
            messages.rename_table(clause[0].name)
            for clause in clauses(found[2:])
            if clause and not facts.is_new(clause[0].name)
        ]

    def truncate(self, found: list[Word], facts: Facts) -> list[Hit]:
        table, _ = table_name(found, skip(found, 1, "TABLE", "ONLY"))
        return [] if facts.is_new(table) else [messages.truncate(table)]

    def delete(self, found: list[Word], facts: Facts) -> list[Hit]:
        at = next((i for i, word in enumerate(found) if word.key == "FROM" and word.depth == 0), None)
        if at is None or top_keys(found) & _BOUNDS:
            return []
        table, _ = table_name(found, skip(found, at + 1, "ONLY"))
        return [] if facts.is_new(table) else [messages.delete_everything(table)]

    def update(self, found: list[Word], facts: Facts) -> list[Hit]:
        if top_keys(found) & _BOUNDS:
            return []
        at = skip(found, 1, "LOW_PRIORITY", "IGNORE", "ONLY")
        if at < len(found) and found[at].key == "OR":  # SQLite: UPDATE OR REPLACE t
            at += 2
        table, _ = table_name(found, at)
        return [] if facts.is_new(table) else [messages.update_everything(table)]

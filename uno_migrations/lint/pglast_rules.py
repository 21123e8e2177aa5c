"""PostgreSQL's rules, on the parse tree of PostgreSQL's own parser (pglast, libpg_query).

Each statement is parsed as the server would parse it, and each rule reads the node it is about:
``IndexStmt.concurrent``, a ``Constraint``'s ``skip_validation`` (``NOT VALID``), an
``AlterTableCmd``'s subtype, a default's function calls. Nothing is matched as text. The lock
each statement takes, and why it matters on a live table, is in docs/safety.md; the rules assume
PostgreSQL 12 or later (constant defaults add no rewrite since 11, ``SET NOT NULL`` reads a valid
check constraint instead of the table since 12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ConstrType, NullTestType, ObjectType, TransactionStmtKind
from pglast.parser import ParseError
from pglast.visitors import Visitor

from . import messages
from .engines import Facts, Hit

#: Functions a default may call without being volatile (PostgreSQL then stores the value once,
#: without writing every row). Any other function counts as volatile, as CREATE FUNCTION makes
#: a function by default.
NOT_VOLATILE = frozenset(
    """
    now transaction_timestamp statement_timestamp current_setting lower upper btrim ltrim rtrim md5
    length concat concat_ws format replace substring left right lpad rpad abs round floor ceil
    greatest least to_json to_jsonb json_build_object json_build_array jsonb_build_object
    jsonb_build_array make_interval make_date to_timestamp to_char date_trunc
    """.split()
)
_TABLE_CONSTRAINTS = (
    ConstrType.CONSTR_FOREIGN,
    ConstrType.CONSTR_CHECK,
    ConstrType.CONSTR_UNIQUE,
    ConstrType.CONSTR_PRIMARY,
)
_SERIALS = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
_TRANSACTIONS = {
    TransactionStmtKind.TRANS_STMT_BEGIN: "BEGIN",
    TransactionStmtKind.TRANS_STMT_START: "START TRANSACTION",
    TransactionStmtKind.TRANS_STMT_COMMIT: "COMMIT",
    TransactionStmtKind.TRANS_STMT_ROLLBACK: "ROLLBACK",
    TransactionStmtKind.TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
}


def _nodes(node: Any) -> Iterator[ast.Node]:
    if node is not None:
        for _, found in Visitor().iterate(node):
            yield found


def _table(relation: ast.RangeVar | None) -> str:
    return (relation.relname or "") if relation is not None else ""


def _type(type_name: ast.TypeName | None) -> str:
    """A column type as ``name`` or ``name(modifiers)``, ``[]`` for arrays: ``varchar(20)``."""
    if type_name is None or not type_name.names:
        return ""
    name = str(type_name.names[-1].sval)
    mods = [
        str(m.val.ival)
        for m in type_name.typmods or ()
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    ]
    arrays = "[]" * len(type_name.arrayBounds or ())
    return f"{name}({','.join(mods)}){arrays}" if mods else name + arrays


def _split_type(text: str) -> tuple[str, tuple[int, ...]]:
    name, _, mods = text.partition("(")
    return name, tuple(int(mod) for mod in mods.rstrip(")").split(",") if mod)


def binary_coercible(old: str, new: str) -> bool:
    """Whether changing a column of type ``old`` to ``new`` keeps every stored value as it is
    (no rewrite): the same type, a longer or unlimited ``varchar``, ``varchar`` to ``text``, a
    ``numeric`` with more digits and the same scale, or unlimited."""
    if old == new:
        return True
    if old.endswith("]") or new.endswith("]"):
        return False
    (old_name, old_mods), (new_name, new_mods) = _split_type(old), _split_type(new)
    if old_name in ("varchar", "text") and new_name in ("varchar", "text"):
        return not new_mods or (old_name == "varchar" and bool(old_mods) and new_mods[0] >= old_mods[0])
    if old_name == new_name == "numeric" and old_mods:
        return not new_mods or (new_mods[0] >= old_mods[0] and new_mods[1:] == old_mods[1:])
    return False


def _volatile_call(expression: Any) -> str | None:
    """The first function ``expression`` calls that may be volatile."""
    for node in _nodes(expression):
        if isinstance(node, ast.FuncCall) and node.funcname:
            name = str(node.funcname[-1].sval)
            if name not in NOT_VOLATILE:
                return name
    return None


def _not_null_column(constraint: ast.Constraint) -> str | None:
    """The column of ``CHECK (column IS NOT NULL)``."""
    test = constraint.raw_expr
    if not isinstance(test, ast.NullTest) or test.nulltesttype != NullTestType.IS_NOT_NULL:
        return None
    column = test.arg
    if isinstance(column, ast.ColumnRef) and column.fields and len(column.fields) == 1:
        field = column.fields[0]
        return str(field.sval) if isinstance(field, ast.String) else None
    return None


class PglastRules:
    """The rules of :mod:`.pglast_rules`."""

    def __init__(self) -> None:
        self._readers: dict[type[ast.Node], Callable[[Any, Facts], list[Hit]]] = {
            ast.CreateStmt: self._create_table,
            ast.CreateTableAsStmt: self._create_table_as,
            ast.IndexStmt: self._create_index,
            ast.DropStmt: self._drop,
            ast.ReindexStmt: self._reindex,
            ast.AlterTableStmt: self._alter_table,
            ast.RenameStmt: self._rename,
            ast.TruncateStmt: self._truncate,
            ast.DeleteStmt: self._delete,
            ast.UpdateStmt: self._update,
            ast.TransactionStmt: self._transaction,
        }

    def check(self, sql: str, facts: Facts) -> list[Hit]:
        try:
            parsed = parse_sql(sql)
        except ParseError as exc:
            return [Hit("syntax-error", f"PostgreSQL's parser rejects it: {exc.args[0]}")]
        hits: list[Hit] = []
        for raw in parsed:
            reader = self._readers.get(type(raw.stmt)) if raw.stmt is not None else None
            if reader is not None:
                hits += reader(raw.stmt, facts)
        return hits

    # -- tables and indexes that are new, and what is done to them ---------------------------

    def _create_table(self, node: ast.CreateStmt, facts: Facts) -> list[Hit]:
        table = _table(node.relation)
        facts.new_tables.add(table)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef) and element.colname:
                facts.plan.column_types[(table, element.colname)] = _type(element.typeName)
        return []

    def _create_table_as(self, node: ast.CreateTableAsStmt, facts: Facts) -> list[Hit]:
        if node.into is not None:
            facts.new_tables.add(_table(node.into.rel))
        return []

    def _create_index(self, node: ast.IndexStmt, facts: Facts) -> list[Hit]:
        table = _table(node.relation)
        if node.idxname:
            facts.new_indexes.add(node.idxname)
        if node.concurrent:
            return self._concurrently("CREATE INDEX CONCURRENTLY", facts)
        if facts.is_new(table):
            return []
        return [
            Hit(
                "index-not-concurrent",
                f"CREATE INDEX without CONCURRENTLY blocks writes to {table} (a SHARE lock) until the "
                "index is built",
            )
        ]

    def _concurrently(self, what: str, facts: Facts) -> list[Hit]:
        if not facts.transactional:
            return []
        return [
            Hit(
                "concurrently-in-transaction",
                f"{what} cannot run inside a transaction block, and this migration runs in one",
            )
        ]

    def _drop(self, node: ast.DropStmt, facts: Facts) -> list[Hit]:
        names = [str(parts[-1].sval) for parts in node.objects or () if isinstance(parts, tuple) and parts]
        if node.removeType == ObjectType.OBJECT_INDEX:
            if node.concurrent:
                return self._concurrently("DROP INDEX CONCURRENTLY", facts)
            return [
                Hit(
                    "index-not-concurrent",
                    f"DROP INDEX {name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its "
                    "table: no reads or writes until it is done",
                )
                for name in names
                if name not in facts.new_indexes
            ]
        if node.removeType == ObjectType.OBJECT_TABLE:
            return [messages.drop_table(name) for name in names if not facts.is_new(name)]
        return []

    def _reindex(self, node: ast.ReindexStmt, facts: Facts) -> list[Hit]:
        if any(isinstance(p, ast.DefElem) and p.defname == "concurrently" for p in node.params or ()):
            return self._concurrently("REINDEX CONCURRENTLY", facts)
        if facts.is_new(_table(node.relation)):
            return []
        return [
            Hit(
                "index-not-concurrent",
                "REINDEX without CONCURRENTLY blocks writes to the table and reads through the index "
                "until it is rebuilt",
            )
        ]

    # -- ALTER TABLE ---------------------------------------------------------------------------

    def _alter_table(self, node: ast.AlterTableStmt, facts: Facts) -> list[Hit]:
        if node.objtype != ObjectType.OBJECT_TABLE:
            return []
        table = _table(node.relation)
        hits: list[Hit] = []
        for command in node.cmds or ():
            if isinstance(command, ast.AlterTableCmd):
                hits += self._command(table, command, facts)
        return [] if facts.is_new(table) else hits

    def _command(self, table: str, command: ast.AlterTableCmd, facts: Facts) -> list[Hit]:
        subtype, column = command.subtype, command.name or ""
        if subtype == AlterTableType.AT_AddConstraint and isinstance(command.def_, ast.Constraint):
            return self._add_constraint(table, command.def_, facts)
        if subtype == AlterTableType.AT_AddColumn and isinstance(command.def_, ast.ColumnDef):
            return self._add_column(table, command.def_, facts)
        if subtype == AlterTableType.AT_ValidateConstraint:
            return self._validate(table, column, facts)
        if subtype == AlterTableType.AT_SetNotNull and (table, column) not in facts.plan.not_null_checks:
            return [
                Hit(
                    "set-not-null",
                    f"SET NOT NULL on {table}.{column} reads the whole table under an ACCESS EXCLUSIVE "
                    f"lock: no validated CHECK ({column} IS NOT NULL) comes before it",
                )
            ]
        if subtype == AlterTableType.AT_AlterColumnType and isinstance(command.def_, ast.ColumnDef):
            return self._alter_type(table, column, command.def_, facts)
        if subtype == AlterTableType.AT_DropColumn:
            return [messages.drop_column(table, column)]
        if subtype == AlterTableType.AT_DetachPartition and isinstance(command.def_, ast.PartitionCmd):
            if command.def_.concurrent:
                return self._concurrently("DETACH PARTITION CONCURRENTLY", facts)
        return []

    def _add_constraint(self, table: str, constraint: ast.Constraint, facts: Facts) -> list[Hit]:
        kind, name = constraint.contype, constraint.conname or ""
        if kind in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK):
            column = _not_null_column(constraint) if kind == ConstrType.CONSTR_CHECK else None
            if column is not None:
                facts.plan.checks[(table, name)] = column
            if constraint.skip_validation:
                facts.not_valid.add((table, name))
                return []
            if column is not None:
                facts.plan.not_null_checks.add((table, column))
            what = "FOREIGN KEY" if kind == ConstrType.CONSTR_FOREIGN else "CHECK"
            lock = "a SHARE ROW EXCLUSIVE" if kind == ConstrType.CONSTR_FOREIGN else "an ACCESS EXCLUSIVE"
            return [
                Hit(
                    "constraint-not-valid",
                    f"ADD {what} without NOT VALID checks every row of {table} under {lock} lock",
                )
            ]
        if kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) and not constraint.indexname:
            what = "UNIQUE" if kind == ConstrType.CONSTR_UNIQUE else "PRIMARY KEY"
            return [
                Hit(
                    "unique-constraint",
                    f"ADD {what} builds its index on {table} under an ACCESS EXCLUSIVE lock: no reads or "
                    "writes until it is built",
                )
            ]
        return []

    def _validate(self, table: str, name: str, facts: Facts) -> list[Hit]:
        column = facts.plan.checks.get((table, name))
        if column is not None:
            facts.plan.not_null_checks.add((table, column))
        if (table, name) in facts.not_valid and facts.transactional:
            return [
                Hit(
                    "constraint-not-valid",
                    f"VALIDATE CONSTRAINT {name} in the transaction that added it NOT VALID: the lock "
                    "the ADD took is held through the whole scan",
                )
            ]
        return []

    def _add_column(self, table: str, column: ast.ColumnDef, facts: Facts) -> list[Hit]:
        name, kind = column.colname or "", _type(column.typeName)
        facts.plan.column_types[(table, name)] = kind
        constraints = [c for c in column.constraints or () if isinstance(c, ast.Constraint)]
        by_kind = {c.contype: c for c in constraints}
        hits: list[Hit] = []
        for constraint in constraints:  # REFERENCES, CHECK, UNIQUE, PRIMARY KEY on the new column
            if constraint.contype in _TABLE_CONSTRAINTS:
                hits += self._add_constraint(table, constraint, facts)
        default = by_kind.get(ConstrType.CONSTR_DEFAULT)
        generated = by_kind.get(ConstrType.CONSTR_GENERATED)
        rewrite = None
        if kind.partition("(")[0] in _SERIALS:
            rewrite = f"a {kind} column takes its next value for every row"
        elif ConstrType.CONSTR_IDENTITY in by_kind:
            rewrite = "an identity column takes its next value for every row"
        elif generated is not None and generated.generated_kind != "v":
            rewrite = "a stored generated column is computed and written for every row"
        elif default is not None and (call := _volatile_call(default.raw_expr)) is not None:
            rewrite = f"the default calls {call}(), which may be volatile, so it is computed for every row"
        if rewrite is not None:
            hits.append(
                Hit(
                    "add-column-rewrite",
                    f"ADD COLUMN {table}.{name} rewrites the table under an ACCESS EXCLUSIVE lock: {rewrite}",
                )
            )
        elif (
            default is None
            and generated is None
            and (column.is_not_null or ConstrType.CONSTR_NOTNULL in by_kind)
        ):
            hits.append(
                Hit(
                    "required-column",
                    f"ADD COLUMN {table}.{name} NOT NULL without a default fails on a table with rows, "
                    "and so do the running release's INSERTs that do not set it",
                )
            )
        return hits

    def _alter_type(self, table: str, column: str, definition: ast.ColumnDef, facts: Facts) -> list[Hit]:
        new = _type(definition.typeName)
        old = facts.plan.column_types.get((table, column))
        facts.plan.column_types[(table, column)] = new
        if definition.raw_default is None and old is not None and binary_coercible(old, new):
            return []
        why = (
            "USING converts every value"
            if definition.raw_default is not None
            else f"{old} to {new} is not binary coercible"
            if old is not None
            else "its type before is not known here, and only a few changes (a longer varchar, varchar "
            "to text) keep the rows as they are"
        )
        return [
            Hit(
                "column-type-rewrite",
                f"ALTER COLUMN {table}.{column} TYPE {new} rewrites the table (and its indexes) under an "
                f"ACCESS EXCLUSIVE lock: {why}",
            )
        ]

    # -- renames, data, transactions -----------------------------------------------------------

    def _rename(self, node: ast.RenameStmt, facts: Facts) -> list[Hit]:
        table = _table(node.relation)
        if facts.is_new(table):
            return []
        if node.renameType == ObjectType.OBJECT_TABLE:
            return [messages.rename_table(table)]
        if node.renameType == ObjectType.OBJECT_COLUMN and node.relationType == ObjectType.OBJECT_TABLE:
            return [messages.rename_column(table, node.subname or "")]
        return []

    def _truncate(self, node: ast.TruncateStmt, facts: Facts) -> list[Hit]:
        tables = [_table(r) for r in node.relations or () if isinstance(r, ast.RangeVar)]
        return [messages.truncate(table) for table in tables if not facts.is_new(table)]

    def _delete(self, node: ast.DeleteStmt, facts: Facts) -> list[Hit]:
        table = _table(node.relation)
        if node.whereClause is not None or facts.is_new(table):
            return []
        return [messages.delete_everything(table)]

    def _update(self, node: ast.UpdateStmt, facts: Facts) -> list[Hit]:
        table = _table(node.relation)
        if node.whereClause is not None or facts.is_new(table):
            return []
        return [messages.update_everything(table)]

    def _transaction(self, node: ast.TransactionStmt, facts: Facts) -> list[Hit]:
        what = _TRANSACTIONS.get(node.kind) if node.kind is not None else None
        return [messages.transaction(what)] if what else []

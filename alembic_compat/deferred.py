"""``async with alembic_ops(context) as op``: Alembic operations written inside an async migration.

Alembic's operations are synchronous and an async ``up(context)`` cannot run them directly, so
inside the block each ``op.<operation>(...)`` call is checked and recorded, and when the block
ends without an error the recorded operations run in the order written, on the migration's
connection, in one :func:`~alembic_compat.operations.run_operations` call::

    import sqlalchemy as sa
    from alembic_compat import alembic_ops

    async def up(context):
        async with alembic_ops(context) as op:
            op.add_column("users", sa.Column("status", sa.String(20)))
            with op.batch_alter_table("users") as batch:
                batch.create_index("ix_users_status", ["status"])
        await context.execute_sql("UPDATE users SET status = 'active'")  # after the block: runs after

SQL run with ``context`` *inside* the block runs before the recorded operations, so put it after
the block (or use a second block). ``op.f()`` and ``op.inline_literal()`` work at once,
``op.create_table()`` returns its ``Table`` (for ``op.bulk_insert``); ``op.get_bind()`` needs the
connection while the operations run: use :func:`~alembic_compat.operations.run_operations` for that.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from alembic.operations import BatchOperations, Operations
from alembic.runtime.migration import MigrationContext as AlembicContext
from sqlalchemy import Table

from uno_migrations.errors import MigrationError
from uno_migrations.runtime.context import MigrationContext

from .operations import run_operations

#: Operations that need the live connection while they run: not available in a recorded block.
_LIVE = ("get_bind", "get_context", "run_async", "invoke", "implementation_for", "register_operation")


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def apply(self, target: Operations | BatchOperations) -> None:
        getattr(target, self.name)(*self.args, **self.kwargs)


@dataclass
class _Batch:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    calls: list[_Call] = field(default_factory=list)

    def apply(self, target: Operations | BatchOperations) -> None:
        assert isinstance(target, Operations)
        with target.batch_alter_table(*self.args, **self.kwargs) as batch:
            for call in self.calls:
                call.apply(batch)


class _Recorder:
    """Records calls to the operations ``spec`` has; an unknown name fails at once."""

    def __init__(self, spec: type[Any], steps: list[Any], helpers: Operations) -> None:
        self._spec = spec
        self._steps = steps
        self._helpers = helpers

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_") or not callable(getattr(self._spec, name, None)):
            raise AttributeError(f"Alembic {self._spec.__name__} have no operation {name!r}")
        if name in _LIVE:
            raise MigrationError(
                f"op.{name}() needs the connection while the operations run; inside "
                "'async with alembic_ops(context)' they run when the block ends: use "
                "run_operations(context, fn) for code that needs it, or context.execute_sql"
            )

        def record(*args: Any, **kwargs: Any) -> None:
            self._steps.append(_Call(name, args, kwargs))

        return record

    def f(self, name: str) -> Any:
        """A name that naming conventions leave as it is (``op.f``), at once."""
        return self._helpers.f(name)

    def inline_literal(self, value: str | int, type_: Any = None) -> Any:
        """A literal rendered into the statement (``op.inline_literal``), at once."""
        return self._helpers.inline_literal(value, type_)


class DeferredBatchOperations(_Recorder):
    """The ``batch_op`` of ``with op.batch_alter_table(...)`` in a recorded block."""


class DeferredOperations(_Recorder):
    """The ``op`` of ``async with alembic_ops(context)``: Alembic's operations, recorded."""

    def create_table(self, table_name: str, *columns: Any, **kwargs: Any) -> Table:
        """Record the table's creation and return it (for ``op.bulk_insert``)."""
        self._steps.append(_Call("create_table", (table_name, *columns), kwargs))
        return self._helpers.create_table(table_name, *columns, **kwargs)

    @contextmanager
    def batch_alter_table(self, *args: Any, **kwargs: Any) -> Iterator[DeferredBatchOperations]:
        batch = _Batch(args, kwargs)
        yield DeferredBatchOperations(BatchOperations, batch.calls, self._helpers)
        self._steps.append(batch)


class AlembicOps:
    """The async context manager :func:`alembic_ops` returns."""

    def __init__(self, context: MigrationContext) -> None:
        self.context = context
        self._steps: list[_Call | _Batch] = []

    async def __aenter__(self) -> DeferredOperations:
        # Offline operations on the same dialect compute op.f(), inline_literal() and the
        # Table create_table() returns, without touching the database.
        offline = AlembicContext.configure(
            dialect=self.context.connection.dialect, opts={"as_sql": True, "output_buffer": io.StringIO()}
        )
        return DeferredOperations(Operations, self._steps, Operations(offline))

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        steps, self._steps = self._steps, []
        if exc_type is None and steps:
            await run_operations(self.context, _replay, steps)


def _replay(op: Operations, steps: list[_Call | _Batch]) -> None:
    for step in steps:
        step.apply(op)


def alembic_ops(context: MigrationContext) -> AlembicOps:
    """Alembic operations for an async migration, run on its connection when the block ends.

    >>> # async with alembic_ops(context) as op:
    >>> #     op.add_column("users", sa.Column("status", sa.String(20)))
    """
    return AlembicOps(context)

"""``from alembic import op, context`` inside revisions: module proxies that follow the running task.

Alembic's module-level ``op`` and ``context`` forward every call to one global object (the
module's ``_proxy``), set while Alembic runs. Here ``_proxy`` is a dispatcher that looks up the
:class:`Operations` (and the environment) of the migration running in the *current* asyncio task
or thread, kept in a :class:`~contextvars.ContextVar`. Two migrators running at once in one
process, on two databases, each see their own connection.

``run_sync`` runs its function on a greenlet that shares the calling task's context, so a value
set around ``upgrade()`` is what ``op`` sees inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import alembic.context as context_module
import alembic.op as op_module
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext


@dataclass
class _Active:
    operations: Operations

    def env(self) -> EnvironmentContext:
        """The environment of the running revision: its runtime context's, as under Alembic."""
        environment = self.operations.migration_context.environment_context
        if environment is None:
            raise NameError(
                "alembic.context is not available here: it works inside revisions run from an "
                "Alembic versions directory"
            )
        return environment


_active: ContextVar[_Active | None] = ContextVar("alembic_compat_active", default=None)


def _current(what: str) -> _Active:
    active = _active.get()
    if active is None:
        raise NameError(
            f"Can't use alembic.{what} here: it is only available while a migration runs "
            "(inside upgrade()/downgrade() or a function given to run_operations)"
        )
    return active


class _OperationsDispatcher:
    def __getattr__(self, name: str) -> Any:
        return getattr(_current("op").operations, name)


class _EnvironmentDispatcher:
    def __getattr__(self, name: str) -> Any:
        return getattr(_current("context").env(), name)


_OP = _OperationsDispatcher()
_CONTEXT = _EnvironmentDispatcher()
#: Attributes Alembic sets on the context module itself while its proxy is installed.
_CONTEXT_ATTRIBUTES = ("config", "script")


def _context_module_getattr(name: str) -> Any:
    if name in _CONTEXT_ATTRIBUTES:
        return getattr(_current("context").env(), name)
    raise AttributeError(f"module 'alembic.context' has no attribute {name!r}")


def _install() -> None:
    """Point Alembic's module proxies at the dispatchers (again, if Alembic itself ran since)."""
    op_globals = vars(op_module)
    if op_globals.get("_proxy") is not _OP:
        op_globals["_proxy"] = _OP
    context_globals = vars(context_module)
    if context_globals.get("_proxy") is not _CONTEXT:
        context_globals["_proxy"] = _CONTEXT
        for name in _CONTEXT_ATTRIBUTES:
            context_globals.pop(name, None)
        context_globals["__getattr__"] = _context_module_getattr


@contextmanager
def active(operations: Operations) -> Iterator[None]:
    """Make ``alembic.op`` (and ``alembic.context``, when its runtime context has an environment)
    mean ``operations`` for the block."""
    _install()
    token = _active.set(_Active(operations))
    try:
        yield
    finally:
        _active.reset(token)

"""One migration's attempt in one direction: what the run knows of it while it runs.

The :class:`~uno_migrations.MigrationContext` a migration is given is the user's API; the
:class:`Attempt` beside it is the runner's record: how far the statements got, the statement that
failed, whether the work is in a transaction, and the hook that records progress before a
statement commits on its own. The context writes to it as statements run; the executor and the
implicit-commit protocol read it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..files.migration import Migration

#: The two ways a migration runs.
Direction = Literal["up", "down"]


@dataclass
class FailedStatement:
    """The statement that raised, kept for the runner's error message."""

    error: BaseException
    statement: str
    position: int | None
    #: The statement's first line in its file, for SQL migrations.
    line: int | None = None


@dataclass
class Attempt:
    """The runner's bookkeeping for ``migration`` run ``direction``."""

    migration: Migration
    direction: Direction
    #: Whether the migration's statements run inside a transaction right now.
    in_transaction: bool = True
    #: The statements of an SQL migration a resumed run skips (done by an earlier attempt).
    resume_from: int = 0
    #: Statements done so far (an SQL migration's count includes those skipped).
    statements_done: int = 0
    #: The last statement that raised a database error (the error itself propagates as is).
    failed: FailedStatement | None = None
    #: Where statements commit as they run (DDL on MySQL; every statement outside a
    #: transaction): called with the count of statements done before an SQL migration's
    #: statement that will commit them, so the record of the count is committed too.
    on_implicit_commit: Callable[[int], Awaitable[None]] | None = None
    #: A statement of the migration locked tables (MySQL's LOCK TABLES) and none has unlocked
    #: them yet: uno's own tables cannot be written meanwhile.
    tables_locked: bool = False

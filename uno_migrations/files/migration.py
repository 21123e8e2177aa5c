"""Migrations: the metadata every kind shares, and the three runnable kinds.

A :class:`MigrationBase` is what discovery knows about a file without importing it. A
:class:`Migration` is something that can run: a user's class-based migration, a module of
``up``/``down`` functions (:class:`FunctionMigration`), or an SQL script (:class:`SQLMigration`).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..runtime.context import MigrationContext
    from ..sql.splitter import Statement


#: What a migration is: ``python`` (functions), ``class``, ``sql``, or an Alembic revision.
MigrationKind = Literal["python", "class", "sql", "alembic"]
#: When a migration may run in a deploy: before the new code ships (``pre-deploy``, the
#: default: it must suit the old code and the new), or only after it (``post-deploy``: what
#: the old code cannot live with, such as dropping a column it still reads).
Phase = Literal["pre-deploy", "post-deploy"]
PRE_DEPLOY: Phase = "pre-deploy"
POST_DEPLOY: Phase = "post-deploy"

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)[ \t]*(ms|s|m)?", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_phase(value: object) -> Phase:
    """A ``-- Phase:`` header's or a ``phase`` attribute's value, checked; else a ValueError
    saying what it must be.

    >>> parse_phase("Post-Deploy")
    'post-deploy'
    """
    text = value.strip().lower() if isinstance(value, str) else None
    if text == PRE_DEPLOY:
        return PRE_DEPLOY
    if text == POST_DEPLOY:
        return POST_DEPLOY
    raise ValueError(f"invalid phase {value!r}; use {PRE_DEPLOY} or {POST_DEPLOY}")


def parse_lock_timeout(value: object) -> float:
    """A ``-- Lock-timeout:`` header's or a ``lock_timeout`` attribute's value in seconds: a
    number of seconds, or text such as ``500ms``, ``2s``, ``1.5s``, ``1m`` (a bare number is
    seconds); finite and >= 0. Else a ValueError saying what it must be.

    >>> parse_lock_timeout("500ms"), parse_lock_timeout("1m"), parse_lock_timeout(2)
    (0.5, 60.0, 2.0)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        found = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if found is None:
            raise ValueError(
                f"invalid lock timeout {value!r}; use seconds, or a duration such as 500ms, 2s or 1m"
            )
        seconds = float(found.group(1)) * _UNIT_SECONDS[(found.group(2) or "s").lower()]
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid lock timeout {value!r}; it must be a finite number of seconds >= 0")
    return seconds


@dataclass
class MigrationBase:
    """What is known about a migration without running it.

    ``kind`` is ``"python"`` (functions), ``"class"``, ``"sql"``, or ``"alembic"`` for an Alembic
    revision (from :mod:`alembic_compat`); ``path`` the file that will run
    (for an SQL engine variant, the variant). ``transactional`` False runs the migration outside
    a transaction. ``reversible`` tells whether it has a down step. ``phase`` is when it may run
    in a deploy (see :data:`Phase`; ``migrate --phase pre`` stops before the first pending
    post-deploy one); ``lock_timeout``, in seconds, is the migration's own lock timeout, None
    when it sets none (``-- Lock-timeout: 2s``, ``lock_timeout = 2``). ``problem``, when set, is
    why discovery found the file unusable (an SQL script that does not parse, a bad ``phase``):
    loading it fails.
    """

    id: str | None = None
    name: str = ""
    description: str = ""
    dependencies: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    version: int | None = None
    checksum: str = ""
    kind: MigrationKind = "class"
    path: str | None = None
    transactional: bool = True
    reversible: bool = True
    custom_checksum: bool = False
    problem: str | None = None
    phase: Phase = PRE_DEPLOY
    lock_timeout: float | None = None


def create_migration(
    name: str,
    description: str = "",
    dependencies: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    version: int | None = None,
    id: str | None = None,  # noqa: A002 - the seed's keyword
) -> MigrationBase:
    """Describe a class-based migration; its id and version come from its file name.

    >>> base = create_migration("Add roles", dependencies=["1616721123_create_users_table"])
    >>> base.dependencies
    ['1616721123_create_users_table']
    """
    return MigrationBase(
        id=id,
        name=name,
        description=description,
        dependencies=list(dependencies or ()),
        tags=list(tags or ()),
        version=version,
    )


class Migration:
    """Base class of class-based migrations; subclass it and implement ``apply``/``revert``.

    >>> class AddRoles(Migration):
    ...     def __init__(self):
    ...         super().__init__(create_migration("Add roles"))
    ...     async def apply(self, context):
    ...         await context.execute_sql("CREATE TABLE roles (id INTEGER PRIMARY KEY)")
    ...     async def revert(self, context):
    ...         await context.execute_sql("DROP TABLE roles")
    """

    #: Set to False on a subclass to run it outside a transaction.
    transactional: bool = True

    def __init__(self, base: MigrationBase) -> None:
        self.base = base

    @property
    def id(self) -> str:
        if self.base.id is None:
            raise ValueError("migration has no id yet; it is given by the file name")
        return self.base.id

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def description(self) -> str:
        return self.base.description

    @property
    def dependencies(self) -> list[str]:
        return self.base.dependencies

    @property
    def reversible(self) -> bool:
        return type(self).revert is not Migration.revert

    async def apply(self, context: MigrationContext) -> None:
        """Apply the migration."""
        raise NotImplementedError(f"{type(self).__name__} does not implement apply()")

    async def revert(self, context: MigrationContext) -> None:
        """Revert the migration; not overriding it makes the migration irreversible."""
        raise NotImplementedError(f"{type(self).__name__} does not implement revert()")

    def get_checksum(self) -> str:
        """The checksum recorded when applied; by default the file's, computed by discovery."""
        return self.base.checksum

    def sync_apply(self, context: MigrationContext) -> Callable[[Any], None] | None:
        """``apply`` as a synchronous function of a SQLAlchemy ``Connection``, where the migration
        has that form (Alembic revisions do); None otherwise, the default.

        An extension point for migration kinds: an adapter that runs a migration whole on the
        driver's own thread (SQLite) runs this function there with its bookkeeping, in one trip.
        It must do what ``apply`` does."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base.id}>"


Step = Callable[..., Any]


async def _call(step: Step, context: MigrationContext) -> None:
    result = step(context)
    if inspect.isawaitable(result):
        await result


class FunctionMigration(Migration):
    """A module with ``up(context)`` and optionally ``down(context)`` (sync or async)."""

    def __init__(self, base: MigrationBase, up: Step, down: Step | None) -> None:
        super().__init__(base)
        self._up = up
        self._down = down

    @property
    def reversible(self) -> bool:
        return self._down is not None

    async def apply(self, context: MigrationContext) -> None:
        await _call(self._up, context)

    async def revert(self, context: MigrationContext) -> None:
        if self._down is None:
            raise NotImplementedError(f"migration {self.base.id} has no down step")
        await _call(self._down, context)


class SQLMigration(Migration):
    """An SQL script, already split into the statements of each direction."""

    def __init__(
        self,
        base: MigrationBase,
        up: Sequence[Statement],
        down: Sequence[Statement] | None,
        line_offsets: tuple[int, int | None] = (1, None),
    ) -> None:
        super().__init__(base)
        self.up_statements = list(up)
        self.down_statements = None if down is None else list(down)
        self.line_offsets = line_offsets

    @property
    def reversible(self) -> bool:
        return self.down_statements is not None

    async def apply(self, context: MigrationContext) -> None:
        await context.run_statements(
            self.up_statements, start=context.attempt.resume_from, first_line=self.line_offsets[0]
        )

    async def revert(self, context: MigrationContext) -> None:
        if self.down_statements is None:
            raise NotImplementedError(f"migration {self.base.id} has no down section")
        await context.run_statements(self.down_statements, first_line=self.line_offsets[1] or 1)


MigrationStep = Callable[["MigrationContext"], Awaitable[None]]

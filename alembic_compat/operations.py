"""Alembic's ``Operations`` on a migration's own connection: the sync building block and its async call.

:func:`operations` binds :class:`alembic.operations.Operations` to a synchronous SQLAlchemy
``Connection`` (the one ``context.run_sync`` hands over), through Alembic's runtime
``MigrationContext`` in online mode, and makes ``alembic.op`` mean it for the block.
:func:`run_operations` is the async form a uno Python migration calls::

    import sqlalchemy as sa
    from alembic_compat import run_operations

    def add_status(op):
        op.add_column("users", sa.Column("status", sa.String(20)))

    async def up(context):
        await run_operations(context, add_status)

Every statement runs on the migration's connection, inside its transaction where it has one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext as AlembicContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from uno_migrations.errors import MigrationError, OfflineError
from uno_migrations.runtime.context import MigrationContext, line_in_file
from uno_migrations.runtime.cursor_events import add_hook

from .proxies import active

if TYPE_CHECKING:
    from alembic.runtime.environment import EnvironmentContext
    from sqlalchemy.engine import URL

T = TypeVar("T")
#: Makes the Alembic environment a versions directory gives its revisions on a connection to the
#: database at a URL, configured as an ``env.py`` would (``context.configure(connection=...)``).
EnvironmentFactory = Callable[[Connection, "URL"], "EnvironmentContext"]


class _RuntimeContext(AlembicContext):
    """Alembic's runtime context on a connection whose transaction uno-migrations manages.

    ``autocommit_block()`` needs the migration to run outside a transaction (a revision that
    uses it is run that way; see :mod:`alembic_compat.revisions`): there it only commits what
    SQLAlchemy began implicitly, since every statement is already committed on its own.
    """

    def __init__(
        self,
        connection: Connection,
        transactional: bool,
        opts: dict[str, Any] | None = None,
        environment: EnvironmentContext | None = None,
    ) -> None:
        super().__init__(
            connection.dialect, connection, {"as_sql": False} if opts is None else opts, environment
        )
        self._uno_transactional = transactional

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        if self._uno_transactional:
            raise MigrationError(
                "autocommit_block() needs the migration to run outside a transaction: "
                "set transactional = False in the migration file"
            )
        connection = self.connection
        assert connection is not None
        if connection.in_transaction():
            connection.commit()
        yield
        if connection.in_transaction():
            connection.commit()


@contextmanager
def operations(
    connection: Connection,
    *,
    transactional: bool = True,
    environment: EnvironmentFactory | None = None,
    url: URL | None = None,
) -> Iterator[Operations]:
    """Alembic ``Operations`` on ``connection``; ``alembic.op`` means them inside the block.

    ``transactional`` says whether the caller runs the block inside a transaction (only
    ``autocommit_block()`` cares). ``environment`` makes ``alembic.context`` available too, and
    gives the runtime context (``op.get_context()``) its ``config`` and its ``opts``, among them
    ``target_metadata``, whose naming convention the operations follow. ``url`` is the database's
    (default: the connection's engine's), for the environment's ``sqlalchemy.url``.

    >>> # def drop_legacy(connection):
    >>> #     with operations(connection) as op:
    >>> #         op.drop_table("legacy")
    >>> # await context.run_sync(drop_legacy)
    """
    op = Operations(_runtime_context(connection, transactional, environment, url))
    with active(op):
        yield op


#: Alembic's runtime context of each connection (per transaction mode and environment), reused by
#: the migrations of a run: making one costs more than most revisions' own statements.
_contexts: WeakKeyDictionary[Connection, dict[tuple[bool, EnvironmentFactory | None], _RuntimeContext]] = (
    WeakKeyDictionary()
)


def _runtime_context(
    connection: Connection, transactional: bool, environment: EnvironmentFactory | None, url: URL | None
) -> _RuntimeContext:
    made = _contexts.setdefault(connection, {})
    context = made.get((transactional, environment))
    if context is None:
        if environment is None:
            context = _RuntimeContext(connection, transactional)
        else:
            # The environment as env.py leaves it, its runtime context this one (what
            # context.get_context() returns), sharing its opts as Alembic's do.
            env = environment(connection, connection.engine.url if url is None else url)
            context = _RuntimeContext(connection, transactional, env.context_opts, env)
            env._migration_context = context
        made[(transactional, environment)] = context
    return context


#: Makes the Alembic environment of a versions directory in offline mode (``as_sql``) for an
#: engine, writing what the operations emit to a buffer (``migrate --sql``).
OfflineEnvironmentFactory = Callable[[str, "URL", io.StringIO], "EnvironmentContext"]


def write_out_operations(
    context: MigrationContext,
    fn: Callable[..., Any],
    *args: Any,
    environment: OfflineEnvironmentFactory | None = None,
) -> None:
    """Call ``fn(op, *args)`` with Alembic ``Operations`` in Alembic's offline mode, for a
    migration written out without a database (``context.offline``): what the operations emit,
    values written in, goes into the script (``context.record_sql``).

    As under ``alembic upgrade --sql``, ``op.get_bind()`` has no connection there, and an
    operation that needs the database (batch mode recreating a table) raises; the migration is
    then written as a comment saying why.
    """
    buffer = io.StringIO()
    opts = {"as_sql": True, "output_buffer": buffer, "literal_binds": True, "transactional_ddl": False}
    if environment is None:
        runtime = AlembicContext.configure(
            dialect_name=context.dialect, dialect_opts={"paramstyle": "named"}, opts=opts
        )
    else:
        runtime = environment(context.dialect, context.url, buffer).get_context()
    op = Operations(runtime)
    try:
        with active(op):
            fn(op, *args)
    except (AttributeError, NotImplementedError) as exc:
        raise OfflineError(f"reads from the database ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("alembic", "sqlalchemy")):
            raise OfflineError(f"is beyond Alembic's offline mode ({type(exc).__name__}: {exc})") from exc
        raise
    text = buffer.getvalue().strip()
    if text:
        context.record_sql(text)


async def run_operations(
    context: MigrationContext,
    fn: Callable[..., T],
    *args: Any,
    environment: EnvironmentFactory | None = None,
) -> T:
    """Call ``fn(op, *args)`` with Alembic ``Operations`` on the migration's connection.

    ``fn`` is synchronous (as Alembic code is); it runs through ``context.run_sync``, so
    ``op.get_bind()`` is the migration's own connection and raw SQL run with it belongs to the
    same transaction. Returns what ``fn`` returns. A failing statement is reported by the runner
    with its SQL, like a failing statement of ``execute_sql``.
    """

    def call(connection: Connection) -> T:
        return call_operations(connection, context, fn, *args, environment=environment)

    return await context.run_sync(call)


def call_operations(
    connection: Connection,
    context: MigrationContext,
    fn: Callable[..., T],
    *args: Any,
    environment: EnvironmentFactory | None = None,
) -> T:
    """The synchronous core of :func:`run_operations`, on ``connection`` (the migration's)."""
    transactional = context.migration.base.transactional
    count = not context.adapter.transactional_ddl
    try:
        with (
            _counting(connection, context, count),
            operations(
                connection,
                transactional=transactional,
                environment=environment,
                url=None if environment is None else context.url,
            ) as op,
        ):
            return fn(op, *args)
    except DBAPIError as exc:
        note_failure(context, exc)
        raise


def note_failure(context: MigrationContext, error: DBAPIError) -> None:
    """Keep the failing statement on the context, for the runner's one-line error, with the line
    of the migration's file that sent it (the ``op.*`` call of a revision)."""
    statement = " ".join(str(error.statement or "").split())
    context.statement_failed(error, statement, line_in_file(error, context.migration.base.path))


@contextmanager
def _counting(connection: Connection, context: MigrationContext, enabled: bool) -> Iterator[None]:
    """Count the statements that complete, where DDL commits implicitly (MySQL).

    A migration that fails there after some statements is then kept as ``failed`` (with the
    count), since what those statements did stays in the database.
    """
    if not enabled:
        yield
        return

    def done(*_: Any) -> None:
        context.attempt.statements_done += 1

    stop = add_hook(connection, "after_cursor_execute", done)
    try:
        yield
    finally:
        stop()

"""The exception hierarchy: every error the library raises is a :class:`MigrationError`.

Each error carries its facts as attributes (ids, paths, statements) and a message that says what
to do next, so the command line can print ``error: <message>`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

#: How many ids or paths an error names before it says how many more there are.
NAMED = 5


def some(items: Sequence[str], limit: int = NAMED) -> str:
    """``items`` joined with commas, at most ``limit`` of them, then how many more: an error stays
    one readable line when it concerns thousands of migrations."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


class MigrationError(Exception):
    """Root of every error raised by uno-migrations."""


class ConfigurationError(MigrationError):
    """A setting is wrong: a malformed URL, an unknown driver, an invalid table name."""


class DatabaseConnectionError(MigrationError):
    """The database could not be reached or refused the login."""


class SQLScriptError(MigrationError):
    """An SQL script cannot be parsed (two down separators, an unterminated literal, ...)."""


class OfflineError(MigrationError):
    """A migration cannot be written out as SQL without a database (``migrate --sql``): it reads
    from the database, or asks it something."""


class ParameterError(MigrationError):
    """Parameters given to ``execute_sql`` do not match the placeholders in the statement."""


class DiscoveryError(MigrationError):
    """A migrations directory holds something that cannot be a migration."""


class InvalidMigrationError(DiscoveryError):
    """One migration file is invalid; ``path`` names it and ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class DuplicateMigrationError(DiscoveryError):
    """Two files give the same migration id."""

    def __init__(self, migration_id: str, paths: Sequence[str]) -> None:
        self.migration_id = migration_id
        self.paths = tuple(paths)
        super().__init__(
            f"duplicate migration id {migration_id!r} in {' and '.join(self.paths)}; rename one of the files"
        )


class PlanningError(MigrationError):
    """The migrations cannot be ordered, or a requested target does not exist."""


class UnknownDependencyError(PlanningError):
    """A migration depends on an id that no file provides."""

    def __init__(self, migration_id: str, dependency: str) -> None:
        self.migration_id = migration_id
        self.dependency = dependency
        super().__init__(f"migration {migration_id!r} depends on unknown migration {dependency!r}")


class DependencyCycleError(PlanningError):
    """The dependencies form a cycle; ``cycle`` lists the ids around it."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(f"dependency cycle: {' -> '.join(self.cycle)}")


class UnknownMigrationError(PlanningError):
    """An id or prefix given as a target matches no migration, or more than one."""

    def __init__(self, reference: str, matches: Sequence[str] = ()) -> None:
        self.reference = reference
        self.matches = tuple(matches)
        if self.matches:
            message = f"ambiguous migration id {reference!r}: matches {some(self.matches)}"
        else:
            message = f"unknown migration id {reference!r}"
        super().__init__(message)


class IrreversibleMigrationError(PlanningError):
    """A rollback would revert a migration that has no down step."""

    def __init__(self, migration_id: str) -> None:
        self.migration_id = migration_id
        super().__init__(
            f"migration {migration_id!r} is irreversible (it has no down step); "
            "use --fake to unmark it without running anything"
        )


class ChecksumMismatchError(MigrationError):
    """Applied migrations whose files changed since they were applied."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        names = some([path for _, path in self.problems])
        listed = " ('status' lists them all)" if len(self.problems) > NAMED else ""
        super().__init__(
            f"applied migrations were modified since they were applied: {names}{listed}; "
            "restore the files or run 'repair' to accept the new content"
        )


class FailedMigrationError(MigrationError):
    """A previous attempt of a migration failed part-way and is recorded as failed."""

    def __init__(self, migration_id: str, statements_done: int, resumable: bool = True) -> None:
        self.migration_id = migration_id
        self.statements_done = statements_done
        self.resumable = resumable
        if resumable:
            super().__init__(
                f"migration {migration_id!r} failed earlier after {statements_done} statement(s); "
                f"use 'migrate --resume' to continue it, or 'repair {migration_id}' to forget the "
                "attempt"
            )
        else:  # Python code is not a list of statements: it cannot be continued half-way
            super().__init__(
                f"migration {migration_id!r} failed earlier, part-way; undo what it did by hand, "
                f"then 'repair {migration_id}' to forget the attempt"
            )


class ExecutionError(MigrationError):
    """A migration raised or one of its statements failed.

    ``statement`` is the SQL that failed (when known), ``position`` the character offset the
    database reported inside it, ``line`` the statement's line in an SQL file,
    ``statements_done`` how many statements completed before it.
    """

    def __init__(
        self,
        migration_id: str,
        path: str | None,
        message: str,
        *,
        statement: str | None = None,
        position: int | None = None,
        statements_done: int = 0,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.migration_id = migration_id
        self.hint = hint
        self.path = path
        self.message = message
        self.statement = statement
        self.position = position
        self.statements_done = statements_done
        self.line = line
        where = f" ({path}:{line})" if path and line else f" ({path})" if path else ""
        text = f"migration {migration_id}{where} failed: {message}"
        if statement:
            short = " ".join(statement.split())
            if len(short) > 200:
                short = short[:197] + "..."
            at = f" at position {position}" if position is not None else ""
            text += f" [statement{at}: {short}]"
        if hint:
            text += f"; {hint}"
        super().__init__(text)

    def with_hint(self, hint: str) -> ExecutionError:
        """The same error, with what to do next said at its end."""
        return ExecutionError(
            self.migration_id,
            self.path,
            self.message,
            statement=self.statement,
            position=self.position,
            statements_done=self.statements_done,
            line=self.line,
            hint=hint,
        )


class LockLostError(MigrationError):
    """The run lock was lost while the run held it: its database session ended (a dropped
    connection, a killed backend, a server timeout) or was replaced by a reconnect."""

    def __init__(self, reason: str, migration_id: str | None = None) -> None:
        self.reason = reason
        self.migration_id = migration_id
        at = f" during migration {migration_id}" if migration_id else ""
        super().__init__(
            f"lost the migration lock{at}: {reason}; the run stopped and applies nothing more "
            "(run migrate again)"
        )


class LockTimeoutError(MigrationError):
    """The migration lock could not be taken within the lock timeout."""

    def __init__(self, timeout: float, holder: str | None = None) -> None:
        self.timeout = timeout
        self.holder = holder
        held = f" (held by {holder})" if holder else ""
        super().__init__(
            f"could not take the migration lock within {timeout:g} s{held}; "
            "another migration run is in progress, or raise --lock-timeout"
        )

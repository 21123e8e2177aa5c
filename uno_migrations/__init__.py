"""uno-migrations: async database migrations on SQLAlchemy Core.

>>> # from uno_migrations import Migrator
>>> # await Migrator("sqlite:///app.db", directories=["migrations"]).migrate()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .exports import lazy_exports

if TYPE_CHECKING:
    from .api import migrate, migrate_sync
    from .errors import (
        ChecksumMismatchError,
        ConfigurationError,
        DatabaseConnectionError,
        DependencyCycleError,
        DiscoveryError,
        DuplicateMigrationError,
        ExecutionError,
        FailedMigrationError,
        InvalidMigrationError,
        IrreversibleMigrationError,
        LockLostError,
        LockTimeoutError,
        MigrationError,
        ParameterError,
        PlanningError,
        SQLScriptError,
        UnknownDependencyError,
        UnknownMigrationError,
    )
    from .files.migration import Migration, MigrationBase, create_migration
    from .files.sources import DirectorySource, MigrationSource
    from .runtime.context import MigrationContext, SQLResult
    from .runtime.migrator import Migrator
    from .runtime.records import AppliedMigration, LogEntry
    from .runtime.report import (
        MigrationEvent,
        MigrationRun,
        MigrationState,
        MigrationStatus,
        Problem,
        RunReport,
    )

# Importing the package must stay cheap (the command line's --help loads it): each public name is
# imported from its module on first use.
_EXPORTS = {
    "AppliedMigration": "runtime.records",
    "ChecksumMismatchError": "errors",
    "ConfigurationError": "errors",
    "DatabaseConnectionError": "errors",
    "DependencyCycleError": "errors",
    "DirectorySource": "files.sources",
    "DiscoveryError": "errors",
    "DuplicateMigrationError": "errors",
    "ExecutionError": "errors",
    "FailedMigrationError": "errors",
    "InvalidMigrationError": "errors",
    "IrreversibleMigrationError": "errors",
    "LockLostError": "errors",
    "LockTimeoutError": "errors",
    "LogEntry": "runtime.records",
    "Migration": "files.migration",
    "MigrationBase": "files.migration",
    "MigrationContext": "runtime.context",
    "MigrationError": "errors",
    "MigrationEvent": "runtime.report",
    "MigrationRun": "runtime.report",
    "MigrationSource": "files.sources",
    "MigrationState": "runtime.report",
    "MigrationStatus": "runtime.report",
    "Migrator": "runtime.migrator",
    "ParameterError": "errors",
    "PlanningError": "errors",
    "Problem": "runtime.report",
    "RunReport": "runtime.report",
    "SQLResult": "runtime.context",
    "SQLScriptError": "errors",
    "UnknownDependencyError": "errors",
    "UnknownMigrationError": "errors",
    "create_migration": "files.migration",
    "migrate": "api",
    "migrate_sync": "api",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__version__ = "0.1.0"

__all__ = [
    "AppliedMigration",
    "ChecksumMismatchError",
    "ConfigurationError",
    "DatabaseConnectionError",
    "DependencyCycleError",
    "DirectorySource",
    "DiscoveryError",
    "DuplicateMigrationError",
    "ExecutionError",
    "FailedMigrationError",
    "InvalidMigrationError",
    "IrreversibleMigrationError",
    "LockLostError",
    "LockTimeoutError",
    "LogEntry",
    "Migration",
    "MigrationBase",
    "MigrationContext",
    "MigrationError",
    "MigrationEvent",
    "MigrationRun",
    "MigrationSource",
    "MigrationState",
    "MigrationStatus",
    "Migrator",
    "ParameterError",
    "PlanningError",
    "Problem",
    "RunReport",
    "SQLResult",
    "SQLScriptError",
    "UnknownDependencyError",
    "UnknownMigrationError",
    "create_migration",
    "migrate",
    "migrate_sync",
]

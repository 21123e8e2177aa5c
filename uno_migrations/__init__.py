"""uno-migrations: async database migrations on SQLAlchemy Core.

>>> # from uno_migrations import Migrator
>>> # await Migrator("sqlite:///app.db", directories=["migrations"]).migrate()
"""

from __future__ import annotations

from .api import migrate, migrate_sync
from .context import MigrationContext, SQLResult
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
    LockTimeoutError,
    MigrationError,
    ParameterError,
    PlanningError,
    SQLScriptError,
    UnknownDependencyError,
    UnknownMigrationError,
)
from .migration import Migration, MigrationBase, MigrationStatus, create_migration
from .report import MigrationEvent, MigrationRun, MigrationState, Problem, RunReport
from .runner import Migrator
from .sources import DirectorySource, MigrationSource
from .version_table import AppliedMigration, LogEntry

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

"""The rows of uno's version tables as Python values, and the values that go into them.

:class:`AppliedMigration` is a row of ``<table>``, :class:`LogEntry` one of ``<table>_log``;
version_table.py reads and writes them.
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..files.migration import MigrationBase

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")

#: What the log records: a migration run (``apply``/``revert``), only recorded (``mark``/``unmark``,
#: with ``--fake``), a ``repair``, or a failed attempt (``fail``).
LogAction = Literal["apply", "revert", "mark", "unmark", "repair", "fail"]
ACTIONS: tuple[LogAction, ...] = get_args(LogAction)


def validate_identifier(value: str, what: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ConfigurationError(
            f"invalid {what} name {value!r}: use letters, digits and '_' (not starting with a digit)"
        )
    return value


def current_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # getuser raises various errors when no user name is set
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def timestamp_of(value: datetime | str | None) -> datetime | None:
    """A timestamp as the driver returns it: SQLite's text, the others' datetime."""
    return aware(datetime.fromisoformat(value) if isinstance(value, str) else value)


def row_of(
    base: MigrationBase, status: str, statements_done: int, at: datetime, execution_ms: int, actor: str
) -> dict[str, Any]:
    """The version-table row of ``base``, keyed by column."""
    return {
        "id": base.id,
        "name": base.name[:255],
        "description": base.description,
        "kind": base.kind,
        "checksum": base.checksum,
        "status": status,
        "statements_done": statements_done,
        "applied_at": at,
        "execution_ms": execution_ms,
        "applied_by": actor[:255],
    }


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


@dataclass(frozen=True)
class AppliedMigration:
    """One row of the version table."""

    id: str
    name: str
    description: str
    kind: str
    checksum: str
    status: str
    statements_done: int
    applied_at: datetime | None
    execution_ms: int
    applied_by: str


@dataclass(frozen=True)
class LogEntry:
    """One row of the log: what happened to which migration, when, by whom."""

    seq: int
    migration_id: str
    action: LogAction
    at: datetime | None
    execution_ms: int | None
    checksum: str | None
    actor: str

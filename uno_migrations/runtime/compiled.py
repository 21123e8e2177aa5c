"""Statements compiled once by SQLAlchemy Core for one dialect and run on the driver itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled once by SQLAlchemy for one dialect, to run on the driver itself.

    ``names`` are the parameters in the order the driver takes them, ``processors`` the bind
    processors of their types (SQLite stores datetimes as text, for instance): what SQLAlchemy
    would do for each execution, done once.
    """

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def compile(cls, statement: Any, dialect: Dialect, keys: Sequence[str] | None = None) -> DriverStatement:
        compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
        names = tuple(compiled.positiontup or ())
        processors = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return cls(compiled.string, names, processors)

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            values[name] if process is None else process(values[name])
            for name, process in zip(self.names, self.processors, strict=True)
        )

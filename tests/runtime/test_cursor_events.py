"""Hooks on cursor events: one SQLAlchemy listener per connection and event, hooks come and go."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from uno_migrations.runtime.cursor_events import add_hook


def test_hooks_are_called_in_order_until_removed() -> None:
    engine = sa.create_engine("sqlite://")
    seen: list[tuple[str, str]] = []
    with engine.connect() as connection:
        first = add_hook(connection, "before_cursor_execute", lambda *a: seen.append(("first", a[2])))
        second = add_hook(connection, "after_cursor_execute", lambda *a: seen.append(("second", a[2])))
        connection.exec_driver_sql("SELECT 1")
        assert seen == [("first", "SELECT 1"), ("second", "SELECT 1")]
        first()
        first()  # a second call does nothing
        connection.exec_driver_sql("SELECT 2")
        assert seen[2:] == [("second", "SELECT 2")]
        second()
        connection.exec_driver_sql("SELECT 3")
        assert len(seen) == 3


def test_one_listener_per_connection_however_many_hooks() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection, engine.connect() as other:
        removers = [add_hook(connection, "after_cursor_execute", lambda *a: None) for _ in range(50)]
        for remove in removers:
            remove()
        calls: list[Any] = []
        add_hook(other, "after_cursor_execute", lambda *a: calls.append(a[2]))
        listeners = connection.dispatch.after_cursor_execute
        assert len(listeners) == 1
        connection.exec_driver_sql("SELECT 1")
        assert calls == []  # hooks belong to their own connection

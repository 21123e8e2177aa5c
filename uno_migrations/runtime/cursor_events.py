"""Hooks on a connection's cursor events, listened to once per connection.

Where DDL commits implicitly (MySQL), a run watches the statements a migration sends: to write
its write-ahead row before the first that commits, and to count those that complete. SQLAlchemy's
``event.listen`` and ``event.remove`` on a connection cost more than most migrations' own
statements, so each connection gets one listener per event, and a migration adds its hook to it
for as long as it runs.

>>> # remove = add_hook(connection, "after_cursor_execute", lambda *args: print("done"))
>>> # ...; remove()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection

Hook = Callable[..., None]
Event = Literal["before_cursor_execute", "after_cursor_execute"]


class _Listener:
    """The one listener of an event on a connection: calls the hooks added, in order."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []

    def __call__(self, *args: Any) -> None:
        for hook in tuple(self.hooks):
            hook(*args)


_listeners: WeakKeyDictionary[Connection, dict[str, _Listener]] = WeakKeyDictionary()


def add_hook(connection: Connection, name: Event, hook: Hook) -> Callable[[], None]:
    """Call ``hook`` with the event's arguments on every ``name`` event of ``connection`` until
    the returned function is called (calling it again does nothing)."""
    listeners = _listeners.setdefault(connection, {})
    listener = listeners.get(name)
    if listener is None:
        listener = listeners[name] = _Listener()
        event.listen(connection, name, listener)
    listener.hooks.append(hook)

    def remove() -> None:
        if hook in listener.hooks:
            listener.hooks.remove(hook)

    return remove

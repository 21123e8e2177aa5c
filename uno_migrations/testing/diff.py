"""What differs between two schema snapshots, one readable line per difference.

Each line names the object from the outside in (``table users: column email: ...``) and says
what happened to it: ``added`` (only in the second snapshot), ``missing`` (only in the first), or
``<attribute> <before> -> <after>``. Lines come in a fixed order: tables, views, enums, then
sequences, each by name; within a table its comment, columns (in the first snapshot's order,
then the added ones), the columns' order, the primary key, foreign keys, unique and check
constraints, then indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .snapshot import Snapshot

Entry = Mapping[str, Any]
Details = Callable[[Entry, Entry], Iterable[str]]


def snapshot_diff(before: Snapshot, after: Snapshot) -> list[str]:
    """How ``after`` differs from ``before``: one line per difference, empty when they are equal.

    >>> before = Snapshot.from_dict({"enums": [{"name": "mood", "labels": ["a", "b"]}]})
    >>> after = Snapshot.from_dict({"enums": [{"name": "mood", "labels": ["a", "b", "c"]}]})
    >>> snapshot_diff(before, after)
    ["enum mood: labels ('a', 'b') -> ('a', 'b', 'c')"]
    """
    lines = [
        *_named("table", before.tables, after.tables, _table_details, _by_name),
        *_named("view", before.views, after.views, _attributes, _by_name),
        *_named("enum", before.enums, after.enums, _attributes, _by_name),
    ]
    old, new = set(before.sequences), set(after.sequences)
    lines += [f"sequence {name}: {'missing' if name in old else 'added'}" for name in sorted(old ^ new)]
    return lines


def _named(
    kind: str,
    before: Sequence[Entry],
    after: Sequence[Entry],
    details: Details,
    label: Callable[[Entry], str],
) -> Iterator[str]:
    """Lines for two lists of one kind of object, matched by ``label``; in label order."""
    old, new = _labelled(before, label), _labelled(after, label)
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            yield f"{kind} {name}: missing"
        elif name not in old:
            yield f"{kind} {name}: added"
        elif old[name] != new[name]:  # equal ones, most of them, have no line to find
            yield from (f"{kind} {name}: {line}" for line in details(old[name], new[name]))


def _table_details(before: Entry, after: Entry) -> Iterator[str]:
    yield from _attributes(before, after, only=("comment",))
    old = _labelled(before.get("columns", ()), _by_name)
    new = _labelled(after.get("columns", ()), _by_name)
    for name, column in old.items():
        if name not in new:
            yield f"column {name}: missing"
        else:
            yield from (f"column {name}: {line}" for line in _attributes(column, new[name]))
    yield from (f"column {name}: added" for name in new if name not in old)
    kept_before = [name for name in old if name in new]
    kept_after = [name for name in new if name in old]
    if kept_before != kept_after:
        yield f"column order {_show(kept_before)} -> {_show(kept_after)}"
    yield from _primary_key(before.get("primary_key"), after.get("primary_key"))
    for key, kind, label in _CONSTRAINTS:
        old_entries, new_entries = before.get(key, ()), after.get(key, ())
        yield from _named(kind, old_entries, new_entries, _attributes, label)


def _primary_key(before: Entry | None, after: Entry | None) -> Iterator[str]:
    if before is None and after is None:
        return
    if after is None:
        yield "primary key: missing"
    elif before is None:
        yield "primary key: added"
    else:
        yield from (f"primary key: {line}" for line in _attributes(before, after))


def _attributes(before: Entry, after: Entry, only: Sequence[str] | None = None) -> Iterator[str]:
    """``<attribute> <before> -> <after>`` for each attribute that differs (``name`` aside), in
    the order ``before`` has them, then those only ``after`` has."""
    keys = only if only is not None else [*before, *(key for key in after if key not in before)]
    for key in keys:
        if key != "name" and before.get(key) != after.get(key):
            yield f"{key.replace('_', ' ')} {_show(before.get(key))} -> {_show(after.get(key))}"


def _labelled(entries: Iterable[Entry], label: Callable[[Entry], str]) -> dict[str, Entry]:
    """``entries`` by label, in their order; a label that repeats gets its place (``#2``)."""
    found: dict[str, Entry] = {}
    for entry in entries:
        name = label(entry)
        count = 1
        while name in found:
            count += 1
            name = f"{label(entry)} #{count}"
        found[name] = entry
    return found


def _by_name(entry: Entry) -> str:
    return str(entry.get("name"))


def _by_columns(entry: Entry) -> str:
    """A constraint by its name, or by its columns when the engine reports it unnamed."""
    name = entry.get("name")
    return str(name) if name else f"({', '.join(str(column) for column in entry.get('columns', ()))})"


def _by_text(entry: Entry) -> str:
    name = entry.get("name")
    return str(name) if name else f"({entry.get('sqltext')})"


_CONSTRAINTS: tuple[tuple[str, str, Callable[[Entry], str]], ...] = (
    ("foreign_keys", "foreign key", _by_columns),
    ("unique_constraints", "unique", _by_columns),
    ("check_constraints", "check", _by_text),
    ("indexes", "index", _by_columns),
)


def _show(value: Any) -> str:
    """A value in a line: ``true``/``false``/``none``, text as it is, a list as a tuple."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return repr(tuple(value))
    return str(value)

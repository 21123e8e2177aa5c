"""The text of ``graph``: the migrations and their declared dependencies as Graphviz DOT or as a
Mermaid flowchart, each node coloured by its state when a database was read.

An edge goes from a dependency to the migration that declares it (a ``dependencies`` header, an
Alembic down revision): versions order the plan but make no edge, since they promise no more than
an order. Nothing here reads files or a database; the command hands over what it found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..files.migration import MigrationBase
    from ..runtime.report import MigrationState

#: The fill and the outline of a node in each state, in the order the classes are written.
STATE_COLOURS = {
    "applied": ("#c8e6c9", "#2e7d32"),
    "pending": ("#fff9c4", "#f9a825"),
    "failed": ("#ffcdd2", "#c62828"),
    "modified": ("#ffe0b2", "#ef6c00"),
    "missing": ("#e1bee7", "#6a1b9a"),
    "invalid": ("#f8bbd0", "#ad1457"),
}
FORMATS = ("dot", "mermaid")


@dataclass(frozen=True)
class Node:
    """One migration: ``state`` is None when no database was read."""

    id: str
    name: str
    kind: str
    state: str | None = None

    @property
    def caption(self) -> str:
        return f"{self.name} ({self.kind})" if self.kind else self.name


@dataclass(frozen=True)
class Graph:
    """The nodes in plan order (then the missing ones) and the edges, (dependency, dependent)."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]


def from_plan(migrations: Iterable[MigrationBase]) -> Graph:
    """The graph of a plan's migrations, read from files only: no states."""
    nodes, edges = [], []
    for base in migrations:
        nodes.append(Node(str(base.id), base.name, base.kind))
        edges += [(dep, str(base.id)) for dep in dict.fromkeys(base.dependencies)]
    return Graph(tuple(nodes), tuple(edges))


def from_states(states: Iterable[MigrationState]) -> Graph:
    """The graph of ``Migrator.status()``: files in plan order, then applied migrations whose file
    is gone (no dependencies are known of those)."""
    nodes, edges = [], []
    for state in states:
        nodes.append(Node(state.id, state.name, state.kind, str(state.status)))
        edges += [(dep, state.id) for dep in dict.fromkeys(state.dependencies)]
    return Graph(tuple(nodes), tuple(edges))


def render(graph: Graph, fmt: str) -> str:
    return dot(graph) if fmt == "dot" else mermaid(graph)


# -- Graphviz ----------------------------------------------------------------------------------


def dot(graph: Graph) -> str:
    """``digraph migrations``, left to right: one boxed node per migration (its id, then its name
    and kind), filled with its state's colour, then the edges."""
    lines = ["digraph migrations {", "  rankdir=LR;", "  node [shape=box];"]
    for node in graph.nodes:
        attributes = [f'label="{_dot_text(node.id)}\\n{_dot_text(node.caption)}"']
        if node.state is not None:
            fill, outline = STATE_COLOURS[node.state]
            attributes += ["style=filled", f'fillcolor="{fill}"', f'color="{outline}"']
        lines.append(f"  {_dot_quoted(node.id)} [{', '.join(attributes)}];")
    lines += [f"  {_dot_quoted(dep)} -> {_dot_quoted(child)};" for dep, child in graph.edges]
    lines.append("}")
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    """``text`` for inside a DOT quoted string: on one line, backslashes and quotes escaped."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _dot_quoted(text: str) -> str:
    return f'"{_dot_text(text)}"'


# -- Mermaid -----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
#: Characters a quoted Mermaid label cannot hold as they are, as Mermaid's entity codes.
_ENTITIES = str.maketrans({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"})


def mermaid(graph: Graph) -> str:
    """``flowchart LR``: one node per migration under a safe identifier, its label quoted; the
    edges; then a ``classDef`` for each state shown and the ``class`` of its nodes."""
    names = mermaid_ids(node.id for node in graph.nodes)
    lines = ["flowchart LR"]
    lines += [
        f'    {names[n.id]}["{_mermaid_text(n.id)}<br>{_mermaid_text(n.caption)}"]' for n in graph.nodes
    ]
    lines += [f"    {names[dep]} --> {names[child]}" for dep, child in graph.edges]
    for state, (fill, outline) in STATE_COLOURS.items():
        members = [names[node.id] for node in graph.nodes if node.state == state]
        if members:
            lines.append(f"    classDef {state} fill:{fill},stroke:{outline},color:#000")
            lines.append(f"    class {','.join(members)} {state}")
    return "\n".join(lines)


def mermaid_ids(ids: Iterable[str]) -> dict[str, str]:
    """A Mermaid identifier for each id: ``m_`` and the id with anything but letters, digits and
    ``_`` made ``_`` (the prefix keeps an id from starting with a digit or reading as a keyword
    or an edge); a suffix ``_2``, ``_3``... tells apart ids that come out alike."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for migration_id in ids:
        base = "m_" + _UNSAFE.sub("_", migration_id)
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        names[migration_id] = name
        taken.add(name)
    return names


def _mermaid_text(text: str) -> str:
    return " ".join(text.split()).translate(_ENTITIES)

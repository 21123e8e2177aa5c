"""The layering docs/architecture.md describes holds: each package imports only the layers below
it (imports made for type checking aside), so there is no import cycle, and no code outside
``dialects/`` names an engine or a driver."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "uno_migrations"

#: Each layer and what it may import (besides itself), from docs/architecture.md, "The layers".
FOUNDATION = {"errors", "urls", "connections", "exports"}
MAY_IMPORT = {
    "errors": set(),
    "exports": set(),
    "connections": set(),
    "sql": {"errors"},
    "dialects": {"errors", "connections", "sql"},
    "urls": {"errors", "connections", "dialects", "sql"},
    "files": FOUNDATION | {"sql", "dialects"},
    "runtime": FOUNDATION | {"sql", "dialects", "files"},
    "api": FOUNDATION | {"sql", "dialects", "files", "runtime"},
    "lint": FOUNDATION | {"sql", "dialects", "files", "runtime"},
    "cli": FOUNDATION | {"sql", "dialects", "files", "runtime", "testing", "lint"},
    "testing": FOUNDATION | {"sql", "dialects", "files", "runtime"},
    "pytest_plugin": FOUNDATION | {"sql", "dialects", "files", "runtime", "testing", "cli"},
    "migration": {"files", "runtime"},  # the seed guide's import path: re-exports only
    "__init__": FOUNDATION | {"api", "files", "runtime"},
    "__main__": {"cli"},
}
ENGINE_NAMES = {"postgresql", "postgres", "mysql", "mariadb", "sqlite"}
DRIVER_NAMES = {"asyncpg", "aiomysql", "aiosqlite", "psycopg2", "psycopg", "pymysql", "pysqlite"}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield ".".join(path.relative_to(PACKAGE).with_suffix("").parts), path


def _layer(module: str) -> str:
    return module.split(".")[0]


def _runtime_imports(tree: ast.Module, module: str) -> Iterator[tuple[int, str]]:
    """The uno_migrations modules ``module`` imports when it runs (not under TYPE_CHECKING)."""
    type_checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    package = module.split(".")[:-1]  # the package a relative import starts from
    for node in ast.walk(tree):
        if id(node) in type_checking or not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            if not target:  # ``from . import x``: x is a module of the package
                target = [node.names[0].name]
        elif node.module and node.module.startswith("uno_migrations."):
            target = node.module.split(".")[1:]
        else:
            continue
        yield node.lineno, target[0]


@pytest.mark.parametrize("module,path", list(_modules()), ids=[m for m, _ in _modules()])
def test_each_layer_imports_only_the_layers_below(module: str, path: Path) -> None:
    layer = _layer(module)
    allowed = MAY_IMPORT[layer] | {layer}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong = [
        f"line {line}: {target}" for line, target in _runtime_imports(tree, module) if target not in allowed
    ]
    assert not wrong, f"{module} imports {', '.join(wrong)}; {layer} may import {sorted(allowed)}"


def _name_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value.lower() in ENGINE_NAMES | DRIVER_NAMES:
                yield node.lineno, node.value


def test_no_engine_or_driver_name_outside_the_adapters() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {value!r}"
        for module, path in _modules()
        if _layer(module) != "dialects"
        for line, value in _name_literals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "engine names outside dialects/: " + "; ".join(found)


def test_alembic_compat_imports_only_the_public_extension_points() -> None:
    """alembic_compat builds on the points docs/architecture.md, "Extension points", lists."""
    public = {
        "uno_migrations",
        "uno_migrations.errors",
        "uno_migrations.exports",
        "uno_migrations.urls",
        "uno_migrations.connections",
        "uno_migrations.files.migration",
        "uno_migrations.files.discovery",
        "uno_migrations.files.loader",
        "uno_migrations.files.sources",
        "uno_migrations.files.templates",
        "uno_migrations.runtime.context",
        "uno_migrations.runtime.cursor_events",
        "uno_migrations.runtime.migrator",
        "uno_migrations.runtime.records",
        "uno_migrations.runtime.report",
        "uno_migrations.runtime.run_session",
    }
    found = set()
    for path in sorted((PACKAGE.parent / "alembic_compat").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("uno_migrations"):
                found.add(node.module)
                for alias in node.names:
                    assert not alias.name.startswith("_"), (
                        f"{path.name} imports private {node.module}.{alias.name}"
                    )
    assert found <= public, f"alembic_compat imports {sorted(found - public)}"


def test_the_unknown_engine_error_is_as_the_page_quotes() -> None:
    from uno_migrations import ConfigurationError
    from uno_migrations.dialects import get_adapter

    with pytest.raises(ConfigurationError) as caught:
        get_adapter("oracle")
    page = " ".join((PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8").split())
    assert f"one line: `{caught.value}`" in page


def test_a_run_has_one_adapter_made_where_its_session_opens() -> None:
    """The run's adapter (which holds its connection's state) is made in run_session.py only;
    the version table works through it (``VersionTable.on``), not through one of its own."""
    makers = {
        str(path.relative_to(PACKAGE))
        for module, path in _modules()
        if _layer(module) == "runtime"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_adapter"
    }
    assert makers == {"runtime/run_session.py"}
    unbound = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for module, path in _modules()
        if _layer(module) == "runtime"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "version_table"
    ]
    assert not unbound, f"the version table used without the run's adapter at {', '.join(unbound)}"

"""Names a package exports from its modules, each imported on first use (PEP 562).

A package's ``__init__`` lists which module defines each name it exports, and takes the
module-level ``__getattr__`` and ``__dir__`` made here, so importing the package imports none of
them: ``uno-migrations --help`` does not import SQLAlchemy, and listing an Alembic versions
directory does not import Alembic.

>>> # __getattr__, __dir__ = lazy_exports(__name__, {"Migrator": "runtime.migrator"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, module_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``module_of[name]`` is the submodule that
    defines ``name``; once imported, a name is kept in the package's namespace."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *module_of])

    return __getattr__, __dir__

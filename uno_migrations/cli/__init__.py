"""The ``uno-migrations`` command line: parse options, call the library, print the result.

``program`` (program.py) is the group and the way every command runs; commands.py holds the
commands, init.py ``init`` (the starter project), drift.py ``diff``, alembic.py those that need the
``alembic`` extra (the ``alembic`` group, ``check`` and ``create --autogenerate``); options.py the
global options and the settings they make (config.py reads the environment and the config file);
output.py prints. Importing this package registers every command.
"""

from __future__ import annotations

from collections.abc import Sequence

# Importing the commands registers them, in the order --help lists them: the alembic group last.
from . import init  # noqa: F401  # isort: skip
from . import commands, drift, lint  # noqa: F401

# isort: split
from . import alembic  # noqa: F401
from .program import PROG_NAME, program

__all__ = ["main", "program"]


def main(args: Sequence[str] | None = None) -> None:
    """The console script ``uno-migrations``."""
    program.main(args=args, prog_name=PROG_NAME)

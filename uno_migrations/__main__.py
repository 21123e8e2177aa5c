"""``python -m uno_migrations``: the same program as the ``uno-migrations`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()

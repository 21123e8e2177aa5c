"""``python -m uno_migrations.cli``: the command line, as the seed guide spells it."""

from . import main

main()

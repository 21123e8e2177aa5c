"""A third-party engine as a package would ship it: ``unopg``, PostgreSQL under another name.

Its SQLAlchemy dialect is asyncpg's PostgreSQL dialect with ``name = "unopg"``; its adapter is
PostgreSQL's under that name. Both are registered only by the entry points of the
``uno_test_unopg`` distribution beside this module (``sqlalchemy.dialects`` and
``uno_migrations.dialects``), found by ``importlib.metadata`` when this directory is on
``sys.path``: nothing registers them in code.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from uno_migrations.dialects.postgresql import PostgreSQLAdapter


class UnoPGDialect(PGDialect_asyncpg):
    name = "unopg"
    supports_statement_cache = True


class UnoPGAdapter(PostgreSQLAdapter):
    name = "unopg"
    aliases = ()
    title = "UnoPG"

"""Running migrations on one connection, through the engine's adapter, into the version tables.

migrator.py is the entry point (:class:`~uno_migrations.Migrator`); run_session.py holds the run's
connection, its lock and its one adapter; executor.py runs each migration (implicit_commits.py is
the protocol for engines whose DDL commits); context.py is what a Python migration is given;
version_table.py and layout.py are uno's own tables; status.py and report.py say what happened.
"""

"""Compatibility with Alembic: running Alembic revisions through uno-migrations.

Installed with the ``alembic`` extra. The core package never imports this one.
"""

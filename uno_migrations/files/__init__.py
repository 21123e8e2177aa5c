"""Migrations as files: what is on disk, read without a database.

discovery.py finds migration files and reads their headers (sql_script.py is the one parser of SQL
headers and sections); loader.py imports a file as a runnable migration (the kinds are in
migration.py); sources.py is where migrations come from; planning.py orders them and picks what a
command runs; templates/ writes new files. SQL text itself is read by :mod:`uno_migrations.sql`,
with the rules of the engine a dialect name picks (its adapter's syntax).
"""

"""Migrations as files: what is on disk, read without a database.

discovery.py finds migration files and reads their headers (sql_script.py is the one parser of SQL
headers and sections, over lexer.py); loader.py imports a file as a runnable migration (the kinds
are in migration.py); sources.py is where migrations come from; planning.py orders them and picks
what a command runs; params.py binds ``$1`` parameters; templates/ writes new files.
"""

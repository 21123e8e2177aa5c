"""SQL text, read by an engine's lexical rules: no database, no files, no engine names.

syntax.py describes an engine's rules as capabilities (:class:`~.syntax.SQLSyntax`, which each
adapter declares); lexer.py turns text into tokens by those rules; splitter.py splits a script
into statements; params.py rewrites ``$1``/``:name`` placeholders for a driver. Both the
migration files (``files/``) and the engine adapters (``dialects/``) read SQL through these.
"""

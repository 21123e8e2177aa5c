"""``migrate`` and ``migrate_sync`` take the keywords of ``Migrator`` and ``Migrator.migrate``,
by name, so a typo is a TypeError at the call and an editor can complete them (docs/getting-started.md,
"Apply them from your application")."""

from __future__ import annotations

import inspect

import pytest

import uno_migrations
from uno_migrations import Migrator


def _keywords(function: object) -> dict[str, object]:
    parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    return {p.name: p.default for p in parameters if p.name not in ("self", "bind", "directories")}


def test_migrate_and_migrate_sync_take_the_migrators_keywords() -> None:
    expected = {**_keywords(Migrator.__init__), **_keywords(Migrator.migrate)}
    assert _keywords(uno_migrations.migrate) == expected
    assert _keywords(uno_migrations.migrate_sync) == expected
    for function in (uno_migrations.migrate, uno_migrations.migrate_sync):
        kinds = {p.kind for n, p in inspect.signature(function).parameters.items() if n in expected}
        assert kinds == {inspect.Parameter.KEYWORD_ONLY}
        assert not any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(function).parameters.values()
        )


def test_a_misspelt_keyword_is_refused_before_anything_runs(tmp_path: object) -> None:
    with pytest.raises(TypeError, match="resum"):
        uno_migrations.migrate_sync("sqlite:///never.db", "migrations", resum=True)  # type: ignore[call-arg]

"""Planning without a database: order, targets, steps, rollback choice, cycles."""

from __future__ import annotations

from pathlib import Path

import pytest

from uno_migrations import (
    DependencyCycleError,
    MigrationBase,
    MigrationError,
    UnknownDependencyError,
    UnknownMigrationError,
)
from uno_migrations.files.planning import order, out_of_order, plan_migrate, plan_rollback


def m(mid: str, *deps: str) -> MigrationBase:
    return MigrationBase(id=mid, name=mid, version=int(mid.split("_")[0]), dependencies=list(deps))


def ids(items: list[MigrationBase]) -> list[str]:
    return [str(x.id) for x in items]


def test_version_order_is_numeric_not_textual() -> None:
    plan = order([m("10_b"), m("9_a"), m("100_c")])
    assert ids(list(plan.migrations)) == ["9_a", "10_b", "100_c"]


def test_same_version_orders_by_id() -> None:
    plan = order([m("5_b"), m("5_a")])
    assert ids(list(plan.migrations)) == ["5_a", "5_b"]


def test_dependency_beats_version() -> None:
    plan = order([m("1_late", "3_first"), m("2_middle"), m("3_first")])
    assert ids(list(plan.migrations)) == ["2_middle", "3_first", "1_late"]


def test_order_is_deterministic_whatever_the_input_order() -> None:
    items = [m("1_a"), m("2_b", "1_a"), m("3_c", "1_a"), m("4_d", "3_c", "2_b")]
    first = ids(list(order(items).migrations))
    assert ids(list(order(list(reversed(items))).migrations)) == first == ["1_a", "2_b", "3_c", "4_d"]


def test_unknown_dependency_names_both_ids() -> None:
    with pytest.raises(UnknownDependencyError) as info:
        order([m("1_a", "0_nope")])
    assert "1_a" in str(info.value) and "0_nope" in str(info.value)


def test_cycle_names_the_ids_around_it() -> None:
    with pytest.raises(DependencyCycleError) as info:
        order([m("1_a", "3_c"), m("2_b", "1_a"), m("3_c", "2_b"), m("4_free")])
    assert info.value.cycle[0] == info.value.cycle[-1]
    assert set(info.value.cycle) == {"1_a", "2_b", "3_c"}


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(DependencyCycleError, match="1_a -> 1_a"):
        order([m("1_a", "1_a")])


def test_migrate_all_target_and_steps() -> None:
    plan = order([m("1_a"), m("2_b"), m("3_c"), m("4_d")])
    assert ids(plan_migrate(plan, ["1_a"])) == ["2_b", "3_c", "4_d"]
    assert ids(plan_migrate(plan, ["1_a"], target="3_c")) == ["2_b", "3_c"]
    assert ids(plan_migrate(plan, [], steps=2)) == ["1_a", "2_b"]
    assert ids(plan_migrate(plan, [], target="3")) == ["1_a", "2_b", "3_c"]


def test_target_prefix_must_be_unique() -> None:
    plan = order([m("10_a"), m("11_b")])
    with pytest.raises(UnknownMigrationError, match="ambiguous"):
        plan_migrate(plan, [], target="1")
    with pytest.raises(UnknownMigrationError, match="unknown"):
        plan_migrate(plan, [], target="12")


@pytest.mark.parametrize("steps", [0, -1])
def test_steps_must_be_positive(steps: int) -> None:
    plan = order([m("1_a")])
    with pytest.raises(MigrationError, match="positive"):
        plan_migrate(plan, [], steps=steps)
    with pytest.raises(MigrationError, match="positive"):
        plan_rollback(plan, ["1_a"], steps=steps)


def test_rollback_steps_target_all() -> None:
    plan = order([m("1_a"), m("2_b"), m("3_c"), m("4_d")])
    applied = ["1_a", "2_b", "3_c", "4_d"]
    assert plan_rollback(plan, applied) == ["4_d"]
    assert plan_rollback(plan, applied, steps=2) == ["4_d", "3_c"]
    assert plan_rollback(plan, applied, target="2_b") == ["4_d", "3_c"]
    assert plan_rollback(plan, applied, everything=True) == ["4_d", "3_c", "2_b", "1_a"]


def test_rollback_steps_follow_apply_order_for_late_merges() -> None:
    plan = order([m("1_a"), m("2_late"), m("3_c")])
    # 2_late was merged from a branch and applied last: it is the most recent one.
    assert plan_rollback(plan, ["1_a", "3_c", "2_late"], steps=1) == ["2_late"]


def test_out_of_order_marks_pending_before_applied() -> None:
    plan = order([m("1_a"), m("2_late"), m("3_c"), m("4_d")])
    assert out_of_order(plan, ["1_a", "3_c"]) == {"2_late"}


@pytest.mark.parametrize(
    "header",
    [
        "/* Needs the users. */\n-- Dependencies: 2_users\n",
        "/*\n * Needs the users.\n */\n\n-- Migration: Posts\n-- note\n-- Dependencies: 2_users\n",
        "-- migrate:up\n/* x */ -- Dependencies: 2_users\n",
    ],
)
def test_plan_from_files_follows_dependencies_after_comments(header: str, tmp_path: Path) -> None:
    """What discovery reads is what the plan orders by: a header after a block comment counts."""
    from uno_migrations.files.discovery import discover

    directory = tmp_path
    (directory / "1_posts.sql").write_text(header + "CREATE TABLE posts (id INTEGER);\n")
    (directory / "2_users.sql").write_text("CREATE TABLE users (id INTEGER);\n")
    for dialect in (None, "postgresql", "mysql", "sqlite"):
        plan = order(discover([directory], dialect))
        assert ids(list(plan.migrations)) == ["2_users", "1_posts"], dialect

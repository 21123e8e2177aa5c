"""Error messages stay one readable line however many migrations they concern."""

from __future__ import annotations

from uno_migrations.errors import ChecksumMismatchError, UnknownMigrationError, some


def test_some_names_at_most_five_then_counts_the_rest() -> None:
    assert some([]) == ""
    assert some(["a"]) == "a"
    assert some(["a", "b", "c", "d", "e"]) == "a, b, c, d, e"
    assert some([str(i) for i in range(300)]) == "0, 1, 2, 3, 4 and 295 more"
    assert some(["a", "b", "c"], limit=2) == "a, b and 1 more"


def test_checksum_mismatch_names_a_few_paths_and_points_to_status() -> None:
    few = ChecksumMismatchError([("1_a", "m/1_a.sql"), ("2_b", "m/2_b.sql")])
    assert str(few) == (
        "applied migrations were modified since they were applied: m/1_a.sql, m/2_b.sql; "
        "restore the files or run 'repair' to accept the new content"
    )
    many = ChecksumMismatchError([(f"{i}_x", f"m/{i}_x.sql") for i in range(1, 301)])
    assert str(many) == (
        "applied migrations were modified since they were applied: m/1_x.sql, m/2_x.sql, m/3_x.sql, "
        "m/4_x.sql, m/5_x.sql and 295 more ('status' lists them all); "
        "restore the files or run 'repair' to accept the new content"
    )
    assert len(many.problems) == 300


def test_an_ambiguous_prefix_names_a_few_matches() -> None:
    error = UnknownMigrationError("1", [f"1{i:03d}_x" for i in range(40)])
    assert (
        str(error) == "ambiguous migration id '1': matches 1000_x, 1001_x, 1002_x, 1003_x, 1004_x and 35 more"
    )
    assert len(error.matches) == 40

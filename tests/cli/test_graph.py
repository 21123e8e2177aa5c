"""``graph``: the migrations and their declared dependencies as Graphviz DOT or a Mermaid flowchart,
coloured by state when a database is given; bad input stops it with one line."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SIMPLE_MIGRATIONS, Cli, TestDatabase, only

from uno_migrations.cli.graph import STATE_COLOURS, Graph, Node, dot, mermaid, mermaid_ids

MakeDir = Callable[..., Path]

SIMPLE_DOT = """\
digraph migrations {
  rankdir=LR;
  node [shape=box];
  "1000_create_users" [label="1000_create_users\\nCreate users (sql)"];
  "1001_add_posts" [label="1001_add_posts\\nAdd posts (python)"];
  "1002_seed_users" [label="1002_seed_users\\nseed users (sql)"];
  "1000_create_users" -> "1001_add_posts";
}
"""
SIMPLE_MERMAID = """\
flowchart LR
    m_1000_create_users["1000_create_users<br>Create users (sql)"]
    m_1001_add_posts["1001_add_posts<br>Add posts (python)"]
    m_1002_seed_users["1002_seed_users<br>seed users (sql)"]
    m_1000_create_users --> m_1001_add_posts
"""
#: Every Mermaid line but the header: a node, an edge, a classDef or a class assignment.
MERMAID_LINE = re.compile(
    r'    (m_\w+\["[^"]*"\]'
    r"|m_\w+ --> m_\w+"
    r"|classDef \w+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#000"
    r"|class m_\w+(,m_\w+)* \w+)"
)
UNREACHABLE = "postgresql://postgres:s3cr3t@127.0.0.1:1/nope"


@pytest.fixture
def project(make_migrations: MakeDir) -> Path:
    return make_migrations(SIMPLE_MIGRATIONS, name="migrations")


def _fill(state: str) -> str:
    fill, outline = STATE_COLOURS[state]
    return f', style=filled, fillcolor="{fill}", color="{outline}"'


def assert_plausible_mermaid(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    wrong = [line for line in lines[1:] if not MERMAID_LINE.fullmatch(line)]
    assert not wrong, wrong
    declared = set(re.findall(r"^    (m_\w+)\[", text, re.M))
    used = set(re.findall(r"\bm_\w+", text))
    assert used == declared, used - declared


# -- files only ----------------------------------------------------------------------------------


def test_dot_is_the_default_and_shows_declared_dependencies_only(cli: Cli, project: Path) -> None:
    result = cli("graph")
    assert result.exit_code == 0, result.output
    assert result.stdout == SIMPLE_DOT  # 1002 follows 1001 by version, with no edge
    assert cli("graph", "--format", "dot").stdout == SIMPLE_DOT


def test_mermaid_flowchart(cli: Cli, project: Path) -> None:
    result = cli("graph", "--format", "mermaid")
    assert result.exit_code == 0, result.output
    assert result.stdout == SIMPLE_MERMAID
    assert_plausible_mermaid(result.stdout)


def test_quiet_prints_nothing(cli: Cli, project: Path) -> None:
    result = cli("graph", "-q")
    assert (result.exit_code, result.output) == (0, "")


def test_a_missing_sqlite_file_is_all_pending_and_not_created(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    result = cli("graph", "-u", "sqlite:///nothing-yet.db")
    assert result.exit_code == 0, result.output
    assert result.stdout.count(_fill("pending")) == 3
    assert not (tmp_path / "nothing-yet.db").exists()


def test_labels_and_ids_are_escaped() -> None:
    graph = Graph(
        (
            Node("1_a-b", 'Say "hi" \\ <b> & #1', "sql", "applied"),
            Node("1_a_b", "Plain", "python", "pending"),
            Node("gone", "Gone", "", "missing"),
        ),
        (("1_a-b", "1_a_b"),),
    )
    assert dot(graph).splitlines()[3] == (
        '  "1_a-b" [label="1_a-b\\nSay \\"hi\\" \\\\ <b> & #1 (sql)"' + _fill("applied") + "];"
    )
    drawn = mermaid(graph)
    assert (
        drawn.splitlines()[1] == '    m_1_a_b["1_a-b<br>Say #quot;hi#quot; \\ #lt;b#gt; #amp; #35;1 (sql)"]'
    )
    assert drawn.splitlines()[2] == '    m_1_a_b_2["1_a_b<br>Plain (python)"]'
    assert drawn.splitlines()[3] == '    m_gone["gone<br>Gone"]'
    assert "    m_1_a_b --> m_1_a_b_2" in drawn
    assert "    class m_gone missing" in drawn
    assert_plausible_mermaid(drawn)


def test_mermaid_ids_never_start_with_a_digit_or_read_as_a_keyword() -> None:
    names = mermaid_ids(["end", "1.2", "1_2", "1_2_2", "x--y"])
    assert names == {"end": "m_end", "1.2": "m_1_2", "1_2": "m_1_2_2", "1_2_2": "m_1_2_2_2", "x--y": "m_x__y"}


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("with_url", [False, True], ids=["files", "database"])
def test_a_cycle_is_refused_with_one_line(cli: Cli, make_migrations: MakeDir, with_url: bool) -> None:
    make_migrations(
        {
            "1_a.sql": "-- Dependencies: 2_b\nSELECT 1;\n",
            "2_b.sql": "-- Dependencies: 1_a\nSELECT 1;\n",
        },
        name="migrations",
    )
    result = cli("graph", *(["-u", "sqlite:///app.db"] if with_url else []))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: dependency cycle: 1_a -> 2_b -> 1_a\n"


def test_an_unknown_dependency_is_refused_with_one_line(cli: Cli, make_migrations: MakeDir) -> None:
    make_migrations({"1_a.sql": "-- Dependencies: 0_nope\nSELECT 1;\n"}, name="migrations")
    result = cli("graph", "--format", "mermaid")
    assert result.exit_code == 1
    assert result.stderr == "error: migration '1_a' depends on unknown migration '0_nope'\n"


def test_an_unknown_format_is_a_usage_error(cli: Cli, project: Path) -> None:
    result = cli("graph", "--format", "svg")
    assert result.exit_code == 2
    assert "Invalid value for '--format': 'svg' is not one of 'dot', 'mermaid'." in result.stderr
    assert result.stdout == ""


def test_an_unreachable_database_is_one_line(cli: Cli, project: Path) -> None:
    result = cli("graph", "-u", UNREACHABLE)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to "), result.stderr
    assert "s3cr3t" not in result.stderr


# -- states from a database ----------------------------------------------------------------------


async def test_nodes_are_coloured_by_state(db: TestDatabase, cli: Cli, project: Path) -> None:
    migrated = await cli.run("-u", db.url, "migrate", "--steps", "2")
    assert migrated.exit_code == 0, migrated.output

    result = await cli.run("-u", db.url, "graph")
    assert result.exit_code == 0, result.output
    applied, pending = _fill("applied"), _fill("pending")
    assert result.stdout == (
        "digraph migrations {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        f'  "1000_create_users" [label="1000_create_users\\nCreate users (sql)"{applied}];\n'
        f'  "1001_add_posts" [label="1001_add_posts\\nAdd posts (python)"{applied}];\n'
        f'  "1002_seed_users" [label="1002_seed_users\\nseed users (sql)"{pending}];\n'
        '  "1000_create_users" -> "1001_add_posts";\n'
        "}\n"
    )

    drawn = await cli.run("graph", "--format", "mermaid", "-u", db.url)
    assert drawn.exit_code == 0, drawn.output
    fill, outline = STATE_COLOURS["applied"]
    later, later_outline = STATE_COLOURS["pending"]
    assert drawn.stdout == SIMPLE_MERMAID + (
        f"    classDef applied fill:{fill},stroke:{outline},color:#000\n"
        "    class m_1000_create_users,m_1001_add_posts applied\n"
        f"    classDef pending fill:{later},stroke:{later_outline},color:#000\n"
        "    class m_1002_seed_users pending\n"
    )
    assert_plausible_mermaid(drawn.stdout)


async def test_a_migration_whose_file_is_gone_is_a_node(db: TestDatabase, cli: Cli, project: Path) -> None:
    assert (await cli.run("-u", db.url, "migrate")).exit_code == 0
    (project / "1002_seed_users.sql").unlink()
    with (project / "1001_add_posts.py").open("a") as changed:
        changed.write("# reviewed\n")

    result = await cli.run("-u", db.url, "graph")
    assert result.exit_code == 0, result.output
    nodes = [line for line in result.stdout.splitlines() if "[label=" in line]
    assert nodes == [
        f'  "1000_create_users" [label="1000_create_users\\nCreate users (sql)"{_fill("applied")}];',
        f'  "1001_add_posts" [label="1001_add_posts\\nAdd posts (python)"{_fill("modified")}];',
        f'  "1002_seed_users" [label="1002_seed_users\\nseed users (sql)"{_fill("missing")}];',
    ]
    assert '  "1000_create_users" -> "1001_add_posts";' in result.stdout

    drawn = await cli.run("-u", db.url, "graph", "--format", "mermaid")
    assert '    m_1002_seed_users["1002_seed_users<br>seed users (sql)"]' in drawn.stdout
    assert "    class m_1002_seed_users missing" in drawn.stdout
    assert "    class m_1001_add_posts modified" in drawn.stdout
    assert_plausible_mermaid(drawn.stdout)


@only("mysql")
async def test_a_failed_migration_is_coloured_failed(
    db: TestDatabase, cli: Cli, make_migrations: MakeDir
) -> None:
    make_migrations(
        {"1_half.sql": "CREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n"},
        name="migrations",
    )
    assert (await cli.run("-u", db.url, "migrate")).exit_code == 1

    result = await cli.run("-u", db.url, "graph")
    assert result.exit_code == 0, result.output
    assert f'  "1_half" [label="1_half\\nhalf (sql)"{_fill("failed")}];' in result.stdout.splitlines()


@pytest.mark.skipif(importlib.util.find_spec("alembic") is None, reason="needs the alembic extra")
def test_alembic_revisions_are_nodes_with_their_down_revisions_as_edges(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for revision, down in (("aa0001", None), ("bb0002", "aa0001")):
        (versions / f"{revision}_step.py").write_text(
            f"revision = {revision!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    result = cli("graph", "--alembic-directory", str(versions))
    assert result.exit_code == 0, result.output
    assert '(alembic)"];' in result.stdout
    assert '  "aa0001" -> "bb0002";' in result.stdout
    assert result.stdout.count(" -> ") == 2  # with 1000 -> 1001 of the directory

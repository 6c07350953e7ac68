"""`rp compare --plain` off a terminal writes its tables without Rich's layout engine (step 11, start-up): the text
must be what Rich prints for the same cells when the width allows."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rpcli.cli.compare import box_table

COLUMNS = [("", False), ("run / reference", False), ("avg perf", True), ("profile", False), ("µ$/query", True)]
ROWS = [["▽", "run-0123456789", "0.6580", "text-gnn(K=2, backend=extractive)", "95.2"],
        ["", "oracle", "0.7574", "", "80.1"],
        ["", "per-task-best (train)", "–", "x", ""]]


def rich_text(title: str, columns, rows) -> str:
    buf = io.StringIO()
    t = Table(title=title)
    for label, right in columns:
        t.add_column(label, justify="right" if right else "left", overflow="fold")
    for r in rows:
        t.add_row(*(Text(v, style="dim italic") for v in r))
    Console(file=buf, highlight=False, width=400).print(t)
    return buf.getvalue()


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], [r[:] for r in ROWS] + [["", "a" * 60, "1", "b", "2"]]])
def test_box_table_is_what_rich_prints(rows):
    title = "leaderboard: standard (embedded demo, 240 test rows)"
    assert box_table(title, COLUMNS, rows) == rich_text(title, COLUMNS, rows)


def test_box_table_changes_with_the_cells():
    assert box_table("t", COLUMNS, ROWS) != box_table("t", COLUMNS, ROWS[:2])
    assert "run-0123456789" in box_table("t", COLUMNS, ROWS)

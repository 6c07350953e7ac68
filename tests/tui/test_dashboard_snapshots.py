"""SVG snapshots of the dashboard on the fixed fixture workspace (pytest-textual-snapshot).

Update only after reading the report: pytest tests/tui --snapshot-update, then review the SVGs in the diff.
"""

from __future__ import annotations

import pytest
from fixture_ws import DATASET, LABEL_DEFAULTS, references, text_gnn_manifest, write_workspace

from rpcli.tui.app import Dashboard
from rpcli.workspace.layout import Workspace

SIZE = (160, 42)


@pytest.fixture
def app(tmp_path):
    ws = Workspace(write_workspace(tmp_path / "fixture-ws"))
    return Dashboard(ws, references(), dataset=DATASET, reload_interval=None, defaults=LABEL_DEFAULTS)


async def _loaded(pilot):
    await pilot.app.workers.wait_for_complete()
    pilot.app.sub_title = "fixture workspace"  # the real path is a tmp dir: keep the snapshot stable
    await pilot.pause()


def test_leaderboard(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded)


def test_leaderboard_newllm(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded, press=["2"])


def test_run_detail(snap_compare, app):
    async def open_run(pilot):
        await _loaded(pilot)
        board = pilot.app.query_one("#board-newllm")
        await pilot.press("2")
        board.move_cursor(row=[str(board.get_row_at(i)[1]) for i in range(board.row_count)].index("run-b000000001"))

    assert snap_compare(app, terminal_size=SIZE, run_before=open_run, press=["enter"])


def test_cost_quality_plot(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded, press=["3"])


def test_task_heatmap(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded, press=["4"])


def test_design_space_pivot(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded, press=["5"])


def test_design_space_pivot_with_text_gnn_backends(snap_compare, tmp_path):
    """Extractive text-gnn runs in their own row, marked not comparable, with "n/c" for the paper values."""
    ws = Workspace(write_workspace(tmp_path / "text-gnn-ws", text_gnn_manifest()))
    app = Dashboard(ws, references(), dataset=DATASET, reload_interval=None, defaults=LABEL_DEFAULTS)
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded, press=["5"])

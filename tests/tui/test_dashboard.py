"""Pilot tests of the dashboard on the fixed fixture workspace: sort, filter, details, tabs, reload, errors."""

from __future__ import annotations

import json

import pytest
from fixture_ws import (DATASET, LABEL_DEFAULTS, manifest, other_data_run, references, text_gnn_manifest,
                        write_workspace)
from textual.widgets import DataTable, TabbedContent

from rpcli.tui.app import Dashboard, FilterInput
from rpcli.tui.screens.run_screen import RunScreen
from rpcli.tui.widgets.heatmap import TaskHeatmap
from rpcli.tui.widgets.leaderboard import LeaderboardTable
from rpcli.tui.widgets.pivot import PivotTable
from rpcli.workspace.layout import Workspace

SIZE = (150, 40)


@pytest.fixture
def ws(tmp_path):
    return Workspace(write_workspace(tmp_path / "fixture-ws"))


def make_app(ws, **kw):
    kw.setdefault("dataset", DATASET)
    kw.setdefault("reload_interval", None)
    kw.setdefault("defaults", LABEL_DEFAULTS)  # as `rp compare` passes the registry's
    return Dashboard(ws, references(), **kw)


async def loaded(app, pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()


def first_cells(table: DataTable, col: int = 1) -> list[str]:
    return [str(table.get_row_at(i)[col]) for i in range(table.row_count)]


async def test_rows_shown_and_sort_keys(ws):
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        board = app.query_one("#board-standard", LeaderboardTable)
        names = first_cells(board)
        assert names[:2] == ["oracle", "oracle-cost-aware"] and "run-a000000001" in names
        assert names.index("run-a000000001") < names.index("per-task-best (train)")  # it beats the baseline
        flag = {n: str(board.get_row_at(i)[0]) for i, n in enumerate(names)}
        assert flag["run-a000000001"] == "" and flag["run-a000000002"] == "▽"
        assert app.sort_key == "avg_performance" and app.sort_reverse
        await pilot.press("s")
        assert (app.sort_key, app.sort_reverse) == ("ci95", True)
        await pilot.press("s")
        assert (app.sort_key, app.sort_reverse) == ("avg_cost_micro", False)  # cheapest first
        assert first_cells(board)[0] == "oracle-cost-aware"
        await pilot.press("S")
        assert app.sort_reverse and first_cells(board)[0] == "best-single (train)"
        for _ in range(3):
            await pilot.press("s")
        assert app.sort_key == "name"  # the standard mode cycles past its last column back to the first
        # clicking a header sorts by it; clicking again flips the direction
        cost = board.ordered_columns[8]
        board.post_message(DataTable.HeaderSelected(board, cost.key, 8, cost.label))
        await pilot.pause()
        assert (app.sort_key, app.sort_reverse) == ("avg_cost_micro", False)
        board.post_message(DataTable.HeaderSelected(board, cost.key, 8, cost.label))
        await pilot.pause()
        assert (app.sort_key, app.sort_reverse) == ("avg_cost_micro", True)


async def test_filter_toggles_and_narrows_every_view(ws):
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        box = app.query_one("#filter", FilterInput)
        assert box.has_class("-hidden")
        await pilot.press("slash")
        assert not box.has_class("-hidden") and box.has_focus
        await pilot.press(*"router:sim")
        await pilot.pause()
        assert app.query == "router:sim"
        board = app.query_one("#board-standard", LeaderboardTable)
        runs = [n for n in first_cells(board) if n.startswith("run-")]
        assert runs == ["run-a000000003", "run-a000000004", "run-a000000005"]
        assert "oracle" in first_cells(board)  # references stay
        assert app.query_one("#heatmap", TaskHeatmap).row_count == 3
        await pilot.press("enter")  # keeps the filter, back to the table
        assert board.has_focus and app.query == "router:sim" and not box.has_class("-hidden")
        await pilot.press("slash")
        assert box.has_focus
        await pilot.press("escape")  # clears and hides
        assert app.query == "" and box.has_class("-hidden")
        assert len([n for n in first_cells(board) if n.startswith("run-")]) == 5


async def test_enter_opens_details_and_escape_closes(ws):
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        board = app.query_one("#board-standard", LeaderboardTable)
        row = first_cells(board).index("run-a000000002")
        board.move_cursor(row=row)
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen) and app.screen.detail["id"] == "run-a000000002"
        assert [x["id"] for x in app.screen.detail["lineage"]] == ["graph-aaaaaaaaaa", "profile-1111111111",
                                                                   "run-a000000002"]
        await pilot.press("s")  # leaderboard keys are off on the run screen
        assert app.sort_key == "avg_performance"
        await pilot.press("escape")
        assert not isinstance(app.screen, RunScreen) and board.has_focus
        # a reference row has no run record: Enter explains it instead
        board.move_cursor(row=0)
        await pilot.press("enter")
        assert not isinstance(app.screen, RunScreen)
        assert any(n.title == "oracle" for n in app._notifications)


async def test_tabs_and_mode(ws):
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tabs = app.query_one("#tabs", TabbedContent)
        assert tabs.active == "standard" and app.mode == "standard"
        await pilot.press("2")
        assert tabs.active == "newllm" and app.mode == "newllm"
        newllm = app.query_one("#board-newllm", LeaderboardTable)
        assert "cold_start_recall" in [c.key.value for c in newllm.ordered_columns]
        assert "cold_start_recall" not in [c.key.value for c in
                                           app.query_one("#board-standard", LeaderboardTable).ordered_columns]
        await pilot.press("5")
        assert tabs.active == "pivot" and app.mode == "newllm"  # the views follow the last leaderboard
        pivot = app.query_one("#pivot-table", PivotTable)
        assert len(pivot.ordered_columns) == 2 + 2  # newllm: no published columns; routers sim, graph
        await pilot.press("m")
        assert app.mode == "standard"
        assert len(pivot.ordered_columns) == 2 + 3 * 2  # sim, mlp, graph, each with its paper column
        await pilot.press("3")
        assert tabs.active == "plot"
        await pilot.press("4")
        assert tabs.active == "tasks" and app.query_one("#heatmap", TaskHeatmap).row_count == 5
        await pilot.press("1")
        assert tabs.active == "standard" and app.mode == "standard"


async def test_reloads_when_the_manifest_changes(ws):
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        board = app.query_one("#board-standard", LeaderboardTable)
        doc = manifest()
        new = json.loads(json.dumps(doc["entries"]["run-a000000003"]))
        new["id"] = "run-a000000009"
        doc["entries"]["run-a000000009"] = new
        write_workspace(ws.root, doc)
        app._reload_if_changed()  # the interval timer's callback
        await loaded(app, pilot)
        assert "run-a000000009" in first_cells(board)
        assert len([r for r in app.references if r["mode"] == "standard"]) == 16  # references kept as given


async def test_runs_on_other_data_are_hidden_with_a_notice(ws):
    doc = manifest()
    doc["entries"]["run-c000000001"] = other_data_run()
    write_workspace(ws.root, doc)
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert "run-c000000001" not in first_cells(app.query_one("#board-standard", LeaderboardTable))
        assert any("other data are hidden" in n.message for n in app._notifications)
    app = make_app(ws, allow_mixed=True)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert "run-c000000001" in first_cells(app.query_one("#board-standard", LeaderboardTable))


async def test_a_broken_manifest_becomes_a_notification(ws):
    (ws.root / "manifest.json").write_text("{oops", encoding="utf-8")
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.is_running
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and errors[0].title == "Workspace" and "cannot read the manifest" in errors[0].message
        board = app.query_one("#board-standard", LeaderboardTable)
        assert board.row_count > 0 and not any(n.startswith("run-") for n in first_cells(board))
        write_workspace(ws.root)  # fixed on disk: the next tick picks it up
        app._reload_if_changed()
        await loaded(app, pilot)
        assert "run-a000000001" in first_cells(board)


async def test_an_empty_workspace_shows_references_and_a_hint(tmp_path):
    app = make_app(Workspace(tmp_path / "nothing-here"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.query_one("#board-standard", LeaderboardTable).row_count == 8
        assert "no runs yet" in str(app.query_one("#status").render())


async def test_a_malformed_run_record_becomes_a_notification(ws):
    doc = manifest()
    del doc["entries"]["run-a000000003"]["id"]
    write_workspace(ws.root, doc)
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.is_running
        assert any(n.severity == "error" and "malformed manifest entry" in n.message for n in app._notifications)


async def test_the_pivot_never_colours_extractive_text_gnn_against_the_paper(ws):
    write_workspace(ws.root, text_gnn_manifest())
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("5")
        table = app.query_one("#pivot-table", PivotTable)
        cols = [c.key.value for c in table.ordered_columns]
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ext = next(r for r in rows if "[extractive]" in str(r[0]))
        assert "not comparable" in str(ext[0])
        # 0.5700 (sim) and 0.6300 (mlp) are above the paper's text-gnn K=2 values, yet neither is green
        assert str(ext[cols.index("ours:sim")]) == "0.5700" and str(ext[cols.index("ours:mlp")]) == "0.6300"
        assert "green" not in str(ext[cols.index("ours:sim")].style) + str(ext[cols.index("ours:mlp")].style)
        assert [str(ext[cols.index(f"paper:{rt}")]) for rt in ("sim", "mlp", "graph")] == ["n/c"] * 3
        llm = next(r for r in rows if "[transformers" in str(r[0]))
        assert str(llm[cols.index("paper:sim")]) == "0.549" and str(llm[cols.index("ours:sim")]) == "0.5400"
        emb = next(r for r in rows if str(r[0]) == "emb-gnn" and str(r[1]) == "2")
        assert "green" in str(emb[cols.index("ours:mlp")].style)  # 0.6301 >= 0.610: comparable rows still are

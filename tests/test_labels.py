"""One results view (rpcli.workspace.labels): a run's label names every option away from its default, the same label
in `rp compare` (--json, --plain), the dashboard and `rp report`; routers and methods in the registry's order.

Unit tests use the registry-shaped defaults of the dashboard fixture (tests/tui/fixture_ws.py); the end-to-end ones
build two real `prior` runs on the tiny dataset that differ only in card_weight.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "tui"))

from fixture_ws import LABEL_DEFAULTS  # noqa: E402
from report_fixture import LABEL_DEFAULTS as REPORT_DEFAULTS  # noqa: E402
from report_fixture import COMMAND, DATASET, manifest as report_manifest, references as report_references  # noqa: E402

from rpcli.cli.main import app  # noqa: E402
from rpcli.workspace import labels as L  # noqa: E402
from rpcli.workspace import report as R  # noqa: E402
from rpcli.workspace.leaderboard import board, cell_text, filter_rows, run_rows  # noqa: E402

PRIOR = {"router": "prior", "mode": "standard", "query_text": "formatted", "seeds": [0], "card_weight": 0.0,
         "ridge": 1.0, "cold_bonus": 0.0, "k": 0}  # the params services/artifacts/routes.py records for `rp route prior`
INDEX = {"id": "profile-i", "kind": "profile", "params": {"method": "index", "mode": "standard", "keep": "candidates",
                                                          "seed": 56}}


# ---------------------------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------------------------

def test_a_run_at_its_defaults_shows_no_options():
    assert L.router_options(PRIOR, LABEL_DEFAULTS) == {}
    assert L.router_label(PRIOR, LABEL_DEFAULTS) == "prior"
    assert L.profile_label(INDEX, LABEL_DEFAULTS) == "index"
    assert L.run_label(PRIOR, INDEX, None, LABEL_DEFAULTS) == "prior / index / -"
    # 0 and 0.0 are the same value; an option a record does not hold (added later) was at its default
    assert L.router_label({**PRIOR, "card_weight": 0}, LABEL_DEFAULTS) == "prior"
    assert L.router_label({"router": "prior", "mode": "standard"}, LABEL_DEFAULTS) == "prior"


def test_every_option_away_from_its_default_is_named_sorted():
    p = {**PRIOR, "card_weight": 1.0}
    assert L.router_label(p, LABEL_DEFAULTS) == "prior(card_weight=1.0)"
    assert L.run_label(p, INDEX, None, LABEL_DEFAULTS) == "prior(card_weight=1.0) / index / -"
    assert L.router_label({**p, "ridge": 10.0}, LABEL_DEFAULTS) == "prior(card_weight=1.0, ridge=10.0)"
    g = {"router": "graph", "mode": "standard", "residual": True, "labels": "scores", "hidden": 256}
    assert L.router_label(g, LABEL_DEFAULTS) == "graph(labels=scores, residual=true)"
    assert L.router_options({**g, "transductive": 0}, LABEL_DEFAULTS)["transductive"] == 0  # 0 is not false
    emb = {"params": {"method": "emb-gnn", "mode": "standard", "keep": "candidates", "K": 3, "norm": "rw",
                      "normalize": False, "self_loops": True, "per_node_mean": False}}
    assert L.profile_label(emb, LABEL_DEFAULTS) == "emb-gnn(K=3, norm=rw, self_loops=true)"


def test_run_keys_follow_the_documented_rule():
    d = LABEL_DEFAULTS
    # seeds: in the run's label only (the report pools seeds; the tables have a seeds column)
    three = {"router": "mlp", "mode": "standard", "query_text": "formatted", "seeds": [0, 1, 2], "epochs": 20}
    assert L.router_label(three, d) == "mlp" and L.run_label(three, INDEX, None, d).startswith("mlp(seeds=0-2) /")
    assert L.run_label({**three, "seeds": [3]}, INDEX, None, d).startswith("mlp(seed=3) /")
    assert L.seeds_options([0, 1, 2, 5, 7, 8]) == {"seeds": "0-2,5,7-8"} and L.seeds_options(None) == {}
    # query_text when not formatted; a reroute always; where it ran, digests and data never
    assert L.router_label({**PRIOR, "query_text": "raw"}, d) == "prior(query_text=raw)"
    rer = {**PRIOR, "rerouted_from": "run-0123456789", "new_models": ["m3"], "device": "cuda:0",
           "train_file_sha256": "f" * 64, "held_out_scores_hidden": 2, "mode": "newllm"}
    assert L.router_label(rer, d) == 'prior(new_models=["m3"], rerouted_from=run-0123456789)'
    # profile keys: keep when not candidates, the generator always (last), digests never
    tg = {"params": {"method": "text-gnn", "mode": "newllm", "keep": "all", "K": 2, "top_k": 5, "score_aware": False,
                     "query_similarity": False, "dedup_domains": False, "prompts_sha256": "9" * 64,
                     "held_out_scores_hidden": 3, "llm": {"backend": "vllm", "model": "Qwen/Q", "sampling": {}}}}
    assert L.profile_label(tg, d) == "text-gnn(K=2, keep=all, backend=vllm, model=Qwen/Q)"
    ext = copy.deepcopy(tg)
    ext["params"].update(keep="candidates", K=4, llm={"backend": "extractive", "model": "encoder:x"})
    assert L.profile_label(ext, d) == "text-gnn(backend=extractive)"  # an extractive "model" is an encoder


def test_without_defaults_every_recorded_option_that_is_on_is_named_and_nothing_crashes():
    # off = false or null; 0 and 0.0 are values like any other
    assert L.router_label({**PRIOR, "card_weight": 1.0, "tune": False, "x": None}) == \
        "prior(card_weight=1.0, cold_bonus=0.0, k=0, ridge=1.0)"
    assert L.router_label({**PRIOR, "card_weight": 1.0}, {"routers": {}}) == L.router_label(
        {**PRIOR, "card_weight": 1.0})  # a router the defaults do not know: the same fallback
    assert L.profile_label({"params": {"method": "emb-gnn", "K": 2, "norm": "sym", "normalize": False}}) == \
        "emb-gnn(K=2, norm=sym)"
    # a key the defaults do not list for a router they know (another version's option) is named
    assert L.router_label({**PRIOR, "shrink": 0.5}, LABEL_DEFAULTS) == "prior(shrink=0.5)"
    assert L.router_label(None) == "?" and L.profile_label(None) == "?" and L.graph_label(None) == "-"
    assert L.run_label({}, None, None) == "? / ? / -"
    assert [r["name"] for r in run_rows(_two_prior_runs(), None)] == [
        "prior(card_weight=0.0, cold_bonus=0.0, k=0, ridge=1.0) / index(seed=56) / -",
        "prior(card_weight=1.0, cold_bonus=0.0, k=0, ridge=1.0) / index(seed=56) / -"]


def test_order_comes_from_the_defaults_and_else_from_the_paper():
    assert L.router_order(LABEL_DEFAULTS) == ("sim", "mlp", "graph", "prior")
    assert L.router_order(None) == ("sim", "mlp", "graph")
    assert L.method_order(None) == ("index", "flat", "text-gnn", "emb-gnn", "trainable")
    assert L.method_order({"method_order": ["b", "a"]}) == ("b", "a")
    assert sorted(["knn", "graph", "sim"], key=lambda r: L.order_key(r, L.router_order(None))) == [
        "sim", "graph", "knn"]
    assert L.router_title("mlp", LABEL_DEFAULTS) == "MLP" and L.router_title("prior", LABEL_DEFAULTS) == "prior"


# ---------------------------------------------------------------------------------------------------------------
# one label in every view (a hand-made manifest shaped like the services' records)
# ---------------------------------------------------------------------------------------------------------------

HASH = "d" * 64


def _two_prior_runs() -> dict:
    def run(rid, card_weight, perf, minute):
        return {"id": rid, "kind": "run", "status": "done", "parents": ["profile-i"], "data_hash": HASH,
                "params": {**PRIOR, "card_weight": card_weight}, "created_at": f"2026-01-01T00:0{minute}:00Z",
                "metrics": {"avg_performance": perf, "avg_cost_micro": 50.0, "avg_cost": 5e-5,
                            "avg_performance_ci95": [perf - 0.04, perf + 0.04]},
                "encoder": {"id": "all-MiniLM-L6-v2-0123456789", "dim": 384}}  # the default encoder: not named
    prof = {**INDEX, "status": "done", "parents": [], "data_hash": HASH}
    return {"schema": 1, "entries": {"profile-i": prof, "run-p000000001": run("run-p000000001", 0.0, 0.55, 1),
                                     "run-p000000002": run("run-p000000002", 1.0, 0.57, 2)}}


def test_two_prior_runs_differing_only_in_card_weight_never_look_alike_in_any_view():
    from rpcli.tui.rows import pivot, run_detail

    doc = _two_prior_runs()
    rows, _ = board([], doc, data_hash=HASH, defaults=LABEL_DEFAULTS)
    by = {r["id"]: r for r in rows}
    a, b = by["run-p000000001"], by["run-p000000002"]
    assert (a["name"], b["name"]) == ("prior / index / -", "prior(card_weight=1.0) / index / -")
    assert (cell_text(a, "router"), cell_text(b, "router")) == ("prior", "prior(card_weight=1.0)")
    assert (a["options"], b["options"]) == ({}, {"card_weight": 1.0})
    assert [r["id"] for r in filter_rows(rows, "router:card_weight")] == ["run-p000000002"]
    # the dashboard: its pivot has a column per router label, its run screen the run's label as its title
    piv = pivot(rows, "standard", defaults=LABEL_DEFAULTS)
    assert piv["routers"] == ["prior", "prior(card_weight=1.0)"]
    assert run_detail(doc, "run-p000000002", LABEL_DEFAULTS)["title"] == "prior(card_weight=1.0) / index / -"
    # the report: its own columns and the same labels
    rep = R.build_report(doc, [], dataset={"name": "x", "root": "x", "hash": HASH}, command="rp report",
                         defaults=LABEL_DEFAULTS)
    std = rep["modes"][0]
    assert std["grid"]["columns"] == ["prior", "prior (card_weight=1.0)"]
    assert {r["id"]: r["label"] for r in std["runs"]} == {a["id"]: a["name"], b["id"]: b["name"]}
    assert [x["name"] for x in std["beyond"]["rows"] if x["kind"] == "ours"] == [a["name"], b["name"]]


def test_the_report_and_the_leaderboard_give_every_run_the_same_label():
    doc = report_manifest()
    rep = R.build_report(doc, report_references(), dataset=DATASET, command=COMMAND, paper=True,
                         defaults=REPORT_DEFAULTS)
    in_report = {r["id"]: (r["label"], r["profile_label"], r["router_label"]) for m in rep["modes"] for r in m["runs"]}
    board_rows = {r["id"]: (r["name"], r["profile_label"], r["router_label"])
                  for r in run_rows(doc, REPORT_DEFAULTS) if r["id"] in in_report}
    assert in_report == board_rows and len(in_report) == 16
    for m in rep["modes"]:  # within a mode (each view is per mode) no two runs look alike
        assert len({r["label"] for r in m["runs"]}) == len(m["runs"])
    assert in_report["run-a000000007"][2] == "graph(residual=true)"
    assert in_report["run-a000000004"][0] == "mlp(seeds=0-2) / emb-gnn / query-task-domain"
    assert in_report["run-a000000013"][1] == "trainable(seed=0)"  # the profile seeds differ: so do the labels
    assert "| run-a000000007 | graph(residual=true) / emb-gnn / query-task-domain |" in R.render_markdown(rep)


# ---------------------------------------------------------------------------------------------------------------
# end to end: two real prior runs on the tiny dataset
# ---------------------------------------------------------------------------------------------------------------

runner = CliRunner()


def rp(tiny, ws, *args):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", *args])


@pytest.fixture(scope="module")
def prior_ws(tmp_path_factory):
    from tiny import write_tiny

    root = tmp_path_factory.mktemp("labels")
    tiny, ws = write_tiny(root / "tiny"), root / "ws"
    pid = rp(tiny, ws, "profile", "index").stdout.strip()
    ids = []
    for extra in ([], ["--card-weight", "1.0"]):
        out = rp(tiny, ws, "route", "prior", "--profile", pid, "--json", *extra)
        assert out.exit_code == 0, out.output
        ids.append(json.loads(out.stdout)["id"])
    return tiny, ws, ids


def test_compare_json_and_plain_name_card_weight(prior_ws):
    tiny, ws, (plain_id, cw_id) = prior_ws
    rows = {r["id"]: r for r in json.loads(rp(tiny, ws, "compare", "--json").stdout) if r["kind"] == "run"}
    # built with --encoder hash:32 (not the default): the encoder is named too
    assert rows[plain_id]["name"] == rows[plain_id]["label"] == "prior(encoder=hash-32) / index / -"
    assert rows[cw_id]["name"] == "prior(card_weight=1.0, encoder=hash-32) / index / -"
    assert (rows[plain_id]["router_label"], rows[cw_id]["router_label"]) == (
        "prior(encoder=hash-32)", "prior(card_weight=1.0, encoder=hash-32)")
    assert rows[cw_id]["options"] == {"card_weight": 1.0, "encoder": "hash-32"}
    assert rows[plain_id]["options"] == {"encoder": "hash-32"}
    text = rp(tiny, ws, "compare", "--plain", "--mode", "standard").stdout
    cells = {line.split("│")[2].strip(): line.split("│")[5].strip() for line in text.splitlines()
             if line.startswith("│") and "run-" in line}
    assert cells == {plain_id: "prior(encoder=hash-32)", cw_id: "prior(card_weight=1.0, encoder=hash-32)"}


def test_report_gives_the_runs_the_leaderboards_labels(prior_ws):
    tiny, ws, (plain_id, cw_id) = prior_ws
    names = {r["id"]: r["name"] for r in json.loads(rp(tiny, ws, "compare", "--json").stdout) if r["kind"] == "run"}
    out = rp(tiny, ws, "report", "--format", "json")
    assert out.exit_code == 0, out.output
    std = next(m for m in json.loads(out.stdout)["modes"] if m["mode"] == "standard")
    assert {r["id"]: r["label"] for r in std["runs"]} == names
    assert sorted(std["grid"]["columns"]) == ["prior (card_weight=1.0, encoder=hash-32)", "prior (encoder=hash-32)"]


async def test_the_dashboard_rp_compare_opens_shows_both_labels(prior_ws, monkeypatch):
    import rpcli.cli.compare
    from rpcli.tui.app import Dashboard
    from rpcli.tui.widgets.leaderboard import LeaderboardTable

    tiny, ws, (plain_id, cw_id) = prior_ws
    opened = []
    monkeypatch.setattr(rpcli.cli.compare, "_stdout_is_terminal", lambda: True)
    monkeypatch.setattr(Dashboard, "run", lambda self: opened.append(self))
    assert rp(tiny, ws, "compare").exit_code == 0
    dash = opened[0]
    assert dash.defaults["routers"]["prior"]["card_weight"] == 0.0  # the registry's, handed over as plain data
    dash.reload_interval = None
    async with dash.run_test(size=(160, 40)) as pilot:
        await dash.workers.wait_for_complete()
        await pilot.pause()
        table = dash.query_one("#board-standard", LeaderboardTable)
        cols = [str(c.label) for c in table.columns.values()]
        got = {str(table.get_row_at(i)[cols.index("run / reference")]): str(table.get_row_at(i)[cols.index("router")])
               for i in range(table.row_count)}
    assert got[plain_id] == "prior(encoder=hash-32)" and got[cw_id] == "prior(card_weight=1.0, encoder=hash-32)"


def test_runs_that_differ_only_in_their_encoder_never_look_alike():
    from rpcli.workspace.leaderboard import run_row

    def run(rid, enc):
        return {"id": rid, "kind": "run", "status": "done", "parents": [],
                "params": {"router": "knn", "mode": "standard", "seeds": [0]},
                "encoder": {"id": enc, "kind": "x"} if enc else None, "metrics": {}}

    rows = {rid: run_row(run(rid, enc), {}, LABEL_DEFAULTS)
            for rid, enc in (("run-a", "all-MiniLM-L6-v2-8f41b9033a"), ("run-b", "all-MiniLM-L6-v2-static-d6a10c6898"),
                             ("run-c", "hash-64"), ("run-d", None))}
    assert rows["run-a"]["router_label"] == "knn" == rows["run-d"]["router_label"]  # the default, or none used
    assert rows["run-b"]["router_label"] == "knn(encoder=all-MiniLM-L6-v2-static-d6a10c6898)"
    assert rows["run-c"]["router_label"] == "knn(encoder=hash-64)" and "encoder=hash-64" in rows["run-c"]["label"]
    assert rows["run-c"]["options"] == {"encoder": "hash-64"}
    assert len({r["label"] for r in rows.values()}) == 3  # a and d alike (same encoder or none), b and c distinct

"""The dashboard's plain data (rpcli.tui.rows, rpcli.workspace.leaderboard): no Textual needed."""

from __future__ import annotations

import csv
import io

import pytest
from fixture_ws import (DATA_HASH, DATASET, LABEL_DEFAULTS, OTHER_HASH, manifest, other_data_run, references,
                        text_gnn_manifest)

from rpcli.workspace import paper
from rpcli.tui.rows import cost_quality, heat_color, pivot, run_detail, task_heatmap, view_rows
from rpcli.workspace.leaderboard import (board, cell_text, filter_rows, pareto_front, profile_label, rows_to_csv,
                                         run_rows, select_comparable, sort_rows_by)


@pytest.fixture
def rows():
    r, notice = board(references(), manifest(), data_hash=DATA_HASH, defaults=LABEL_DEFAULTS)  # as rp compare does
    assert notice is None
    return r


def test_run_rows_keep_the_json_fields_and_add_design_fields():
    runs = {r["id"]: r for r in run_rows(manifest())}
    r = runs["run-a000000002"]
    for k in ("kind", "name", "mode", "avg_performance", "avg_cost", "id", "graph", "profile", "router"):
        assert k in r
    assert (r["graph"], r["profile"], r["router"]) == ("graph-aaaaaaaaaa", "profile-1111111111", "mlp")
    assert (r["profile_method"], r["hops"], r["n_seeds"], r["avg_performance_sd"]) == ("emb-gnn", 2, 3, 0.004)
    assert runs["run-a000000005"]["hops"] == 0 and runs["run-a000000005"]["graph"] is None  # index: no graph
    assert runs["run-a000000001"]["hops"] == 3  # trainable: layers
    assert runs["run-b000000001"]["cold_start_recall_denominator"] == 328


def test_runs_below_the_per_task_best_are_flagged(rows):
    flags = {r["id"]: r["beats_per_task_best"] for r in rows if r["kind"] == "run"}
    assert flags == {"run-a000000001": True, "run-a000000002": False, "run-a000000003": False,
                     "run-a000000004": False, "run-a000000005": False, "run-b000000001": False,
                     "run-b000000002": False}


def test_runs_on_other_data_are_held_back_unless_mixed_is_allowed():
    doc = manifest()
    doc["entries"]["run-c000000001"] = other_data_run()
    rows, notice = board(references(), doc, data_hash=DATA_HASH)
    assert "run-c000000001" not in {r.get("id") for r in rows}
    assert notice.startswith("1 run(s) evaluated on other data are hidden")
    rows, notice = board(references(), doc, data_hash=DATA_HASH, allow_mixed=True)
    assert "run-c000000001" in {r.get("id") for r in rows} and "2 datasets" in notice
    # Without a dataset to anchor them, runs from several datasets are not ranked at all.
    kept, notice = select_comparable(run_rows(doc), None, False)
    assert kept == [] and "2 different datasets" in notice
    kept, notice = select_comparable([r for r in run_rows(doc) if r["data_hash"] == OTHER_HASH], None, False)
    assert len(kept) == 1 and notice is None


def test_sort_puts_missing_values_last_in_both_directions(rows):
    std = [r for r in rows if r["mode"] == "standard" and r["kind"] != "single"]
    down = sort_rows_by(std, "gap_closed", reverse=True)
    up = sort_rows_by(std, "gap_closed", reverse=False)
    assert down[0]["id"] == "run-a000000001" and up[0]["id"] == "run-a000000005"
    assert all(r["kind"] != "run" for r in down[5:]) and all(r["kind"] != "run" for r in up[5:])
    names = [cell_text(r, "name") for r in sort_rows_by(std, "name")]
    assert names == sorted(names)


def test_filter_narrows_runs_and_keeps_references(rows):
    std = [r for r in rows if r["mode"] == "standard"]
    kept = filter_rows(std, "router:sim")
    assert {r["id"] for r in kept if r["kind"] == "run"} == {"run-a000000003", "run-a000000004", "run-a000000005"}
    assert sum(r["kind"] != "run" for r in kept) == sum(r["kind"] != "run" for r in std)
    assert {r["id"] for r in filter_rows(std, "router:sim graph:query") if r["kind"] == "run"} == {"run-a000000003"}
    assert {r["id"] for r in filter_rows(std, "TRAINABLE") if r["kind"] == "run"} == {"run-a000000001"}
    assert {r["id"] for r in filter_rows(std, "method:index") if r["kind"] == "run"} == {"run-a000000005"}
    assert filter_rows(std, "") == std


def test_view_rows_hides_single_models_unless_asked(rows):
    assert not any(r["kind"] == "single" for r in view_rows(rows, "standard"))
    assert sum(r["kind"] == "single" for r in view_rows(rows, "standard", show_singles=True)) == 8
    v = view_rows(rows, "standard")
    assert [cell_text(r, "name") for r in v[:3]] == ["oracle", "oracle-cost-aware", "per-task-oracle (test)"]


def test_cells_format_sd_ci_and_cold_start(rows):
    by = {r.get("id") or r["name"]: r for r in rows if r["mode"] == "newllm" or r["kind"] == "run"}
    assert cell_text(by["run-a000000002"], "avg_performance") == "0.6301 ±0.004"
    assert cell_text(by["run-a000000003"], "avg_performance") == "0.5612"  # one seed: no sd
    assert cell_text(by["run-a000000002"], "ci95") == ""  # several seeds: mean ± sd, no single-seed CI
    assert cell_text(by["run-b000000001"], "cold_start_recall") == "0.552 (181/328)"
    assert cell_text(by["run-a000000005"], "graph") == "-"
    oracle = next(r for r in rows if r["name"] == "oracle")
    assert (cell_text(oracle, "router"), cell_text(oracle, "gap_closed")) == ("ref", "")


def test_is_released_by_name_or_candidates():
    assert paper.is_released(DATASET)
    assert paper.is_released({"name": "copy", "candidates": list(paper.RELEASED_CANDIDATES)})
    assert not paper.is_released({"name": "tiny", "candidates": ["m1", "m2", "m3"]})
    assert not paper.is_released(None)


def test_pivot_puts_published_values_beside_ours(rows):
    p = pivot(rows, "standard", released=True)
    assert p["paper"] and p["routers"] == ["sim", "mlp", "graph"]
    by = {(r["method"], r["hops"]): r for r in p["rows"]}
    emb2 = by[("emb-gnn", 2)]
    # two sim runs on emb-gnn K=2 (two graphs): the cell keeps the best and counts both
    assert emb2["cells"]["sim"] == {"value": 0.5612, "n": 2, "id": "run-a000000003"}
    assert emb2["cells"]["mlp"]["value"] == 0.6301
    assert emb2["paper"] == {"sim": 0.560, "mlp": 0.610, "graph": 0.610}
    assert by[("trainable", 3)]["cells"]["graph"]["value"] == 0.6580
    assert by[("text-gnn", 4)]["cells"] == {} and by[("text-gnn", 4)]["paper"]["sim"] == 0.580
    assert [k for k in by][:2] == [("index", 0), ("flat", 0)]
    assert "published" in p["note"]
    newllm = pivot(rows, "newllm", released=True)
    assert not newllm["paper"] and [(r["method"], r["hops"]) for r in newllm["rows"]] == [("emb-gnn", 2),
                                                                                          ("trainable", 3)]
    assert not pivot(rows, "standard", released=False)["paper"]
    assert {r["method"] for r in pivot(rows, "standard", released=False, query="router:mlp")["rows"]} == {"emb-gnn"}


def test_pareto_front():
    assert pareto_front([(10, 0.5), (20, 0.4), (30, 0.7), (5, 0.3), (30, 0.6)]) == [(5, 0.3), (10, 0.5), (30, 0.7)]
    assert pareto_front([]) == []


def test_cost_quality_series(rows):
    d = cost_quality(rows, manifest(), "standard")
    assert [r["n"] for r in d["runs"]] == [1, 2, 3, 4, 5]
    assert d["runs"][0]["point"] == (95.2, 0.658)
    assert d["runs"][0]["curve"][0] == pytest.approx((16.5, 0.5))  # $ -> µ$, sorted by cost
    assert len(d["singles"]) == 8 and {o["name"] for o in d["oracles"]} == {"oracle", "oracle-cost-aware"}
    front = d["front"]
    assert front[0] == (15.6, 0.4898) and front[-1] == (95.2, 0.658)
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in zip(front, front[1:]))
    assert [r["n"] for r in cost_quality(rows, manifest(), "standard", "router:sim")["runs"]] == [1, 2, 3]


def test_task_heatmap_and_colours(rows):
    h = task_heatmap(rows, manifest(), "standard")
    assert h["tasks"] == ["gsm8k", "human_eval", "mmlu", "trivia_qa"]
    assert [r["id"] for r in h["rows"]][0] == "run-a000000001"
    lo, hi = h["range"]["gsm8k"]
    assert (lo, hi) == (0.499, 0.778)
    assert heat_color(lo, lo, hi) == "#962828" and heat_color(hi, lo, hi) == "#1e7832"
    assert heat_color(0.5, 0.5, 0.5) == "#4a4a4a" and heat_color(None, 0, 1) is None


def test_run_detail_lineage_and_newllm():
    d = run_detail(manifest(), "run-b000000001", LABEL_DEFAULTS)
    assert [x["id"] for x in d["lineage"]] == ["graph-cccccccccc", "profile-6666666666", "run-b000000001"]
    assert d["lineage"][1]["label"] == "trainable(layers=3) (newllm)"
    assert [t["task"] for t in d["per_task"]] == ["gsm8k", "human_eval", "mmlu", "trivia_qa"]
    assert d["per_task"][0]["avg_cost_micro"] == pytest.approx(98.4)
    assert d["selection_share"][0][0] == "mistral-small-24b-instruct-2501-bf16"
    assert dict(d["newllm"])["cold-start recall"] == "0.552  (181/328)"
    assert set(d["params"]) == {"run", "profile", "graph"}
    assert ("git commit", "4bbc95de45cf") in d["provenance"]
    idx = run_detail(manifest(), "run-a000000005")
    assert [x["kind"] for x in idx["lineage"]] == ["profile", "run"] and not idx["newllm"]
    with pytest.raises(KeyError):
        run_detail(manifest(), "run-ffffffffff")


def test_csv_has_one_line_per_row_and_exact_floats(rows):
    text = rows_to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(rows)
    r = next(x for x in parsed if x["id"] == "run-a000000002")
    assert (r["seeds"], r["avg_performance"], r["ci95_low"], r["beats_per_task_best"]) == ("0;1;2", "0.6301",
                                                                                           "", "false")
    oracle = next(x for x in parsed if x["name"] == "oracle")
    assert oracle["id"] == "" and oracle["beats_per_task_best"] == ""


QWEN = "Qwen2.5-7B-Instruct-3f9a1c2b7d"


def test_text_gnn_labels_name_the_backend_and_the_llm():
    runs = {r["id"]: r for r in run_rows(text_gnn_manifest(), LABEL_DEFAULTS)}
    ext, llm = runs["run-d000000001"], runs["run-d000000002"]
    assert ext["profile_label"] == "text-gnn(K=2, backend=extractive)"  # the extractive "model" is an encoder
    assert (ext["backend"], ext["llm_model"]) == ("extractive", None)
    assert llm["profile_label"] == f"text-gnn(K=2, backend=transformers, model={QWEN})"
    assert (llm["backend"], llm["llm_model"]) == ("transformers", QWEN)
    assert llm["name"] == f"sim / text-gnn(K=2, backend=transformers, model={QWEN}) / query-task-domain"
    assert (runs["run-a000000003"]["backend"], runs["run-a000000003"]["llm_model"]) == (None, None)  # emb-gnn
    # K = 0 runs no generator: no backend, and the K stays in the label (it is not a "false" flag)
    assert profile_label({"params": {"method": "text-gnn", "K": 0, "llm": None}}) == "text-gnn(K=0)"
    rows, _ = board(references(), text_gnn_manifest(), data_hash=DATA_HASH)
    assert {r["id"] for r in filter_rows(rows, "backend:extractive") if r["kind"] == "run"} == {"run-d000000001",
                                                                                               "run-d000000003"}
    assert {r["id"] for r in filter_rows(rows, "backend:qwen") if r["kind"] == "run"} == {"run-d000000002"}


def test_pivot_keeps_extractive_text_gnn_apart_from_the_paper():
    rows, _ = board(references(), text_gnn_manifest(), data_hash=DATA_HASH)
    p = pivot(rows, "standard", released=True)
    tg = [r for r in p["rows"] if r["method"] == "text-gnn"]
    # the LLM row (hops 2) carries the published values; the extractive row comes after every comparable row
    assert [(r["hops"], r["backend"], r["comparable"]) for r in tg] == [
        (1, None, True), (2, f"transformers model={QWEN}", True), (3, None, True), (4, None, True),
        (2, "extractive", False)]
    llm, ext = tg[1], tg[4]
    assert llm["cells"] == {"sim": {"value": 0.54, "n": 1, "id": "run-d000000002"}}
    assert llm["paper"] == paper.TABLE1[("text-gnn", 2)]
    assert ext["cells"]["sim"]["id"] == "run-d000000001" and ext["cells"]["mlp"]["value"] == 0.63
    assert ext["paper"] == {} and "no LLM text, not comparable" in ext["label"]
    assert "extractive" in p["note"]
    # no cell that sits beside a published value holds an extractive run
    ext_ids = {"run-d000000001", "run-d000000003"}
    assert not any(c["id"] in ext_ids for r in p["rows"] if r["paper"] for c in r["cells"].values())

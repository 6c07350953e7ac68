"""MLPRouter and GraphRouter on the tiny dataset, the training signal (labels, held-out guard), query templates,
the cost-quality curve every router gets, checkpoints and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rpcli.core.routers.query_text import format_query, query_text
from rpcli.core.routers.training import from_pairs, from_score_rows, labels_from_pairs, split_queries
from rpcli.errors import TrainingDataError

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routeprofile"

# Small and fast, yet learned reliably on the tiny data (checked over 10 seeds). The faithful GraphRouter (no
# residual) does not learn it: the messages of the models wash out each query's own features (see graph.py).
MLP_FAST = {"epochs": 60, "lr": 1e-2, "hidden": 32, "out": 16, "patience": 0, "val_split": 0.0}
GRAPH_FAST = {"epochs": 60, "lr": 1e-2, "hidden": 32, "heads": 2, "residual": True}
KEYWORDS = {t: " ".join([k] * 3) for t, k in {"t_math": "arithmetic sum numbers", "t_code": "python code function",
                                                "t_qa": "trivia fact history"}.items()}


# tiny models: one intra-op thread is faster (and immune to a busy machine); the fixture is in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _with_keywords(files: dict) -> None:
    """Give every query of a task the same leading words, so a query encoder can tell the tasks apart."""
    for r in files["route_data/routing_test_data.json"]:
        r["query"] = f"{KEYWORDS[r['task_name']]} {r['query']}"
        r.pop("formatted_query", None)
    for mode in ("standard", "newllm"):
        for p in files[f"route_data/pairwise_training_data_{mode}.json"]["pairwise_data"]:
            p["query"] = f"{KEYWORDS[p['task_name']]} {p['query']}"
    for r in files["route_data/default_query_train.jsonl"]:
        r["query"] = f"{KEYWORDS[r['task_name']]} {r['query']}"


@pytest.fixture
def kw_sess(tmp_path, make_tiny):
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    return Session(workspace=Workspace(tmp_path / "ws_kw"), data_root=make_tiny(_with_keywords),
                   encoder_spec="hash:32")


def _profile(sess, mode="standard"):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "index", mode, {"seed": 56}).entry["id"]


def _preds(sess, run, seed=None):
    name = "predictions.jsonl" if seed is None else f"predictions.seed{seed}.jsonl"
    path = sess.workspace.artifact_dir(run["id"]) / name
    return [json.loads(x) for x in path.read_text().splitlines()]


# ------------------------------------------------------------------------------------------------------------
# query templates
# ------------------------------------------------------------------------------------------------------------


class Row:
    def __init__(self, task_name, query, choices=None, formatted_query=None):
        self.task_name, self.query, self.choices, self.formatted_query = task_name, query, choices, formatted_query


def test_templates_on_hand_made_rows():
    mmlu = query_text(Row("mmlu", "Pick one", "['x.', 'y.']"))
    assert mmlu.startswith("Answer the following multiple-choice question")
    assert mmlu.endswith("\n\n## Question:\nPick one\n\n## Options:\nA. x.\nB. y.\n")
    csqa = format_query("commonsense_qa", "Where?", "{'label': ['A', 'B'], 'text': ['home', 'work']}")
    assert csqa["user"] == "Question: Where?\n\n(A) home\n(B) work"
    arc = format_query("arc_challenge", "Why?", {"text": ["a", "b"], "label": ["1", "2"]})
    assert arc["user"] == "Question: Why?\n\n(1) a\n(2) b"
    assert format_query("gsm8k", "2+2?", None) == {"system": "Answer the following math question step by step.\n",
                                                   "user": "Question: 2+2?"}
    mbpp = format_query("mbpp", "Write f.", "['assert f(1) == 1', 'assert f(2) == 2']")
    assert mbpp["user"] == "Task: Write f.\n\nYour code should pass these tests:\n\nassert f(1) == 1\nassert f(2) == 2"
    assert "[BEGIN]" in mbpp["system"]
    he = query_text(Row("human_eval", "def f():\n"))
    assert "function body only" in he and he.endswith("Complete the following function:\n\ndef f():\n")
    assert query_text(Row("natural_qa", "who?")) == "who?"
    assert query_text(Row("commongen", "dog, run")) == "dog, run"  # no template: the raw query
    assert query_text(Row("mmlu", "Pick one", "not a literal [")) == "Pick one"  # unfillable: the raw query
    # the row's own formatted_query wins; raw ignores everything
    own = Row("mmlu", "Pick one", "['x.']", {"system": "S\n", "user": "U"})
    assert query_text(own) == "S\n\nU" and query_text(own, "raw") == "Pick one"
    # training pairs (no formatted_query) get the same text as a test row with the same fields
    assert query_text(Row("gsm8k", "2+2?")) == query_text(Row("gsm8k", "2+2?", None, format_query("gsm8k", "2+2?")))
    with pytest.raises(ValueError):
        query_text(own, "fancy")


def test_templates_reproduce_the_released_formatted_queries():
    if not REAL_DATA.is_dir():
        pytest.skip("the released dataset is absent")
    from rpcli.core.data import load_dataset
    from rpcli.core.routers.query_text import join_prompt

    ds = load_dataset(REAL_DATA)
    rows = [r for r in ds.test_rows if r.formatted_query]
    assert len(rows) == 450
    for r in rows:
        fq = format_query(r.task_name, r.query, r.choices)
        assert fq is not None and fq["user"] == r.formatted_query["user"], r.task_name
        assert join_prompt(fq) == join_prompt(r.formatted_query)


# ------------------------------------------------------------------------------------------------------------
# training signal
# ------------------------------------------------------------------------------------------------------------


def test_labels_from_pairs_by_hand():
    models = ["a", "b", "c", "d", "e"]
    lab = labels_from_pairs([("a", "b"), ("a", "c"), ("b", "c"), ("d", "c")], models)
    # a and d are never beaten and beat someone (the tied top); b and c are beaten; e is never mentioned
    np.testing.assert_array_equal(lab[:4], [1, 0, 0, 1])
    assert np.isnan(lab[4])
    # a cycle leaves no top: every mentioned model is beaten
    cyc = labels_from_pairs([("a", "b"), ("b", "a")], models)
    np.testing.assert_array_equal(cyc[:2], [0, 0])
    assert np.isnan(cyc[2:]).all()


def test_training_signal_of_the_tiny_data(sess):
    from rpcli.core.routers.training import TrainingSignal  # noqa: F401

    md = sess.dataset.mode("standard")
    sig = from_pairs(md.pairs, ["m1", "m2", "m3"], md.held_out, "standard", "formatted")
    # 9 training queries minus the one that is also a test query; each winner beats the two others
    assert len(sig) == 8 and sig.pairs.shape == (16, 3)
    for t, lab in zip(sig.tasks, sig.labels):
        winner = {"t_math": 0, "t_code": 1, "t_qa": 2}[t]
        assert lab[winner] == 1 and np.nansum(lab) == 1 and not np.isnan(lab).any()
    nl = sess.dataset.mode("newllm")
    sig_n = from_pairs(nl.pairs, ["m1", "m2", "m3"], nl.held_out, "newllm", "formatted")
    assert nl.held_out == ["m3"] and np.isnan(sig_n.labels[:, 2]).all()
    # qa queries lost their winner (m3): their two remaining models were never compared
    assert set(sig_n.tasks) == {"t_math", "t_code"}


def test_score_rows_drop_held_out_models_and_flat_rows():
    class R:
        def __init__(self, q, scores):
            self.task_name, self.query, self.choices, self.formatted_query, self.scores = "t", q, None, None, scores

    rows = [R("q1", {"a": 1.0, "b": 0.0, "n": 1.0}), R("q2", {"a": 0.5, "b": 0.5, "n": 1.0}),
            R("q3", {"a": 0.2, "b": 0.7, "n": 0.0}), R("test", {"a": 1.0, "b": 0.0, "n": 0.0})]
    sig = from_score_rows(rows, ["a", "b", "n"], ["n"], "newllm", "raw", exclude_queries={"test"})
    assert sig.queries == ["q1", "q3"]  # q2 is flat once n is removed; "test" is a test query
    np.testing.assert_array_equal(sig.labels[:, :2], [[1, 0], [0, 1]])
    assert np.isnan(sig.labels[:, 2]).all() and np.isnan(sig.quality[:, 2]).all()
    np.testing.assert_array_equal(sig.quality[:, :2], [[1.0, 0.0], [0.2, 0.7]])


def test_split_is_by_query_and_seeded():
    tr, va = split_queries(20, 0.1, 3)
    assert len(va) == 2 and len(tr) == 18 and not set(tr) & set(va)
    assert np.array_equal(split_queries(20, 0.1, 3)[1], va)
    assert len(split_queries(1, 0.1, 0)[1]) == 0 and len(split_queries(2, 0.1, 0)[1]) == 1


@pytest.mark.parametrize("router", ["mlp", "graph", "sim"])
def test_held_out_guard_fires(make_tiny, tmp_path, router):
    """A dataset written to disk whose newllm pairs name the held-out model m3 (loaded the normal way): every router
    stops with an error naming m3 and the pairs file, and nothing is recorded."""
    from rpcli.errors import DataFileError
    from rpcli.services.base import Session
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace

    def add(f):
        f["route_data/pairwise_training_data_newllm.json"]["pairwise_data"].append(
            {"task_name": "t_qa", "query": "who painted the mona lisa", "better_model": "m3", "worse_model": "m1"})

    ws = tmp_path / "wsg"
    s = Session(workspace=Workspace(ws), data_root=make_tiny(add), encoder_spec="hash:32")
    with pytest.raises(DataFileError, match="held-out model 'm3'") as exc:
        run_router_entry(s, router, "profile-x", "newllm", {"epochs": 1} if router != "sim" else {})
    assert exc.value.path.endswith("pairwise_training_data_newllm.json") and exc.value.field == "better_model"
    assert not ws.exists()


def test_router_signal_guard_refuses_named_held_out_models():
    """The router-level check (defence in depth behind the loader): pairs or score labels naming a held-out model."""
    from rpcli.core.data.schema import Pair
    from rpcli.core.routers.training import check_held_out

    pairs = [Pair(task_name="t_qa", query="q", better="m3", worse="m1")]
    with pytest.raises(TrainingDataError, match="held-out model 'm3'"):
        from_pairs(pairs, ["m1", "m2", "m3"], ["m3"], "newllm", "raw")
    assert len(from_pairs(pairs, ["m1", "m2", "m3"], [], "standard", "raw")) == 1
    with pytest.raises(TrainingDataError, match="per-query score rows"):
        check_held_out(["m1", "m3"], ["m3"], "newllm", "per-query score rows")


def test_empty_training_set_fails_loudly(make_tiny, tmp_path):
    from rpcli.services.base import Session
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace

    def no_pairs(f):
        f["route_data/pairwise_training_data_standard.json"]["pairwise_data"] = []

    def no_file(f):
        del f["route_data/pairwise_training_data_standard.json"]

    for i, mutate in enumerate((no_pairs, no_file)):
        s = Session(workspace=Workspace(tmp_path / f"ws_e{i}"), data_root=make_tiny(mutate), encoder_spec="hash:32")
        pid = _profile(s)
        for router in ("mlp", "graph"):
            with pytest.raises(TrainingDataError, match="training"):
                run_router_entry(s, router, pid, "standard", {"epochs": 1})
    # sim still runs without a training file, without a curve
    m = run_router_entry(s, "sim", pid, "standard").entry["metrics"]
    assert "cost_quality" not in m and any("cost-quality" in w for w in m["warnings"])


def test_graph_router_refuses_an_empty_signal():
    from rpcli.core.routers.graph import GraphConfig, train_graph
    from rpcli.core.routers.training import TrainingSignal

    sig = TrainingSignal("pairs", ["a", "b"], [], [], [], np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 3), int))
    with pytest.raises(TrainingDataError, match="empty training set"):
        train_graph(sig, np.zeros((0, 4)), np.zeros((2, 4)), np.ones((2, 4)), GraphConfig(epochs=1), 0)


# ------------------------------------------------------------------------------------------------------------
# learning, determinism, checkpoints
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("router,opts", [("mlp", MLP_FAST), ("graph", GRAPH_FAST)])
def test_the_pair_winner_of_a_task_is_picked_for_its_queries(kw_sess, router, opts):
    from tiny import WINNER

    from rpcli.services.artifacts.routes import run_router_entry

    run = run_router_entry(kw_sess, router, _profile(kw_sess), "standard", opts).entry
    preds = _preds(kw_sess, run)
    assert len(preds) == 12
    assert all(p["model_name"] == WINNER[p["task_name"]] for p in preds), \
        [(p["task_name"], p["model_name"]) for p in preds]
    assert run["metrics"]["avg_performance"] == 1.0
    tr = run["metrics"]["train"]
    assert tr["epochs_run"] == 60 and len(tr["train_curve"]) == 60
    # with a validation split: 8 training queries, split by query
    assert (tr["n_train_queries"], tr["n_val_queries"]) == ((8, 0) if router == "mlp" else (7, 1))


@pytest.mark.parametrize("router,opts", [("mlp", {**MLP_FAST, "epochs": 5, "val_split": 0.1}),
                                         ("graph", {**GRAPH_FAST, "epochs": 5, "residual": False})])
def test_fixed_seed_is_deterministic(sess, router, opts):
    from rpcli.services.artifacts.routes import run_router_entry

    pid = _profile(sess)
    a = run_router_entry(sess, router, pid, "standard", opts, seeds=[7]).entry
    pa = _preds(sess, a)
    b = run_router_entry(sess, router, pid, "standard", opts, seeds=[7], force=True).entry
    assert a["id"] == b["id"]
    assert _preds(sess, b) == pa
    c = run_router_entry(sess, router, pid, "standard", opts, seeds=[8]).entry
    assert [p["scores"] for p in _preds(sess, c)] != [p["scores"] for p in pa]


def test_mlp_checkpoint_is_self_describing(sess):
    import torch

    from rpcli.core.routers.mlp import load_checkpoint, score
    from rpcli.services.artifacts.routes import run_router_entry

    pid = _profile(sess)
    run = run_router_entry(sess, "mlp", pid, "standard", {**MLP_FAST, "epochs": 3}).entry
    path = sess.workspace.artifact_dir(run["id"]) / "ckpt.pt"
    ck = torch.load(path, weights_only=True)
    assert ck["model_names"] == ["m1", "m2", "m3"] and ck["profile_id"] == pid and ck["mode"] == "standard"
    assert ck["config"]["q_in_dim"] == 32 and ck["config"]["hidden"] == 32 and ck["encoder_id"] == "hash-32"
    model, _ = load_checkpoint(path)
    from rpcli.core.routers.query_text import query_text as qt
    from rpcli.services.artifacts.profiles import load_profile_entry

    _, names, vecs = load_profile_entry(sess, pid)
    q = sess.encoder.encode([qt(r) for r in sess.dataset.test_rows])
    s = score(model, q, vecs)
    got = np.array([[p["scores"][m] for m in names] for p in _preds(sess, run)])
    np.testing.assert_allclose(s, got, atol=1e-6)


def test_mlp_towers_take_different_input_widths():
    import torch

    from rpcli.core.routers.mlp import MLPConfig, build_model

    m = build_model(12, 7, MLPConfig(hidden=8, out=4))
    s = m(torch.randn(5, 12), torch.randn(3, 7))
    assert s.shape == (5, 3) and float(s.detach().abs().max()) <= 1.0 + 1e-6  # cosines


def test_graph_checkpoint_and_layouts(sess):
    import torch

    from rpcli.core.routers.graph import load_checkpoint
    from rpcli.services.artifacts.routes import run_router_entry

    pid = _profile(sess)
    ind = run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3}, seeds=[0, 1]).entry
    d = sess.workspace.artifact_dir(ind["id"])
    assert {"ckpt.seed0.pt", "ckpt.seed1.pt", "predictions.seed0.jsonl", "predictions.seed1.jsonl"} <= \
        {p.name for p in d.iterdir()}
    ck = torch.load(d / "ckpt.seed1.pt", weights_only=True)
    assert ck["seed"] == 1 and ck["model_names"] == ["m1", "m2", "m3"] and ck["profile_id"] == pid
    assert ck["config"]["transductive"] is False and ck["label_source"] == "pairs"
    load_checkpoint(d / "ckpt.seed1.pt")
    assert ind["metrics"]["train"]["layout"] == "inductive"
    assert ind["metrics"]["seeds"]["avg_performance"]["n"] == 2
    tr = run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3, "transductive": True}).entry
    assert tr["id"] != ind["id"] and tr["metrics"]["train"]["layout"] == "transductive"
    assert torch.load(sess.workspace.artifact_dir(tr["id"]) / "ckpt.pt", weights_only=True)["config"]["transductive"]
    # transductive: 12 test + 8 training queries exchange messages with 3 models both ways
    assert tr["metrics"]["train"]["n_graph_edges"] == 2 * 3 * 20


def test_dense_bipartite_gat_equals_pyg_gatconv():
    import torch

    from rpcli.core.routers.graph import GraphConfig, bipartite_edges, build_model

    torch.manual_seed(0)
    k, n = 3, 15
    xm, xq = torch.randn(k, 7), torch.randn(n, 12)
    members, attached = np.array([0, 2, 3, 5, 7, 8]), np.array([1, 4, 6, 9, 10, 11, 12, 13, 14])
    for residual in (True, False):
        model = build_model(12, 7, GraphConfig(hidden=16, heads=4, layers=3, residual=residual)).eval()
        with torch.no_grad():
            ref = model.encode(xm, xq, bipartite_edges(k, members, attached))
            hm, hq = model.encode_bipartite(xm, xq, torch.as_tensor(members), torch.arange(n))
        torch.testing.assert_close(hm, ref[:k], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(hq, ref[k:], atol=1e-6, rtol=1e-5)
    # an attached query changes nothing for the others
    with torch.no_grad():
        hm2, hq2 = model.encode_bipartite(xm, xq[:10], torch.as_tensor(members), torch.arange(10))
    torch.testing.assert_close(hm2, hm)
    torch.testing.assert_close(hq2, hq[:10])


def test_training_reports_progress(sess):
    from rpcli.core.progress import RecordingProgress
    from rpcli.services.artifacts.routes import run_router_entry

    sess.progress = RecordingProgress()
    run_router_entry(sess, "mlp", _profile(sess), "standard", {**MLP_FAST, "epochs": 3, "val_split": 0.1})
    ev = sess.progress.events
    assert ("task", "training MLPRouter") in ev and ev.count(("advance", 1)) >= 3
    assert any(k == "note" and str(v).startswith("epoch 001 train ") and " val " in str(v) for k, v in ev)


def test_early_stopping_on_val_loss():
    from rpcli.core.routers.mlp import MLPConfig, train_mlp
    from rpcli.core.routers.training import TrainingSignal

    rng = np.random.default_rng(0)
    # random labels: the val loss stops improving quickly
    pairs = np.array([[q, rng.integers(0, 2), 2] for q in range(40)])
    sig = TrainingSignal("pairs", ["a", "b", "c"], ["t"] * 40, [str(i) for i in range(40)],
                         [str(i) for i in range(40)], np.zeros((40, 3)), np.zeros((40, 3)), pairs)
    cfg = MLPConfig(hidden=16, out=8, epochs=200, lr=3e-2, patience=3, val_split=0.25)
    _, ck, info = train_mlp(sig, rng.normal(size=(40, 6)).astype(np.float32), rng.normal(size=(3, 5)), cfg, 0)
    assert info["stopped_early_at"] is not None and info["epochs_run"] < 200
    assert info["best_epoch"] == info["epochs_run"] - 3 and ck["best_epoch"] == info["best_epoch"]


# ------------------------------------------------------------------------------------------------------------
# evaluation: cost-quality curve, newllm block, multi-seed summaries
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("router,opts", [("sim", {}), ("mlp", {**MLP_FAST, "epochs": 5})])
def test_cost_quality_curve_fields(sess, router, opts):
    from rpcli.services.artifacts.routes import run_router_entry

    m = run_router_entry(sess, router, _profile(sess), "standard", opts).entry["metrics"]
    cq = m["cost_quality"]
    pts = cq["points"]
    assert len(pts) >= 2 and pts[0]["lambda"] == 0.0
    assert cq["start_matches_router"] is True and pts[0]["avg_performance"] == m["avg_performance"]
    assert all(0.0 <= p["avg_performance"] <= 1.0 and p["avg_cost"] > 0 for p in pts)
    # the largest lambda forces the cheapest model of every row: m1 (0.1 / 0.2 $ per M tokens), by hand
    # (100 * 0.1 + (10 + i) * 0.2) / 1e6 averaged over i = 0..3 = 12.3e-6 $ per query
    assert pts[-1]["avg_cost"] == min(p["avg_cost"] for p in pts) == pytest.approx(12.3e-6, rel=1e-9)
    front = cq["pareto"]
    assert front and all(f in pts for f in front)
    assert [f["avg_cost"] for f in front] == sorted(f["avg_cost"] for f in front)
    # single models by hand: m1 12.3, m3 (50 + 0.5 * 11.5) = 55.75, m2 (100 + 11.5) = 111.5 micro-dollars; each wins
    # exactly 4 of the 12 rows, so the single models' curve is flat at 1/3
    assert cq["c_range"] == pytest.approx([12.3e-6, 111.5e-6], rel=1e-9)
    assert cq["aiq_single_models"] == pytest.approx(1 / 3, rel=1e-9) and 0.0 <= cq["aiq"] <= 1.0
    assert cq["bsm_target"] == m["bsm_reference"]["avg_performance"]
    if cq["cost_to_match_bsm"] is not None:
        assert cq["cost_to_match_bsm_micro"] == pytest.approx(cq["cost_to_match_bsm"] * 1e6)
        ok = [p["avg_cost"] for p in pts if p["avg_performance"] >= cq["bsm_target"]]
        assert cq["cost_to_match_bsm"] == min(ok)
    assert cq["calibration"]["n"] == 8 * 3  # 8 training queries x 3 labeled models


def test_newllm_runs_report_cold_start_over_seeds(sess):
    from rpcli.services.artifacts.routes import run_router_entry

    m = run_router_entry(sess, "mlp", _profile(sess, "newllm"), "newllm", {**MLP_FAST, "epochs": 3},
                         seeds=[0, 1]).entry["metrics"]
    assert m["newllm"]["model"] == "m3" and m["newllm"]["cold_start_recall"]["denominator"] == 4
    assert m["seeds"]["newllm.cold_start_recall.value"]["n"] == 2
    assert m["seeds"]["cost_quality.aiq"]["n"] == 2
    assert [r["seed"] for r in m["per_seed"]] == [0, 1] and all("cold_start_recall" in r for r in m["per_seed"])
    assert m["training_signal"]["n_queries"] == 5  # the newllm pairs: math and code queries only


def test_unknown_router_option_is_refused(sess):
    from rpcli.errors import ConfigError
    from rpcli.services.artifacts.routes import run_router_entry

    with pytest.raises(ConfigError, match="no option"):
        run_router_entry(sess, "mlp", _profile(sess), "standard", {"heads": 2})


# ------------------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------------------


def test_cli_route_mlp_and_graph(tiny_data):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    runner = CliRunner()
    base = ["-d", str(tiny_data), "--encoder", "hash:32"]
    pid = runner.invoke(app, [*base, "profile", "index", "--mode", "standard"]).stdout.strip()
    r = runner.invoke(app, [*base, "route", "mlp", "--profile", pid, "--epochs", "2", "--hidden", "16",
                            "--out-dim", "8", "--seeds", "0,1", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["kind"] == "run" and rec["params"]["router"] == "mlp" and rec["params"]["seeds"] == [0, 1]
    # The device is provenance, not recipe: recorded in the info, absent from the params (and so from the id).
    assert rec["params"]["epochs"] == 2 and "device" not in rec["params"] and rec["info"]["device"] == "cpu"
    assert rec["metrics"]["train"]["device"] == "cpu"
    assert rec["metrics"]["seeds"]["avg_performance"]["n"] == 2 and "cost_quality" in rec["metrics"]
    assert "mlp standard: avg_performance" in r.stderr and "AIQ" in r.stderr
    again = runner.invoke(app, [*base, "--device", "cpu", "route", "mlp", "--profile", pid, "--epochs", "2",
                                "--hidden", "16", "--out-dim", "8", "--seeds", "0,1", "--device", "cpu", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["id"] == rec["id"] and json.loads(again.stdout)["reused"] is True
    g = runner.invoke(app, [*base, "route", "graph", "--profile", pid, "--epochs", "2", "--hidden", "16",
                            "--heads", "2"])
    assert g.exit_code == 0, g.output
    assert g.stdout.strip().startswith("run-")
    bad = runner.invoke(app, [*base, "route", "mlp", "--profile", pid, "--seeds", "a,b"])
    assert bad.exit_code == 2


def test_graph_trains_on_score_rows_without_the_held_out_model(make_tiny, tmp_path):
    from tiny import CANDIDATES, TRAIN_QUERIES, WINNER

    from rpcli.services.base import Session
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace

    def add_scores(f):
        f["route_data/routing_train_data.json"] = [
            {"task_name": t, "query": q, "model_performance": {m: {"task_performance": float(m == WINNER[t])}
                                                               for m in CANDIDATES}}
            for t, qs in TRAIN_QUERIES.items() for q in qs]

    s = Session(workspace=Workspace(tmp_path / "ws_s"), data_root=make_tiny(add_scores), encoder_spec="hash:32")
    pid = _profile(s, "newllm")
    run = run_router_entry(s, "graph", pid, "newllm", {**GRAPH_FAST, "epochs": 3, "labels": "scores"}).entry
    ts = run["metrics"]["training_signal"]
    assert ts["source"] == "scores" and ts["held_out_removed"] == ["m3"]
    # qa rows: m1 and m2 both score 0 once m3 is removed (no signal); the overlap query is a test query
    assert ts["n_queries"] == 5 and ts["n_dropped_test_overlap"] == 1 and ts["n_dropped_no_signal"] == 3
    assert len(run["params"]["train_file_sha256"]) == 64
    from rpcli.core.routers.training import read_score_rows

    with pytest.raises(TrainingDataError, match="absent"):
        read_score_rows(tmp_path / "nowhere")

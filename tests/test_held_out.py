"""The held-out model of newllm mode: where the list comes from, and the guard every training signal calls.

Everything here loads a dataset written to disk the normal way (tests/tiny.py), so every state is one that loading
can produce. On the tiny data m3 is held out by the card rule (t_math and t_code are present in the standard card
and null in the newllm one); m2's t_qa is null in both modes, so m2 is not held out.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.core.data import load_dataset
from rpcli.core.data.held_out import CARD_SOURCE, HELD_OUT_FILE
from rpcli.errors import DataFileError

runner = CliRunner()
NEW_PAIRS = "route_data/pairwise_training_data_newllm.json"


def _add_pair(f, better="m3", worse="m1"):
    f[NEW_PAIRS]["pairwise_data"].append({"task_name": "t_qa", "query": "who painted the mona lisa",
                                          "better_model": better, "worse_model": worse})


def test_card_rule_on_tiny_holds_out_m3_only(tiny_data):
    ds = load_dataset(tiny_data)
    assert ds.held_out == ["m3"] and ds.held_out_source == CARD_SOURCE
    assert ds.mode("newllm").held_out == ["m3"] and ds.mode("standard").held_out == []


def test_null_in_both_modes_is_not_held_out(make_tiny):
    def mutate(f):
        # m1's t_math becomes null in both modes (like m2's t_qa already is): still not held out.
        for mode in ("standard", "newllm"):
            f[f"profile_data/model_feature_{mode}.json"]["m1"]["detailed_scores"]["t_math"] = None
    assert load_dataset(make_tiny(mutate)).held_out == ["m3"]


def test_null_only_in_newllm_is_held_out_even_without_pairs(make_tiny):
    def mutate(f):
        f["profile_data/model_feature_newllm.json"]["m1"]["detailed_scores"]["t_math"] = None
        del f[NEW_PAIRS]
    ds = load_dataset(make_tiny(mutate))
    assert ds.held_out == ["m1", "m3"] and ds.mode("newllm").has_pairs_file is False


def test_empty_pairs_file_still_holds_m3_out(make_tiny):
    ds = load_dataset(make_tiny(lambda f: f[NEW_PAIRS].update(pairwise_data=[])))
    assert ds.mode("newllm").held_out == ["m3"] and ds.mode("newllm").pairs == []


@pytest.mark.parametrize("better,worse,field", [("m3", "m1", "better_model"), ("m1", "m3", "worse_model")])
def test_newllm_pairs_naming_the_held_out_model_fail_to_load(make_tiny, better, worse, field):
    root = make_tiny(lambda f: _add_pair(f, better, worse))
    with pytest.raises(DataFileError) as exc:
        load_dataset(root)
    e = exc.value
    assert e.path.endswith(NEW_PAIRS) and e.field == field and e.record == "pairwise_data[6]"  # 6 newllm pairs (tiny.py), then ours
    assert "'m3'" in e.message and "held-out model" in e.message
    # the same pair in the standard file is fine: standard mode holds nothing out
    ok = make_tiny(lambda f: f["route_data/pairwise_training_data_standard.json"]["pairwise_data"].append(
        {"task_name": "t_qa", "query": "who wrote hamlet", "better_model": better, "worse_model": worse}))
    assert len(load_dataset(ok).mode("standard").pairs) == 18 + 1 - 2  # 2 pairs of the overlap query are dropped


@pytest.mark.parametrize("cmd", [["data", "check"], ["route", "sim", "--profile", "x", "--mode", "newllm"],
                                 ["route", "graph", "--profile", "x", "--mode", "newllm", "--labels", "scores"]])
def test_guard_through_the_cli_names_model_and_file(make_tiny, tmp_path, cmd):
    root = make_tiny(_add_pair)
    ws = tmp_path / "wsg"
    r = runner.invoke(app, ["-w", str(ws), "-d", str(root), *cmd])
    assert r.exit_code == 1, r.output
    out = " ".join(r.output.replace("│", " ").split())  # panel borders split long lines
    assert "pairwise_training_data_newllm.json" in out and "'m3'" in out and "Traceback" not in r.output
    assert not ws.exists()  # nothing was written


def test_held_out_json_defines_the_list(make_tiny):
    ds = load_dataset(make_tiny(lambda f: f.__setitem__(HELD_OUT_FILE, ["m3"])))
    assert ds.held_out == ["m3"] and ds.held_out_source == HELD_OUT_FILE and HELD_OUT_FILE in ds.files


def test_held_out_json_drives_the_guard(make_tiny):
    # m2 is named by the newllm pairs: declaring it held out makes those pairs a data error
    with pytest.raises(DataFileError, match="'m2'") as exc:
        load_dataset(make_tiny(lambda f: f.__setitem__(HELD_OUT_FILE, ["m2"])))
    assert exc.value.path.endswith(NEW_PAIRS)


@pytest.mark.parametrize("content,match,record", [
    (["m33"], "did you mean 'm3'", "#0"),
    (["m3", "m3"], "listed twice", "#1"),
    (["m3", 7], "expected a candidate name", "#1"),
    ({"m3": True}, "expected a JSON list", None),
    ("[oops", "malformed JSON", None),
])
def test_held_out_json_is_validated(make_tiny, content, match, record):
    with pytest.raises(DataFileError, match=match) as exc:
        load_dataset(make_tiny(lambda f: f.__setitem__(HELD_OUT_FILE, content)))
    assert exc.value.path.endswith(HELD_OUT_FILE) and exc.value.record == record


def test_data_check_shows_the_list_and_its_source(make_tiny, tiny_data):
    r = runner.invoke(app, ["-d", str(tiny_data), "data", "check", "--json"])
    s = json.loads(r.stdout)
    assert s["held_out"] == ["m3"] and s["held_out_source"] == CARD_SOURCE
    plain = runner.invoke(app, ["-d", str(make_tiny(lambda f: f.__setitem__(HELD_OUT_FILE, ["m3"]))),
                                "data", "check"])
    assert plain.exit_code == 0 and "from route_data/held_out.json" in " ".join(plain.stdout.split())


def test_scores_labels_without_pairs_never_train_on_m3(make_tiny, tmp_path):
    """`rp route graph --labels scores --mode newllm` with no newllm pairs file. By hand: 9 training score rows
    (3 per task; each row's winner scores 1, the others 0); "what is 2 plus 2" is a test query (dropped); m3's
    scores are removed, so the 3 t_qa rows (m3 won them) leave m1 = m2 = 0 and carry no signal; the 2 other
    t_math rows and the 3 t_code rows remain: 5 queries, m3 never labelled."""
    from tiny import CANDIDATES, TRAIN_QUERIES, WINNER

    def mutate(f):
        del f[NEW_PAIRS]
        f["route_data/routing_train_data.json"] = [
            {"task_name": t, "query": q, "model_performance": {m: {"task_performance": float(m == WINNER[t])}
                                                               for m in CANDIDATES}}
            for t, qs in TRAIN_QUERIES.items() for q in qs]

    root = make_tiny(mutate)
    base = ["-q", "-w", str(tmp_path / "ws2"), "-d", str(root), "--encoder", "hash:32"]
    pid = runner.invoke(app, [*base, "profile", "index", "--mode", "newllm"]).stdout.strip()
    r = runner.invoke(app, [*base, "route", "graph", "--profile", pid, "--mode", "newllm", "--labels", "scores",
                            "--epochs", "2", "--hidden", "16", "--heads", "2", "--json"])
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    ts = run["metrics"]["training_signal"]
    assert ts["held_out_removed"] == ["m3"] and ts["n_rows"] == 9 and ts["n_queries"] == 5
    assert ts["n_dropped_test_overlap"] == 1 and ts["n_dropped_no_signal"] == 3
    assert run["info"]["held_out"] == ["m3"]
    import torch

    from rpcli.workspace.layout import Workspace

    ck = torch.load(Workspace(tmp_path / "ws2").artifact_dir(run["id"]) / "ckpt.pt", weights_only=True)
    assert ck["held_out"] == ["m3"] and ck["label_source"] == "scores"


# ------------------------------------------------------------------------------- profiles: hidden score edges
def test_trainable_never_regresses_the_held_out_routing_score(sess):
    """Tiny newllm task graph: m3 keeps one routing-task score (t_qa = 70), i.e. 2 stored edges (both directions);
    lb is not a routing task and m3 has no lb score. Those 2 edges are never a target; standard hides nothing."""
    from rpcli.services.artifacts.profiles import build_profile_entry

    opts = {"hidden": 16, "heads": 2, "layers": 2, "epochs": 2, "lr": 1e-3, "node_mask_rate": 0.3,
            "edge_mask_rate": 0.3, "edge_loss_w": 1.0, "out_dim": None, "select": "train-loss", "seed": 1}
    new = build_profile_entry(sess, "trainable", "newllm", opts).entry
    assert new["params"]["held_out_scores_hidden"] == 2 and new["info"]["held_out_score_edges_excluded"] == 2
    std = build_profile_entry(sess, "trainable", "standard", opts).entry
    assert "held_out_scores_hidden" not in std["params"] and "held_out_score_edges_excluded" not in std["info"]


def test_hidden_edges_and_minmax_over_learnable_edges(sess):
    import torch

    from rpcli.core.data.held_out import count_hidden_scores, hidden_edges, hidden_score_pairs
    from rpcli.core.graph.build import build_graph
    from rpcli.core.profiles.trainable import _minmax

    ds = sess.dataset
    g = build_graph(ds, "newllm", "task", sess.encoder)
    hidden = hidden_score_pairs(ds.mode("newllm").held_out, ds.test_tasks)
    et = ("model", "model_to_dataset", "dataset")
    mask = hidden_edges(g, et, hidden)
    src, dst = g.edge_index[et].tolist()
    flagged = [(g.names["model"][a], g.names["dataset"][b]) for (a, b), h in zip(zip(src, dst), mask) if h]
    assert flagged == [("m3", "t_qa")] and count_hidden_scores(g, hidden) == 2
    # newllm scores on the 9 edges: m1 80 20 50 60, m2 30 90 40, m3 70 (hidden), aux1 70 -> range [20, 90]
    t = _minmax(g.edge_attr[et], ~torch.tensor(mask))
    s = g.edge_attr[et].reshape(-1).tolist()
    assert min(v for v, h in zip(s, mask) if not h) == 20.0 and max(v for v, h in zip(s, mask) if not h) == 90.0
    expect = [(v - 20.0) / 70.0 for v in s]
    assert t.tolist() == pytest.approx(expect)
    assert _minmax(torch.tensor([5.0, 5.0])).tolist() == [0.0, 0.0]  # the documented edge case


def test_text_gnn_hides_the_held_out_score_lines(sess):
    """text-gnn K=1 (extractive) on the tiny newllm graph: no prompt shows m3's t_qa score (70.00); the t_qa
    neighbour of m3 is still listed; the standard graph does show it."""
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.core.profiles.text_gnn import recipe_opts
    from rpcli.core.llm import make_backend

    b = make_backend("extractive", encoder=sess.encoder)
    new = build_profile_entry(sess, "text-gnn", "newllm", recipe_opts(1, backend=b)).entry
    assert new["params"]["held_out_scores_hidden"] == 2 and new["info"]["held_out_score_lines_hidden"] == 2
    rows = [json.loads(x) for x in (sess.workspace.artifact_dir(new["id"]) / "prompts.jsonl").read_text()
            .splitlines()]
    m3 = next(r for r in rows if r["node"] == "m3")["prompt"]
    qa_text = sess.dataset.tasks["t_qa"]
    assert qa_text in m3 and "(score: 70.00)" not in m3
    assert not any("70.00" in r["prompt"] and "m3 is a model" in r["prompt"] for r in rows)
    std = build_profile_entry(sess, "text-gnn", "standard", recipe_opts(1, backend=b)).entry
    assert "held_out_scores_hidden" not in std["params"]
    srows = [json.loads(x) for x in (sess.workspace.artifact_dir(std["id"]) / "prompts.jsonl").read_text()
             .splitlines()]
    assert "(score: 70.00)" in next(r for r in srows if r["node"] == "m3")["prompt"]

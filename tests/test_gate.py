"""The per-task gate (rpcli.core.routers.gate; docs/beyond.md "do no harm"): the decision rule, the combination of
router and fallback scores, CV's per-query values, and gated knn / blend runs that record their decision and are
reproduced when loaded; a gate that opens nothing routes exactly as per-task-best (train)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_thread")
DEMO = Path(__file__).resolve().parents[1]


def test_decide_opens_a_task_only_on_a_gain_beyond_noise():
    from rpcli.core.routers.gate import decide

    rng = np.random.default_rng(0)
    n = 60
    tasks = ["clear"] * n + ["noise"] * n + ["worse"] * n + ["few"] * 5
    fb = rng.integers(0, 2, size=len(tasks)).astype(float)
    router = fb.copy()
    router[:n] = np.maximum(fb[:n], rng.random(n) < 0.5)  # "clear": the router fixes half of the misses
    flip = rng.choice(np.arange(n, 2 * n), size=6, replace=False)
    router[flip] = 1 - router[flip]  # "noise": a few flips both ways
    router[2 * n:3 * n] = np.minimum(fb[2 * n:3 * n], rng.random(n) < 0.7)  # "worse"
    router[3 * n:] = 1.0  # "few": a gain on too few queries
    fb[3 * n:] = 0.0
    router[5], fb[5] = np.nan, 1.0  # an unlabeled query is skipped
    d = decide(router, fb, tasks)
    assert d["clear"]["open"] and d["clear"]["gain"] > 0.1
    assert not d["noise"]["open"] and not d["worse"]["open"] and d["worse"]["gain"] < 0
    assert not d["few"]["open"] and d["few"]["n"] == 5 and d["few"]["gain"] == 1.0
    assert d["clear"]["n"] == n - 1
    assert decide(router, fb, tasks, z=1e6)["clear"]["open"] is False


def test_combine_takes_the_router_only_on_open_tasks_and_mixes_free_text():
    from rpcli.core.routers.gate import combine, open_share

    r = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    f = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    out = combine(r, f, ["a", "b", "a"], ["a"])
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    assert combine(r, f, ["a", "b", "a"], []).tolist() == f.tolist()
    mixed = combine(r, f, None, ["a"], share=np.array([1.0, 0.0, 0.25]))
    assert mixed.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.25, 0.75]]
    train = np.eye(4)
    share = open_share(train, ["a", "a", "b", "b"], np.array([[1.0, 0.1, 0, 0], [0, 0, 1.0, 0.1]]), ["a"], k=2)
    assert share.tolist() == [1.0, 0.0]


def test_cross_validate_per_query_values_line_up_with_the_queries():
    from rpcli.core.eval.cv import cross_validate

    rng = np.random.default_rng(1)
    Q, K = 40, 3
    labels = rng.integers(0, 2, size=(Q, K)).astype(float)
    labels[3] = np.nan
    # a router that knows each query's labels exactly (it only uses val indices: a leak is impossible here)
    perfect = cross_validate(list(range(Q)), labels, lambda tr, val, h: labels[val] + 0.0, seed=3, per_query=True)
    want = np.where(np.isnan(labels).all(1), np.nan, np.where(np.isnan(labels), -1.0, labels).max(1))
    assert np.array_equal(perfect["values"], want, equal_nan=True)
    assert perfect["top1"] == pytest.approx(np.nanmean(perfect["values"]))


def _demo_sess(tmp_path):
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    return Session(workspace=Workspace(tmp_path / "ws"), data_root=DEMO, encoder_spec="hash:64")


def _run(sess, router, mode, opts, seeds=None):
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    prof = build_profile_entry(sess, "index", mode, {"seed": 56}).entry
    return run_router_entry(sess, router, prof["id"], mode, opts, seeds=seeds).entry


def _picks(sess, entry):
    path = sess.workspace.root / next(o["path"] for o in entry["outputs"] if o["path"].endswith("predictions.jsonl"))
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_a_gate_that_opens_nothing_routes_as_per_task_best_train(tmp_path):
    from rpcli.core.routers.evaluate import reference_rows

    sess = _demo_sess(tmp_path)
    e = _run(sess, "knn", "standard", {"k": 10, "gate": True, "gate_z": 1e6})
    gate = e["metrics"]["train"]["gate"]
    assert gate["open"] == [] and set(gate["tasks"]) == set(sess.dataset.test_tasks)
    ref = next(r for r in reference_rows(sess.dataset, "standard") if r["name"] == "per-task-best (train)")
    assert [p["model_name"] for p in _picks(sess, e)] == [ref["per_task_models"][r.task_name]
                                                           for r in sess.dataset.test_rows]
    assert e["metrics"]["avg_performance"] == pytest.approx(ref["avg_performance"])


@pytest.mark.parametrize("router,opts", [("knn", {"k": 10}), ("blend", {"k": 10, "blend": 0.5})])
def test_an_open_gate_uses_the_router_there_and_the_run_reloads(tmp_path, router, opts):
    from rpcli.services.serving.inference import load_run

    sess = _demo_sess(tmp_path)
    gated = _run(sess, router, "standard", {**opts, "gate": True, "gate_z": 0.0})
    plain = _run(sess, router, "standard", opts)
    prior = _run(sess, "prior", "standard", {})
    g = gated["metrics"]["train"]["gate"]
    assert g["open"] and len(g["open"]) < len(g["tasks"]), g["tasks"]  # z = 0: every task with a CV gain
    assert gated["metrics"]["train"]["config"]["gate_open"] == sorted(g["open"])
    a, b, c = _picks(sess, gated), _picks(sess, plain), _picks(sess, prior)
    for x, y, z in zip(a, b, c):
        want = y if x["task_name"] in g["open"] else z
        assert x["scores"] == pytest.approx(want["scores"], abs=1e-6), x["task_name"]
    rr = load_run(sess, gated["id"])  # refitted from the recorded configuration; checked against the recorded scores
    assert rr.route("compute 17 times 3") in sess.dataset.candidates


def test_a_new_model_whose_card_gives_no_score_is_named_in_the_run(make_tiny, tmp_path):
    """newllm: the held-out model has no training signal; when its card gives no benchmark score the run records it
    (metrics.train.card_signal) and warns, instead of silently never choosing it."""
    from rpcli.core.progress import RecordingProgress
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    def blank(f):
        f["profile_data/model_feature_newllm.json"]["m3"]["detailed_scores"] = {
            k: None for k in f["profile_data/model_feature_newllm.json"]["m3"]["detailed_scores"]}

    for mutate, warned in ((None, False), (blank, True)):
        rec = RecordingProgress()
        sess = Session(workspace=Workspace(tmp_path / f"ws-{warned}"), data_root=make_tiny(mutate),
                       encoder_spec="hash:32", progress=rec)
        e = _run(sess, "knn", "newllm", {"k": 2, "cold_bonus": 0.1})
        cs = e["metrics"]["train"]["card_signal"]["m3"]
        assert (cs["scores"] == 0) is warned
        said = [m for k, m in rec.events if k == "warn" and "m3 has no training signal" in m]
        assert bool(said) is warned, rec.events

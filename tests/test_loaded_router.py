"""The one loader of recorded runs (rpcli.core.routers.inference.load_router, through
rpcli.services.serving.inference.load_run): a run reproduces its own test-row predictions from the query embeddings; the
GraphRouter's cached model states, and the recomputation from the training graph for checkpoints without them;
member sampling (`member_sample`) as a recorded option that leaves other run ids alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_routers import GRAPH_FAST, MLP_FAST, _profile


# tiny models: one intra-op thread is faster (and immune to a busy machine); the fixture is in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _test_vecs(sess, query_text="formatted"):
    from rpcli.core.routers.query_text import query_text as qtext

    return sess.encoder.encode([qtext(r, query_text) for r in sess.dataset.test_rows])


def _recorded(sess, run_id, name):
    path = sess.workspace.artifact_dir(run_id) / name
    return [json.loads(x) for x in path.read_text().splitlines()]


def _load(sess, run_id, seed=None):
    from rpcli.services.serving.inference import load_run

    return load_run(sess, run_id, seed=seed)


def _check_reproduces(sess, run, seed=None, pred="predictions.jsonl"):
    rr = _load(sess, run["id"], seed=seed)
    lr = rr.loaded
    qt = rr.params.get("query_text", "formatted")
    got = lr.scores(_test_vecs(sess, qt))
    rec = _recorded(sess, run["id"], pred)
    assert got.shape == (len(rec), len(lr.models))
    want = np.array([[r["scores"][m] for m in lr.models] for r in rec])
    np.testing.assert_allclose(np.round(got, 6), want, atol=1.01e-6, rtol=0)
    assert [lr.models[j] for j in lr.choose(_test_vecs(sess, qt))] == [r["model_name"] for r in rec]
    return rr


@pytest.mark.parametrize("router,opts", [("sim", {}), ("mlp", {**MLP_FAST, "epochs": 4}),
                                         ("graph", {**GRAPH_FAST, "epochs": 4}),
                                         ("graph", {**GRAPH_FAST, "epochs": 4, "transductive": True}),
                                         ("graph", {**GRAPH_FAST, "epochs": 4, "residual": False, "layers": 3})])
def test_loaded_router_reproduces_the_recorded_predictions(sess, router, opts):
    run = __import__("rpcli.services.artifacts.routes", fromlist=["x"]).run_router_entry(
        sess, router, _profile(sess), "standard", opts).entry
    rr = _check_reproduces(sess, run)
    lr = rr.loaded
    assert lr.router == router and rr.id == run["id"] and rr.sess.encoder.id == sess.encoder.id
    # a graph run recorded now is scored from the model states in its checkpoint, without its training graph
    assert lr.states_from == ("checkpoint" if router == "graph" else None)
    if router == "graph":
        assert "train_vecs" not in rr._cache
    # one query at a time gives the same scores as the batch
    v = _test_vecs(sess)
    np.testing.assert_allclose(lr.scores(v[3]), lr.scores(v)[3:4], atol=1e-6)


@pytest.mark.parametrize("transductive", [False, True])
def test_graph_checkpoint_without_states_falls_back_to_the_training_graph(sess, transductive):
    """A graph run recorded before the model states were saved (ckpt.pt without `model_states`) still loads: its
    training graph is rebuilt, giving the same states (to float rounding) and the recorded predictions."""
    import torch

    from rpcli.services.artifacts.routes import run_router_entry

    run = run_router_entry(sess, "graph", _profile(sess), "standard",
                           {**GRAPH_FAST, "epochs": 3, "transductive": transductive}).entry
    cached = _load(sess, run["id"]).loaded
    path = sess.workspace.artifact_dir(run["id"]) / "ckpt.pt"
    ck = torch.load(path, weights_only=True)
    torch.save({k: v for k, v in ck.items() if k != "model_states"}, path)
    rr = _check_reproduces(sess, run)
    old = rr.loaded
    assert old.states_from == "training graph" and "train_vecs" in rr._cache
    for a, b in zip(cached.scorer.states, old.scorer.states):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    v = _test_vecs(sess)
    np.testing.assert_allclose(old.attention(v), cached.attention(v), atol=1e-6)


def test_loaded_router_picks_the_seed_of_a_multi_seed_run(sess):
    from rpcli.errors import ConfigError
    from rpcli.services.artifacts.routes import run_router_entry

    run = run_router_entry(sess, "graph", _profile(sess), "standard", {**GRAPH_FAST, "epochs": 3},
                           seeds=[0, 1]).entry
    for seed in (0, 1):
        assert _check_reproduces(sess, run, seed=seed, pred=f"predictions.seed{seed}.jsonl").seed == seed
    with pytest.raises(ConfigError, match="no seed 5"):
        _load(sess, run["id"], seed=5)
    with pytest.raises(ConfigError, match="expects 32-d"):
        _load(sess, run["id"]).loaded.scores(np.zeros((1, 7)))


def test_graph_states_without_the_training_graph():
    """attached_logits on cached model states = the full bipartite encoding, for queries never in the graph."""
    import torch

    from rpcli.core.routers.graph import GraphConfig, build_model

    torch.manual_seed(0)
    xm, xq = torch.randn(4, 7), torch.randn(20, 12)
    members = torch.tensor([0, 2, 3, 5, 7, 8, 11])
    for residual in (False, True):
        model = build_model(12, 7, GraphConfig(hidden=16, heads=4, layers=3, residual=residual)).eval()
        with torch.no_grad():
            hm, ho = model.encode_bipartite(xm, xq, members, torch.arange(20))
            ref = model.predict(ho, hm)
            states = model.model_states(xm, xq, members)
            got = model.attached_logits(states, xq)
        assert len(states) == 4
        torch.testing.assert_close(got, ref, atol=1e-6, rtol=1e-5)


def test_member_sample_is_recorded_only_when_set(sess):
    from rpcli.errors import ConfigError
    from rpcli.services.artifacts.routes import run_router_entry

    pid = _profile(sess)
    base = run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3}).entry
    same = run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3, "member_sample": 0}).entry
    assert same["id"] == base["id"] and "member_sample" not in base["params"]
    assert base["metrics"]["train"]["member_sample"] == 0 and base["metrics"]["train"]["optimizer"] == "adam"
    fast = run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3, "member_sample": 2}).entry
    assert fast["id"] != base["id"] and fast["params"]["member_sample"] == 2
    tr = fast["metrics"]["train"]
    assert tr["member_sample"] == 2 and tr["optimizer"] == "adam (fused)"
    assert fast["metrics"]["avg_performance"] is not None
    _check_reproduces(sess, fast)
    with pytest.raises(ConfigError, match="member-sample"):
        run_router_entry(sess, "graph", pid, "standard", {**GRAPH_FAST, "epochs": 3, "member_sample": -1})


def test_member_sample_changes_training_and_is_seeded():
    """Sampled members change what a step sees (so the result), and the same seed gives the same result."""
    from rpcli.core.routers.graph import GraphConfig, train_graph
    from rpcli.core.routers.training import TrainingSignal

    rng = np.random.default_rng(0)
    Q, K, N = 40, 3, 6
    labels = (rng.random((Q, K)) > 0.5).astype(float)
    sig = TrainingSignal(source="pairs", models=["a", "b", "c"], tasks=["t"] * Q, queries=[str(i) for i in range(Q)],
                         texts=[str(i) for i in range(Q)], labels=labels, quality=labels.copy(),
                         pairs=np.zeros((0, 3), dtype=np.int64))
    tv, te, pv = rng.normal(size=(Q, 8)), rng.normal(size=(N, 8)), rng.normal(size=(K, 5))
    cfg = dict(hidden=8, heads=2, epochs=2, batch_size=8, lr=1e-2)
    full = train_graph(sig, tv, te, pv, GraphConfig(**cfg), 0)[0]
    s1 = train_graph(sig, tv, te, pv, GraphConfig(**cfg, member_sample=5), 0)
    s2 = train_graph(sig, tv, te, pv, GraphConfig(**cfg, member_sample=5), 0)
    np.testing.assert_array_equal(s1[0], s2[0])
    assert not np.allclose(s1[0], full)
    assert s1[3]["member_sample"] == 5
    # a sample at least as large as the members is the full graph
    big = train_graph(sig, tv, te, pv, GraphConfig(**cfg, member_sample=1000), 0)
    np.testing.assert_array_equal(big[0], full)
    assert big[3]["member_sample"] == 0

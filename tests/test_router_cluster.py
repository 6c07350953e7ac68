"""The cluster router plugin (rpcli/core/plugins/routers/cluster.py): k-means++ is seeded and deterministic, the
router finds the candidate that wins a region of query space, with a huge shrinkage it is the per-task prior
(per-task-best (train)'s picks), it tunes on the training queries only, and a run reloads (refitted) to the scores
it recorded; through the Python API and the CLI, on the tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _blobs(n=120, d=8, seed=0):
    """One task, four well-separated groups of queries; model 0 wins groups 0 and 2, model 1 groups 1 and 3,
    model 2 always loses."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, d)) * 3
    g = np.arange(n) % 4
    X = centres[g] + 0.3 * rng.normal(size=(n, d))
    win = np.where(g % 2 == 0, 0, 1)
    L = np.zeros((n, 3))
    L[np.arange(n), win] = 1.0
    pairs = np.array([[q, win[q], 1 - win[q]] for q in range(n)] + [[q, win[q], 2] for q in range(n)])
    return X, L, ["t"] * n, pairs, g


def test_kmeans_is_seeded_deterministic_and_capped_at_the_distinct_rows():
    from rpcli.core.plugins.routers.cluster import _unit, kmeans

    X, _, _, _, g = _blobs()
    U = _unit(X)
    a, b = kmeans(U, 4, 25, seed=3), kmeans(U, 4, 25, seed=3)
    assert np.array_equal(a, b)
    assign = np.argmin(((U[:, None, :] - a[None]) ** 2).sum(-1), axis=1)
    # k-means++ on four separated blobs finds them: each cluster is exactly one blob
    assert all(len(set(g[assign == c])) == 1 for c in range(4)) and len(set(assign)) == 4
    dup = np.repeat(U[:3], 5, axis=0)  # 3 distinct rows
    assert kmeans(dup, 8, 10, seed=0).shape[0] == 3


def test_cluster_finds_the_regions_a_model_wins_and_the_prior_cannot():
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.plugins.routers.cluster import ClusterConfig, _subset_pairs, fit_cluster

    X, L, T, pairs, _ = _blobs()
    names = ["a", "b", "c"]

    def cv(cfg):
        def fn(tr, val, hidden):
            m = fit_cluster(X[tr], L[tr], [T[i] for i in tr], _subset_pairs(pairs, tr, len(X)), names, None, names,
                            cfg, seed=0)
            return m.scores(X[val], [T[i] for i in val])

        return cross_validate(list(range(len(X))), L, fn, n_folds=4, seed=0)["top1"]

    assert cv(ClusterConfig(clusters=4, shrink=2.0)) > 0.95
    assert cv(ClusterConfig(clusters=1, shrink=2.0)) < 0.65  # one cluster: a global ranking


def _profile(sess, mode):
    import rpcli

    return rpcli.build_profile(sess, "index", mode, seed=56)["id"]


def _picks(sess, entry, name="predictions.jsonl"):
    path = sess.workspace.root / next(o["path"] for o in entry["outputs"] if o["path"].endswith(name))
    return [json.loads(x)["model_name"] for x in path.read_text().splitlines()]


def test_cluster_with_a_huge_shrinkage_is_the_per_task_prior(sess):
    import rpcli
    from rpcli.core.routers.evaluate import reference_rows

    e = rpcli.run_router(sess, "cluster", _profile(sess, "standard"), "standard", clusters=3, shrink=1e9)
    ref = next(r for r in reference_rows(sess.dataset, "standard") if r["name"] == "per-task-best (train)")
    assert _picks(sess, e) == [ref["per_task_models"][r.task_name] for r in sess.dataset.test_rows]
    # newllm: the held-out model has no label in any cluster, so it scores its prior (its card estimate)
    n = rpcli.run_router(sess, "cluster", _profile(sess, "newllm"), "newllm", clusters=2)
    info = n["metrics"]["train"]
    assert info["models_without_signal"] == ["m3"] and info["n_clusters"] == 2
    rr = rpcli.load_run(sess, n["id"])
    model = rr.loaded.scorer.model
    tasks = [r.task_name for r in sess.dataset.test_rows]
    j = rr.models.index("m3")
    new = model.scores(np.ones((len(tasks), model.query_dim)), tasks)[:, j]
    assert np.allclose(new, model.prior.rows(tasks)[:, j])


def test_cluster_tunes_on_training_queries_and_reloads_to_its_recorded_scores(sess, tmp_path):
    import rpcli
    from rpcli.core.plugins.routers.cluster import GRID

    e = rpcli.run_router(sess, "cluster", _profile(sess, "standard"), "standard", seeds=[0, 1], tune=True, folds=3)
    per_seed = json.loads((sess.workspace.root / next(
        o["path"] for o in e["outputs"] if o["path"].endswith("metrics.json"))).read_text())["per_seed"]
    for seed in (0, 1):
        info = next(s for s in per_seed if s["seed"] == seed)["train"]
        rows = info["cv"]["rows"]
        assert len(rows) == len(GRID["clusters"]) * len(GRID["shrink"])
        chosen = next(r for r in rows if r["clusters"] == info["config"]["clusters"]
                      and r["shrink"] == info["config"]["shrink"])
        assert chosen["top1"] == max(r["top1"] for r in rows) and info["config"]["tune"] is False
        rr = rpcli.load_run(sess, e["id"], seed=seed)
        assert rr.check_diff is not None and rr.check_diff < 2e-6
        d = rr.decide(["What is 17 times 3?"])[0]  # free text: shrunk toward its cluster's task mix
        assert d.model in rr.models and d.model == d.ranking[0]
    s2 = rpcli.open_workspace(tmp_path / "ws2", data=sess.data_root, encoder="hash:32")
    e2 = rpcli.run_router(s2, "cluster", _profile(s2, "standard"), "standard", seeds=[0, 1], tune=True, folds=3)
    assert e2["id"] == e["id"]
    pred = [o["path"] for o in e["outputs"] if "predictions" in o["path"]]
    assert pred and all((sess.workspace.root / p).read_text() == (s2.workspace.root / p).read_text() for p in pred)


def test_cluster_cli_and_bad_options(sess):
    from typer.testing import CliRunner

    import rpcli
    from rpcli.cli.main import app
    from rpcli.errors import ConfigError

    base = ["-d", str(sess.data_root), "--encoder", "hash:32"]
    pid = _profile(sess, "standard")
    r = CliRunner().invoke(app, [*base, "route", "cluster", "--profile", pid, "--clusters", "2", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["params"]["clusters"] == 2 and rec["metrics"]["train"]["n_clusters"] == 2
    q = CliRunner().invoke(app, [*base, "route", "query", "write a python function", "--run", rec["id"]])
    assert q.exit_code == 0 and q.stdout.strip() in ("m1", "m2", "m3"), q.output
    with pytest.raises(ConfigError):
        rpcli.run_router(sess, "cluster", pid, "standard", iters=0)

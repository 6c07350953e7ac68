"""The irt router plugin (rpcli/core/plugins/routers/irt.py): the multidimensional model learns which candidate is
able on which queries, the 2PL model learns that a discriminating candidate wins the easy queries, a model without
labels is scored through its profile alone, it tunes on the training queries only, and a run reloads (refitted)
to the scores it recorded; through the Python API and the CLI, on the tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _labels(win, n_models=3):
    L = np.zeros((len(win), n_models))
    L[np.arange(len(win)), win] = 1.0
    return L


def _cv(X, L, cfg, P=None, seed=0):
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.plugins.routers.irt import fit_irt

    T = ["t"] * len(X)
    P = np.eye(L.shape[1]) if P is None else P

    def fn(tr, val, hidden):
        return fit_irt(X[tr], L[tr], P, cfg, seed, tasks=[T[i] for i in tr]).scores(X[val], [T[i] for i in val])

    return cross_validate(list(range(len(X))), L, fn, n_folds=4, seed=seed)["top1"]


def test_irt_learns_query_level_abilities_the_prior_cannot():
    from rpcli.core.plugins.routers.irt import IRTConfig

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    L = _labels(np.where(X[:, 0] > 0, 0, 1))  # model 0 is able where x[0] > 0, model 1 elsewhere
    multi = _cv(X, L, IRTConfig(dims=2, l2=1e-4, epochs=150))
    flat = _cv(X, L, IRTConfig(dims=2, l2=10.0, task_l2=1e-4, epochs=150))  # the query part penalised away
    assert multi > 0.85 and flat < 0.65, (multi, flat)


def test_irt_2pl_learns_that_the_discriminating_model_wins_the_easy_queries():
    from rpcli.core.plugins.routers.irt import IRTConfig

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 6))
    b = X[:, 0]  # difficulty
    p0 = 1 / (1 + np.exp(-3.0 * (0.0 - b)))  # discriminating
    p1 = 1 / (1 + np.exp(-0.5 * (0.0 - b)))  # flat
    L = _labels(np.where(p0 > p1, 0, 1))
    assert _cv(X, L, IRTConfig(dims=1, l2=1e-4, epochs=200)) > 0.85


def test_irt_scores_a_model_without_labels_through_its_profile_alone():
    from rpcli.core.plugins.routers.irt import IRTConfig, fit_irt

    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 6))
    L = _labels(np.where(X[:, 0] > 0, 0, 1))
    L[:, 2] = np.nan  # model 2: no label (a new model)
    P = rng.normal(size=(3, 5))
    T = ["t"] * 60
    cfg = IRTConfig(dims=2, l2=1e-3, epochs=60)
    a = fit_irt(X, L, P, cfg, seed=1, tasks=T)
    P2 = P.copy()
    P2[2] = rng.normal(size=5)
    b = fit_irt(X, L, P2, cfg, seed=1, tasks=T)
    sa, sb = a.scores(X[:10], T[:10]), b.scores(X[:10], T[:10])
    assert np.array_equal(sa[:, :2], sb[:, :2]), "the new model's profile moves nothing of the others"
    assert not np.allclose(sa[:, 2], sb[:, 2]), "its own scores follow its profile vector"
    L4 = np.hstack([L, np.full((60, 1), np.nan)])
    d = fit_irt(X, L4, np.vstack([P, P[2]]), cfg, seed=1, tasks=T).scores(X[:10], T[:10])
    assert np.array_equal(d[:, 2], d[:, 3]), "two models without labels and one profile: one score"
    assert np.array_equal(fit_irt(X, L, P, cfg, seed=1, tasks=T).scores(X[:5], T[:5]), sa[:5])
    assert not np.allclose(fit_irt(X, L, P, cfg, seed=2, tasks=T).scores(X[:5], T[:5]), sa[:5])
    assert np.all((sa > 0) & (sa < 1)), "the scores are win probabilities"


def _profile(sess, mode):
    import rpcli

    return rpcli.build_profile(sess, "index", mode, seed=56)["id"]


def test_irt_tunes_on_training_queries_and_reloads_to_its_recorded_scores(sess, tmp_path):
    import rpcli
    from rpcli.core.plugins.routers.irt import GRID

    opts = {"seeds": [0, 1], "tune": True, "folds": 3, "epochs": 60}
    e = rpcli.run_router(sess, "irt", _profile(sess, "newllm"), "newllm", **opts)
    per_seed = json.loads((sess.workspace.root / next(
        o["path"] for o in e["outputs"] if o["path"].endswith("metrics.json"))).read_text())["per_seed"]
    for seed in (0, 1):
        info = next(s for s in per_seed if s["seed"] == seed)["train"]
        assert info["models_without_signal"] == ["m3"]
        rows = info["cv"]["rows"]
        assert len(rows) == len(GRID["dims"]) * len(GRID["l2"])
        chosen = next(r for r in rows if r["dims"] == info["config"]["dims"] and r["l2"] == info["config"]["l2"])
        assert chosen["top1"] == max(r["top1"] for r in rows) and info["config"]["tune"] is False
        rr = rpcli.load_run(sess, e["id"], seed=seed)
        assert rr.check_diff is not None and rr.check_diff < 2e-6
        d = rr.decide(["What is 17 times 3?"])[0]
        assert d.model in rr.models and d.model == d.ranking[0]
    s2 = rpcli.open_workspace(tmp_path / "ws2", data=sess.data_root, encoder="hash:32")
    e2 = rpcli.run_router(s2, "irt", _profile(s2, "newllm"), "newllm", **opts)
    assert e2["id"] == e["id"]
    pred = [o["path"] for o in e["outputs"] if "predictions" in o["path"]]
    assert pred and all((sess.workspace.root / p).read_text() == (s2.workspace.root / p).read_text() for p in pred)


def test_irt_cli_and_bad_options(sess):
    from typer.testing import CliRunner

    import rpcli
    from rpcli.cli.main import app
    from rpcli.errors import ConfigError

    base = ["-d", str(sess.data_root), "--encoder", "hash:32"]
    pid = _profile(sess, "standard")
    r = CliRunner().invoke(app, [*base, "route", "irt", "--profile", pid, "--dims", "1", "--no-task-bias", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["params"]["dims"] == 1 and rec["params"]["task_bias"] is False
    q = CliRunner().invoke(app, [*base, "route", "query", "who painted the mona lisa", "--run", rec["id"]])
    assert q.exit_code == 0 and q.stdout.strip() in ("m1", "m2", "m3"), q.output
    with pytest.raises(ConfigError):
        rpcli.run_router(sess, "irt", pid, "standard", dims=0)

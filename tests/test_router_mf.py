"""The mf router plugin (rpcli/core/plugins/routers/mf.py): it learns a query-level signal the per-task prior cannot,
scores a model without pairs through its profile alone, tunes on the training queries only, and a run reloads
(refitted) to the scores it recorded; through the Python API and the CLI, on the tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tiny import planted_signal


def _cv(X, L, T, pairs, P, cfg, seed=0):
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.plugins.routers.mf import _subset_pairs, fit_mf

    def fn(tr, val, hidden):
        m = fit_mf(X[tr], _subset_pairs(pairs, tr, len(X)), P, cfg, seed, tasks=[T[i] for i in tr])
        return m.scores(X[val], [T[i] for i in val])

    return cross_validate(list(range(len(X))), L, fn, n_folds=4, seed=seed)["top1"]


def test_mf_learns_a_query_level_signal_the_prior_cannot():
    from rpcli.core.plugins.routers.mf import MFConfig

    X, L, T, pairs = planted_signal()
    P = np.eye(3)
    mf = _cv(X, L, T, pairs, P, MFConfig(dim=4, l2=1e-4, epochs=150))
    # the same model with the query part penalised away is a per-task (here: global) ranking
    flat = _cv(X, L, T, pairs, P, MFConfig(dim=4, l2=10.0, task_l2=1e-4, epochs=150))
    assert mf > 0.85 and flat < 0.65, (mf, flat)


def test_mf_scores_a_model_without_pairs_through_its_profile_alone():
    from rpcli.core.plugins.routers.mf import MFConfig, fit_mf

    X, L, T, pairs = planted_signal(n=60)
    pairs = pairs[pairs[:, 2] != 2]  # model 2 has no pair: a new model
    rng = np.random.default_rng(3)
    P = rng.normal(size=(3, 5))
    cfg = MFConfig(dim=4, l2=1e-3, epochs=60)
    a = fit_mf(X, pairs, P, cfg, seed=1, tasks=T)
    P2 = P.copy()
    P2[2] = rng.normal(size=5)
    b = fit_mf(X, pairs, P2, cfg, seed=1, tasks=T)
    sa, sb = a.scores(X[:10], T[:10]), b.scores(X[:10], T[:10])
    assert np.array_equal(sa[:, :2], sb[:, :2]), "the new model's profile moves nothing of the others"
    assert not np.allclose(sa[:, 2], sb[:, 2]), "its own scores follow its profile vector"
    P4 = np.vstack([P, P[2]])  # a fourth model without pairs, with the third one's profile: the same scores
    d = fit_mf(X, pairs, P4, cfg, seed=1, tasks=T).scores(X[:10], T[:10])
    assert np.array_equal(d[:, 2], d[:, 3])
    # same seed, same fit; another seed, another fit
    assert np.array_equal(fit_mf(X, pairs, P, cfg, seed=1, tasks=T).scores(X[:5], T[:5]), sa[:5])
    assert not np.allclose(fit_mf(X, pairs, P, cfg, seed=2, tasks=T).scores(X[:5], T[:5]), sa[:5])


def _profile(sess, mode):
    import rpcli

    return rpcli.build_profile(sess, "index", mode, seed=56)["id"]


def test_mf_tunes_on_training_queries_and_reloads_to_its_recorded_scores(sess, tmp_path):
    import rpcli
    from rpcli.core.plugins.routers.mf import GRID

    opts = {"seeds": [0, 1], "tune": True, "folds": 3, "epochs": 60}
    e = rpcli.run_router(sess, "mf", _profile(sess, "standard"), "standard", **opts)
    assert e["params"]["tune"] is True and e["params"]["seeds"] == [0, 1]
    for seed in (0, 1):
        per_seed = json.loads((sess.workspace.root / next(
            o["path"] for o in e["outputs"] if o["path"].endswith("metrics.json"))).read_text())["per_seed"]
        info = next(s for s in per_seed if s["seed"] == seed)["train"]
        rows = info["cv"]["rows"]
        assert len(rows) == len(GRID["l2"]) * len(GRID["task_l2"])
        best = max(rows, key=lambda r: r["top1"])
        assert info["config"]["l2"] == info["cv"]["config"]["l2"] and info["config"]["tune"] is False
        assert next(r for r in rows if r["l2"] == info["config"]["l2"]
                    and r["task_l2"] == info["config"]["task_l2"])["top1"] == best["top1"]
        rr = rpcli.load_run(sess, e["id"], seed=seed)  # refitted at load: must reproduce the recorded test scores
        assert rr.check_diff is not None and rr.check_diff < 2e-6
        d = rr.decide(["What is 17 times 3?"])[0]  # free text: no task
        assert d.model in rr.models and d.model == d.ranking[0]
    # the same recipe in a fresh workspace: the same run id and the same predictions
    s2 = rpcli.open_workspace(tmp_path / "ws2", data=sess.data_root, encoder="hash:32")
    e2 = rpcli.run_router(s2, "mf", _profile(s2, "standard"), "standard", **opts)
    assert e2["id"] == e["id"]
    pred = [o["path"] for o in e["outputs"] if "predictions" in o["path"]]
    assert pred and all((sess.workspace.root / p).read_text() == (s2.workspace.root / p).read_text() for p in pred)


def test_mf_newllm_and_cli(sess):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    base = ["-d", str(sess.data_root), "--encoder", "hash:32"]
    pid = _profile(sess, "newllm")
    r = CliRunner().invoke(app, [*base, "route", "mf", "--profile", pid, "--mode", "newllm", "--dim", "4",
                                 "--epochs", "50", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["params"]["router"] == "mf" and rec["params"]["dim"] == 4
    assert rec["metrics"]["train"]["models_without_signal"] == ["m3"], "the held-out model has no pair"
    q = CliRunner().invoke(app, [*base, "route", "query", "compute 17 times 3", "--run", rec["id"]])
    assert q.exit_code == 0, q.output
    assert q.stdout.strip() in ("m1", "m2", "m3")
    bad = CliRunner().invoke(app, [*base, "route", "mf", "--profile", pid, "--lr", "0"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_mf_refuses_bad_options(sess):
    import rpcli
    from rpcli.errors import ConfigError

    with pytest.raises(ConfigError):
        rpcli.run_router(sess, "mf", _profile(sess, "standard"), "standard", epochs=0)
    with pytest.raises(ConfigError):
        rpcli.run_router(sess, "mf", _profile(sess, "standard"), "standard", nonsense=1)

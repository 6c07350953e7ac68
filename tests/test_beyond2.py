"""Beyond the study, round 2 (docs/beyond.md): the prior + residual and blend routers, their CV tuning, routing
new text with prior/knn/residual/blend runs (rp route query, rp serve), the learning-curve and CV-table
scripts, on constructed data and the tiny data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tiny import planted_signal

ROOT = Path(__file__).resolve().parents[1]


def test_residual_learns_a_query_level_signal_the_prior_cannot():
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.routers import residual as R
    from rpcli.core.routers.knn import KNNConfig
    from rpcli.core.routers.knn import cv_score_fn as knn_cv

    X, L, T, P = planted_signal()
    args = (X, L, T, P, ["a", "b", "c"], None, ["a", "b", "c"], ["t"])
    prior = cross_validate(list(range(len(T))), L, knn_cv(*args, KNNConfig(k=0)), n_folds=4, seed=0)
    res = cross_validate(list(range(len(T))), L, R.cv_score_fn(*args, R.ResidualConfig(l2=0.01)), n_folds=4,
                         seed=0)
    assert prior["top1"] < 0.65 and res["top1"] > 0.85
    # a huge penalty is the prior alone
    f = R.fit(X, L, T, P, ["a", "b", "c"], None, ["a", "b", "c"], R.ResidualConfig(l2=1e9))
    assert np.allclose(R.scores(f, X[:5], T[:5]), f.prior.rows(T[:5]), atol=1e-6)
    # a model without labels scores its prior exactly
    L2 = L.copy()
    L2[:, 2] = np.nan
    f = R.fit(X, L2, T, P[P[:, 2] != 2], ["a", "b", "c"], None, ["a", "b", "c"], R.ResidualConfig(l2=0.01))
    assert np.all(f.W[:, 2] == 0) and np.allclose(R.scores(f, X[:5], T[:5])[:, 2], f.prior.rows(T[:5])[:, 2])


def test_blend_endpoints_are_knn_and_residual_and_tune_picks_the_best_row():
    from rpcli.core.routers import residual as R
    from rpcli.core.routers.knn import KNNConfig, fit, scores

    X, L, T, P = planted_signal(n=60)
    names = ["a", "b", "c"]
    base = dict(k=5, temperature=0.0, prior_weight=2.0, l2=0.1)
    sig = type("S", (), {"labels": L, "tasks": T, "pairs": P})
    for w in (0.0, 1.0):
        cfg = R.BlendConfig(blend=w, **base)
        fr, fk = R.fit_any(X, sig, names, None, names, cfg, ["t"])
        got = R.score_any(cfg, fr, fk, X[:7], T[:7])
        want = (scores(fit(X, L, T, P, names, None, names, KNNConfig(k=5, prior_weight=2.0)), X[:7], T[:7]) if w == 0
                else R.scores(fr, X[:7], T[:7]))
        assert np.allclose(got, want)
    out = R.tune(X, L, T, P, names, None, names, ["t"], R.BlendConfig(), seed=3, n_folds=3)
    res_rows = [r for r in out["stage1"] if r["component"] == "residual"]
    assert len(res_rows) == len(R.L2_GRID) * len(R.CARD_GRID)
    best = max(res_rows, key=lambda r: r["top1"])
    assert best["top1"] == max(r["top1"] for r in res_rows)
    bl = [r for r in out["stage1"] if r["component"] == "blend"]
    assert [r["blend"] for r in bl] == list(R.BLEND_GRID)
    assert out["config"]["blend"] == max(bl, key=lambda r: (r["top1"], -r["blend"]))["blend"]
    assert out == R.tune(X, L, T, P, names, None, names, ["t"], R.BlendConfig(), seed=3, n_folds=3)


def _prof(sess, mode):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "index", mode, {"seed": 56}).entry["id"]


@pytest.mark.parametrize("router,mode,opts,seeds", [
    ("prior", "standard", {"card_weight": 1.0}, None),
    ("knn", "newllm", {"k": 2, "card_weight": 0.5, "cold_bonus": 0.1}, None),
    ("residual", "newllm", {"tune": True}, [0, 1]),
    ("blend", "standard", {"tune": True}, None)])
def test_fitted_routers_load_reproduce_their_predictions_and_route_free_text(sess, router, mode, opts, seeds):
    from rpcli.services.serving.inference import load_run
    from rpcli.services.artifacts.routes import run_router_entry

    e = run_router_entry(sess, router, _prof(sess, mode), mode, opts, seeds=seeds).entry
    for seed in seeds or [0]:
        rr = load_run(sess, e["id"], seed=seed)
        assert rr.router == router and rr.check_diff is not None and rr.check_diff < 2e-6
        d = rr.decide(["What is 17 times 3?"])[0]
        assert d.model in rr.models and d.model == d.ranking[0]
        assert rr.decide(["What is 17 times 3?"], lam=0.0)[0].model in rr.models  # the calibration refits as recorded
    # a training query routed as free text: its nearest training query is itself, so the prior router's task mix
    # leans on that query's task
    if router == "prior":
        from rpcli.core.routers.knn import scores

        rr = load_run(sess, e["id"])
        tv = rr._train_vecs()
        f = rr.loaded.scorer.scorer.f  # _Scorer -> KNNScorer -> the fitted knn
        free = rr.loaded.scores(tv[:3])
        assert free.shape == (3, len(rr.models))
        assert not np.allclose(free, np.tile(f.prior.value[-1], (3, 1))) or len(set(rr.signal.tasks)) == 1
        assert np.allclose(rr.loaded.scores(tv[:3], tasks=rr.signal.tasks[:3]), scores(f, tv[:3],
                                                                                      rr.signal.tasks[:3]))


def test_cli_route_query_and_serve_health_on_a_prior_run(sess, tmp_path):
    from starlette.testclient import TestClient
    from typer.testing import CliRunner

    from rpcli.cli.main import app
    from rpcli.services.serving.inference import load_run
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.services.serving.serve import create_app, read_endpoints

    e = run_router_entry(sess, "prior", _prof(sess, "standard"), "standard", {}).entry
    r = CliRunner().invoke(app, ["route", "query", "compute 17 times 3", "--run", e["id"]])
    assert r.exit_code == 0, r.output
    rr = load_run(sess, e["id"])
    assert r.stdout.strip() == rr.route("compute 17 times 3")
    j = CliRunner().invoke(app, ["route", "query", "compute 17 times 3", "--run", e["id"], "--explain", "--json"])
    assert j.exit_code == 0, j.output
    assert json.loads(j.stdout)["router"] == "prior"
    eps_file = tmp_path / "eps.yaml"
    eps_file.write_text("models:\n" + "".join(f"  {m}:\n    base_url: http://127.0.0.1:9/v1\n    model: {m}\n"
                                              for m in rr.models))
    with TestClient(create_app(rr, read_endpoints(eps_file, rr.models))) as c:
        h = c.get("/health").json()
    assert h["status"] == "ok" and h["router"] == "prior" and h["run"] == e["id"]


def test_learning_curve_and_cv_table_scripts_on_tiny(tiny_data, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import cv_table
    import learning_curve

    ws = tmp_path / "ws"
    lc_json, lc_md = tmp_path / "lc.json", tmp_path / "lc.md"
    assert learning_curve.main(["-d", str(tiny_data), "--workspace", str(ws), "--encoder", "hash:32", "--fractions",
                                "0.5,1.0", "--seeds", "0,1", "--folds", "2", "--knn", "k=2,prior_weight=2",
                                "--json", str(lc_json), "--md", str(lc_md)]) == 0
    doc = json.loads(lc_json.read_text())
    for mode in ("standard", "newllm"):
        m = doc["datasets"][0]["modes"][mode]
        assert set(m["top1"]) >= {"prior (card 0)", "per-task oracle (validation fold)"}
        for d in m["top1"].values():
            assert set(d) == {"0.5", "1.0"}
            assert all(0.0 <= v <= 1.0 for x in d.values() for v in x["per_seed"]) and all(
                len(x["per_seed"]) == 2 for x in d.values())
    md = lc_md.read_text()
    assert "### standard" in md and "fraction 0.5" in md and doc["commit"] in md
    cv_json, cv_md = tmp_path / "cv.json", tmp_path / "cv.md"
    assert cv_table.main(["-d", str(tiny_data), "--workspace", str(ws), "--encoder", "hash:32", "--seeds", "0",
                          "--folds", "2", "--json", str(cv_json), "--md", str(cv_md)]) == 0
    cv = json.loads(cv_json.read_text())
    assert cv["modes"]["newllm"]["cold_start"] and not cv["modes"]["standard"]["cold_start"]
    fam = cv["modes"]["standard"]["families"][0]
    assert set(fam) == {"prior", "knn", "residual", "blend"}
    text = cv_md.read_text()
    assert text.count("✓") >= 4 and "### residual: every configuration" in text


def test_compare_json_rows_carry_the_paired_bootstrap_against_per_task_best_train(sess):
    from typer.testing import CliRunner

    from rpcli.cli.main import app
    from rpcli.core.eval.paired import paired_bootstrap, per_task_train_rows, prediction_rows
    from rpcli.services.artifacts.routes import run_router_entry

    pid = _prof(sess, "standard")
    same = run_router_entry(sess, "prior", pid, "standard", {}).entry  # picks what per-task-best (train) picks
    other = run_router_entry(sess, "knn", pid, "standard", {"k": 2, "card_weight": 1.0}, seeds=[0, 1]).entry
    r = CliRunner().invoke(app, ["-d", str(sess.data_root), "--encoder", "hash:32", "compare", "--json"])
    assert r.exit_code == 0, r.output
    rows = {x.get("id"): x for x in json.loads(r.stdout) if x.get("kind") == "run"}
    assert rows[same["id"]]["paired_delta"] == 0 and rows[same["id"]]["paired_ci"] == [0, 0]
    files = sorted(sess.workspace.root / o["path"] for o in other["outputs"] if "predictions" in o["path"])
    want = paired_bootstrap(prediction_rows(files, len(sess.dataset.test_rows)),
                            per_task_train_rows(sess.dataset, "standard"))
    got = rows[other["id"]]
    assert got["paired_delta"] == pytest.approx(want["diff"], abs=1e-6)
    assert got["paired_ci"] == pytest.approx(want["ci95"], abs=1e-6) and got["paired_baseline"]
    assert list((sess.workspace.root / "cache" / "paired").glob("*.json")), "cached per run"
    again = CliRunner().invoke(app, ["-d", str(sess.data_root), "--encoder", "hash:32", "compare", "--json"])
    assert json.loads(again.stdout) == json.loads(r.stdout)
    plain = CliRunner().invoke(app, ["-d", str(sess.data_root), "--encoder", "hash:32", "compare", "--plain"])
    assert plain.exit_code == 0 and "paired" not in plain.stdout

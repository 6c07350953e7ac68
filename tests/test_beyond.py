"""Beyond the study (docs/beyond.md): the prior and knn routers, card imputation, grouped CV, the paired
bootstrap, sweeps/best.yaml and the report's "Beyond the study" section, on the tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(sess, router, mode, opts=None, seeds=None):
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    prof = build_profile_entry(sess, "index", mode, {"seed": 56}).entry
    return run_router_entry(sess, router, prof["id"], mode, opts or {}, seeds=seeds).entry


def _choices(sess, entry, name="predictions.jsonl"):
    path = sess.workspace.root / next(o["path"] for o in entry["outputs"] if o["path"].endswith(name))
    return [json.loads(x)["model_name"] for x in path.read_text().splitlines()]


def test_prior_without_cards_picks_what_per_task_best_train_picks(sess):
    from rpcli.core.routers.evaluate import reference_rows

    e = _run(sess, "prior", "standard")
    ref = next(r for r in reference_rows(sess.dataset, "standard") if r["name"] == "per-task-best (train)")
    picks = _choices(sess, e)
    assert picks == [ref["per_task_models"][r.task_name] for r in sess.dataset.test_rows]
    assert e["metrics"]["avg_performance"] == pytest.approx(ref["avg_performance"])


def test_knn_shapes_determinism_and_new_model_without_signal(sess):
    from rpcli.core.routers.knn import KNNConfig, fit, scores

    a = _run(sess, "knn", "newllm", {"k": 2, "card_weight": 1.0})
    b = _run(sess, "knn", "newllm", {"k": 2, "card_weight": 1.0, "ridge": 0.5})
    assert a["id"] != b["id"]
    # same recipe, built again from scratch: same scores
    sess2_root = sess.workspace.root.parent / "ws2"
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    s2 = Session(workspace=Workspace(sess2_root), data_root=sess.data_root, encoder_spec="hash:32")
    a2 = _run(s2, "knn", "newllm", {"k": 2, "card_weight": 1.0})
    assert a2["id"] == a["id"]
    assert _choices(sess, a) == _choices(s2, a2)
    info = a["metrics"]["train"]
    assert info["models_without_signal"] == ["m3"], "the held-out model has no training signal"
    assert "m3" in info["card_imputed"], "its missing card scores are imputed from its card"
    # direct: a model with no label anywhere scores exactly its prior
    rng = np.random.default_rng(0)
    L = rng.integers(0, 2, size=(6, 3)).astype(float)
    L[:, 2] = np.nan
    pairs = np.array([[q, 0, 1] if L[q, 0] > L[q, 1] else [q, 1, 0] for q in range(6)])
    f = fit(rng.normal(size=(6, 4)), L, ["t"] * 6, pairs, ["a", "b", "c"], None, ["a", "b", "c"],
            KNNConfig(k=3))
    sc = scores(f, rng.normal(size=(4, 4)), ["t"] * 4)
    assert sc.shape == (4, 3)
    assert np.allclose(sc[:, 2], f.prior.rows(["t"] * 4)[:, 2])


def test_knn_refuses_labels_that_name_the_held_out_model(sess):
    from rpcli.core.routers.knn import run
    from rpcli.core.routers.run import RouteContext
    from rpcli.core.routers.training import TrainingSignal
    from rpcli.errors import TrainingDataError

    L = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, np.nan]])
    sig = TrainingSignal(source="pairs", models=["m1", "m2", "m3"], tasks=["t", "t"], queries=["a", "b"],
                         texts=["a", "b"], labels=L, quality=L, pairs=np.array([[0, 0, 2], [1, 1, 0]]))

    class Enc:
        def encode(self, texts, progress=None, description=""):
            return np.ones((len(texts), 4))

    ctx = RouteContext(mode="newllm", models=["m1", "m2", "m3"], profile_vecs=np.eye(3), test_texts=["x"],
                       encoder=Enc(), train=sig, held_out=["m3"], test_tasks=["t"])
    with pytest.raises(TrainingDataError):
        run(ctx, {"k": 1}, 0)


def test_card_imputation_recovers_a_linear_benchmark():
    from rpcli.core.routers.ability import impute_cell

    x = np.linspace(0.1, 0.9, 8)
    X = np.stack([x, 0.5 * x + 0.2, np.r_[1 - x[:-1], np.nan]], axis=1)  # col 2 unknown for the last row
    X[-1, 2] = np.nan
    v = impute_cell(X, 7, 2, ridge=1e-6)
    assert v == pytest.approx(1 - x[-1], abs=1e-6)


def test_group_folds_never_split_a_query():
    from rpcli.core.eval.cv import group_folds

    groups = ["q1", "q2", "q1", "q3", "q4", "q2", "q5", "q6", "q5"]
    folds = group_folds(groups, 3, seed=7)
    seen = np.concatenate(folds)
    assert sorted(seen.tolist()) == list(range(len(groups)))
    for i, f in enumerate(folds):
        for j, g in enumerate(folds):
            if i != j:
                assert not {groups[a] for a in f} & {groups[b] for b in g}
    assert [f.tolist() for f in folds] == [f.tolist() for f in group_folds(groups, 3, seed=7)]
    with pytest.raises(ValueError):
        group_folds(["a", "a"], 2, 0)


def test_cross_validate_hides_the_model_from_the_fitted_part():
    from rpcli.core.eval.cv import cross_validate

    rng = np.random.default_rng(1)
    L = rng.integers(0, 2, size=(20, 3)).astype(float)
    seen = []

    def fn(tr, val, hidden):
        seen.append((set(tr.tolist()) & set(val.tolist()), hidden))
        s = np.zeros((len(val), 3))
        if hidden is not None:
            s[:, hidden] = 1.0  # always rank the hidden model first
        return s

    r = cross_validate(list(range(20)), L, fn, n_folds=4, seed=0, hide=[0, 1])
    assert all(not overlap for overlap, _ in seen)
    assert {h for _, h in seen} == {0, 1}
    assert r["recall"] == 1.0 and r["recall_n"] == int((L[:, :2] == 1).sum())


def test_paired_bootstrap_on_constructed_cases():
    from rpcli.core.eval.paired import mean_ci, paired_bootstrap

    b = np.r_[np.ones(50), np.zeros(50)]
    a = b.copy()
    a[50:60] = 1.0  # a wins 10 rows, never loses
    r = paired_bootstrap(a, b)
    assert r["diff"] == pytest.approx(0.1)
    assert r["ci95"][0] > 0 and r["above_zero"] and r["n_differ"] == 10
    same = paired_bootstrap(b, b)
    assert same["diff"] == 0 and same["ci95"] == [0.0, 0.0] and not same["above_zero"]
    c = b.copy()
    c[50:55], c[:5] = 1.0, 0.0  # 5 wins, 5 losses
    mixed = paired_bootstrap(c, b)
    assert mixed["ci95"][0] < 0 < mixed["ci95"][1]
    m = mean_ci(b)
    assert m["ci95"][0] < 0.5 < m["ci95"][1]
    with pytest.raises(ValueError):
        paired_bootstrap(a, b[:10])


def test_best_yaml_names_nothing_of_the_data_and_runs_on_tiny(tiny_data, tmp_path):
    from rpcli.services.base import Session
    from rpcli.services.artifacts.report import build
    from rpcli.services.sweep.driver import SweepRunner, load
    from rpcli.workspace import report as R
    from rpcli.workspace.layout import Workspace

    text = (ROOT / "sweeps" / "best.yaml").read_text()
    real = ROOT.parent / "shared" / "data" / "routeprofile" / "profile_data" / "model_feature_standard.json"
    names = ["mistral", "llama", "qwen", "gemma", "mixtral", "mmlu", "gsm8k", "mbpp", "human_eval", "commongen"]
    if real.is_file():
        names += list(json.loads(real.read_text()))
    body = "\n".join(x.split("#")[0] for x in text.splitlines())
    assert not [n for n in names if n.lower() in body.lower()]
    spec, cells = load(ROOT / "sweeps" / "best.yaml")
    sess = Session(workspace=Workspace(tmp_path / "ws"), data_root=tiny_data, encoder_spec="hash:32")
    out = SweepRunner(sess, spec, cells, jobs=1).run()
    assert out.failed == 0
    doc = build(sess, command="rp report --sweep best", sweep=["best"])
    for m in doc["modes"]:
        rows = m["beyond"]["rows"]
        ours = [r for r in rows if r["kind"] == "ours"]
        assert len(ours) == 4, "prior x 2 card weights, the tuned knn and the tuned blend, each listed"
        assert all(r["vs_per_task_train"] and len(r["vs_per_task_train"]["ci95"]) == 2 for r in ours)
        assert any(r["name"] == "per-task-best (train)" for r in rows)
    md = R.render_markdown(doc)
    assert "### Beyond the study (standard)" in md and "### Beyond the study (newllm)" in md
    knn = next(e for e in json.loads((tmp_path / "ws" / "sweeps" / "best.json").read_text())["artifacts"]
               if e["kind"] == "run" and e["params"].get("router") == "knn")
    assert knn["params"]["seeds"] == [0, 1, 2]

"""Tests of rpcli.core.eval.metrics on hand-computed tiny cases and, when present, the released data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rpcli.core.eval import metrics as M
from rpcli.errors import RpError, UnknownNameError

NAN = float("nan")
approx = pytest.approx


# ----------------------------------------------------------------------------------------------------------------
# evaluate_selection
# ----------------------------------------------------------------------------------------------------------------

MODELS3 = ["a", "b", "c"]


def _case_a():
    scores = np.array([
        [1.0, 0.0, 0.5],   # discriminative (has a 0 and a 1)
        [0.0, 0.0, 0.0],   # all zero
        [0.2, NAN, 0.2],
        [NAN, NAN, NAN],   # no score at all
    ])
    costs = np.array([[1.0, 2.0, 3.0]] * 4)
    tasks = ["x", "x", "y", "y"]
    choice = np.array([2, 1, 1, 0])
    return choice, scores, costs, tasks


def test_evaluate_selection_hand_case():
    choice, scores, costs, tasks = _case_a()
    r = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, bsm_performance=0.1, bootstrap=200)
    json.dumps(r)  # JSON-serialisable
    assert r["n_rows"] == 4
    # chosen scores 0.5, 0.0, NaN, NaN -> 0.5, 0, 0, 0 -> mean 0.125
    assert r["avg_performance"] == approx(0.125)
    assert r["n_missing"] == 2
    assert any("2 of 4" in w for w in r["warnings"])
    # per task: x = (0.5 + 0)/2 = 0.25, y = 0 -> macro 0.125
    assert r["macro_avg_performance"] == approx(0.125)
    assert r["per_task"]["x"] == {"n": 2, "avg_performance": approx(0.25), "hit_rate": approx(0.5),
                                  "best_pick_rate": approx(0.5), "avg_cost": approx(2.5)}
    # y: best pick only over row 2 (row 3 has no score) -> 0/1; costs (2 + 1)/2 = 1.5
    assert r["per_task"]["y"] == {"n": 2, "avg_performance": approx(0.0), "hit_rate": approx(0.0),
                                  "best_pick_rate": approx(0.0), "avg_cost": approx(1.5)}
    # hit: only row 0 -> 1/4
    assert r["hit_rate"] == approx(0.25)
    # is_hit variant: row 0 hit, row 1 all zero, row 3 no score -> 3/4
    assert r["hit_rate_rp"] == approx(0.75)
    # best pick over rows 0..2: F, T (tied at 0), F (chosen missing) -> 1/3
    assert r["best_pick_rate"] == approx(1 / 3)
    assert r["n_best_pick_rows"] == 3
    assert r["n_discriminative"] == 1
    assert r["best_pick_rate_discriminative"] == approx(0.0)
    # costs 3, 2, 2, 1 -> 2.0 dollars, 2e6 micro-dollars
    assert r["avg_cost"] == approx(2.0)
    assert r["avg_cost_micro"] == approx(2.0e6)
    assert r["selection_share"] == {"a": approx(0.25), "b": approx(0.5), "c": approx(0.25)}
    # -(2 * 0.25 ln 0.25 + 0.5 ln 0.5) = 1.5 ln 2 = 1.0397207708
    assert r["selection_entropy"] == approx(1.0397207708)
    # oracle: row max with NaN -> 0: 1, 0, 0.2, 0 -> 0.3; regret 0.175
    assert r["oracle"] == approx(0.3)
    assert r["regret"] == approx(0.175)
    # gap closed (0.125 - 0.1) / (0.3 - 0.1) = 0.125
    assert r["gap_closed"] == approx(0.125)
    lo, hi = r["avg_performance_ci95"]
    assert 0.0 <= lo <= 0.125 <= hi <= 0.5
    assert "newllm" not in r


def test_evaluate_selection_gap_closed_none_and_negative():
    choice, scores, costs, tasks = _case_a()
    r = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, bsm_performance=0.3, bootstrap=0)
    assert r["gap_closed"] is None  # oracle == bsm
    assert r["avg_performance_ci95"] is None
    r = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, bsm_performance=0.2, bootstrap=0)
    # (0.125 - 0.2) / (0.3 - 0.2) = -0.75
    assert r["gap_closed"] == approx(-0.75)
    r = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, bootstrap=0)
    assert r["gap_closed"] is None


def test_evaluate_selection_bootstrap_deterministic():
    rng = np.random.default_rng(1)
    scores = rng.random((50, 3))
    costs = np.ones((50, 3))
    choice = rng.integers(0, 3, 50)
    tasks = ["t"] * 50
    a = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, seed=7, bootstrap=300)
    b = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, seed=7, bootstrap=300)
    c = M.evaluate_selection(choice, scores, costs, tasks, MODELS3, seed=8, bootstrap=300)
    assert a["avg_performance_ci95"] == b["avg_performance_ci95"]
    assert a["avg_performance_ci95"] != c["avg_performance_ci95"]


def test_best_pick_counts_ties_and_entropy_zero():
    scores = np.array([[1.0, 1.0, 0.0], [0.3, 0.7, 0.7]])
    costs = np.zeros((2, 3))
    r = M.evaluate_selection(np.array([1, 1]), scores, costs, ["t", "t"], MODELS3, bootstrap=0)
    # row 0: b tied best with a; row 1: b tied best with c -> 1.0
    assert r["best_pick_rate"] == 1.0
    # row 0 is discriminative (0 and 1), row 1 is not
    assert r["n_discriminative"] == 1
    assert r["best_pick_rate_discriminative"] == 1.0
    assert r["selection_entropy"] == 0.0
    assert r["warnings"] == [] and r["n_missing"] == 0


def test_evaluate_selection_rejects_bad_input():
    choice, scores, costs, tasks = _case_a()
    with pytest.raises(ValueError):
        M.evaluate_selection(np.array([0, 1, 2, 3]), scores, costs, tasks, MODELS3)
    with pytest.raises(ValueError):
        M.evaluate_selection(choice[:3], scores, costs, tasks, MODELS3)
    with pytest.raises(UnknownNameError):
        M.evaluate_selection(choice, scores, costs, tasks, MODELS3, held_out=["zzz"])


def test_newllm_metrics():
    models = ["a", "b", "new"]
    scores = np.array([
        [1.0, 0.0, 1.0],   # new tied best > 0
        [0.0, 0.0, 1.0],   # new unique best
        [0.0, 1.0, 0.0],   # new not best
        [0.0, 0.0, 0.0],   # all zero: new tied best but max == 0
        [0.5, 0.2, 0.8],   # new unique best
    ])
    costs = np.ones((5, 3))
    choice = np.array([2, 0, 2, 2, 2])
    router_scores = np.array([
        [0.1, 0.9, 0.95],  # without new -> b (0)
        [0.5, 0.5, 0.1],   # tie -> a (first) (0)
        [0.2, 0.3, 0.9],   # -> b (1)
        [0.3, 0.1, 0.9],   # -> a (0)
        [0.7, 0.6, 0.9],   # -> a (0.5)
    ])
    r = M.evaluate_selection(choice, scores, costs, ["t"] * 5, models, held_out=["new"],
                             router_scores=router_scores, bootstrap=0)
    json.dumps(r)
    # chosen: 1, 0, 0, 0, 0.8 -> 0.36
    assert r["avg_performance"] == approx(0.36)
    nl = r["newllm"]
    assert nl["model"] == "new"
    assert nl["selection_rate"] == approx(0.8)          # 4 of 5
    assert nl["precision"] == approx(0.75)              # rows 0, 3, 4 of the routed 0, 2, 3, 4
    assert nl["cold_start_recall"] == {"value": approx(2 / 3), "numerator": 2, "denominator": 3}  # rows 0, 1, 4
    assert nl["cold_start_recall_strict"] == {"value": approx(0.5), "numerator": 1, "denominator": 2}  # rows 1, 4
    # without new: 0, 0, 1, 0, 0.5 -> 0.3; gain 0.06
    assert nl["avg_performance_without_new"] == approx(0.3)
    assert nl["gain_from_new"] == approx(0.06)


def test_newllm_never_chosen():
    scores = np.array([[0.0, 1.0], [1.0, 0.0]])
    r = M.evaluate_selection(np.array([0, 0]), scores, np.ones((2, 2)), ["t", "t"], ["a", "new"],
                             held_out=["new"], bootstrap=0)
    nl = r["newllm"]
    assert nl["selection_rate"] == 0.0
    assert nl["precision"] is None
    assert nl["cold_start_recall"] == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert "avg_performance_without_new" not in nl


# ----------------------------------------------------------------------------------------------------------------
# reference rows
# ----------------------------------------------------------------------------------------------------------------


def _case_ref():
    scores = np.array([
        [1.0, 1.0, 0.0],
        [0.0, 1.0, 1.0],
        [0.5, NAN, 0.25],
        [0.0, 0.25, 0.5],
    ])
    costs = np.array([
        [3.0, 1.0, 2.0],
        [1.0, 5.0, 2.0],
        [2.0, 1.0, 4.0],
        [1.0, 1.0, 1.0],
    ])
    return scores, costs, ["x", "x", "y", "y"]


def test_reference_rows_hand_case():
    scores, costs, tasks = _case_ref()
    rows = M.reference_rows(scores, costs, tasks, MODELS3, held_out=["c"], train_bsm="a",
                            train_task_best={"x": "c"})
    json.dumps(rows)
    by = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == [
        "oracle", "oracle-cost-aware", "oracle-without-new", "random", "best-single (test)",
        "best-single (train)", "per-task-oracle (test)", "per-task-best (train)", "a", "b", "c"]
    assert all(r["kind"] == "reference" for r in rows[:8]) and all(r["kind"] == "single" for r in rows[8:])
    # oracle (first of ties): a(1,$3) b(1,$5) a(.5,$2) c(.5,$1) -> 0.75, $2.75
    assert by["oracle"]["avg_performance"] == approx(0.75)
    assert by["oracle"]["avg_cost"] == approx(2.75)
    # cost-aware: b($1) c($2) a($2) c($1) -> 0.75, $1.5
    assert by["oracle-cost-aware"]["avg_performance"] == approx(0.75)
    assert by["oracle-cost-aware"]["avg_cost"] == approx(1.5)
    assert by["oracle-cost-aware"]["avg_cost_micro"] == approx(1.5e6)
    # without c: a(1,$3) b(1,$5) a(.5,$2) b(.25,$1) -> 0.6875, $2.75
    assert by["oracle-without-new"]["avg_performance"] == approx(0.6875)
    assert by["oracle-without-new"]["avg_cost"] == approx(2.75)
    # random: row means 2/3, 2/3, 0.25, 0.25 -> 0.458333; costs 2, 8/3, 7/3, 1 -> 2.0
    assert by["random"]["avg_performance"] == approx(0.4583333333)
    assert by["random"]["avg_cost"] == approx(2.0)
    # singles: a .375/$1.75, b .5625/$2, c .4375/$2.25
    assert by["a"]["avg_performance"] == approx(0.375) and by["a"]["avg_cost"] == approx(1.75)
    assert by["b"]["avg_performance"] == approx(0.5625) and by["b"]["avg_cost"] == approx(2.0)
    assert by["c"]["avg_performance"] == approx(0.4375) and by["c"]["avg_cost"] == approx(2.25)
    assert by["best-single (test)"]["model"] == "b"
    assert by["best-single (test)"]["avg_performance"] == approx(0.5625)
    assert by["best-single (train)"]["model"] == "a"
    assert by["best-single (train)"]["avg_performance"] == approx(0.375)
    # per-task oracle: x -> b (sum 2), y -> c (sum .75): 1, 1, .25, .5 -> 0.6875; $1, $5, $4, $1 -> 2.75
    assert by["per-task-oracle (test)"]["per_task_models"] == {"x": "b", "y": "c"}
    assert by["per-task-oracle (test)"]["avg_performance"] == approx(0.6875)
    assert by["per-task-oracle (test)"]["avg_cost"] == approx(2.75)
    # per-task best (train): x -> c, y -> a (falls back to train_bsm): 0, 1, .5, 0 -> 0.375; $2,$2,$2,$1 -> 1.75
    assert by["per-task-best (train)"]["per_task_models"] == {"x": "c", "y": "a"}
    assert by["per-task-best (train)"]["avg_performance"] == approx(0.375)
    assert by["per-task-best (train)"]["avg_cost"] == approx(1.75)


def test_reference_rows_errors():
    scores, costs, tasks = _case_ref()
    with pytest.raises(RpError):  # task y has no pick and no train_bsm fallback
        M.reference_rows(scores, costs, tasks, MODELS3, train_task_best={"x": "c"})
    with pytest.raises(UnknownNameError):
        M.reference_rows(scores, costs, tasks, MODELS3, train_bsm="nope")


# ----------------------------------------------------------------------------------------------------------------
# training-signal baselines
# ----------------------------------------------------------------------------------------------------------------

PAIRS = [
    ("t1", "a", "b"), ("t1", "b", "a"),   # t1: a 1-1 (.5), b 1-1 (.5), c and d absent (.5)
    ("t2", "b", "c"), ("t2", "b", "c"),   # t2: b 2-0 (.75), c 0-2 (.25), a, d .5
]
# overall: a 1-1 -> .5, b 3-1 -> 4/6, c 0-2 -> .25, d absent -> .5


def test_pairwise_win_rates():
    per_task, overall = M.pairwise_win_rates(PAIRS, ["a", "b", "c", "d"])
    assert per_task["t1"] == {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}
    assert per_task["t2"] == {"a": 0.5, "b": 0.75, "c": 0.25, "d": 0.5}
    assert overall == {"a": 0.5, "b": approx(4 / 6), "c": 0.25, "d": 0.5}


def test_per_task_best_from_pairs_tie_break():
    models = ["a", "b", "c", "d"]
    # t1: four-way tie at .5 -> b has the higher overall rate (model order alone would give a)
    assert M.per_task_best_from_pairs(PAIRS, models) == {"t1": "b", "t2": "b"}
    # b excluded: t1 a, c, d tie at .5; overall a = d = .5 > c -> model order -> a; t2: a .5 = d .5 -> a
    assert M.per_task_best_from_pairs(PAIRS, models, exclude=("b",)) == {"t1": "a", "t2": "a"}
    # the same with d first in model order -> d
    assert M.per_task_best_from_pairs(PAIRS, ["d", "a", "b", "c"], exclude=("b",)) == {"t1": "d", "t2": "d"}
    assert M.best_single_from_pairs(PAIRS, models) == "b"
    assert M.best_single_from_pairs(PAIRS, models, exclude=["b"]) == "a"
    assert M.best_single_from_pairs(PAIRS, ["d", "a", "b", "c"], exclude=["b"]) == "d"
    with pytest.raises(RpError):
        M.per_task_best_from_pairs(PAIRS, ["a"], exclude=["a"])


def test_per_task_best_from_profile_scores():
    detailed = {
        "a": {"x": 50.0, "y": 10.0, "z": None},
        "b": {"x": 50.0, "y": 20.0, "z": None},
        "c": {"x": 40.0, "y": None, "z": None},
    }
    # overall means over x, y, z: a 30, b 35, c 40
    # x: a = b = 50 -> b (higher overall); y: b; z: nobody -> best overall c
    assert M.per_task_best_from_profile_scores(detailed, MODELS3, ["x", "y", "z"]) == {"x": "b", "y": "b", "z": "c"}
    # c excluded: z -> b (35 > 30)
    assert M.per_task_best_from_profile_scores(detailed, MODELS3, ["x", "y", "z"], exclude=["c"]) == {
        "x": "b", "y": "b", "z": "b"}
    # equal overall -> model order
    same = {"a": {"x": 1.0}, "b": {"x": 1.0}}
    assert M.per_task_best_from_profile_scores(same, ["b", "a"], ["x"]) == {"x": "b"}


# ----------------------------------------------------------------------------------------------------------------
# cost-quality curves
# ----------------------------------------------------------------------------------------------------------------


def test_cost_quality_curve_explicit_lambdas():
    pred = np.array([[0.9, 0.5], [0.8, 0.7]])
    scores = np.array([[1.0, 0.0], [1.0, 1.0]])
    costs = np.array([[10.0, 1.0], [10.0, 1.0]])
    pts = M.cost_quality_curve(pred, scores, costs, lambdas=[0.0, 0.02, 1.0])
    # lambda 0: both pick model 0 -> $10, 1.0
    # lambda .02: row 0 .7 vs .48 -> 0; row 1 .6 vs .68 -> 1 -> $5.5, 1.0
    # lambda 1: both pick model 1 -> $1, 0.5
    assert pts == [
        {"lambda": 0.0, "avg_cost": approx(10.0), "avg_performance": approx(1.0)},
        {"lambda": 0.02, "avg_cost": approx(5.5), "avg_performance": approx(1.0)},
        {"lambda": 1.0, "avg_cost": approx(1.0), "avg_performance": approx(0.5)},
    ]
    default = M.cost_quality_curve(pred, scores, costs)
    assert len(default) == 40
    assert default[0]["lambda"] == 0.0
    lams = [p["lambda"] for p in default]
    assert lams == sorted(lams)
    # the largest lambda forces the cheapest model everywhere
    assert default[-1]["avg_cost"] == approx(1.0) and default[-1]["avg_performance"] == approx(0.5)
    assert default[0]["avg_cost"] == approx(10.0)


POINTS = [(1, 0.5), (2, 0.4), (3, 0.7), (3, 0.6), (5, 0.7), (6, 0.9)]


def test_pareto_front():
    assert M.pareto_front(POINTS) == [(1, 0.5), (3, 0.7), (6, 0.9)]
    dicts = [{"avg_cost": c, "avg_performance": a, "lambda": i} for i, (c, a) in enumerate(POINTS)]
    assert [p["lambda"] for p in M.pareto_front(dicts)] == [0, 2, 5]


def test_aiq():
    # hull (1,.5) (3,.7) (6,.9), flat to 7: 2*.6 + 3*.8 + 1*.9 = 4.5, / 6 = 0.75
    assert M.aiq(POINTS, 1, 7) == approx(0.75)
    # (4, .72) lies below the chord (3,.7)-(6,.9) (0.7667 at 4): not on the hull, same AIQ
    assert M.aiq(POINTS + [(4, 0.72)], 1, 7) == approx(0.75)
    # nothing below cost 2: 0 on [0, 2), .5 -> .9 on [2, 4]: 1.4 / 4 = 0.35
    assert M.aiq([(2, 0.5), (4, 0.9)], 0, 4) == approx(0.35)
    # a single point extended flat: 0.6
    assert M.aiq([{"avg_cost": 1.0, "avg_performance": 0.6}], 1.0, 3.0) == approx(0.6)
    with pytest.raises(ValueError):
        M.aiq(POINTS, 2, 2)


def test_cost_to_match():
    assert M.cost_to_match(POINTS, 0.7) == 3
    assert M.cost_to_match(POINTS, 0.45) == 1
    assert M.cost_to_match(POINTS, 0.95) is None


def test_calibration_hand_case():
    cal = M.fit_calibration([0.1, 0.2, 0.3, 0.4, 0.5], [0.0, 1.0, 0.0, 1.0, 1.0])
    # PAV: {.1}: 0, {.2, .3}: .5, {.4, .5}: 1
    assert cal["kind"] == "isotonic"
    assert cal["x"] == approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert cal["y"] == approx([0.0, 0.5, 0.5, 1.0, 1.0])
    cal = json.loads(json.dumps(cal))
    out = M.apply_calibration(cal, np.array([0.0, 0.25, 0.35, 0.9, NAN]))
    assert out[:4] == approx([0.0, 0.5, 0.75, 1.0])
    assert math.isnan(out[4])
    assert M.calibrator(cal)(0.25) == approx(0.5)


def test_calibration_monotone_on_unit_interval():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(200, 4)) * 3
    quality = (rng.random((200, 4)) < 1 / (1 + np.exp(-raw))).astype(float)
    raw[0, 0] = NAN
    for max_bins in (4096, 16):
        cal = M.fit_calibration(raw, quality, max_bins=max_bins)
        assert np.all(np.diff(cal["x"]) > 0)
        grid = np.linspace(-20, 20, 1001)
        y = M.apply_calibration(cal, grid)
        assert np.all(np.diff(y) >= 0)
        assert y.min() >= 0.0 and y.max() <= 1.0
        assert y[0] < 0.5 < y[-1]


def test_summarize_seeds():
    runs = [{"avg_performance": 0.5, "newllm": {"x": 1}}, {"avg_performance": 0.7, "newllm": {"x": 3}},
            {"avg_performance": None}]
    out = M.summarize_seeds(runs, keys=("avg_performance", "newllm.x", "missing"))
    # mean .6, sd sqrt((.01 + .01) / 1) = 0.1414213562
    assert out["avg_performance"] == {"mean": approx(0.6), "sd": approx(0.1414213562), "n": 2}
    assert out["newllm.x"] == {"mean": approx(2.0), "sd": approx(1.4142135624), "n": 2}
    assert out["missing"] == {"mean": None, "sd": None, "n": 0}
    assert M.summarize_seeds([{"avg_performance": 0.4}], keys=("avg_performance",)) == {
        "avg_performance": {"mean": 0.4, "sd": 0.0, "n": 1}}


# ----------------------------------------------------------------------------------------------------------------
# real data
# ----------------------------------------------------------------------------------------------------------------

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "routeprofile"
NEW = "mistral-small-24b-instruct-2501-bf16"


def _load_real():
    rows = json.loads((DATA / "route_data" / "routing_test_data.json").read_text(encoding="utf-8"))
    models = list(rows[0]["model_performance"])
    feat = json.loads((DATA / "profile_data" / "model_feature_standard.json").read_text(encoding="utf-8"))
    cand = json.loads((DATA / "profile_data" / "candidate_models.json").read_text(encoding="utf-8"))

    def price(model, key):
        v = feat.get(model, {}).get(key)
        return v if v is not None else cand[model][key]

    inp = [price(m, "input_price") for m in models]
    out = [price(m, "output_price") for m in models]
    n, k = len(rows), len(models)
    scores = np.full((n, k), np.nan)
    costs = np.full((n, k), np.nan)
    for i, row in enumerate(rows):
        for j, m in enumerate(models):
            e = row["model_performance"].get(m)
            if not e:
                continue
            if e.get("task_performance") is not None:
                scores[i, j] = e["task_performance"]
            costs[i, j] = (e["input_token"] * inp[j] + e["output_token"] * out[j]) / 1e6
    return rows, models, scores, costs, [r["task_name"] for r in rows]


@pytest.mark.skipif(not DATA.is_dir(), reason=f"released RouteProfile data not found at {DATA}")
def test_reference_rows_real_data():
    rows, models, scores, costs, tasks = _load_real()
    assert len(models) == 8 and scores.shape == (600, 8)
    by = {r["name"]: r for r in M.reference_rows(scores, costs, tasks, models, held_out=[NEW])}
    assert round(by["oracle"]["avg_performance"], 4) == 0.7574
    assert round(by["oracle-cost-aware"]["avg_performance"], 4) == 0.7574
    assert round(by["oracle-cost-aware"]["avg_cost_micro"], 1) == 55.1
    assert round(by["random"]["avg_performance"], 4) == 0.5382
    assert round(by["random"]["avg_cost_micro"], 1) == 121.6
    assert by["best-single (test)"]["model"] == NEW
    assert round(by["best-single (test)"]["avg_performance"], 4) == 0.6125
    assert round(by[NEW]["avg_cost_micro"], 1) == 60.1
    assert round(by["llama-3.3-70b-instruct"]["avg_performance"], 4) == 0.6104
    assert round(by["llama-3.3-70b-instruct"]["avg_cost_micro"], 1) == 280.4
    assert round(by["per-task-oracle (test)"]["avg_performance"], 4) == 0.6721
    assert round(by["oracle-without-new"]["avg_performance"], 4) == 0.7424

    task_set = list(dict.fromkeys(tasks))

    # per-task best from pairwise win rate (standard)
    pw = json.loads((DATA / "route_data" / "pairwise_training_data_standard.json").read_text(encoding="utf-8"))
    pairs = [(p["task_name"], p["better_model"], p["worse_model"]) for p in pw["pairwise_data"]]
    pick = M.per_task_best_from_pairs(pairs, models)
    assert set(task_set) <= set(pick)
    r = {x["name"]: x for x in M.reference_rows(scores, costs, tasks, models, train_task_best=pick,
                                                 train_bsm=M.best_single_from_pairs(pairs, models))}
    assert r["per-task-best (train)"]["avg_performance"] == approx(0.6521, abs=0.005)

    # per-task best from the profile's detailed_scores, standard and newllm (new model never picked)
    for fname, exclude, expected in (("model_feature_standard.json", (), 0.6554),
                                     ("model_feature_newllm.json", (NEW,), 0.6388)):
        feat = json.loads((DATA / "profile_data" / fname).read_text(encoding="utf-8"))
        detailed = {m: feat[m]["detailed_scores"] for m in models}
        pick = M.per_task_best_from_profile_scores(detailed, models, task_set, exclude=exclude)
        assert NEW not in [pick[t] for t in task_set] or not exclude
        r = {x["name"]: x for x in M.reference_rows(scores, costs, tasks, models, train_task_best=pick)}
        assert r["per-task-best (train)"]["avg_performance"] == approx(expected, abs=0.005), fname

    # single-model Pareto front: llama-3.2-3b -> gemma-2-9b -> mistral-small
    singles = [x for x in M.reference_rows(scores, costs, tasks, models) if x["kind"] == "single"]
    assert [p["name"] for p in M.pareto_front(singles)] == ["llama-3.2-3b-instruct", "gemma-2-9b-it", NEW]

    # always choosing the new model: metric counts quoted in docs/metrics.md
    e = M.evaluate_selection(np.full(600, models.index(NEW)), scores, costs, tasks, models, held_out=[NEW],
                             bootstrap=0)
    assert e["n_discriminative"] == 275
    assert e["newllm"]["cold_start_recall_strict"]["denominator"] == 9
    assert round(e["avg_performance"], 4) == 0.6125

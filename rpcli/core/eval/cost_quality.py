"""The cost-quality curve of a router run (every router, sim included).

The router's scores are calibrated into expected quality on the training queries (isotonic fit of score -> quality
target, the target being 1 for the best models of a query and 0 for beaten ones, unlabeled models skipped), the
map is applied to the test scores (ties broken by the raw score, so lambda = 0 reproduces the router's own
choices), and lambda is swept over argmax [quality - lambda * cost]. The result holds the points, their Pareto
front, AIQ over the candidates' single-model cost range (and the same for the single models alone), and the lowest
cost at which the curve reaches the best single model (chosen on the training signal; also the hindsight one, best
on the test rows).
"""

from __future__ import annotations

import numpy as np

from rpcli.core.eval import metrics as M


def cost_quality(train_scores, sig, test_scores, s, c, models, bsm_performance, bsm_test_performance=None,
                 router_performance=None) -> dict:
    """The curve of one run.

    Args:
        train_scores: [Q, K] router scores on the training queries of `sig` (a TrainingSignal: `quality` [Q, K],
            `source`).
        test_scores: [N, K] router scores on the test rows; s, c: [N, K] test scores and costs (NaN = missing).
        models: the K candidate names; bsm_performance: the best single model's test performance (chosen on the
            training signal); bsm_test_performance: the hindsight one (optional).
        router_performance: the run's own avg_performance; sets `start_matches_router` (None when not given).
    Raises ValueError when the training scores do not match the signal.
    """
    train_scores = np.asarray(train_scores, dtype=np.float64)
    if train_scores.shape != sig.quality.shape:
        raise ValueError(f"training scores {train_scores.shape} do not match the training signal "
                         f"{sig.quality.shape}")
    cal = M.fit_calibration(train_scores, sig.quality)
    raw = np.asarray(test_scores, dtype=np.float64)
    pred = M.apply_calibration(cal, raw)
    lo, hi = np.nanmin(raw), np.nanmax(raw)
    if hi > lo:
        pred = pred + 1e-6 * (raw - lo) / (hi - lo)  # ties of the calibrated map follow the raw score
    curve = M.cost_quality_curve(pred, s, c)
    for p in curve:
        p["avg_cost_micro"] = None if p["avg_cost"] is None else p["avg_cost"] * M.MICRO
    s0 = np.nan_to_num(s, nan=0.0)
    singles = []
    for j, m in enumerate(models):
        col = c[:, j]
        if np.isnan(col).all():
            continue
        singles.append({"model": m, "avg_cost": float(np.nanmean(col)), "avg_performance": float(s0[:, j].mean())})
    costs = [p["avg_cost"] for p in singles]
    out = {"calibration": {"kind": cal["kind"], "n": cal["n"], "n_breakpoints": len(cal["x"]),
                           "source": f"training queries ({sig.source})"},
           "cost_unit": "dollars per query (avg_cost); micro-dollars (avg_cost_micro)",
           "points": curve, "pareto": M.pareto_front(curve),
           "start_matches_router": None, "aiq": None, "aiq_single_models": None, "c_range": None,
           "bsm_target": bsm_performance, "cost_to_match_bsm": None, "cost_to_match_bsm_micro": None}
    if len(costs) >= 2 and max(costs) > min(costs):
        cmin, cmax = min(costs), max(costs)
        out["c_range"] = [cmin, cmax]
        out["aiq"] = M.aiq(curve, cmin, cmax)
        out["aiq_single_models"] = M.aiq(singles, cmin, cmax)
    if bsm_performance is not None:
        ctm = M.cost_to_match(curve, bsm_performance)
        out["cost_to_match_bsm"] = ctm
        out["cost_to_match_bsm_micro"] = None if ctm is None else ctm * M.MICRO
    if bsm_test_performance is not None:  # the hindsight best single model (best on the test rows)
        ctm = M.cost_to_match(curve, bsm_test_performance)
        out["bsm_test_target"] = bsm_test_performance
        out["cost_to_match_bsm_test_micro"] = None if ctm is None else ctm * M.MICRO
    if router_performance is not None:
        start = curve[0]["avg_performance"] if curve else None
        out["start_matches_router"] = start is not None and abs(start - router_performance) < 1e-12
    return out

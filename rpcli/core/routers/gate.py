"""The per-task gate (docs/beyond.md, issue 24 "do no harm"): per task, a query-level router is used only where
grouped cross-validation on the training queries shows it beats the per-task rule by more than fold noise; every
other task is routed by the fallback, the per-task prior with card weight 0 (the rule of "per-task-best (train)";
a model without training signal keeps its card estimate and cold bonus, so a new model stays reachable).

The test, per task t, on the same folds for both (rpcli.core.eval.cv.cross_validate(per_query=True)): d_q = labeled
top-1 of the router - labeled top-1 of the fallback on each validation query q of task t where both are defined;
the gate opens when n >= GATE_MIN_N and mean(d) > z x sd(d) / sqrt(n) (one-sided; z = `gate_z`, 1.645 by default:
a 95% one-sided test of "no gain"). The decision of every task (n, gain, se, open) is recorded in the run's
`metrics.train.gate`, and the open tasks in its configuration (`gate_open`), so loading the run reproduces it.

A query of unknown task (free text) gets the mix share x router + (1 - share) x fallback, share = the fraction of
its GATE_NEIGHBOURS nearest training queries whose task is open.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

GATE_Z = 1.645
GATE_MIN_N = 10
GATE_NEIGHBOURS = 10


def fallback_config(cfg):
    """The fallback's KNNConfig: the per-task prior (k = 0) with card weight 0; the card imputation (ridge) and the
    cold bonus of `cfg` kept for models without training signal."""
    from rpcli.core.routers.knn import KNNConfig

    return KNNConfig(k=0, card_weight=0.0, ridge=cfg.ridge, cold_bonus=cfg.cold_bonus)


def decide(router_values: np.ndarray, fallback_values: np.ndarray, tasks, z: float = GATE_Z,
           min_n: int = GATE_MIN_N) -> dict:
    """{task: {"n", "gain", "se", "open"}} from per-query CV values of the router and the fallback."""
    tasks = np.asarray([str(t) for t in tasks], dtype=object)
    a, b = np.asarray(router_values, dtype=np.float64), np.asarray(fallback_values, dtype=np.float64)
    out = {}
    for t in dict.fromkeys(tasks.tolist()):
        m = (tasks == t) & ~np.isnan(a) & ~np.isnan(b)
        d = a[m] - b[m]
        n = int(m.sum())
        gain = float(d.mean()) if n else 0.0
        se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
        out[t] = {"n": n, "gain": round(gain, 6), "se": round(se, 6) if math.isfinite(se) else None,
                  "open": bool(n >= min_n and gain > 0 and gain > z * se)}
    return out


def cv_decide(make_fn, router_cfg, groups, labels, tasks, n_folds: int, seed: int, z: float) -> dict:
    """Cross-validate the router (`make_fn(router_cfg)`) and its fallback (`make_fn(fallback)` with the fallback's
    fields) on the same folds and decide every task; returns {"tasks": {...}, "open": [...], "z", "min_n",
    "top1_router", "top1_fallback", "top1_gated"}."""
    from rpcli.core.eval.cv import cross_validate

    r = cross_validate(groups, labels, make_fn(router_cfg), n_folds=n_folds, seed=seed, per_query=True)
    f = cross_validate(groups, labels, make_fn(None), n_folds=n_folds, seed=seed, per_query=True)
    per = decide(r["values"], f["values"], tasks, z=z)
    open_ = [t for t, d in per.items() if d["open"]]
    tk = np.asarray([str(t) for t in tasks], dtype=object)
    gated = np.where(np.isin(tk, open_), r["values"], f["values"])
    return {"tasks": per, "open": open_, "z": z, "min_n": GATE_MIN_N, "top1_router": round(r["top1"], 6),
            "top1_fallback": round(f["top1"], 6), "top1_gated": round(float(np.nanmean(gated)), 6)}


def combine(router_scores: np.ndarray, fallback_scores: np.ndarray, query_tasks, open_tasks,
            share: np.ndarray | None = None) -> np.ndarray:
    """Per query: the router's scores where its task is open, the fallback's elsewhere; with unknown tasks
    (query_tasks None) the `share`-weighted mix."""
    r = np.asarray(router_scores, dtype=np.float64)
    f = np.asarray(fallback_scores, dtype=np.float64)
    if query_tasks is None:
        w = np.zeros(len(r)) if share is None else np.asarray(share, dtype=np.float64)
        return w[:, None] * r + (1.0 - w[:, None]) * f
    use = np.isin(np.asarray([str(t) for t in query_tasks], dtype=object), list(open_tasks or []))
    return np.where(use[:, None], r, f)


def open_share(train_unit_vecs: np.ndarray, train_tasks, query_vecs, open_tasks, k: int = GATE_NEIGHBOURS):
    """[N] the fraction of each query's k nearest training queries (cosine) whose task is open."""
    from rpcli.core.routers.sim import unit_rows

    Q = len(train_tasks)
    if Q == 0 or not open_tasks:
        return np.zeros(len(query_vecs))
    sims = unit_rows(np.asarray(query_vecs, dtype=np.float64)) @ train_unit_vecs.T
    kk = min(k, Q)
    idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    is_open = np.isin(np.asarray([str(t) for t in train_tasks], dtype=object), list(open_tasks))
    return is_open[idx].mean(1)


def with_open(cfg, open_tasks):
    """`cfg` with the decided open tasks recorded (a sorted list: the configuration a loaded run refits with)."""
    return replace(cfg, gate_open=sorted(str(t) for t in open_tasks))

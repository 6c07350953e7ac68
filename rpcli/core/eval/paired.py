"""Paired comparisons of routers on the same test rows (docs/beyond.md).

A run's per-row performance is the mean over its seeds of the score of the model it picked on that row (a missing
score counts 0, as everywhere). Two routers are compared on the same rows by the paired bootstrap: rows are
resampled with replacement (one resample serves both), and the 2.5 / 97.5 percentiles of the mean difference are
the 95% interval. The resampling is seeded; the seed and the number of resamples are returned with the result.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N_BOOT = 2000
SEED = 0


def _resample_means(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(values)
    idx = rng.integers(0, n, size=(n_boot, n))
    return values[idx].mean(axis=1)


def mean_ci(values, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """{mean, ci95: [lo, hi], n, n_boot, seed} of per-row values by the row bootstrap."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError("mean_ci needs a non-empty 1-d array of per-row values")
    m = _resample_means(v, n_boot, seed)
    return {"mean": float(v.mean()), "ci95": [float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))],
            "n": int(len(v)), "n_boot": n_boot, "seed": seed}


def paired_bootstrap(a, b, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """The difference mean(a) - mean(b) of two routers' per-row values on the same rows, with its paired 95%
    bootstrap interval: {diff, ci95: [lo, hi], above_zero (lo > 0), below_zero (hi < 0), p_not_above (share of
    resamples with a difference <= 0), n_differ (rows where the two differ), n, n_boot, seed}."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"paired_bootstrap needs two non-empty 1-d arrays over the same rows, got {a.shape} and "
                         f"{b.shape}")
    d = a - b
    m = _resample_means(d, n_boot, seed)
    lo, hi = float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))
    return {"diff": float(d.mean()), "ci95": [lo, hi], "above_zero": lo > 0, "below_zero": hi < 0,
            "p_not_above": float((m <= 0).mean()), "n_differ": int((d != 0).sum()), "n": int(len(d)),
            "n_boot": n_boot, "seed": seed}


def choice_rows(scores, choice) -> np.ndarray:
    """[N] the score of the chosen model per row (NaN -> 0)."""
    s0 = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0)
    return s0[np.arange(len(s0)), np.asarray(choice, dtype=np.int64)]


def prediction_rows(paths, n_rows: int) -> np.ndarray:
    """[N] the per-row performance of a run averaged over its seeds, from its predictions files (JSON lines with
    `row` and `task_performance`, one file per seed); rows are ordered by their `row` index."""
    per_seed = []
    for p in paths:
        recs = [json.loads(line) for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()]
        recs.sort(key=lambda r: r["row"])
        if len(recs) != n_rows:
            raise ValueError(f"{p} holds {len(recs)} rows, expected {n_rows}")
        per_seed.append([0.0 if r.get("task_performance") is None else float(r["task_performance"]) for r in recs])
    if not per_seed:
        raise ValueError("no predictions file")
    return np.asarray(per_seed, dtype=np.float64).mean(axis=0)


def per_task_train_rows(ds, mode: str) -> list | None:
    """[N] the per-row performance of "per-task-best (train)" in `mode`, rows ordered by their `row` index (the
    order of `prediction_rows`); None when the mode has no such reference row (no training pairs)."""
    from rpcli.core.routers.evaluate import reference_rows, test_matrices

    ref = next((r for r in reference_rows(ds, mode) if r["name"] == "per-task-best (train)"), None)
    if ref is None or not ref.get("per_task_models"):
        return None
    models = list(ds.candidates)
    s, _, tasks = test_matrices(ds, models)
    order = sorted(range(len(ds.test_rows)), key=lambda i: ds.test_rows[i].index)
    pick = ref["per_task_models"]
    return [float(x) for x in choice_rows(s, [models.index(pick[t]) for t in tasks])[order]]

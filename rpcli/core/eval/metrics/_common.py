"""Helpers shared by the metric modules: input checks, task groups, row maxima, bootstrap, entropy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rpcli.errors import UnknownNameError
from rpcli.workspace.leaderboard import MICRO  # noqa: F401 - dollars -> micro-dollars, one definition


def float_or_none(x: Any) -> float | None:
    """Python float, or None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def as_2d(name: str, a: Any, n: int | None = None, k: int | None = None) -> np.ndarray:
    """``a`` as a float64 [N, K] array, checked against the expected row and column counts."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, K], got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n}")
    if k is not None and arr.shape[1] != k:
        raise ValueError(f"{name} has {arr.shape[1]} columns, expected {k}")
    return arr


def prepare(scores: Any, costs: Any, tasks: Any, models: Sequence[str]):
    """The checked inputs of a metric: (scores [N, K], costs [N, K], task names, model names)."""
    s = as_2d("scores", scores)
    n, k = s.shape
    c = as_2d("costs", costs, n, k)
    t = [str(x) for x in (list(tasks) if not isinstance(tasks, np.ndarray) else tasks.tolist())]
    if len(t) != n:
        raise ValueError(f"tasks has {len(t)} entries, expected {n}")
    m = [str(x) for x in models]
    if len(m) != k:
        raise ValueError(f"models has {len(m)} names, expected {k} (columns of scores)")
    return s, c, t, m


def model_index(models: Sequence[str], name: str, what: str = "model") -> int:
    """The column of model ``name`` (an UnknownNameError naming the candidates when absent)."""
    try:
        return list(models).index(name)
    except ValueError:
        raise UnknownNameError(f"Unknown {what} '{name}'. Candidates: {', '.join(models)}") from None


def task_groups(tasks: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Unique task names in order of first appearance, and each row's group index."""
    order: dict[str, int] = {}
    idx = np.empty(len(tasks), dtype=np.int64)
    for i, t in enumerate(tasks):
        idx[i] = order.setdefault(t, len(order))
    return list(order), idx


def group_mean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group (NaN for empty groups)."""
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    sums = np.bincount(groups, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def group_nanmean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of the non-NaN ``values`` per group (NaN for groups without any)."""
    ok = ~np.isnan(values)
    counts = np.bincount(groups[ok], minlength=n_groups).astype(np.float64)
    sums = np.bincount(groups[ok], weights=values[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def nanmean_or_none(x: np.ndarray) -> float | None:
    """Mean of the non-NaN entries as a python float, or None when there are none."""
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


def row_max(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row max over non-NaN scores (NaN for all-NaN rows) and the mask of rows with any score."""
    has_any = ~np.all(np.isnan(s), axis=1)
    filled = np.where(np.isnan(s), -np.inf, s)
    mx = filled.max(axis=1) if s.shape[1] else np.full(s.shape[0], -np.inf)
    mx = np.where(has_any, mx, np.nan)
    return mx, has_any


def bootstrap_ci(values: np.ndarray, n_boot: int, seed: int) -> list[float] | None:
    """Percentile 95% interval of the mean of ``values`` over ``n_boot`` resamples of the rows."""
    n = values.shape[0]
    if n_boot <= 0 or n == 0:
        return None
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot, dtype=np.float64)
    chunk = max(1, min(n_boot, 4_000_000 // max(n, 1)))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        means[start:start + b] = values[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return [float(lo), float(hi)]


def entropy(p: np.ndarray) -> float:
    """Shannon entropy (nats) of the distribution ``p`` (zero entries ignored)."""
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0 if p.size else 0.0


def pick_perf_cost(s: np.ndarray, c: np.ndarray, choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the score (NaN -> 0) and the cost of the chosen column."""
    rows = np.arange(s.shape[0])
    perf = s[rows, choice]
    return np.where(np.isnan(perf), 0.0, perf), c[rows, choice]

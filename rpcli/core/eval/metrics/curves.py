"""5. Cost-quality curves, the Pareto front, AIQ and cost-to-match."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rpcli.core.eval.metrics._common import as_2d, float_or_none, nanmean_or_none
from rpcli.errors import RpError
from rpcli.workspace.leaderboard import pareto_front  # the one Pareto front (stdlib), shared with the dashboard


def _fill_costs(c: np.ndarray) -> np.ndarray:
    """Unknown costs -> the column's mean known cost (error if a column has no known cost)."""
    if not np.isnan(c).any():
        return c
    col = np.array([nanmean_or_none(c[:, j]) if c.shape[0] else None for j in range(c.shape[1])], dtype=object)
    if any(x is None for x in col):
        raise RpError("A candidate has no known cost on any row; a cost-quality curve needs every model's cost.",
                      hint="Give the model a price.")
    return np.where(np.isnan(c), col.astype(np.float64)[None, :], c)


def default_lambdas(pred_quality: Any, costs: Any, n_points: int = 40) -> list[float]:
    """A lambda grid for ``cost_quality_curve``: 0 plus a geometric sweep up to the cheapest-model lambda.

    The largest lambda exceeds, on every row, (spread of predicted quality) / (smallest positive cost gap above
    the cheapest model), so it forces the cheapest model (the best-predicted among equally cheap ones). The
    smallest lambda is just below the first one at which any row switches away from its lambda = 0 choice.

    Args:
        pred_quality: float array [N, K] (NaN = never picked).
        costs: float array [N, K] in dollars (NaN filled with the column mean).
        n_points: total number of lambdas including 0.

    Returns:
        Sorted list of floats starting with 0.0.
    """
    q = as_2d("pred_quality", pred_quality)
    c = _fill_costs(as_2d("costs", costs, *q.shape))
    n, k = q.shape
    if n == 0 or k < 2 or n_points < 2:
        return [0.0]
    qf = np.where(np.isnan(q), np.nan, q)
    spread = np.nanmax(qf, axis=1) - np.nanmin(qf, axis=1) if not np.all(np.isnan(qf)) else np.zeros(n)
    spread = np.nan_to_num(spread, nan=0.0)
    cmin = c.min(axis=1, keepdims=True)
    gap = np.where(c > cmin, c - cmin, np.inf).min(axis=1)
    ratio = np.where(np.isfinite(gap) & (spread > 0), spread / np.where(np.isfinite(gap), gap, 1.0), 0.0)
    hi = float(ratio.max()) * 1.01
    if not hi > 0:
        return [0.0]
    # first switch per row: j cheaper than the lambda=0 pick b, at lambda = (q_b - q_j) / (c_b - c_j)
    qv = np.where(np.isnan(q), -np.inf, q)
    b = qv.argmax(axis=1)
    rows = np.arange(n)
    qb, cb = qv[rows, b][:, None], c[rows, b][:, None]
    dc = cb - c
    with np.errstate(invalid="ignore", divide="ignore"):
        tsw = np.where((dc > 0) & np.isfinite(qv), (qb - qv) / np.where(dc > 0, dc, 1.0), np.inf)
    first = tsw.min(axis=1)
    first = first[np.isfinite(first) & (first > 0)]
    lo = float(first.min()) * 0.9 if first.size else hi * 1e-4
    lo = min(max(lo, hi * 1e-8), hi)
    sweep = np.geomspace(lo, hi, n_points - 1) if lo < hi else np.array([hi])
    return [0.0] + [float(x) for x in sweep]


def cost_quality_curve(pred_quality: Any, scores: Any, costs: Any,
                       lambdas: Sequence[float] | None = None) -> list[dict]:
    """Trace a cost-aware router that picks argmax_m [pred_quality - lambda * cost] over a lambda sweep.

    Args:
        pred_quality: float array [N, K]: the router's predicted quality (comparable across models; NaN = never
            picked unless a whole row is NaN). Ties go to the first column.
        scores: float array [N, K] of true quality (NaN counts as 0).
        costs: float array [N, K] in dollars per query (NaN filled with the column's mean known cost).
        lambdas: penalties in quality per dollar; default ``default_lambdas(pred_quality, costs)`` (~40 points).

    Returns:
        ``[{lambda, avg_cost, avg_performance}]`` in the order of ``lambdas`` (avg_cost in dollars per query).
    """
    q = as_2d("pred_quality", pred_quality)
    n, k = q.shape
    s0 = np.nan_to_num(as_2d("scores", scores, n, k), nan=0.0)
    c = _fill_costs(as_2d("costs", costs, n, k))
    lams = default_lambdas(q, c) if lambdas is None else [float(x) for x in lambdas]
    qv = np.where(np.isnan(q), -np.inf, q)
    rows = np.arange(n)
    out = []
    for lam in lams:
        if n == 0:
            out.append({"lambda": lam, "avg_cost": None, "avg_performance": None})
            continue
        util = qv - lam * c if lam != 0 else qv
        ch = util.argmax(axis=1)
        out.append({"lambda": float(lam), "avg_cost": float(c[rows, ch].mean()),
                    "avg_performance": float(s0[rows, ch].mean())})
    return out


def _xy(points: Iterable[Any]) -> list[tuple[float, float, Any]]:
    out = []
    for p in points:
        if isinstance(p, Mapping):
            x, y = p.get("avg_cost"), p.get("avg_performance")
        else:
            x, y = p[0], p[1]
        x, y = float_or_none(x), float_or_none(y)
        if x is not None and y is not None:
            out.append((x, y, p))
    return out


def _upper_hull(xy: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Upper concave hull of points sorted by x with y strictly increasing (a Pareto front)."""
    hull: list[tuple[float, float]] = []
    for x, y in xy:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            # drop the middle point when it lies on or below the chord from hull[-2] to (x, y)
            if (y2 - y1) * (x - x1) <= (y - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append((x, y))
    return hull


def aiq(points: Iterable[Any], c_min: float, c_max: float) -> float:
    """Average quality over [c_min, c_max] of the non-decreasing convex hull of the points (RouterBench AIQ).

    The hull is the upper concave envelope of the Pareto front, linear between its vertices, flat from its last
    vertex to ``c_max``, and 0 below its cheapest vertex (no operating point is that cheap). The integral over
    [c_min, c_max] is divided by (c_max - c_min).

    Args:
        points: dicts with ``avg_cost`` and ``avg_performance`` or (cost, performance) pairs.
        c_min: lower end of the cost range (usually the cheapest single model's cost).
        c_max: upper end (usually the most expensive single model's cost).

    Returns:
        The AIQ as a float (0.0 when there are no points).

    Raises:
        ValueError: when c_max <= c_min.
    """
    c_min, c_max = float(c_min), float(c_max)
    if not c_max > c_min:
        raise ValueError(f"aiq needs c_max > c_min, got [{c_min}, {c_max}]")
    front = [(x, y) for x, y, _ in _xy(pareto_front(points))]
    if not front:
        return 0.0
    hull = _upper_hull(front)
    xs = [x for x, _ in hull]
    ys = [y for _, y in hull]

    def f(x: float) -> float:
        if x < xs[0]:
            return 0.0
        return float(np.interp(x, xs, ys))

    # breakpoints inside the range; the function is linear between consecutive ones (step at xs[0])
    cuts = sorted({c_min, c_max, *[x for x in xs if c_min < x < c_max]})
    total = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b <= xs[0]:
            continue
        a2 = max(a, xs[0])
        total += 0.5 * (f(a2) + f(b)) * (b - a2)
    return total / (c_max - c_min)


def cost_to_match(points: Iterable[Any], target: float) -> float | None:
    """Lowest cost among the points whose avg_performance >= target.

    Args:
        points: dicts with ``avg_cost`` and ``avg_performance`` or (cost, performance) pairs.
        target: the performance to match (e.g. the best single model's).

    Returns:
        The cost (same unit as the points), or None when no point reaches the target.
    """
    ok = [x for x, y, _ in _xy(points) if y >= float(target)]
    return min(ok) if ok else None

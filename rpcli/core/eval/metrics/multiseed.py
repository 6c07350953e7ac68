"""6. Multi-seed summaries: mean, spread and range of a run's metrics over seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


DEFAULT_SEED_KEYS = ("avg_performance", "macro_avg_performance", "hit_rate", "best_pick_rate", "avg_cost_micro",
                     "regret", "gap_closed", "selection_entropy")


def _lookup(d: Any, key: str) -> Any:
    """``d[key]``, following dots into nested dicts ("newllm.cold_start_recall.value")."""
    if isinstance(d, Mapping) and key in d:
        return d[key]
    cur = d
    for part in key.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def summarize_seeds(metric_dicts: Sequence[Mapping[str, Any]], keys: Sequence[str] = DEFAULT_SEED_KEYS) -> dict:
    """Mean and sample standard deviation of metrics over seeds.

    Args:
        metric_dicts: one ``evaluate_selection`` result (or any dict of numbers) per seed.
        keys: metric names; a dotted name reads nested dicts (e.g. "newllm.cold_start_recall.value").

    Returns:
        ``{key: {mean, sd, n}}``: n counts the seeds where the value is a finite number; sd uses ddof=1 and is
        0.0 for n == 1; mean and sd are None for n == 0.
    """
    out = {}
    for key in keys:
        vals = []
        for d in metric_dicts:
            v = _lookup(d, key)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                continue
            v = float(v)
            if math.isfinite(v):
                vals.append(v)
        nv = len(vals)
        if nv == 0:
            out[key] = {"mean": None, "sd": None, "n": 0}
        else:
            arr = np.asarray(vals)
            out[key] = {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if nv > 1 else 0.0, "n": nv}
    return out

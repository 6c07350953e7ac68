"""1. Point metrics of one router's choices (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rpcli.core.eval.metrics._common import (
    MICRO, as_2d, bootstrap_ci, entropy, float_or_none, group_mean, group_nanmean, model_index, nanmean_or_none,
    pick_perf_cost, prepare, row_max, task_groups)


def evaluate_selection(choice: Any, scores: Any, costs: Any, tasks: Any, models: Sequence[str], *,
                       bsm_performance: float | None = None, held_out: Iterable[str] = (),
                       router_scores: Any = None, bootstrap: int = 1000, seed: int = 0) -> dict:
    """Evaluate one router's choices against the per-model scores of every test row.

    Args:
        choice: int array [N] of chosen column indices.
        scores: float array [N, K] of quality in [0, 1]; NaN where a model has no score.
        costs: float array [N, K] in dollars per query; NaN where unknown.
        tasks: N task names.
        models: K model names (column order).
        bsm_performance: avg_performance of the best-single-model baseline; enables ``gap_closed``.
        held_out: names of new models (newllm mode); enables the ``newllm`` block.
        router_scores: optional float array [N, K] of the router's own scores (higher = preferred); with
            ``held_out`` it gives the router's result with the new models removed from the candidate set.
        bootstrap: number of bootstrap resamples of the queries for ``avg_performance_ci95`` (0 disables it).
        seed: seed of the bootstrap.

    Returns:
        A JSON-serialisable dict. Keys: ``n_rows``, ``avg_performance`` (a missing score counts as 0; such rows are
        counted in ``n_missing`` and reported in ``warnings``), ``avg_performance_ci95``, ``macro_avg_performance``,
        ``per_task`` ({task: {n, avg_performance, hit_rate, best_pick_rate, avg_cost}}), ``hit_rate`` (s > 0),
        ``hit_rate_rp`` (the original ``is_hit``: also true when every scored model scores 0 or no model has a
        score), ``best_pick_rate`` (chosen model among the argmax ties; rows without any score excluded),
        ``n_best_pick_rows``, ``best_pick_rate_discriminative`` and ``n_discriminative`` (rows where some model
        scores exactly 0 and some exactly 1), ``avg_cost`` ($/query, over rows whose chosen cost is known),
        ``avg_cost_micro``, ``n_cost_missing``, ``selection_share`` ({model: share}), ``selection_entropy``
        (natural log), ``oracle``, ``regret``, ``gap_closed`` (None without ``bsm_performance`` or when the
        oracle equals it), and with ``held_out`` the ``newllm`` block: {model, selection_rate, n_selected,
        precision (share of its rows where it is among the best, over the chosen rows where it has a score; None
        if never chosen there), precision_numerator,
        cold_start_recall and cold_start_recall_strict ({value, numerator, denominator}), and with
        ``router_scores`` avg_performance_without_new and gain_from_new}. With several held-out models ``newllm``
        describes the first and ``newllm_by_model`` all of them; "without new" removes them all.

    Raises:
        ValueError: on inconsistent shapes or out-of-range choices.
        UnknownNameError: when a held-out name is not a candidate.
    """
    s, c, t, m = prepare(scores, costs, tasks, models)
    n, k = s.shape
    ch = np.asarray(choice)
    if ch.shape != (n,):
        raise ValueError(f"choice must have shape ({n},), got {ch.shape}")
    if n and not np.issubdtype(ch.dtype, np.integer):
        if not np.all(np.equal(np.mod(ch, 1), 0)):
            raise ValueError("choice must hold integer column indices")
    ch = ch.astype(np.int64)
    if n and (ch.min() < 0 or ch.max() >= k):
        raise ValueError(f"choice holds column indices outside [0, {k - 1}]")

    warnings: list[str] = []
    rows = np.arange(n)
    raw = s[rows, ch]
    missing = np.isnan(raw)
    perf = np.where(missing, 0.0, raw)
    n_missing = int(missing.sum())
    if n_missing:
        warnings.append(f"{n_missing} of {n} rows: the chosen model has no score; counted as 0 "
                        "(the original silently dropped such rows)")
    cost = c[rows, ch]
    cost_missing = np.isnan(cost)
    n_cost_missing = int(cost_missing.sum())
    if n_cost_missing:
        warnings.append(f"{n_cost_missing} of {n} rows: the chosen model's cost is unknown; "
                        "avg_cost is over the other rows")

    hit = perf > 0
    scored = ~np.isnan(s)
    all_zero_or_none = np.all(~scored | (s == 0), axis=1)
    hit_rp = hit | all_zero_or_none

    rmax, has_any = row_max(s)
    best = has_any & ~missing & (raw == rmax)
    disc = np.any(scored & (s == 0), axis=1) & np.any(scored & (s == 1), axis=1)
    n_best_rows = int(has_any.sum())
    n_disc = int(disc.sum())

    oracle_row = np.nan_to_num(s, nan=0.0).max(axis=1) if k else np.zeros(n)
    oracle = float(oracle_row.mean()) if n else None
    avg = float(perf.mean()) if n else None

    task_names, g = task_groups(t)
    nt = len(task_names)
    counts = np.bincount(g, minlength=nt)
    t_perf = group_mean(perf, g, nt)
    t_hit = group_mean(hit.astype(np.float64), g, nt)
    t_best = group_nanmean(np.where(has_any, best.astype(np.float64), np.nan), g, nt)
    t_cost = group_nanmean(cost, g, nt)
    per_task = {
        name: {
            "n": int(counts[j]),
            "avg_performance": float_or_none(t_perf[j]),
            "hit_rate": float_or_none(t_hit[j]),
            "best_pick_rate": float_or_none(t_best[j]),
            "avg_cost": float_or_none(t_cost[j]),
        }
        for j, name in enumerate(task_names)
    }

    share = np.bincount(ch, minlength=k).astype(np.float64) / n if n else np.zeros(k)
    avg_cost = nanmean_or_none(cost)

    gap_closed = None
    if bsm_performance is not None and avg is not None and oracle is not None:
        denom = oracle - float(bsm_performance)
        gap_closed = None if denom == 0 else (avg - float(bsm_performance)) / denom

    out: dict[str, Any] = {
        "n_rows": int(n),
        "avg_performance": float_or_none(avg),
        "avg_performance_ci95": bootstrap_ci(perf, int(bootstrap), int(seed)),
        "macro_avg_performance": float_or_none(np.mean(t_perf)) if nt else None,
        "per_task": per_task,
        "hit_rate": float_or_none(hit.mean()) if n else None,
        "hit_rate_rp": float_or_none(hit_rp.mean()) if n else None,
        "best_pick_rate": float_or_none(best[has_any].mean()) if n_best_rows else None,
        "n_best_pick_rows": n_best_rows,
        "best_pick_rate_discriminative": float_or_none(best[disc].mean()) if n_disc else None,
        "n_discriminative": n_disc,
        "avg_cost": float_or_none(avg_cost),
        "avg_cost_micro": float_or_none(avg_cost * MICRO) if avg_cost is not None else None,
        "n_cost_missing": n_cost_missing,
        "selection_share": {name: float(share[j]) for j, name in enumerate(m)},
        "selection_entropy": entropy(share),
        "oracle": float_or_none(oracle),
        "regret": float_or_none(oracle - avg) if oracle is not None and avg is not None else None,
        "gap_closed": float_or_none(gap_closed),
        "n_missing": n_missing,
        "warnings": warnings,
    }

    held = [str(h) for h in held_out]
    if held:
        held_idx = [model_index(m, h, "held-out model") for h in held]
        rs = None
        if router_scores is not None:
            rs = as_2d("router_scores", router_scores, n, k)
        blocks = {h: _newllm_metrics(h, j, ch, s, rmax, has_any) for h, j in zip(held, held_idx)}
        if rs is not None:
            masked = np.where(np.isnan(rs), -np.inf, rs)
            masked[:, held_idx] = -np.inf
            if len(held_idx) < k:
                ch_wo = masked.argmax(axis=1)
                perf_wo, _ = pick_perf_cost(s, c, ch_wo)
                a_wo = float(perf_wo.mean()) if n else None
            else:
                a_wo = None
            for blk in blocks.values():
                blk["avg_performance_without_new"] = float_or_none(a_wo)
                blk["gain_from_new"] = float_or_none(avg - a_wo) if a_wo is not None and avg is not None else None
        out["newllm"] = blocks[held[0]]
        if len(held) > 1:
            out["newllm_by_model"] = blocks
    return out


def _newllm_metrics(name: str, j: int, ch: np.ndarray, s: np.ndarray, rmax: np.ndarray,
                    has_any: np.ndarray) -> dict:
    """Selection rate, precision and cold-start recall of the new model in column ``j``."""
    n = s.shape[0]
    sel = ch == j
    new = s[:, j]
    new_ok = ~np.isnan(new)
    new_best = has_any & new_ok & (new == rmax)
    n_sel = int(sel.sum())
    n_prec = int((sel & new_best).sum())
    n_sel_scored = int((sel & new_ok).sum())  # rows where the new model has no score (unevaluated) say nothing
    # cold-start recall: the new model is (tied) best and that best is > 0
    denom_mask = new_best & (rmax > 0)
    others = np.delete(np.where(np.isnan(s), -np.inf, s), j, axis=1)
    other_max = others.max(axis=1) if others.shape[1] else np.full(n, -np.inf)
    strict_mask = new_ok & (new > 0) & (new > other_max)

    def frac(num_mask: np.ndarray, den_mask: np.ndarray) -> dict:
        den = int(den_mask.sum())
        num = int((num_mask & den_mask).sum())
        return {"value": (num / den) if den else None, "numerator": num, "denominator": den}

    return {
        "model": name,
        "selection_rate": float(sel.mean()) if n else None,
        "n_selected": n_sel,
        "precision": (n_prec / n_sel_scored) if n_sel_scored else None,
        "precision_numerator": n_prec,
        "cold_start_recall": frac(sel, denom_mask),
        "cold_start_recall_strict": frac(sel, strict_mask),
    }

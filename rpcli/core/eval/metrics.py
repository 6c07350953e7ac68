"""Routing metrics on plain numpy arrays (see ``docs/metrics.md``).

Conventions shared by every function here:

* ``scores`` is a float array ``[N, K]``: the quality ``s[i, m]`` in ``[0, 1]`` of model ``m`` on query ``i``,
  NaN where the model has no score for the row.
* ``costs`` is a float array ``[N, K]`` in dollars per query, NaN where unknown.
* ``tasks`` holds the N task names, ``models`` the K model names (column order).
* A router's choice is an int array ``[N]`` of column indices.
* Ties always go to the lowest column index (model order), so every result is deterministic.

Every returned structure holds only python ``float``/``int``/``str``/``bool``/``None``/``list``/``dict`` values, so
it can be written with ``json.dump`` as is; non-finite numbers become ``None``.

This module imports nothing from torch and nothing from ``rpcli`` except ``rpcli.errors``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rpcli.errors import RpError, UnknownNameError

__all__ = [
    "evaluate_selection",
    "reference_rows",
    "pairwise_win_rates",
    "per_task_best_from_pairs",
    "best_single_from_pairs",
    "per_task_best_from_profile_scores",
    "default_lambdas",
    "cost_quality_curve",
    "pareto_front",
    "aiq",
    "cost_to_match",
    "fit_calibration",
    "apply_calibration",
    "calibrator",
    "summarize_seeds",
]

MICRO = 1e6  # dollars -> micro-dollars


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------


def _f(x: Any) -> float | None:
    """Python float, or None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _as_2d(name: str, a: Any, n: int | None = None, k: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, K], got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n}")
    if k is not None and arr.shape[1] != k:
        raise ValueError(f"{name} has {arr.shape[1]} columns, expected {k}")
    return arr


def _prepare(scores: Any, costs: Any, tasks: Any, models: Sequence[str]):
    s = _as_2d("scores", scores)
    n, k = s.shape
    c = _as_2d("costs", costs, n, k)
    t = [str(x) for x in (list(tasks) if not isinstance(tasks, np.ndarray) else tasks.tolist())]
    if len(t) != n:
        raise ValueError(f"tasks has {len(t)} entries, expected {n}")
    m = [str(x) for x in models]
    if len(m) != k:
        raise ValueError(f"models has {len(m)} names, expected {k} (columns of scores)")
    return s, c, t, m


def _model_index(models: Sequence[str], name: str, what: str = "model") -> int:
    try:
        return list(models).index(name)
    except ValueError:
        raise UnknownNameError(f"Unknown {what} '{name}'. Candidates: {', '.join(models)}") from None


def _task_groups(tasks: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Unique task names in order of first appearance, and each row's group index."""
    order: dict[str, int] = {}
    idx = np.empty(len(tasks), dtype=np.int64)
    for i, t in enumerate(tasks):
        idx[i] = order.setdefault(t, len(order))
    return list(order), idx


def _group_mean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group (NaN for empty groups)."""
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    sums = np.bincount(groups, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _group_nanmean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    ok = ~np.isnan(values)
    counts = np.bincount(groups[ok], minlength=n_groups).astype(np.float64)
    sums = np.bincount(groups[ok], weights=values[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _nanmean_or_none(x: np.ndarray) -> float | None:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


def _row_max(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row max over non-NaN scores (NaN for all-NaN rows) and the mask of rows with any score."""
    has_any = ~np.all(np.isnan(s), axis=1)
    filled = np.where(np.isnan(s), -np.inf, s)
    mx = filled.max(axis=1) if s.shape[1] else np.full(s.shape[0], -np.inf)
    mx = np.where(has_any, mx, np.nan)
    return mx, has_any


def _bootstrap_ci(values: np.ndarray, n_boot: int, seed: int) -> list[float] | None:
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


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum()) + 0.0 if p.size else 0.0


def _pick_perf_cost(s: np.ndarray, c: np.ndarray, choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(s.shape[0])
    perf = s[rows, choice]
    return np.where(np.isnan(perf), 0.0, perf), c[rows, choice]


# ----------------------------------------------------------------------------------------------------------------
# 1. point metrics of one router
# ----------------------------------------------------------------------------------------------------------------


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
        precision (share of its rows where it is among the best; None if never chosen), precision_numerator,
        cold_start_recall and cold_start_recall_strict ({value, numerator, denominator}), and with
        ``router_scores`` avg_performance_without_new and gain_from_new}. With several held-out models ``newllm``
        describes the first and ``newllm_by_model`` all of them; "without new" removes them all.

    Raises:
        ValueError: on inconsistent shapes or out-of-range choices.
        UnknownNameError: when a held-out name is not a candidate.
    """
    s, c, t, m = _prepare(scores, costs, tasks, models)
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

    rmax, has_any = _row_max(s)
    best = has_any & ~missing & (raw == rmax)
    disc = np.any(scored & (s == 0), axis=1) & np.any(scored & (s == 1), axis=1)
    n_best_rows = int(has_any.sum())
    n_disc = int(disc.sum())

    oracle_row = np.nan_to_num(s, nan=0.0).max(axis=1) if k else np.zeros(n)
    oracle = float(oracle_row.mean()) if n else None
    avg = float(perf.mean()) if n else None

    task_names, g = _task_groups(t)
    nt = len(task_names)
    counts = np.bincount(g, minlength=nt)
    t_perf = _group_mean(perf, g, nt)
    t_hit = _group_mean(hit.astype(np.float64), g, nt)
    t_best = _group_nanmean(np.where(has_any, best.astype(np.float64), np.nan), g, nt)
    t_cost = _group_nanmean(cost, g, nt)
    per_task = {
        name: {
            "n": int(counts[j]),
            "avg_performance": _f(t_perf[j]),
            "hit_rate": _f(t_hit[j]),
            "best_pick_rate": _f(t_best[j]),
            "avg_cost": _f(t_cost[j]),
        }
        for j, name in enumerate(task_names)
    }

    share = np.bincount(ch, minlength=k).astype(np.float64) / n if n else np.zeros(k)
    avg_cost = _nanmean_or_none(cost)

    gap_closed = None
    if bsm_performance is not None and avg is not None and oracle is not None:
        denom = oracle - float(bsm_performance)
        gap_closed = None if denom == 0 else (avg - float(bsm_performance)) / denom

    out: dict[str, Any] = {
        "n_rows": int(n),
        "avg_performance": _f(avg),
        "avg_performance_ci95": _bootstrap_ci(perf, int(bootstrap), int(seed)),
        "macro_avg_performance": _f(np.mean(t_perf)) if nt else None,
        "per_task": per_task,
        "hit_rate": _f(hit.mean()) if n else None,
        "hit_rate_rp": _f(hit_rp.mean()) if n else None,
        "best_pick_rate": _f(best[has_any].mean()) if n_best_rows else None,
        "n_best_pick_rows": n_best_rows,
        "best_pick_rate_discriminative": _f(best[disc].mean()) if n_disc else None,
        "n_discriminative": n_disc,
        "avg_cost": _f(avg_cost),
        "avg_cost_micro": _f(avg_cost * MICRO) if avg_cost is not None else None,
        "n_cost_missing": n_cost_missing,
        "selection_share": {name: float(share[j]) for j, name in enumerate(m)},
        "selection_entropy": _entropy(share),
        "oracle": _f(oracle),
        "regret": _f(oracle - avg) if oracle is not None and avg is not None else None,
        "gap_closed": _f(gap_closed),
        "n_missing": n_missing,
        "warnings": warnings,
    }

    held = [str(h) for h in held_out]
    if held:
        held_idx = [_model_index(m, h, "held-out model") for h in held]
        rs = None
        if router_scores is not None:
            rs = _as_2d("router_scores", router_scores, n, k)
        blocks = {h: _newllm_metrics(h, j, ch, s, rmax, has_any) for h, j in zip(held, held_idx)}
        if rs is not None:
            masked = np.where(np.isnan(rs), -np.inf, rs)
            masked[:, held_idx] = -np.inf
            if len(held_idx) < k:
                ch_wo = masked.argmax(axis=1)
                perf_wo, _ = _pick_perf_cost(s, c, ch_wo)
                a_wo = float(perf_wo.mean()) if n else None
            else:
                a_wo = None
            for blk in blocks.values():
                blk["avg_performance_without_new"] = _f(a_wo)
                blk["gain_from_new"] = _f(avg - a_wo) if a_wo is not None and avg is not None else None
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
        "precision": (n_prec / n_sel) if n_sel else None,
        "precision_numerator": n_prec,
        "cold_start_recall": frac(sel, denom_mask),
        "cold_start_recall_strict": frac(sel, strict_mask),
    }



# ----------------------------------------------------------------------------------------------------------------
# 2. reference rows (oracle, random, single models, per-task baselines)
# ----------------------------------------------------------------------------------------------------------------


def _row(name: str, kind: str, perf: float | None, cost: float | None, note: str, **extra: Any) -> dict:
    row = {
        "name": name,
        "kind": kind,
        "avg_performance": _f(perf),
        "avg_cost": _f(cost),
        "avg_cost_micro": _f(cost * MICRO) if cost is not None and math.isfinite(cost) else None,
        "note": note,
    }
    row.update(extra)
    return row


def _oracle_choice(s0: np.ndarray, c: np.ndarray, allowed: np.ndarray, cost_aware: bool) -> np.ndarray:
    """Oracle pick over the allowed columns of the NaN->0 scores; cost-aware: cheapest of the tied best."""
    v = np.where(allowed[None, :], s0, -np.inf)
    mx = v.max(axis=1, keepdims=True)
    tied = v == mx
    if not cost_aware:
        return tied.argmax(axis=1)
    cc = np.where(tied & ~np.isnan(c), c, np.inf)
    pick = cc.argmin(axis=1)
    no_cost = ~np.isfinite(cc.min(axis=1))
    pick[no_cost] = tied[no_cost].argmax(axis=1)
    return pick


def _eval_choice(s0: np.ndarray, c: np.ndarray, ch: np.ndarray) -> tuple[float | None, float | None]:
    n = s0.shape[0]
    if n == 0:
        return None, None
    rows = np.arange(n)
    return float(s0[rows, ch].mean()), _nanmean_or_none(c[rows, ch])


def _per_task_choice(mapping: Mapping[str, int], tasks: Sequence[str]) -> np.ndarray:
    return np.array([mapping[t] for t in tasks], dtype=np.int64)


def reference_rows(scores: Any, costs: Any, tasks: Any, models: Sequence[str], *, held_out: Iterable[str] = (),
                   train_task_best: Mapping[str, str] | None = None,
                   train_bsm: str | None = None) -> list[dict]:
    """Reference rows every leaderboard shows next to the routers.

    All rows count a missing score as 0. Costs are means over the rows whose picked cost is known.

    Args:
        scores: float array [N, K] of quality; NaN where a model has no score.
        costs: float array [N, K] in dollars per query; NaN where unknown.
        tasks: N task names.
        models: K model names.
        held_out: new models (newllm mode); adds "oracle-without-new".
        train_task_best: {task: model} chosen from a training signal; adds "per-task-best (train)". Test tasks
            missing from the mapping fall back to ``train_bsm`` (an error without it).
        train_bsm: best single model by training signal; adds "best-single (train)".

    Returns:
        A list of dicts ``{name, kind, avg_performance, avg_cost, avg_cost_micro, note}`` plus ``model`` for
        single-model rows and ``per_task_models`` ({task: model}) for per-task rows. Names, in order:
        "oracle", "oracle-cost-aware", "oracle-without-new" (with held_out), "random", "best-single (test)",
        "best-single (train)" (with train_bsm), "per-task-oracle (test)", "per-task-best (train)" (with
        train_task_best), then one row of kind "single" per model (name = model name), in model order.
        Kinds: "reference" and "single".

    Raises:
        UnknownNameError: when a held-out, train_bsm or train_task_best name is not a candidate.
        RpError: when a test task has no training pick and no train_bsm is given.
    """
    s, c, t, m = _prepare(scores, costs, tasks, models)
    n, k = s.shape
    s0 = np.nan_to_num(s, nan=0.0)
    all_cols = np.ones(k, dtype=bool)
    rows: list[dict] = []

    ch = _oracle_choice(s0, c, all_cols, cost_aware=False)
    p, co = _eval_choice(s0, c, ch)
    rows.append(_row("oracle", "reference", p, co,
                     "per query the best model (first of the tied best); upper bound of any router"))
    ch = _oracle_choice(s0, c, all_cols, cost_aware=True)
    p, co = _eval_choice(s0, c, ch)
    rows.append(_row("oracle-cost-aware", "reference", p, co,
                     "per query the cheapest of the tied best models; same quality as the oracle"))

    held = [str(h) for h in held_out]
    if held:
        allowed = all_cols.copy()
        for h in held:
            allowed[_model_index(m, h, "held-out model")] = False
        if allowed.any():
            ch = _oracle_choice(s0, c, allowed, cost_aware=False)
            p, co = _eval_choice(s0, c, ch)
        else:
            p, co = None, None
        rows.append(_row("oracle-without-new", "reference", p, co,
                         f"oracle over the candidates without {', '.join(held)}; "
                         "the oracle's gain from the new model is the difference"))

    p = float(s0.mean(axis=1).mean()) if n else None
    row_cost = np.full(n, np.nan)
    known = ~np.all(np.isnan(c), axis=1)
    if known.any():
        row_cost[known] = np.nanmean(c[known], axis=1)
    rows.append(_row("random", "reference", p, _nanmean_or_none(row_cost),
                     "analytic expectation of a uniform random pick (mean over models, never sampled)"))

    single_perf = s0.mean(axis=0) if n else np.full(k, np.nan)
    single_cost = [_nanmean_or_none(c[:, j]) for j in range(k)]
    if k and n:
        b = int(np.argmax(single_perf))
        rows.append(_row("best-single (test)", "reference", float(single_perf[b]), single_cost[b],
                         "the single model that is best on the test rows (hindsight)", model=m[b]))
    if train_bsm is not None:
        b = _model_index(m, str(train_bsm), "model (train_bsm)")
        rows.append(_row("best-single (train)", "reference", float(single_perf[b]) if n else None,
                         single_cost[b], "the single model with the best training signal, evaluated on test",
                         model=m[b]))

    task_names, g = _task_groups(t)
    if n and k:
        nt = len(task_names)
        sums = np.zeros((nt, k))
        np.add.at(sums, g, s0)
        best_by_task = sums.argmax(axis=1)  # same counts within a task, so sums order like means
        mapping = {name: int(best_by_task[j]) for j, name in enumerate(task_names)}
        ch = _per_task_choice(mapping, t)
        p, co = _eval_choice(s0, c, ch)
        rows.append(_row("per-task-oracle (test)", "reference", p, co,
                         "per task the single best model on the test rows; upper bound of task-level routing",
                         per_task_models={tn: m[j] for tn, j in mapping.items()}))

    if train_task_best is not None:
        mapping = {}
        for tn in task_names:
            if tn in train_task_best:
                mapping[tn] = _model_index(m, str(train_task_best[tn]), f"model (train pick for task '{tn}')")
            elif train_bsm is not None:
                mapping[tn] = _model_index(m, str(train_bsm), "model (train_bsm)")
            else:
                raise RpError(f"No training pick for test task '{tn}'.",
                              hint="Give train_bsm as the fallback, or a pick for every test task.")
        ch = _per_task_choice(mapping, t)
        p, co = _eval_choice(s0, c, ch)
        rows.append(_row("per-task-best (train)", "reference", p, co,
                         "per task the model with the best training signal, evaluated on test",
                         per_task_models={tn: m[j] for tn, j in mapping.items()}))

    for j, name in enumerate(m):
        rows.append(_row(name, "single", float(single_perf[j]) if n else None, single_cost[j],
                         "always this model", model=name))
    return rows


# ----------------------------------------------------------------------------------------------------------------
# 3./4. per-task and single-model baselines from a training signal
# ----------------------------------------------------------------------------------------------------------------


def pairwise_win_rates(pairs: Iterable[tuple[str, str, str]], models: Sequence[str]
                       ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Smoothed win rates (wins + 1) / (wins + losses + 2) per task and overall.

    Args:
        pairs: iterable of (task, better_model, worse_model). Opponents outside ``models`` still count as a win or
            loss for the candidate; pairs between two non-candidates are ignored.
        models: candidate model names. A candidate that never appears gets rate 0.5.

    Returns:
        ``(per_task, overall)``: ``{task: {model: rate}}`` (tasks in order of first appearance) and
        ``{model: rate}`` over all tasks.
    """
    names = [str(x) for x in models]
    pos = {name: j for j, name in enumerate(names)}
    k = len(names)
    wins: dict[str, np.ndarray] = {}
    losses: dict[str, np.ndarray] = {}
    for task, better, worse in pairs:
        task = str(task)
        if task not in wins:
            wins[task] = np.zeros(k)
            losses[task] = np.zeros(k)
        if better in pos:
            wins[task][pos[better]] += 1
        if worse in pos:
            losses[task][pos[worse]] += 1
    per_task = {}
    tw = np.zeros(k)
    tl = np.zeros(k)
    for task in wins:
        w, lo = wins[task], losses[task]
        tw += w
        tl += lo
        rate = (w + 1.0) / (w + lo + 2.0)
        per_task[task] = {name: float(rate[j]) for j, name in enumerate(names)}
    overall_rate = (tw + 1.0) / (tw + tl + 2.0)
    overall = {name: float(overall_rate[j]) for j, name in enumerate(names)}
    return per_task, overall


def _allowed_models(models: Sequence[str], exclude: Iterable[str]) -> list[str]:
    ex = {str(e) for e in exclude}
    allowed = [str(x) for x in models if str(x) not in ex]
    if not allowed:
        raise RpError("Every candidate model is excluded; nothing can be picked.")
    return allowed


def best_single_from_pairs(pairs: Iterable[tuple[str, str, str]], models: Sequence[str],
                           exclude: Iterable[str] = ()) -> str:
    """The model with the highest overall smoothed win rate (ties -> model order), never an excluded one.

    Args:
        pairs: iterable of (task, better_model, worse_model).
        models: candidate model names.
        exclude: models that may never be picked (held-out models).

    Returns:
        The model name.
    """
    _, overall = pairwise_win_rates(pairs, models)
    allowed = _allowed_models(models, exclude)
    return max(allowed, key=lambda name: (overall[name], -allowed.index(name)))


def per_task_best_from_pairs(pairs: Iterable[tuple[str, str, str]], models: Sequence[str],
                             exclude: Iterable[str] = ()) -> dict[str, str]:
    """Per task the model with the highest smoothed win rate (wins + 1) / (wins + losses + 2).

    Ties go to the model with the higher overall win rate across all tasks, then to model order. Candidates that
    never appear in a task's pairs have rate 0.5 there and can be picked; models in ``exclude`` never are.

    Args:
        pairs: iterable of (task, better_model, worse_model).
        models: candidate model names.
        exclude: models that may never be picked (held-out models).

    Returns:
        ``{task: model}`` for every task in the pairs (order of first appearance).
    """
    per_task, overall = pairwise_win_rates(pairs, models)
    allowed = _allowed_models(models, exclude)
    order = {name: j for j, name in enumerate(allowed)}
    return {task: max(allowed, key=lambda name: (rates[name], overall[name], -order[name]))
            for task, rates in per_task.items()}


def per_task_best_from_profile_scores(detailed_scores: Mapping[str, Mapping[str, float | None]],
                                      models: Sequence[str], tasks: Iterable[str],
                                      exclude: Iterable[str] = ()) -> dict[str, str]:
    """Per task the model with the highest non-null profile score (e.g. ``detailed_scores``).

    Ties go to the model with the higher overall score (the mean of its non-null scores over ``tasks``; the
    analogue of the overall win rate that breaks ties in ``per_task_best_from_pairs``), then to model order. On the
    released data this matters: natural_qa and trivia_qa tie mixtral-8x22b with llama-3.3-70b, and the reference
    values of docs/metrics.md (0.6554 standard, 0.6388 newllm) are reproduced only with this rule.

    Args:
        detailed_scores: ``{model: {task: score or None}}``; models missing from it have no scores.
        models: candidate model names.
        tasks: the tasks to pick for.
        exclude: models that may never be picked (held-out models).

    Returns:
        ``{task: model}``. A task that no allowed model has a score for gets the best single model by the same
        overall score (by the mean of all its scores when no allowed model has a score over ``tasks``; the first
        allowed model when none has any score).
    """
    allowed = _allowed_models(models, exclude)
    order = {name: j for j, name in enumerate(allowed)}
    task_list = [str(x) for x in tasks]

    def score(model: str, task: str) -> float | None:
        v = (detailed_scores.get(model) or {}).get(task)
        return _f(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def mean_of(model: str, keys: Iterable[str]) -> float | None:
        vals = [x for x in (score(model, key) for key in keys) if x is not None]
        return sum(vals) / len(vals) if vals else None

    overall = {name: mean_of(name, task_list) for name in allowed}
    if all(v is None for v in overall.values()):
        overall = {name: mean_of(name, list((detailed_scores.get(name) or {}).keys())) for name in allowed}

    def rank(name: str, value: float | None) -> tuple:
        ov = overall[name]
        return (value is not None, value if value is not None else 0.0,
                ov is not None, ov if ov is not None else 0.0, -order[name])

    fallback = max(allowed, key=lambda name: rank(name, overall[name]))
    out = {}
    for task in task_list:
        best = max(allowed, key=lambda name: rank(name, score(name, task)))
        out[task] = best if score(best, task) is not None else fallback
    return out


# ----------------------------------------------------------------------------------------------------------------
# 5. cost-quality curves, AIQ, calibration
# ----------------------------------------------------------------------------------------------------------------


def _fill_costs(c: np.ndarray) -> np.ndarray:
    """Unknown costs -> the column's mean known cost (error if a column has no known cost)."""
    if not np.isnan(c).any():
        return c
    col = np.array([_nanmean_or_none(c[:, j]) if c.shape[0] else None for j in range(c.shape[1])], dtype=object)
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
    q = _as_2d("pred_quality", pred_quality)
    c = _fill_costs(_as_2d("costs", costs, *q.shape))
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
    q = _as_2d("pred_quality", pred_quality)
    n, k = q.shape
    s0 = np.nan_to_num(_as_2d("scores", scores, n, k), nan=0.0)
    c = _fill_costs(_as_2d("costs", costs, n, k))
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
        x, y = _f(x), _f(y)
        if x is not None and y is not None:
            out.append((x, y, p))
    return out


def pareto_front(points: Iterable[Any]) -> list[Any]:
    """Points not dominated by any other (lower or equal cost and higher or equal performance, one strict).

    Args:
        points: dicts with ``avg_cost`` and ``avg_performance`` (extra keys kept), or (cost, performance) pairs.
            Points with a missing coordinate are ignored; of exact duplicates the first is kept.

    Returns:
        The non-dominated points (the original objects), sorted by increasing cost.
    """
    pts = _xy(points)
    order = sorted(range(len(pts)), key=lambda i: (pts[i][0], -pts[i][1], i))
    front = []
    best = -math.inf
    for i in order:
        x, y, p = pts[i]
        if y > best:
            front.append(p)
            best = y
    return front


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


def fit_calibration(raw_scores: Any, quality: Any, max_bins: int = 4096) -> dict:
    """Fit a non-decreasing map from a router's raw scores to expected quality (isotonic regression, PAV).

    Both arrays are flattened; pairs with a NaN on either side are dropped. When there are more than
    ``max_bins`` distinct raw values, consecutive distinct values are grouped into ``max_bins`` quantile bins
    first (equal raw values always share a bin), which keeps the fit fast for N*K in the millions.

    Args:
        raw_scores: array of any shape of raw router scores.
        quality: array of the same shape of true quality in [0, 1].
        max_bins: bin limit before pool-adjacent-violators.

    Returns:
        A JSON-serialisable dict ``{"kind": "isotonic", "x": [...], "y": [...], "n": count}``: breakpoints with
        x strictly increasing and y non-decreasing in [0, 1]; ``apply_calibration`` interpolates linearly between
        them and holds the end values flat outside.

    Raises:
        ValueError: on shape mismatch or when no pair is usable.
    """
    r = np.asarray(raw_scores, dtype=np.float64).ravel()
    q = np.asarray(quality, dtype=np.float64).ravel()
    if r.shape != q.shape:
        raise ValueError(f"raw_scores and quality must have the same size, got {r.size} and {q.size}")
    ok = ~(np.isnan(r) | np.isnan(q))
    r, q = r[ok], q[ok]
    if r.size == 0:
        raise ValueError("fit_calibration: no (raw, quality) pair without NaN")
    uniq, inv = np.unique(r, return_inverse=True)
    u = uniq.size
    if u > max_bins:
        bin_of_uniq = (np.arange(u) * max_bins) // u
    else:
        bin_of_uniq = np.arange(u)
    nb = int(bin_of_uniq[-1]) + 1
    b = bin_of_uniq[inv]
    w = np.bincount(b, minlength=nb).astype(np.float64)
    ysum = np.bincount(b, weights=q, minlength=nb)
    xlo = np.full(nb, np.inf)
    xhi = np.full(nb, -np.inf)
    np.minimum.at(xlo, bin_of_uniq, uniq)
    np.maximum.at(xhi, bin_of_uniq, uniq)

    # pool adjacent violators over the bins (already sorted by raw value)
    blocks: list[list[float]] = []  # [weight, sum_y, x_lo, x_hi]
    for j in range(nb):
        blocks.append([w[j], ysum[j], xlo[j], xhi[j]])
        while len(blocks) >= 2 and blocks[-2][1] * blocks[-1][0] >= blocks[-1][1] * blocks[-2][0]:
            w2, s2, _, h2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += s2
            blocks[-1][3] = h2
    xs: list[float] = []
    ys: list[float] = []
    for wt, sm, lo, hi in blocks:
        y = min(1.0, max(0.0, sm / wt))
        for x in ((lo,) if lo == hi else (lo, hi)):
            xs.append(float(x))
            ys.append(float(y))
    return {"kind": "isotonic", "x": xs, "y": ys, "n": int(r.size)}


def apply_calibration(cal: Mapping[str, Any], raw: Any) -> np.ndarray:
    """Map raw router scores to expected quality with a ``fit_calibration`` result.

    Args:
        cal: the dict from ``fit_calibration`` (as stored, e.g. after a JSON round trip).
        raw: array of raw scores, any shape.

    Returns:
        float64 array of the same shape, in [0, 1]; NaN stays NaN.
    """
    if cal.get("kind") != "isotonic":
        raise ValueError(f"Unknown calibration kind {cal.get('kind')!r}")
    xs = np.asarray(cal["x"], dtype=np.float64)
    ys = np.asarray(cal["y"], dtype=np.float64)
    r = np.asarray(raw, dtype=np.float64)
    out = np.interp(r, xs, ys)
    return np.where(np.isnan(r), np.nan, out)


def calibrator(cal: Mapping[str, Any]) -> Callable[[Any], np.ndarray]:
    """A callable wrapping ``apply_calibration(cal, raw)``."""
    return lambda raw: apply_calibration(cal, raw)


# ----------------------------------------------------------------------------------------------------------------
# 6. multi-seed summaries
# ----------------------------------------------------------------------------------------------------------------

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

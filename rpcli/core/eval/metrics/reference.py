"""2. Reference rows: oracle, random, single models, per-task baselines (docs/metrics.md).

The training picks of "per-task-best (train)" and "best-single (train)" come from a training signal: the pairs'
win rates (rpcli.core.eval.metrics.baselines) or, where a dataset has them, the per-query training scores
themselves (`per_task_best_from_scores`, `best_single_from_scores` below: the highest mean training score).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rpcli.core.eval.metrics._common import (MICRO, as_2d, float_or_none, group_nanmean, model_index, nanmean_or_none,
                                             prepare, task_groups)
from rpcli.errors import RpError


def mean_training_scores(scores: Any, tasks: Sequence[str], models: Sequence[str]
                         ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each model's mean training score per task and overall.

    Args:
        scores: float array [Q, K] of per-query training scores; NaN where a model has no score (or is held out).
        tasks: Q task names.
        models: K model names (column order).

    Returns:
        ``(per_task, overall)``: ``{task: [K] means}`` (tasks in order of first appearance; NaN where a model has no
        score on the task) and ``[K]`` means over every row the model has a score on (NaN: none).
    """
    s = as_2d("scores", scores, k=len(models))
    t = [str(x) for x in tasks]
    if len(t) != s.shape[0]:
        raise ValueError(f"tasks has {len(t)} entries, expected {s.shape[0]}")
    names, g = task_groups(t)
    per = np.stack([group_nanmean(s[:, j], g, len(names)) for j in range(s.shape[1])], axis=1) if len(names) \
        else np.zeros((0, s.shape[1]))
    ok = ~np.isnan(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where(ok, s, 0.0).sum(0) / ok.sum(0)
    return {name: per[i] for i, name in enumerate(names)}, overall


def _score_rank(value: float, overall: float, order: int) -> tuple:
    has, has_o = not math.isnan(value), not math.isnan(overall)
    return (has, value if has else 0.0, has_o, overall if has_o else 0.0, -order)


def _allowed(models: Sequence[str], exclude: Iterable[str]) -> tuple[list[str], list[int]]:
    """(model names, indices of the models that may be picked); RpError when none may."""
    names = [str(x) for x in models]
    ex = {str(e) for e in exclude}
    allowed = [j for j, name in enumerate(names) if name not in ex]
    if not allowed:
        raise RpError("Every candidate model is excluded; nothing can be picked.")
    return names, allowed


def best_single_from_scores(scores: Any, tasks: Sequence[str], models: Sequence[str],
                            exclude: Iterable[str] = ()) -> str:
    """The model with the highest mean training score over all training queries (ties -> model order), never an
    excluded one; a model with no score at all ranks below every scored one.

    Args:
        scores: float array [Q, K] of per-query training scores (NaN = no score).
        tasks: Q task names.
        models: K candidate model names.
        exclude: models that may never be picked (held-out models).
    """
    _, overall = mean_training_scores(scores, tasks, models)
    names, allowed = _allowed(models, exclude)
    return names[max(allowed, key=lambda j: _score_rank(overall[j], np.nan, j))]


def per_task_best_from_scores(scores: Any, tasks: Sequence[str], models: Sequence[str],
                              exclude: Iterable[str] = ()) -> dict[str, str]:
    """Per task the model with the highest mean training score (the mean over the task's training queries the
    model has a score on).

    Ties go to the model with the higher overall mean (all training queries), then to model order: the rule of
    ``per_task_best_from_pairs`` with means in place of win rates. A model without a score on a task is not picked
    there; a task where no allowed model has one gets ``best_single_from_scores``.

    Args:
        scores: float array [Q, K] of per-query training scores (NaN = no score).
        tasks: Q task names.
        models: K candidate model names.
        exclude: models that may never be picked (held-out models).

    Returns:
        ``{task: model}`` for every task of ``tasks`` (order of first appearance).
    """
    per_task, overall = mean_training_scores(scores, tasks, models)
    names, allowed = _allowed(models, exclude)
    fallback = best_single_from_scores(scores, tasks, models, exclude)
    out = {}
    for task, means in per_task.items():
        j = max(allowed, key=lambda j: _score_rank(means[j], overall[j], j))
        out[task] = names[j] if not math.isnan(means[j]) else fallback
    return out


def _row(name: str, kind: str, perf: float | None, cost: float | None, note: str, **extra: Any) -> dict:
    row = {
        "name": name,
        "kind": kind,
        "avg_performance": float_or_none(perf),
        "avg_cost": float_or_none(cost),
        "avg_cost_micro": float_or_none(cost * MICRO) if cost is not None and math.isfinite(cost) else None,
        "note": note,
    }
    row.update(extra)
    return row


def _with_signal(note: str, signal: str | None) -> str:
    return f"{note}; {signal}" if signal else note


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
    return float(s0[rows, ch].mean()), nanmean_or_none(c[rows, ch])


def _per_task_choice(mapping: Mapping[str, int], tasks: Sequence[str]) -> np.ndarray:
    return np.array([mapping[t] for t in tasks], dtype=np.int64)


def reference_rows(scores: Any, costs: Any, tasks: Any, models: Sequence[str], *, held_out: Iterable[str] = (),
                   train_task_best: Mapping[str, str] | None = None,
                   train_bsm: str | None = None, train_signal: str | None = None) -> list[dict]:
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
        train_signal: which training signal chose the two "(train)" rows (e.g. "from per-query training scores (2100
            queries)"); appended to their notes.

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
    s, c, t, m = prepare(scores, costs, tasks, models)
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
            allowed[model_index(m, h, "held-out model")] = False
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
    rows.append(_row("random", "reference", p, nanmean_or_none(row_cost),
                     "analytic expectation of a uniform random pick (mean over models, never sampled)"))

    single_perf = s0.mean(axis=0) if n else np.full(k, np.nan)
    single_cost = [nanmean_or_none(c[:, j]) for j in range(k)]
    if k and n:
        b = int(np.argmax(single_perf))
        rows.append(_row("best-single (test)", "reference", float(single_perf[b]), single_cost[b],
                         "the single model that is best on the test rows (hindsight)", model=m[b]))
    if train_bsm is not None:
        b = model_index(m, str(train_bsm), "model (train_bsm)")
        rows.append(_row("best-single (train)", "reference", float(single_perf[b]) if n else None,
                         single_cost[b], _with_signal("the single model with the best training signal, evaluated "
                                                      "on test", train_signal),
                         model=m[b]))

    task_names, g = task_groups(t)
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
                mapping[tn] = model_index(m, str(train_task_best[tn]), f"model (train pick for task '{tn}')")
            elif train_bsm is not None:
                mapping[tn] = model_index(m, str(train_bsm), "model (train_bsm)")
            else:
                raise RpError(f"No training pick for test task '{tn}'.",
                              hint="Give train_bsm as the fallback, or a pick for every test task.")
        ch = _per_task_choice(mapping, t)
        p, co = _eval_choice(s0, c, ch)
        rows.append(_row("per-task-best (train)", "reference", p, co,
                         _with_signal("per task the model with the best training signal, evaluated on test",
                                      train_signal),
                         per_task_models={tn: m[j] for tn, j in mapping.items()}))

    for j, name in enumerate(m):
        rows.append(_row(name, "single", float(single_perf[j]) if n else None, single_cost[j],
                         "always this model", model=name))
    return rows

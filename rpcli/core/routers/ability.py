"""Per-task model ability from the training signal and the model cards: the prior of the `prior` and `knn`
routers (docs/beyond.md).

Two sources, both training information:

- the mode's training pairs: per task, each candidate's smoothed win rate (wins + 1) / (wins + losses + 2), the
  rule of the "per-task-best (train)" reference row (``rpcli.core.eval.metrics.pairwise_win_rates``);
- the model cards (`detailed_scores`, 0-100): a candidate's card score on a routing task. A card score the card
  does not give (null; e.g. the held-out model of newllm mode) is *imputed* from the benchmarks the card does give,
  by ridge regression across every model of the mode's model file that reports both (the card space is the
  profile: no training pair names the model). Card scores of tasks the data audit flags as carrying test
  information (``rpcli.core.data.audit.card_score_overlap``) are dropped by the caller and imputed like nulls.

Card scores are put on the win-rate scale per task by a least-squares line (slope clipped at >= 0) fitted over the
candidates that have both; a model with no training signal at all (a new model) gets that estimate as its prior,
the others ``(1 - card_weight) * win rate + card_weight * card estimate``.

Everything here is plain numpy and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def card_matrix(cards: dict, models: list[str], keys: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """[M, B] card scores / 100 (NaN = not given) of `models` over the benchmark keys (default: every key any of
    them reports, in first-appearance order)."""
    if keys is None:
        seen: dict = {}
        for m in models:
            for k, v in (cards.get(m) or {}).items():
                if _num(v) is not None:
                    seen.setdefault(k, None)
        keys = list(seen)
    out = np.full((len(models), len(keys)), np.nan)
    for i, m in enumerate(models):
        row = cards.get(m) or {}
        for j, k in enumerate(keys):
            v = _num(row.get(k))
            if v is not None:
                out[i, j] = v / 100.0
    return out, keys


def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if np.isfinite(v) else None


def impute_cell(X: np.ndarray, row: int, col: int, ridge: float) -> float | None:
    """Predict X[row, col] from the row's other observed columns: ridge regression (standardised features, missing
    feature values of the fitting rows filled with their column mean) over the other rows that observe `col`.
    None when no other row observes `col`."""
    fit_rows = [r for r in range(X.shape[0]) if r != row and not np.isnan(X[r, col])]
    if not fit_rows:
        return None
    y = X[fit_rows, col]
    feats = [j for j in range(X.shape[1]) if j != col and not np.isnan(X[row, j])]
    # keep features observed by at least two fitting rows (a constant column carries nothing)
    feats = [j for j in feats if (~np.isnan(X[fit_rows, j])).sum() >= 2]
    if not feats:
        return float(y.mean())
    F = X[np.ix_(fit_rows, feats)]
    mu = np.nanmean(F, axis=0)
    F = np.where(np.isnan(F), mu, F)
    sd = F.std(axis=0)
    sd[sd < 1e-9] = 1.0
    Z = (F - mu) / sd
    z = (X[row, feats] - mu) / sd
    ym = y.mean()
    A = Z.T @ Z + ridge * len(fit_rows) * np.eye(len(feats))
    w = np.linalg.solve(A, Z.T @ (y - ym))
    return float(ym + z @ w)


def card_estimates(cards: dict, card_models: list[str], candidates: list[str], tasks: list[str],
                   ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """([K, T] card score / 100 of each candidate on each task, given or imputed (NaN when nothing can be said),
    [K, T] bool: imputed)."""
    names = list(dict.fromkeys(list(card_models) + list(candidates)))
    X, keys = card_matrix(cards, names)
    col = {k: j for j, k in enumerate(keys)}
    est = np.full((len(candidates), len(tasks)), np.nan)
    imputed = np.zeros_like(est, dtype=bool)
    for i, m in enumerate(candidates):
        r = names.index(m)
        for t, task in enumerate(tasks):
            j = col.get(task)
            if j is None:
                continue
            if not np.isnan(X[r, j]):
                est[i, t] = X[r, j]
            else:
                v = impute_cell(X, r, j, ridge)
                if v is not None:
                    est[i, t] = v
                    imputed[i, t] = True
    return est, imputed


def win_counts(pairs: np.ndarray, query_task: np.ndarray, n_tasks: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """([T, K] wins, [T, K] losses) from (query, better, worse) triples; `query_task` [Q] maps a query to its task
    index."""
    wins = np.zeros((n_tasks, k))
    losses = np.zeros((n_tasks, k))
    if len(pairs):
        t = query_task[pairs[:, 0]]
        np.add.at(wins, (t, pairs[:, 1]), 1.0)
        np.add.at(losses, (t, pairs[:, 2]), 1.0)
    return wins, losses


@dataclass
class Prior:
    """The per-task prior on the win-rate scale: `value` [T, K] (rows: `tasks`, then one row for any other task:
    the overall rates), `signal` [K] bool (the model has training pairs), `card` [T, K] the card estimates on the
    win-rate scale (NaN where none)."""

    tasks: list
    value: np.ndarray
    signal: np.ndarray
    card: np.ndarray
    imputed: np.ndarray

    def rows(self, tasks) -> np.ndarray:
        """[N, K] the prior of each of N task names (a task outside `tasks`: the overall row)."""
        idx = {t: i for i, t in enumerate(self.tasks)}
        other = len(self.tasks)
        return self.value[[idx.get(t, other) for t in tasks]]


def task_prior(pairs: np.ndarray, query_tasks: list, models: list[str], tasks: list[str], cards: dict | None,
               card_models: list[str], card_weight: float, ridge: float) -> Prior:
    """The prior of every task in `tasks` (plus an overall row) from the pairs of the training queries (`pairs`
    index `query_tasks`) and the cards."""
    k, T = len(models), len(tasks)
    tix = {t: i for i, t in enumerate(tasks)}
    qt = np.array([tix.get(t, T) for t in query_tasks], dtype=np.int64)
    wins, losses = win_counts(pairs, qt, T + 1, k)
    tw, tl = wins.sum(0), losses.sum(0)
    wins[T], losses[T] = tw, tl  # the overall row: every task
    rate = (wins + 1.0) / (wins + losses + 2.0)
    signal = (tw + tl) > 0
    value = rate.copy()
    card = np.full((T + 1, k), np.nan)
    imputed = np.zeros((T + 1, k), dtype=bool)
    if cards:
        est, imp = card_estimates(cards, card_models, models, tasks, ridge)
        for t in range(T):
            seen = (wins[t] + losses[t]) > 0
            has = ~np.isnan(est[:, t])
            fit = seen & has
            if fit.sum() >= 2 and np.ptp(est[fit, t]) > 0:
                b, a = np.polyfit(est[fit, t], rate[t, fit], 1)
                b = max(b, 0.0)
                a = float(rate[t, fit].mean() - b * est[fit, t].mean())
            elif fit.sum() >= 1:
                a, b = float(rate[t, fit].mean()), 0.0
            else:
                continue
            card[t, has] = np.clip(a + b * est[has, t], 0.0, 1.0)
            imputed[t] = imp[:, t]
    for t in range(T + 1):
        for j in range(k):
            c = card[t, j]
            if np.isnan(c):
                continue
            if not signal[j] or (wins[t, j] + losses[t, j]) == 0:
                value[t, j] = c  # no training signal for this model here: the card alone
            else:
                value[t, j] = (1.0 - card_weight) * rate[t, j] + card_weight * c
    # a model without any training signal and no card estimate for a task: the mean of the others' prior there
    for j in np.flatnonzero(~signal):
        for t in range(T + 1):
            if np.isnan(card[t, j]):
                others = [i for i in range(k) if signal[i]]
                value[t, j] = float(value[t, others].mean()) if others else 0.5
    return Prior(tasks=list(tasks), value=value, signal=signal, card=card, imputed=imputed)

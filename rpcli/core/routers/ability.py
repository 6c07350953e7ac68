"""Per-task model ability from the training signal and the model cards: the prior of the `prior` and `knn`
routers (docs/beyond.md).

Two sources, both training information:

- the mode's training signal: per task, each candidate's smoothed win rate (wins + 1) / (wins + losses + 2) from
  the training pairs (`task_prior`), the rule of the "per-task-best (train)" reference row
  (``rpcli.core.eval.metrics.pairwise_win_rates``); or, where the dataset has per-query training scores
  (route_data/routing_train_data.json), each candidate's mean training score on the task (`task_prior_from_scores`;
  the rule of that row on such a dataset, ``rpcli.core.eval.metrics.reference.per_task_best_from_scores``). Both are
  in [0, 1]: the scale of the routers' labels (0/1 pair labels, or the scores themselves);
- the model cards (`detailed_scores`, 0-100): a candidate's card score on a routing task. A card score the card
  does not give (null; e.g. the held-out model of newllm mode) is *imputed* from the benchmarks the card does give,
  by ridge regression across every model of the mode's model file that reports both (the card space is the
  profile: no training pair names the model). Card scores of tasks the data audit flags as carrying test
  information (``rpcli.core.data.audit.card_score_overlap``) are dropped by the caller and imputed like nulls.

Card scores are put on the win-rate (or mean-score) scale per task by a least-squares line (slope clipped at >= 0)
fitted over the candidates that have both; a model with no training signal at all (a new model) gets that estimate
as its prior, the others ``(1 - card_weight) * win rate + card_weight * card estimate``.

Two helpers for the callers: `fold_cards` rebuilds, for a cross-validation fold, the card scores that were measured
on the training queries (rp data import writes 100 x the mean training score) without the fold's validation
queries; `card_signal` says how much a model's card can tell (a card without any benchmark score leaves the
router nothing but its cold-start bonus).

Everything here is plain numpy and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CARD_ROUNDING = 0.005  # rp data import writes card scores with two decimals (rpcli.core.data.audit.ROUNDING)


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
    the overall rates), `signal` [K] bool (the model has training pairs, or scores), `card` [T, K] the card
    estimates on the win-rate scale (NaN where none); `source` "pairs" (win rates) or "scores" (mean training
    scores)."""

    tasks: list
    value: np.ndarray
    signal: np.ndarray
    card: np.ndarray
    imputed: np.ndarray
    source: str = "pairs"

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
    card, imputed = _cards_on_scale(rate, (wins + losses) > 0, cards, card_models, models, tasks, ridge)
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


def _cards_on_scale(rate: np.ndarray, seen: np.ndarray, cards: dict | None, card_models: list[str],
                    models: list[str], tasks: list[str], ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """([T + 1, K] card estimates put on the scale of `rate` [T + 1, K] per task by a least-squares line (slope >=
    0) over the candidates `seen` [T + 1, K] on the task that have a card estimate (NaN where none; the overall row
    stays NaN), [T + 1, K] bool: imputed)."""
    T, k = len(tasks), len(models)
    card = np.full((T + 1, k), np.nan)
    imputed = np.zeros((T + 1, k), dtype=bool)
    if not cards:
        return card, imputed
    est, imp = card_estimates(cards, card_models, models, tasks, ridge)
    for t in range(T):
        has = ~np.isnan(est[:, t])
        fit = seen[t] & has
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
    return card, imputed


def score_means(quality: np.ndarray, query_tasks: list, tasks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """([T + 1, K] mean training score of each model per task of `tasks` and, last row, over every row; NaN where
    a model has no score, [T + 1, K] number of scored rows) from `quality` [Q, K] (NaN = no score) and the rows'
    task names. Rows of a task outside `tasks` count in the overall row only. The means are those of
    ``rpcli.core.eval.metrics.reference.mean_training_scores`` (the "(train)" reference rows), bit for bit."""
    from rpcli.core.eval.metrics.reference import mean_training_scores

    q = np.asarray(quality, dtype=np.float64)
    k = q.shape[1]
    names = [str(t) for t in query_tasks]
    per, overall = mean_training_scores(q, names, [str(j) for j in range(k)])
    T = len(tasks)
    means = np.full((T + 1, k), np.nan)
    counts = np.zeros((T + 1, k))
    ok = ~np.isnan(q)
    tix = {t: i for i, t in enumerate(tasks)}
    for i, t in enumerate(tasks):
        if t in per:
            means[i] = per[t]
    qt = np.array([tix.get(t, T) for t in names], dtype=np.int64)
    np.add.at(counts, qt, ok.astype(np.float64))
    counts[T] = ok.sum(0)
    means[T] = overall
    return means, counts


def task_prior_from_scores(quality: np.ndarray, query_tasks: list, models: list[str], tasks: list[str],
                           cards: dict | None, card_models: list[str], card_weight: float, ridge: float) -> Prior:
    """The prior of every task in `tasks` (plus an overall row) from per-query training scores: `quality` [Q, K]
    (columns = `models`, NaN = no score; a held-out model's column all NaN) of the training queries whose tasks are
    `query_tasks` [Q] (e.g. ``training.score_signal(...).quality`` and ``.tasks``, or a CV fold's rows of them).

    Each candidate's per-task value is its mean training score on the task (the overall row: over every row), in
    [0, 1] like the scores the routers vote with, so with card_weight 0 the prior picks per task what
    "per-task-best (train)" picks on a scored dataset (ties aside: there the higher overall mean wins, here the
    first column). Cards as in `task_prior`: a model with no score on a task gets its card estimate there, else
    (1 - card_weight) * mean + card_weight * card estimate. A model with no card estimate where it has no score
    gets the mean of the other scored models' values there (a model without any score: the mean over the models
    with scores, as in `task_prior`)."""
    k, T = len(models), len(tasks)
    q = np.asarray(quality, dtype=np.float64).reshape(len(query_tasks), k)
    means, counts = score_means(q, list(query_tasks), list(tasks))
    seen = counts > 0
    signal = seen[T].copy()
    base = np.where(seen, means, 0.0)
    card, imputed = _cards_on_scale(base, seen, cards, card_models, models, tasks, ridge)
    value = np.where(seen, means, np.nan)
    for t in range(T + 1):
        for j in range(k):
            c = card[t, j]
            if np.isnan(c):
                continue
            value[t, j] = c if not seen[t, j] else (1.0 - card_weight) * means[t, j] + card_weight * c
    for t in range(T + 1):
        gaps = np.flatnonzero(np.isnan(value[t]))
        if not len(gaps):
            continue
        known = [i for i in range(k) if signal[i] and not np.isnan(value[t, i])]
        fill = float(value[t, known].mean()) if known else 0.5
        value[t, gaps] = fill
    return Prior(tasks=list(tasks), value=value, signal=signal, card=card, imputed=imputed, source="scores")


def prior_of(pairs, query_tasks: list, models: list[str], tasks: list[str], cards: dict | None,
             card_models: list[str], card_weight: float, ridge: float, quality=None) -> Prior:
    """The prior of a training signal: `task_prior_from_scores(quality, ...)` when the per-query scores `quality`
    [Q, K] are given (a signal of source "scores"), else `task_prior(pairs, ...)`; `query_tasks` [Q] are the tasks of
    the signal's queries either way. The one call a router's fit needs for both sources."""
    if quality is not None:
        return task_prior_from_scores(quality, query_tasks, models, tasks, cards, card_models, card_weight, ridge)
    return task_prior(np.asarray(pairs, dtype=np.int64).reshape(-1, 3), query_tasks, models, tasks, cards,
                      card_models, card_weight, ridge)


# ----------------------------------------------------------------------------------------------------------------
# cards measured on the training queries, in cross-validation
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class FoldCards:
    """`fold_cards`' answer: the cards to use in one CV fold and what was done per task."""

    cards: dict  # {model: {benchmark: score}}: the input cards, rebuilt tasks' scores recomputed without the fold
    rebuilt: list = field(default_factory=list)  # tasks whose card scores are 100 x the training mean: recomputed
    unrebuildable: list = field(default_factory=list)  # tasks whose card scores look measured on the training
    # queries (steps of 100/n, n = the task's training rows) but do not equal the rows' means: the fold's queries
    # cannot be taken out of them (the caller should drop those scores in the fold, like a leaky card)
    independent: list = field(default_factory=list)  # tasks with card scores that are neither: left as they are


def card_train_tasks(cards: dict, quality: np.ndarray, query_tasks: list, models: list[str],
                     tol: float = CARD_ROUNDING) -> dict:
    """{task: "train-mean" | "unrebuildable" | "independent"} for every task of `query_tasks` that some model of
    `models` has a card score for: "train-mean" when, for every model with both a card score on the task and
    training scores there (at least one), card == 100 x its mean training score up to the cards' two-decimal
    rounding (`tol`, 0-100 scale); "unrebuildable" when not, yet every such card score is a multiple of 100/n (n =
    the task's scored rows; rpcli.core.data.audit.on_step); else "independent"."""
    from rpcli.core.data.audit import on_step

    q = np.asarray(quality, dtype=np.float64).reshape(len(query_tasks), len(models))
    names = [str(t) for t in query_tasks]
    order = list(dict.fromkeys(names))
    means, counts = score_means(q, names, order)
    n_rows = {t: int(sum(1 for x in names if x == t)) for t in order}
    out = {}
    for i, t in enumerate(order):
        pairs = []
        for j, m in enumerate(models):
            v = _num((cards.get(m) or {}).get(t))
            if v is not None:
                pairs.append((v, means[i, j] if counts[i, j] > 0 else None))
        if not pairs:
            continue
        both = [(v, mu) for v, mu in pairs if mu is not None]
        if both and all(abs(v - 100.0 * mu) <= tol + 1e-6 for v, mu in both):
            out[t] = "train-mean"
        elif all(on_step(v, n_rows[t]) for v, _ in pairs):
            out[t] = "unrebuildable"
        else:
            out[t] = "independent"
    return out


def fold_cards(cards: dict, quality: np.ndarray, query_tasks: list, models: list[str], held, *,
               tol: float = CARD_ROUNDING) -> FoldCards:
    """The cards one CV fold may see: for every task whose card scores are 100 x the mean training score of
    `quality` [Q, K] (the training queries' scores, columns `models`; `card_train_tasks`), each model's card score
    recomputed as 100 x its mean over the rows not in `held` (the fold's validation query indices, or a [Q] bool
    mask); None where none of its scored rows is left (then imputed, like a null). Other tasks are left as they are
    and listed (`unrebuildable`: the caller drops them; `independent`: measured elsewhere). Benchmarks that are not
    tasks of the rows, and models outside `models`, are untouched. With an empty `held`, a rebuilt task's scores
    are the unrounded means the cards were rounded from.

    The detection uses every row of `quality`: pass the same rows the cards were computed from (rp data import: the
    training split, i.e. ``training.score_signal(...)``, which keeps equal-score rows)."""
    q = np.asarray(quality, dtype=np.float64).reshape(len(query_tasks), len(models))
    names = [str(t) for t in query_tasks]
    kinds = card_train_tasks(cards, q, names, models, tol=tol)
    mask = np.zeros(len(names), dtype=bool)
    h = np.asarray([] if held is None else list(held) if not isinstance(held, np.ndarray) else held)
    if h.dtype == bool:
        mask[:] = h
    elif h.size:
        mask[h.astype(np.int64)] = True
    rebuilt = [t for t, kd in kinds.items() if kd == "train-mean"]
    out = {m: dict(v or {}) for m, v in cards.items()}
    if rebuilt:
        keep = ~mask
        means, counts = score_means(q[keep], [n for n, kp in zip(names, keep) if kp], rebuilt)
        for i, t in enumerate(rebuilt):
            for j, m in enumerate(models):
                if m not in out or _num(out[m].get(t)) is None:
                    continue
                out[m][t] = float(100.0 * means[i, j]) if counts[i, j] > 0 else None
    return FoldCards(cards=out, rebuilt=rebuilt, unrebuildable=[t for t, kd in kinds.items() if kd == "unrebuildable"],
                     independent=[t for t, kd in kinds.items() if kd == "independent"])


# ----------------------------------------------------------------------------------------------------------------
# what a card can tell
# ----------------------------------------------------------------------------------------------------------------
def card_signal(cards: dict, model: str, tasks=None, card_models=None) -> dict:
    """How much the card of `model` can tell the card-based routers: {"scores": benchmark scores the card gives,
    "routing_scores": of them on `tasks` (given directly), "imputable": whether a missing task score can be
    imputed from the card (some benchmark it gives is also given by at least two other models of `card_models`,
    default every model of `cards`: the rule of `impute_cell`)}. With "scores" 0 the card says nothing: the prior
    of a model without training signal is then the other models' average, and the router reaches it only through
    its cold-start bonus (or, for profile routers, its description)."""
    row = {k: v for k, v in (cards.get(model) or {}).items() if _num(v) is not None}
    others = [m for m in (card_models if card_models is not None else cards) if m != model]
    reported: dict = {}
    for m in others:
        for k, v in (cards.get(m) or {}).items():
            if _num(v) is not None:
                reported[k] = reported.get(k, 0) + 1
    imputable = any(reported.get(k, 0) >= 2 for k in row)
    routing = sum(1 for t in (tasks or ()) if t in row)
    return {"scores": len(row), "routing_scores": routing, "imputable": bool(imputable)}

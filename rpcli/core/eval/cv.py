"""Cross-validation on the training queries only (docs/beyond.md): how methods and hyperparameters are chosen,
never on the test rows.

Folds are grouped by query: every training query (all its pairs, all its labels) lies in exactly one fold, and
queries with the same text (the same question under two tasks) share a fold. A fold's router is fitted on the
other folds' queries and scored on its own.

The score of a router on a validation query (its labels come from that query's pairs: 1 = among the best, 0 =
beaten, NaN = the query's pairs do not mention the model): the label of the model it ranks highest among the
labeled ones ("labeled top-1"), so every router is judged on the same outcomes; queries with no label are skipped.

Cold start (newllm): each candidate with a training signal is hidden in turn: its pairs and labels leave the fitted
part, and its card scores on the routing tasks are removed (as the held-out model's are); on the validation fold it
is judged with every label. Cold-start recall: among validation queries where the hidden model is labeled 1, the
share where the router ranks it first among the labeled models.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np


def group_folds(groups: Sequence, n_folds: int, seed: int) -> list[np.ndarray]:
    """Validation indices of each fold: the distinct groups, shuffled with `seed`, dealt round-robin; every index
    is in exactly one fold and no group is split."""
    if n_folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    uniq = list(dict.fromkeys(groups))
    if len(uniq) < n_folds:
        raise ValueError(f"{len(uniq)} distinct queries cannot fill {n_folds} folds")
    random.Random(seed).shuffle(uniq)
    fold_of = {g: i % n_folds for i, g in enumerate(uniq)}
    f = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(f == i) for i in range(n_folds)]


def labeled_top1(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[n] the label of the highest-scored labeled model of each query (ties: the first), NaN where none is
    labeled."""
    lab = ~np.isnan(labels)
    s = np.where(lab, scores, -np.inf)
    j = np.argmax(s, axis=1)
    out = labels[np.arange(len(labels)), j]
    out[~lab.any(1)] = np.nan
    return out


def cold_start_hits(scores: np.ndarray, labels: np.ndarray, j: int) -> tuple[int, int]:
    """(hits, denominator): queries where model j is labeled 1, and among them those where j ranks first among the
    labeled models."""
    lab = ~np.isnan(labels)
    s = np.where(lab, scores, -np.inf)
    pick = np.argmax(s, axis=1)
    den = labels[:, j] == 1
    return int((pick[den] == j).sum()), int(den.sum())


def cross_validate(groups: Sequence, labels: np.ndarray, score_fn: Callable, n_folds: int = 5, seed: int = 0,
                   hide: Sequence[int] = (), per_query: bool = False) -> dict:
    """Cross-validate one router configuration.

    Args:
        groups: [Q] the group of each training query (its text).
        labels: [Q, K] the training labels.
        score_fn: (train_idx, val_idx, hidden or None) -> [len(val_idx), K] scores; it must fit only on train_idx
            and, given `hidden`, use no label, pair or routing-task card score of that model.
        hide: the models to hide in turn (cold start); empty: the standard CV.

    Returns:
        {"top1": mean labeled top-1 over validation queries, "top1_folds": [...], "n": queries judged,
        and with `hide`: "recall" (pooled hits / denominator), "recall_n", "per_model": {j: {top1, recall}}};
        with `per_query` (standard CV only): "values", [Q] each query's labeled top-1 on its validation fold (NaN
        where it has no label), in the queries' own order.
    """
    folds = group_folds(groups, n_folds, seed)
    Q = len(groups)
    runs = [None] if not hide else list(hide)
    vals, fold_means, per_model = [], [], {}
    hits = den = 0
    for h in runs:
        hv, hh, hd = [], 0, 0
        for val in folds:
            tr = np.setdiff1d(np.arange(Q), val)
            sc = np.asarray(score_fn(tr, val, h), dtype=np.float64)
            v = labeled_top1(sc, labels[val])
            hv.append(v)
            fold_means.append(float(np.nanmean(v)) if (~np.isnan(v)).any() else float("nan"))
            if h is not None:
                a, b = cold_start_hits(sc, labels[val], h)
                hh, hd = hh + a, hd + b
        v = np.concatenate(hv)
        vals.append(v)
        if h is not None:
            per_model[int(h)] = {"top1": float(np.nanmean(v)), "recall": hh / hd if hd else None, "recall_n": hd}
            hits, den = hits + hh, den + hd
    allv = np.concatenate(vals)
    if per_query and not hide:
        values = np.full(Q, np.nan)
        values[np.concatenate(folds)] = allv
    out = {"top1": float(np.nanmean(allv)), "top1_folds": fold_means, "n": int((~np.isnan(allv)).sum()),
           "n_folds": n_folds, "seed": seed}
    if hide:
        out.update(recall=hits / den if den else None, recall_n=den, per_model=per_model)
    elif per_query:
        out["values"] = values
    return out

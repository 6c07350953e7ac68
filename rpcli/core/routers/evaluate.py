"""Turn a dataset's test rows into matrices and evaluate a router's choices with the metrics library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rpcli.core.data.schema import RouteDataset
from rpcli.core.eval import metrics as M


def test_matrices(ds: RouteDataset, models: list[str]):
    """scores [N, K] (NaN when missing), costs [N, K] in dollars (a row's own `cost` when it gives one, else
    tokens x prices), tasks [N]. Models absent from the test rows
    get NaN scores (a router choosing them scores 0 there, with a warning)."""
    n, k = len(ds.test_rows), len(models)
    s = np.full((n, k), np.nan)
    c = np.full((n, k), np.nan)
    for i, r in enumerate(ds.test_rows):
        for j, m in enumerate(models):
            v = r.scores.get(m)
            if v is not None:
                s[i, j] = v
            ip, op = ds.prices.get(m, (None, None))
            if m in r.costs:  # given directly (null = unknown)
                if r.costs[m] is not None:
                    c[i, j] = r.costs[m]
            elif ip is not None and op is not None and m in r.input_tokens:
                c[i, j] = (r.input_tokens[m] * ip + r.output_tokens[m] * op) / 1e6
    return s, c, [r.task_name for r in ds.test_rows]


def training_signal(ds: RouteDataset, mode: str):
    md = ds.mode(mode)
    pairs = [(p.task_name, p.better, p.worse) for p in md.pairs]
    return pairs, md.held_out


def train_picks(ds: RouteDataset, mode: str, models: list[str]) -> dict:
    """The training picks of the "(train)" reference rows: {train_task_best, train_bsm, train_signal} (empty when the
    mode has no training signal). Per-query training scores (route_data/routing_train_data.json) when the dataset
    has some for the mode: per task the highest mean training score, overall the highest mean, and train_signal
    "from per-query training scores (N queries)" for the rows' notes; else the mode's pairs (smoothed win rates;
    train_signal None: the notes as they always were). Held-out models are never picked."""
    from rpcli.core.eval.metrics.reference import best_single_from_scores, per_task_best_from_scores
    from rpcli.core.routers.training import score_signal

    pairs, held_out = training_signal(ds, mode)
    sig = score_signal(ds, mode, models)
    if sig is not None and len(sig):
        return {"train_task_best": per_task_best_from_scores(sig.quality, sig.tasks, models, exclude=held_out),
                "train_bsm": best_single_from_scores(sig.quality, sig.tasks, models, exclude=held_out),
                "train_signal": f"from per-query training scores ({len(sig)} queries)"}
    if pairs:
        # the notes of a dataset without scores stay as they were (the released data's rows are unchanged)
        return {"train_task_best": M.per_task_best_from_pairs(pairs, models, exclude=held_out),
                "train_bsm": M.best_single_from_pairs(pairs, models, exclude=held_out), "train_signal": None}
    return {}


def reference_rows(ds: RouteDataset, mode: str) -> list[dict]:
    """The reference rows of a mode, from the routing candidates and the mode's training signal (the per-query
    training scores where the dataset has them, else the pairs: `train_picks`)."""
    models = list(ds.candidates)
    s, c, tasks = test_matrices(ds, models)
    _, held_out = training_signal(ds, mode)
    kw = train_picks(ds, mode, models)
    rows = M.reference_rows(s, c, tasks, models, held_out=held_out if mode == "newllm" else (), **kw)
    md = ds.mode(mode)
    scores = {m.name: m.scores for m in md.models if m.name in models}
    tb = M.per_task_best_from_profile_scores(scores, models, sorted(set(tasks)), exclude=held_out)
    ch = np.array([models.index(tb[t]) for t in tasks])
    res = M.evaluate_selection(ch, s, c, tasks, models, bootstrap=0)
    from rpcli.core.data.audit import card_score_overlap

    leaky = {t: o for t, o in card_score_overlap(ds).items() if o["carries_test_information"]}
    note = "per task, the candidate with the best detailed_scores in the mode's model file"
    if leaky:
        note += ("; carries test information: the card scores of " + ", ".join(
            f"{t} (steps of 100/{o['n_train']}; {o['train_rows_in_test']} of its {o['n_train']} training rows are "
            "test queries)" for t, o in leaky.items()) + " were measured on training queries (see rp data check)")
    rows.append({"name": "per-task-best (profile scores)", "kind": "reference",
                 "avg_performance": res["avg_performance"], "avg_cost": res["avg_cost"],
                 "avg_cost_micro": res["avg_cost_micro"], "note": note})
    for r in rows:
        r["mode"] = mode
    return rows


def write_predictions(path: Path, ds: RouteDataset, models: list[str], choice: np.ndarray, router_scores: np.ndarray,
                      s: np.ndarray, c: np.ndarray) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i, r in enumerate(ds.test_rows):
            j = int(choice[i])
            rec = {"row": r.index, "task_name": r.task_name, "model_name": models[j],
                   "task_performance": None if np.isnan(s[i, j]) else float(s[i, j]),
                   "cost": None if np.isnan(c[i, j]) else float(c[i, j]),
                   "scores": {m: round(float(router_scores[i, k]), 6) for k, m in enumerate(models)}}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

"""Inherited-data checks that `rp data check` reports: were the model cards' task scores measured on the training
queries, and how many of those training queries are also test queries?

A task's card score that is a multiple of 100/n (n = the task's training queries in default_query_train.jsonl)
for every candidate that reports one is taken as measured on those n queries (a percentage in steps of 100/n).
Scores are given with two decimals, so "a multiple" allows the rounding error (0.005) of each score. When such a
task also has training queries that are test queries, the model-task edge scores (and every reference built on
the cards, e.g. "per-task-best (profile scores)") carry test information.
"""

from __future__ import annotations

ROUNDING = 0.005  # the cards' scores have two decimals


def on_step(score: float, n: int) -> bool:
    """Whether `score` (0-100) is k * 100 / n for an integer k, up to the two-decimal rounding."""
    k = score * n / 100.0
    return abs(k - round(k)) <= ROUNDING * n / 100.0 + 1e-9


def card_score_overlap(ds, mode: str = "standard") -> dict:
    """{task: {n_train, n_scores, scores_on_train_steps, train_rows_in_test, carries_test_information}} for every
    routing task that has training queries; scores are the candidates' cards in `mode` (standard by default)."""
    md = ds.modes.get(mode) or next(iter(ds.modes.values()))
    cards = {m.name: m.scores for m in md.models}
    test_queries = {r.query for r in ds.test_rows}
    per_task: dict = {}
    for q in ds.train_queries:
        per_task.setdefault(q.task_name, []).append(q.query)
    out = {}
    for task in ds.test_tasks:
        qs = per_task.get(task)
        if not qs:
            continue
        n = len(qs)
        scores = [cards.get(c, {}).get(task) for c in ds.candidates]
        scores = [s for s in scores if s is not None]
        steps = bool(scores) and all(on_step(s, n) for s in scores)
        overlap = sum(q in test_queries for q in qs)
        out[task] = {"n_train": n, "n_scores": len(scores), "scores_on_train_steps": steps,
                     "train_rows_in_test": overlap, "carries_test_information": steps and overlap > 0}
    return out


def placeholder(kind: str, name: str) -> str:
    """The neutral description `rp data import` and `rp model add` write where none was given (kind: model,
    family, task or domain); `placeholder_descriptions` finds them again."""
    return f"No description is available for the {kind} {name}."


def placeholder_descriptions(ds) -> dict:
    """{kind: [names]} of the descriptions that are the neutral placeholder (only kinds that have some)."""
    out: dict = {}
    models = next(iter(ds.modes.values())).models if ds.modes else []
    for kind, items in (("model", {m.name: m.feature for m in models}), ("family", ds.families),
                        ("task", ds.tasks), ("domain", ds.domains)):
        names = [n for n, text in items.items() if text == placeholder(kind, n)]
        if names:
            out[kind] = names
    return out

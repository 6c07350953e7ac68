"""A per-task win-rate router for rp, in one file.

For each task, each candidate's win rate on the training queries of that task (the fraction of its labelled
queries on which it was among the best), shrunk toward the candidate's overall win rate by `shrink`
pseudo-observations:

    rate[t, k] = (wins[t, k] + shrink * overall[k]) / (labelled[t, k] + shrink)
    overall[k] = (wins[k] + shrink * mean) / (labelled[k] + shrink)        mean: every label of every candidate

A query is scored with the rates of its task. A query whose task is unknown (a free query: `rp route query`,
`rp serve`, the Python API) or unseen in training takes the task whose training queries' mean embedding is the
most cosine-similar. A candidate without any label (newllm's held-out model) gets the mean rate.

The profile's vectors are not used: the profile fixes the candidates, the training signal does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, Router, option


@dataclass
class Config:
    shrink: float = option(4.0, "Pseudo-observations pulling a task's win rate toward the candidate's overall "
                           "win rate (0: the raw per-task rates).", min=0.0)


class WinRates:
    """The fitted router: per-task win rates [T, K] and the task centroids that place a query of unknown task.

    Args:
        tasks: the T training tasks, in first-appearance order.
        rates: [T, K] shrunk win rates, K in the run's candidate order.
        overall: [K] shrunk overall win rates.
        centroids: [T, D] unit mean embedding of each task's training queries.
    """

    def __init__(self, tasks: list, rates, overall, centroids, info: dict) -> None:
        self.tasks, self.rates, self.overall, self.centroids = tasks, rates, overall, centroids
        self.row_of = {t: i for i, t in enumerate(tasks)}
        self.info = info  # recorded under the run's metrics["train"]

    def scores(self, query_vecs, tasks=None):
        """[B, K] scores of B query embeddings [B, D]; `tasks` [B] the queries' task names when known."""
        import numpy as np

        q = np.atleast_2d(np.asarray(query_vecs, dtype=np.float64))
        names = tasks if tasks is not None else [None] * len(q)
        rows = np.array([self.row_of.get(t, -1) for t in names], dtype=int)
        unknown = rows < 0
        if unknown.any():
            qu = q[unknown] / np.maximum(np.linalg.norm(q[unknown], axis=1, keepdims=True), 1e-12)
            rows[unknown] = np.argmax(qu @ self.centroids.T, axis=1)
        return self.rates[rows]


class WinRateRouter(Router):
    name = "winrate"
    Config = Config
    caps = Capabilities(training=True)  # deterministic, no checkpoint: refitted at load from the run's training data
    summary = "Per-task win rates, shrunk toward each candidate's overall win rate (example plugin)."
    description = ("Per-task win-rate router (the rp-plugin-example package): each candidate's win rate on the "
                   "training queries of the query's task, shrunk toward its overall win rate by --shrink "
                   "pseudo-observations. A query of unknown task takes the task whose training queries' mean "
                   "embedding is nearest. Deterministic; the profile only fixes the candidates.")
    example = "rp route winrate --profile profile-0d9e --shrink 8"

    def fit(self, ctx, cfg: Config, seed: int) -> WinRates:
        import numpy as np

        sig = ctx.train
        labels = np.asarray(sig.labels, dtype=np.float64)  # [Q, K]: 1 among the best, 0 beaten, NaN unknown
        if labels.shape[1] != len(ctx.models):
            raise ValueError(f"the training signal has {labels.shape[1]} candidates, the run {len(ctx.models)}")
        known = ~np.isnan(labels)
        wins = np.where(known, labels, 0.0)
        mean = float(wins.sum() / known.sum()) if known.any() else 0.5
        s = float(cfg.shrink)

        def shrunk(w, n, prior):
            with np.errstate(invalid="ignore", divide="ignore"):
                r = (w + s * prior) / (n + s)
            return np.where(n + s > 0, r, prior)  # shrink 0 and no label: the prior itself

        overall = shrunk(wins.sum(0), known.sum(0), mean)
        tasks = list(dict.fromkeys(sig.tasks))
        task_of = np.array([tasks.index(t) for t in sig.tasks])
        rates = np.stack([shrunk(wins[task_of == i].sum(0), known[task_of == i].sum(0), overall)
                          for i in range(len(tasks))])
        vecs = np.asarray(ctx.train_vecs(), dtype=np.float64)
        cent = np.stack([vecs[task_of == i].mean(0) for i in range(len(tasks))])
        cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
        info = {"tasks": len(tasks), "mean_win_rate": round(mean, 6),
                "overall_win_rate": {m: round(float(v), 6) for m, v in zip(ctx.models, overall)}}
        return WinRates(tasks, rates, overall, cent, info)


ROUTER = WinRateRouter()

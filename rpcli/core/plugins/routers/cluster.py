"""Cluster router (`rp route cluster`): the Avengers recipe as a plugin. Embed, cluster the training queries with
k-means, keep each candidate's win rate per cluster, and send a query to the best candidate of its nearest
centroid.

    score(q, m) = (wins[c(q), m] + shrink x prior[task(q), m]) / (labeled[c(q), m] + shrink)

c(q): the nearest centroid (Euclidean on unit embeddings; ties to the first); wins / labeled: the sum and the count
of the labels (1 = among the best of the query's pairs, 0 = beaten, unlabeled skipped) of candidate m over the
cluster's training queries; prior: rp's per-task prior (rpcli.core.routers.ability.task_prior with card weight
0: the smoothed per-task win rate from the pairs, the rule of "per-task-best (train)"; a candidate without pairs,
newllm's new model, gets its card estimate, since it has no label in any cluster). A query without a task (free
text: rp route query, rp serve) is shrunk toward the cluster's own task mix (the mean prior of its training
queries' tasks). With a very large `shrink` the router is the per-task prior.

k-means: k-means++ initialisation and `iters` Lloyd iterations, seeded by the run's seed (an emptied cluster keeps
its centroid); `clusters` is capped at the number of distinct training queries. Deterministic given the seed.

`--tune` chooses `clusters` and `shrink` (`GRID`) by grouped cross-validation on the training queries
(rpcli.core.eval.cv; folds grouped by query text and dealt by the seed; never the test rows), scored by labeled
top-1. The run is refitted at load from its training signal, the cards and the chosen configuration
(`info["config"]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any


from rpcli.core.plugin import Capabilities, Router, option
from rpcli.core.plugins.routers._field import check_folds, cv_tune, query_matrix, record, refuse_held_out
from rpcli.core.plugins.routers._field import signal_mask, training_signal, tuned_config
from rpcli.core.plugins.routers._field import subset_pairs as _subset_pairs
from rpcli.core.plugins.routers._field import unit as _unit
from rpcli.errors import ConfigError

if TYPE_CHECKING:  # numpy loads on first use: registering the plugin (every rp command) stays light
    import numpy as np

# The defaults and GRID come from grouped CV on the training queries (5 folds, fold seeds 0-2, labeled top-1) of
# the embedded demo and the released data, both modes: the demo prefers few clusters and much shrinkage (4 x 32:
# 0.700 standard), the released data 16-32 clusters and little (32 x 8: 0.758 standard; 16 x 2: 0.777 newllm).
# The defaults (32 x 8) score 0.691 / 0.675 (demo standard / newllm) and 0.758 / 0.766 (released); the per-task
# prior scores 0.681 / 0.688 and 0.741 / 0.773 there.
GRID = {"clusters": (4, 8, 16, 32, 64), "shrink": (2.0, 8.0, 32.0, 128.0)}


@dataclass
class ClusterConfig:
    clusters: int = option(32, "k-means clusters of the training queries.", min=1)
    shrink: float = option(8.0, "Pseudo-labels of the per-task prior in each cluster's win rate.", min=0.0)
    iters: int = option(25, "Lloyd iterations of k-means (after the k-means++ initialisation).", min=1)
    tune: bool = option(False, "Choose clusters and shrink by grouped cross-validation on the training queries "
                        "(never the test rows); the seed deals the folds and the k-means initialisation.",
                        flag="--tune")
    folds: int = option(5, "Cross-validation folds (--tune).", min=2)


def _check(cfg: ClusterConfig) -> None:
    if cfg.clusters < 1:
        raise ConfigError("--clusters must be at least 1")
    if cfg.shrink < 0:
        raise ConfigError("--shrink must be >= 0")
    if cfg.iters < 1:
        raise ConfigError("--iters must be at least 1")
    check_folds(cfg)


def _sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """[N, k] squared Euclidean distances (clipped at 0 against rounding)."""
    import numpy as np
    return np.clip((X * X).sum(1)[:, None] - 2.0 * X @ C.T + (C * C).sum(1)[None, :], 0.0, None)


def kmeans(X: np.ndarray, k: int, iters: int, seed: int) -> np.ndarray:
    """[k', D] centroids of the rows of X (k' <= k: no more than the distinct rows): k-means++ initialisation
    (the first centre uniform, each next one with probability proportional to the squared distance to the nearest
    chosen centre) from `seed`, then `iters` Lloyd iterations; an emptied cluster keeps its centroid."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n = len(X)
    centres = [int(rng.integers(n))]
    d2 = _sq_dist(X, X[centres])[:, 0]
    while len(centres) < min(k, n):
        total = d2.sum()
        if total <= 1e-12:  # every remaining row coincides with a centre
            break
        nxt = int(rng.choice(n, p=d2 / total))
        centres.append(nxt)
        d2 = np.minimum(d2, _sq_dist(X, X[[nxt]])[:, 0])
    C = X[centres].copy()
    for _ in range(iters):
        a = np.argmin(_sq_dist(X, C), axis=1)
        counts = np.bincount(a, minlength=len(C))
        sums = np.zeros_like(C)
        np.add.at(sums, a, X)
        filled = counts > 0
        C_new = C.copy()
        C_new[filled] = sums[filled] / counts[filled, None]
        if np.array_equal(C_new, C):
            break
        C = C_new
    return C


class ClusterModel:
    """A fitted cluster router: `scores(query_vecs [B, D], tasks=None) -> [B, K]`."""

    def __init__(self, centroids, wins, labeled, prior, mix, shrink: float, info: dict) -> None:
        self.centroids, self.wins, self.labeled = centroids, wins, labeled  # [C, D], [C, K], [C, K]
        self.prior, self.mix, self.shrink = prior, mix, shrink  # Prior; [C, K] each cluster's task-mix prior
        self.info = info
        self.query_dim = int(centroids.shape[1])

    def assign(self, query_vecs) -> np.ndarray:
        """[B] the nearest centroid of each query."""
        import numpy as np
        q = query_matrix(query_vecs, self.query_dim, "cluster")
        return np.argmin(_sq_dist(_unit(q), self.centroids), axis=1)

    def scores(self, query_vecs, tasks=None) -> np.ndarray:
        import numpy as np
        c = self.assign(query_vecs)
        pr = self.prior.rows([str(t) for t in tasks]) if tasks is not None else self.mix[c]
        den = self.labeled[c] + self.shrink
        safe = np.where(den > 0, den, 1.0)
        return np.where(den > 0, (self.wins[c] + self.shrink * pr) / safe, pr)  # no label, no shrink: the prior


def fit_cluster(train_vecs, labels, train_tasks, pairs, models, cards, card_models, cfg: ClusterConfig, seed: int,
                tasks: list | None = None) -> ClusterModel:
    """Fit the cluster router.

    Args:
        train_vecs: [Q, D] training query embeddings.
        labels: [Q, K] 1 / 0 / NaN labels of the candidates on the training queries.
        train_tasks: [Q] their task names; pairs: [P, 3] (query, better, worse), for the per-task prior.
        models: the candidates; cards, card_models: the mode's cards (None: none) for the prior of a candidate
            without pairs.
        cfg: the options (clusters, shrink, iters).
        seed: seeds k-means.
        tasks: the task names the prior is wanted for (the test rows'), besides the training tasks.
    """
    import numpy as np
    from rpcli.core.routers.ability import task_prior

    _check(cfg)
    X = _unit(train_vecs)
    labels = np.asarray(labels, dtype=np.float64)
    train_tasks = [str(t) for t in train_tasks]
    all_tasks = list(dict.fromkeys(list(tasks or []) + train_tasks))
    prior = task_prior(np.asarray(pairs, dtype=np.int64).reshape(-1, 3), train_tasks, list(models), all_tasks,
                       cards or None, list(card_models or models), 0.0, 1.0)
    C = kmeans(X, cfg.clusters, cfg.iters, seed)
    a = np.argmin(_sq_dist(X, C), axis=1)
    K = labels.shape[1]
    lab = ~np.isnan(labels)
    wins = np.zeros((len(C), K))
    labeled = np.zeros((len(C), K))
    np.add.at(wins, a, np.where(lab, labels, 0.0))
    np.add.at(labeled, a, lab.astype(np.float64))
    member_prior = prior.rows(train_tasks)
    mix = np.tile(prior.value[-1], (len(C), 1))
    sizes = np.bincount(a, minlength=len(C))
    sums = np.zeros((len(C), K))
    np.add.at(sums, a, member_prior)
    mix[sizes > 0] = sums[sizes > 0] / sizes[sizes > 0, None]
    info = {"n_clusters": int(len(C)), "cluster_sizes": sizes.tolist()}
    return ClusterModel(C, wins, labeled, prior, mix, float(cfg.shrink), info)


def tune(train_vecs, labels, train_tasks, pairs, models, cards, card_models, groups, base: ClusterConfig,
         seed: int, progress=None) -> dict:
    """Choose clusters x shrink (`GRID`) by grouped cross-validation on the training queries: the best mean labeled
    top-1 over the validation folds wins (ties: the earlier row, i.e. fewer clusters, less shrinkage).

    Returns:
        {"config": {option: value}, "rows": [one per configuration], "seed", "n_folds", "rule"}.
    """
    import numpy as np
    X = np.asarray(train_vecs, dtype=np.float64)
    L = np.asarray(labels, dtype=np.float64)
    tt = [str(t) for t in train_tasks]
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    Q = len(X)
    grid: list[dict[str, Any]] = [{"clusters": k, "shrink": s} for k in GRID["clusters"] for s in GRID["shrink"]]

    def fit_scores(cfg, tr, val):
        m = fit_cluster(X[tr], L[tr], [tt[j] for j in tr], _subset_pairs(pairs, tr, Q), models, cards, card_models,
                        cfg, seed)
        return m.scores(X[val], [tt[j] for j in val])

    return cv_tune("cluster", grid, GRID, fit_scores, groups, L, base, seed, progress)


class ClusterRouter(Router):
    name = "cluster"
    Config = ClusterConfig
    caps = Capabilities(training=True, seeded=True, checkpoint=False, cards=True, new_model="refit")
    order = 81
    title = "Cluster"
    summary = "Cluster (Avengers): k-means on the training queries, each cluster's best candidate by win rate."
    description = ("Cluster router (the Avengers recipe): k-means (k-means++, seeded) on the training query "
                   "embeddings; per cluster, each candidate's win rate from the labels, shrunk toward the per-task "
                   "prior; a query goes to the best candidate of its nearest centroid. A candidate without pairs "
                   "(a new model) is reached through its card, as in the prior router. --tune chooses clusters and "
                   "shrink by grouped cross-validation on the training queries. Refitted at load (deterministic "
                   "given the seed).")
    example = "rp route cluster --profile profile-0d9e --mode standard --tune --seeds 0,1,2"

    def fit(self, ctx, cfg: ClusterConfig, seed: int) -> ClusterModel:
        import numpy as np
        _check(cfg)
        sig, labels = training_signal(ctx, "cluster", "pairs")
        refuse_held_out(ctx, "labels of the cluster router", lambda: signal_mask(len(ctx.models), labels=labels))
        X = np.asarray(ctx.train_vecs(), dtype=np.float64)
        cards, card_models = ctx.cards or None, list(ctx.card_models or ctx.models)
        cfg, tuned = tuned_config(cfg, lambda: tune(X, labels, sig.tasks, sig.pairs, list(ctx.models), cards,
                                                    card_models, list(sig.queries), cfg, seed, progress=ctx.progress))
        model = fit_cluster(X, labels, sig.tasks, sig.pairs, list(ctx.models), cards, card_models, cfg, seed,
                            tasks=list(dict.fromkeys(ctx.test_tasks or [])))
        no_signal = [m for m, s in zip(ctx.models, model.prior.signal) if not s]
        return record(model, cfg, tuned, {"n_train_queries": len(sig), "models_without_signal": no_signal})


ROUTER = ClusterRouter()

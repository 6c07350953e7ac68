"""What the routers of the field (mf, cluster, irt) share: unit query embeddings, the numpy Adam, the training pairs
and their subsetting to a fold, the per-task offsets with the free-text nearest-neighbour rule, the checks of the
options and of the training signal (held-out models refused), the grouped-CV tuning loop and the record a fitted
router keeps. Plain numpy, deterministic; no checkpoint: a run is refitted at load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable


from rpcli.errors import ConfigError, TrainingDataError

if TYPE_CHECKING:  # numpy loads on first use: registering the plugin (every rp command) stays light
    import numpy as np

TASK_NEIGHBOURS = 10  # free text: the task offsets of its nearest training queries
CV_RULE = "best labeled top-1 (grouped CV on the training queries); ties: the earlier row"


def unit(a) -> np.ndarray:
    """The rows of `a` scaled to unit norm (float64; a zero row stays zero)."""
    import numpy as np
    a = np.asarray(a, dtype=np.float64)
    return a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)


def centred(train_vecs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U0, mean, X): the unit training queries, their mean and the centred queries U0 - mean."""
    import numpy as np
    U0 = unit(train_vecs)
    mean = U0.mean(0) if len(U0) else np.zeros(U0.shape[1])
    return U0, mean, U0 - mean


def query_matrix(query_vecs, query_dim: int, what: str) -> np.ndarray:
    """The [B, query_dim] query embeddings as float64; another shape is a ConfigError naming the router `what`."""
    import numpy as np
    q = np.asarray(query_vecs, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != query_dim:
        raise ConfigError(f"query embeddings of shape {q.shape}; this {what} router takes [B, {query_dim}]")
    return q


def check_descent(cfg) -> None:
    """The options of a model fitted by gradient descent: l2, task_l2, epochs, lr; then folds."""
    if cfg.l2 < 0 or cfg.task_l2 < 0:
        raise ConfigError("--l2 and --task-l2 must be >= 0")
    if cfg.epochs < 1:
        raise ConfigError("--epochs must be at least 1")
    if not cfg.lr > 0:
        raise ConfigError("--lr must be positive")
    check_folds(cfg)


def check_folds(cfg) -> None:
    if cfg.folds < 2:
        raise ConfigError("--folds must be at least 2")


def training_pairs(labels: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """[P, 3] (query, better, worse): the signal's pairs, or (score rows, no pairs) every label-1 model of a query
    over every label-0 model of it."""
    import numpy as np
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    if len(pairs):
        return pairs
    out = [(q, a, b) for q in range(len(labels)) for a in np.flatnonzero(labels[q] == 1)
           for b in np.flatnonzero(labels[q] == 0)]
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def subset_pairs(pairs: np.ndarray, tr: np.ndarray, n_queries: int) -> np.ndarray:
    """The pairs of the queries `tr`, their query index renumbered to `tr`'s order."""
    import numpy as np
    pos = np.full(n_queries, -1)
    pos[tr] = np.arange(len(tr))
    sub = pairs[np.isin(pairs[:, 0], tr)].copy()
    sub[:, 0] = pos[sub[:, 0]]
    return sub


class Adam:
    """Adam over a dict of arrays (deterministic: plain numpy)."""

    def __init__(self, params: dict, lr: float) -> None:
        import numpy as np
        self.lr, self.t = lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict, grads: dict) -> None:
        import numpy as np
        self.t += 1
        b1, b2 = 0.9, 0.999
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            params[k] = params[k] - self.lr * mh / (np.sqrt(vh) + 1e-8)


def task_index(tasks, task_bias: bool, n_queries: int) -> tuple[list, np.ndarray]:
    """(task names in first-seen order, [Q] each training query's task row); with task_bias off or no tasks: no
    task and every query on row 0."""
    import numpy as np
    task_names = list(dict.fromkeys(str(t) for t in tasks)) if (task_bias and tasks is not None) else []
    tix = {t: i for i, t in enumerate(task_names)}
    qtask = np.array([tix[str(t)] for t in tasks], dtype=np.int64) if task_names else np.zeros(n_queries, np.int64)
    return task_names, qtask


class TaskOffsets:
    """A fitted model's per-task offsets of each candidate ([T, K]; none without --task-bias) and the training
    queries (unit) and their task rows, for free text."""

    def __init__(self, tasks: list, offsets, train_unit, train_task) -> None:
        self.tasks, self.offsets = list(tasks), offsets
        self.train_unit, self.train_task = train_unit, train_task

    def task_offsets(self, q_unit: np.ndarray, tasks) -> np.ndarray:
        """[B, K] the task offsets of B queries: their task's row (a task without training queries: none); for
        free text (tasks None) the mean row of its TASK_NEIGHBOURS nearest training queries' tasks."""
        import numpy as np
        B, K = len(q_unit), self.offsets.shape[1]
        if not len(self.tasks):
            return np.zeros((B, K))
        if tasks is not None:
            idx = {t: i for i, t in enumerate(self.tasks)}
            rows = np.vstack([self.offsets, np.zeros((1, K))])
            return rows[[idx.get(str(t), len(self.tasks)) for t in tasks]]
        k = min(TASK_NEIGHBOURS, len(self.train_unit))
        near = np.argsort(-(q_unit @ self.train_unit.T), axis=1, kind="stable")[:, :k]
        return self.offsets[self.train_task[near]].mean(1)


def training_signal(ctx, name: str, what: str) -> tuple[Any, np.ndarray]:
    """(the run's training signal, its [Q, K] labels as float64), checked: present, and over the profile's
    candidates; `what` names what the router `name` trains on ("pairs", "labels")."""
    import numpy as np
    sig = ctx.train
    if sig is None or len(sig) == 0:
        raise TrainingDataError(f"the {name} router needs the mode's training {what}, and there are none",
                                hint="add route_data/pairwise_training_data_<mode>.json")
    if list(sig.models) != list(ctx.models):
        raise TrainingDataError(f"the training signal's candidates {list(sig.models)} are not the profile's "
                                f"{list(ctx.models)}")
    return sig, np.asarray(sig.labels, dtype=np.float64)


def signal_mask(n_models: int, labels: np.ndarray | None = None, pairs: np.ndarray | None = None) -> list[bool]:
    """Which candidates have a training signal: a place in a (better, worse) pair (pairs given), else a label."""
    import numpy as np
    if pairs is not None:
        return [bool(np.isin(j, pairs[:, 1:]).any()) for j in range(n_models)]
    assert labels is not None
    return [bool((~np.isnan(labels[:, j])).any()) for j in range(n_models)]


def refuse_held_out(ctx, what: str, has_signal: Callable[[], list]) -> None:
    """With held-out models (ctx.held_out), refuse a training signal naming any: `has_signal()` the candidates'
    signal mask, `what` the signal ("the <mode> <what>")."""
    if ctx.held_out:
        from rpcli.core.data.held_out import refuse_held_out as refuse

        named = [m for m, s in zip(ctx.models, has_signal()) if s]
        refuse(named, ctx.held_out, what=f"the {ctx.mode} {what}", mode=ctx.mode)


def cv_tune(name: str, grid: list[dict[str, Any]], keys, fit_scores: Callable, groups, labels, base, seed: int,
            progress=None) -> dict:
    """Grouped cross-validation on the training queries of each configuration of `grid` (`base` with the row's
    options, tune off): `fit_scores(cfg, tr, val)` fits on the queries `tr` and scores the queries `val`. The best
    mean labeled top-1 over the validation folds wins (ties: the earlier row).

    Returns:
        {"config": {option: value} (the options `keys`), "rows": [one per configuration], "seed", "n_folds", "rule"}.
    """
    import numpy as np
    from dataclasses import replace

    from rpcli.core.eval.cv import cross_validate

    rows = []
    for i, g in enumerate(grid):
        cfg = replace(base, **g, tune=False)

        def fn(tr, val, hidden, cfg=cfg):
            return fit_scores(cfg, tr, val)

        try:
            r = cross_validate(groups, labels, fn, n_folds=base.folds, seed=seed)
        except ValueError as exc:
            raise TrainingDataError(f"the {name} router cannot tune on this training signal: {exc}",
                                    hint="use fewer --folds, or leave --tune off") from None
        rows.append({**g, "top1": round(r["top1"], 6), "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
        if progress is not None:
            progress.note(f"{name} cv {i + 1}/{len(grid)}: {g} top-1 {r['top1']:.4f}")
    best = max(range(len(rows)), key=lambda i: (rows[i]["top1"], -i))
    return {"config": {k: rows[best][k] for k in keys}, "rows": rows, "seed": seed, "n_folds": base.folds,
            "rule": CV_RULE}


def tuned_config(cfg, tune: Callable[[], dict]):
    """(the configuration to fit, the CV record or None): with cfg.tune, `tune()`'s chosen options; tune off."""
    from dataclasses import replace

    tuned = None
    if cfg.tune:
        tuned = tune()
        cfg = replace(cfg, **tuned["config"])
    return replace(cfg, tune=False), tuned


def record(model, cfg, tuned: dict | None, counts: dict):
    """The fitted model, its info completed: the counts (n_train_queries, ..., models_without_signal), the seed
    used, the configuration (without folds) and the CV record (when tuned)."""
    from dataclasses import asdict

    model.info = {**model.info, **counts, "seed_used": True,
                  "config": {k: v for k, v in asdict(cfg).items() if k != "folds"}}
    if tuned is not None:
        model.info["cv"] = tuned
    return model

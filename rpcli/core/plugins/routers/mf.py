"""Matrix factorisation router (`rp route mf`): RouteLLM's MF router made n-way, as a plugin.

Each query embedding q is projected to `dim` dimensions and scored against a learned embedding of each candidate:

    score(q, m) = <W q, v_m> + b_m + o[task(q), m]      v_m = u_m + A p_m,   b_m = beta_m + <c, p_m>

q: the unit query embedding, centred on the training queries' mean; p_m: the unit profile vector of candidate m.
`u_m`, `beta_m` are the candidate's own parameters; `A` and `c` tie every candidate to its profile vector through
one shared projection. `o` (`--task-bias`, on by default): a per-task offset of each candidate, shrunk toward 0
(the global bias) by `task_l2`; a query of a task without training queries gets none, and free text (no task:
rp route query, rp serve) the mean offset of its 10 nearest training queries' tasks.

A candidate without training pairs (newllm's new model) gets no gradient on its own parameters, which start at
zero and stay there: it is scored through its profile vector alone (`caps.new_model` "profile"; how well depends on
the profile carrying information about the model: the `index` profile's random vectors carry none).

Training: the (query, better, worse) triples of the mode's pairwise labels with the logistic (Bradley-Terry / BPR)
loss -log sigmoid(score(q, better) - score(q, worse)), averaged over pairs, plus `l2` x the squared norm of every
parameter but the task offsets (`task_l2` x theirs); full-batch Adam, `epochs` steps, learning rate `lr`, from a
seeded random W (the rest starts at zero). Deterministic given the seed. A signal of per-query labels without
pairs (score rows) is turned into pairs: every label-1 model of a query beats every label-0 model of it.

`--tune` chooses `l2` and `task_l2` (`GRID`) by grouped cross-validation on the training queries
(rpcli.core.eval.cv; folds grouped by query text and dealt by the seed; never the test rows), scored by labeled
top-1. The run is refitted at load from its training signal and the chosen configuration (`info["config"]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rpcli.core.plugin import Capabilities, Router, option
from rpcli.errors import ConfigError, TrainingDataError

# The defaults and GRID come from grouped CV on the training queries (5 folds, fold seeds 0-2, labeled top-1) of
# the embedded demo and the released data, both modes, the index profile. The width barely matters (4-64 within
# 0.005: the query-level part is small on this signal) and 150-600 steps converge alike; the penalties matter: the
# demo prefers l2 0.01-0.03, the released data 0.003-0.01, task_l2 1e-4-1e-2 on both. The defaults (l2 0.01,
# task_l2 0.001) score 0.684 / 0.682 (demo standard / newllm) and 0.746 / 0.777 (released), within 0.025 of each
# dataset's best; the per-task prior scores 0.681 / 0.688 and 0.741 / 0.773 there.
GRID = {"l2": (1e-3, 3e-3, 1e-2, 3e-2), "task_l2": (1e-4, 1e-3, 1e-2)}
TASK_NEIGHBOURS = 10  # free text: the task offsets of its nearest training queries


@dataclass
class MFConfig:
    dim: int = option(16, "Width of the query projection and of the model embeddings.", min=1)
    l2: float = option(1e-2, "Penalty on the squared norm of the projection, the embeddings and the biases.",
                       min=0.0)
    task_bias: bool = option(True, "A per-task offset of each candidate (shrunk by --task-l2).",
                             flag="--task-bias/--no-task-bias")
    task_l2: float = option(1e-3, "Penalty on the squared per-task offsets.", flag="--task-l2", min=0.0)
    epochs: int = option(200, "Full-batch gradient steps (Adam).", min=1)
    lr: float = option(0.05, "Adam learning rate.", min=1e-9)
    tune: bool = option(False, "Choose l2 and task_l2 by grouped cross-validation on the training queries (never "
                        "the test rows); the seed deals the folds.", flag="--tune")
    folds: int = option(5, "Cross-validation folds (--tune).", min=2)


def _check(cfg: MFConfig) -> None:
    if cfg.dim < 1:
        raise ConfigError("--dim must be at least 1")
    if cfg.l2 < 0 or cfg.task_l2 < 0:
        raise ConfigError("--l2 and --task-l2 must be >= 0")
    if cfg.epochs < 1:
        raise ConfigError("--epochs must be at least 1")
    if not cfg.lr > 0:
        raise ConfigError("--lr must be positive")
    if cfg.folds < 2:
        raise ConfigError("--folds must be at least 2")


def _unit(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)


def training_pairs(labels: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """[P, 3] (query, better, worse): the signal's pairs, or (score rows, no pairs) every label-1 model of a query
    over every label-0 model of it."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    if len(pairs):
        return pairs
    out = [(q, a, b) for q in range(len(labels)) for a in np.flatnonzero(labels[q] == 1)
           for b in np.flatnonzero(labels[q] == 0)]
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


class _Adam:
    """Adam over a dict of arrays (deterministic: plain numpy)."""

    def __init__(self, params: dict, lr: float) -> None:
        self.lr, self.t = lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        b1, b2 = 0.9, 0.999
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            params[k] -= self.lr * mh / (np.sqrt(vh) + 1e-8)


class MFModel:
    """A fitted MF router: `scores(query_vecs [B, D], tasks=None) -> [B, K]`."""

    def __init__(self, mean, W, V, b, tasks: list, offsets, train_unit, train_task, info: dict) -> None:
        self.mean, self.W, self.V, self.b, self.info = mean, W, V, b, info
        self.tasks, self.offsets = list(tasks), offsets  # [T, K] per-task offsets (none without --task-bias)
        self.train_unit, self.train_task = train_unit, train_task  # free text: its nearest training queries' tasks
        self.query_dim = int(W.shape[1])

    def task_offsets(self, q_unit: np.ndarray, tasks) -> np.ndarray:
        """[B, K] the task offsets of B queries: their task's row (a task without training queries: none); for
        free text (tasks None) the mean row of its TASK_NEIGHBOURS nearest training queries' tasks."""
        B, K = len(q_unit), self.V.shape[0]
        if not len(self.tasks):
            return np.zeros((B, K))
        if tasks is not None:
            idx = {t: i for i, t in enumerate(self.tasks)}
            rows = np.vstack([self.offsets, np.zeros((1, K))])
            return rows[[idx.get(str(t), len(self.tasks)) for t in tasks]]
        k = min(TASK_NEIGHBOURS, len(self.train_unit))
        near = np.argsort(-(q_unit @ self.train_unit.T), axis=1, kind="stable")[:, :k]
        return self.offsets[self.train_task[near]].mean(1)

    def scores(self, query_vecs, tasks=None) -> np.ndarray:
        q = np.asarray(query_vecs, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.query_dim:
            raise ConfigError(f"query embeddings of shape {q.shape}; this MF router takes [B, {self.query_dim}]")
        u = _unit(q)
        return (u - self.mean) @ self.W.T @ self.V.T + self.b + self.task_offsets(u, tasks)


def fit_mf(train_vecs, pairs, profile_vecs, cfg: MFConfig, seed: int, tasks=None) -> MFModel:
    """Fit the MF router.

    Args:
        train_vecs: [Q, D] training query embeddings.
        pairs: [P, 3] (query, better, worse) indices into train_vecs and the candidates.
        profile_vecs: [K, Dp] the candidates' profile vectors (candidate order).
        cfg: the options (dim, l2, task_bias, task_l2, epochs, lr).
        seed: seeds the initialisation of the query projection.
        tasks: [Q] the training queries' task names (needed with cfg.task_bias).

    Returns:
        An `MFModel`; its `info` has the final training loss.
    """
    _check(cfg)
    U0 = _unit(train_vecs)
    mean = U0.mean(0) if len(U0) else np.zeros(U0.shape[1])
    X = U0 - mean
    Pn = _unit(profile_vecs)
    K, D, d = Pn.shape[0], X.shape[1], cfg.dim
    task_names = list(dict.fromkeys(str(t) for t in tasks)) if (cfg.task_bias and tasks is not None) else []
    tix = {t: i for i, t in enumerate(task_names)}
    qtask = np.array([tix[str(t)] for t in tasks], dtype=np.int64) if task_names else np.zeros(len(X), np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    p = {"W": rng.standard_normal((d, D)), "U": np.zeros((K, d)), "A": np.zeros((d, Pn.shape[1])),
         "beta": np.zeros(K), "c": np.zeros(Pn.shape[1]), "T": np.zeros((max(len(task_names), 1), K))}
    opt = _Adam(p, cfg.lr)
    qi, wi, li = pairs[:, 0], pairs[:, 1], pairs[:, 2]
    n = max(len(pairs), 1)
    lam, tlam = cfg.l2, cfg.task_l2
    use_t = 1.0 if task_names else 0.0
    loss = float("nan")
    for _ in range(cfg.epochs):
        Z = X @ p["W"].T  # [Q, d]
        V = p["U"] + Pn @ p["A"].T  # [K, d]
        b = p["beta"] + Pn @ p["c"]
        S = Z @ V.T + b + use_t * p["T"][qtask]
        margin = S[qi, wi] - S[qi, li]
        loss = float(np.logaddexp(0.0, -margin).mean()) if len(pairs) else 0.0
        g = -0.5 * (1.0 - np.tanh(margin / 2.0)) / n  # d loss / d margin = -sigmoid(-margin) / n
        G = np.zeros_like(S)
        np.add.at(G, (qi, wi), g)
        np.add.at(G, (qi, li), -g)
        dV = G.T @ Z
        db = G.sum(0)
        dT = np.zeros_like(p["T"])
        np.add.at(dT, qtask, G)
        grads = {"W": (G @ V).T @ X + 2 * lam * p["W"], "U": dV + 2 * lam * p["U"],
                 "A": dV.T @ Pn + 2 * lam * p["A"], "beta": db + 2 * lam * p["beta"],
                 "c": Pn.T @ db + 2 * lam * p["c"], "T": use_t * dT + 2 * tlam * p["T"]}
        opt.step(p, grads)
    V = p["U"] + Pn @ p["A"].T
    b = p["beta"] + Pn @ p["c"]
    offsets = p["T"] if task_names else np.zeros((0, K))
    return MFModel(mean, p["W"], V, b, task_names, offsets, U0, qtask, {"final_loss": round(loss, 6)})


def _subset_pairs(pairs: np.ndarray, tr: np.ndarray, n_queries: int) -> np.ndarray:
    """The pairs of the queries `tr`, their query index renumbered to `tr`'s order."""
    pos = np.full(n_queries, -1)
    pos[tr] = np.arange(len(tr))
    sub = pairs[np.isin(pairs[:, 0], tr)].copy()
    sub[:, 0] = pos[sub[:, 0]]
    return sub


def tune(train_vecs, tasks, labels, pairs, profile_vecs, groups, base: MFConfig, seed: int, progress=None) -> dict:
    """Choose l2 x task_l2 (`GRID`; l2 alone without --task-bias) by grouped cross-validation on the training
    queries: the best mean labeled top-1 over the validation folds wins (ties: the earlier row).

    Returns:
        {"config": {option: value}, "rows": [one per configuration], "seed", "n_folds", "rule"}.
    """
    from dataclasses import replace

    from rpcli.core.eval.cv import cross_validate

    X = np.asarray(train_vecs, dtype=np.float64)
    tasks = [str(t) for t in tasks]
    Q = len(X)
    keys = list(GRID) if base.task_bias else ["l2"]
    grid: list[dict[str, Any]] = [{"l2": a} for a in GRID["l2"]]
    if base.task_bias:
        grid = [{"l2": a, "task_l2": b} for a in GRID["l2"] for b in GRID["task_l2"]]
    rows = []
    for i, g in enumerate(grid):
        cfg = replace(base, **g, tune=False)

        def fn(tr, val, hidden, cfg=cfg):
            m = fit_mf(X[tr], _subset_pairs(pairs, tr, Q), profile_vecs, cfg, seed, tasks=[tasks[j] for j in tr])
            return m.scores(X[val], [tasks[j] for j in val])

        try:
            r = cross_validate(groups, labels, fn, n_folds=base.folds, seed=seed)
        except ValueError as exc:
            raise TrainingDataError(f"the mf router cannot tune on this training signal: {exc}",
                                    hint="use fewer --folds, or leave --tune off") from None
        rows.append({**g, "top1": round(r["top1"], 6), "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
        if progress is not None:
            progress.note(f"mf cv {i + 1}/{len(grid)}: {g} top-1 {r['top1']:.4f}")
    best = max(range(len(rows)), key=lambda i: (rows[i]["top1"], -i))
    return {"config": {k: rows[best][k] for k in keys}, "rows": rows, "seed": seed, "n_folds": base.folds,
            "rule": "best labeled top-1 (grouped CV on the training queries); ties: the earlier row"}


class MFRouter(Router):
    name = "mf"
    Config = MFConfig
    caps = Capabilities(training=True, seeded=True, checkpoint=False, new_model="profile")
    order = 80
    title = "MF"
    summary = "Matrix factorisation (RouteLLM's MF, n-way): <W q, v_m> + per-task bias, from the pairwise labels."
    description = ("Matrix factorisation router (RouteLLM's MF made n-way): score(q, m) = <W q, v_m> + b_m (+ a "
                   "per-task offset, --task-bias), the model embedding v_m tied to the model's profile vector "
                   "through a learned projection (a model without training pairs is scored through its profile "
                   "alone), fitted on the pairwise labels with the logistic loss, full-batch Adam, L2. --tune "
                   "chooses l2 and task_l2 by grouped cross-validation on the training queries. Refitted at load "
                   "(deterministic given the seed).")
    example = "rp route mf --profile profile-0d9e --mode standard --tune --seeds 0,1,2"

    def fit(self, ctx, cfg: MFConfig, seed: int) -> MFModel:
        from dataclasses import asdict, replace

        _check(cfg)
        sig = ctx.train
        if sig is None or len(sig) == 0:
            raise TrainingDataError("the mf router needs the mode's training pairs, and there are none",
                                    hint="add route_data/pairwise_training_data_<mode>.json")
        if list(sig.models) != list(ctx.models):
            raise TrainingDataError(f"the training signal's candidates {list(sig.models)} are not the profile's "
                                    f"{list(ctx.models)}")
        labels = np.asarray(sig.labels, dtype=np.float64)
        pairs = training_pairs(labels, sig.pairs)
        if len(pairs) == 0:
            raise TrainingDataError("the mf router found no (better, worse) pair in the training signal")
        if ctx.held_out:
            from rpcli.core.data.held_out import refuse_held_out

            named = [m for j, m in enumerate(ctx.models) if np.isin(j, pairs[:, 1:]).any()]
            refuse_held_out(named, ctx.held_out, what=f"the {ctx.mode} pairs of the mf router", mode=ctx.mode)
        X = np.asarray(ctx.train_vecs(), dtype=np.float64)
        profile = np.asarray(ctx.profile_vecs, dtype=np.float64)
        tuned = None
        if cfg.tune:
            tuned = tune(X, sig.tasks, labels, pairs, profile, list(sig.queries), cfg, seed, progress=ctx.progress)
            cfg = replace(cfg, **tuned["config"])
        cfg = replace(cfg, tune=False)
        model = fit_mf(X, pairs, profile, cfg, seed, tasks=list(sig.tasks))
        no_signal = [m for j, m in enumerate(ctx.models) if not np.isin(j, pairs[:, 1:]).any()]
        model.info = {**model.info, "n_train_queries": len(sig), "n_pairs": int(len(pairs)),
                      "models_without_signal": no_signal, "seed_used": True,
                      "config": {k: v for k, v in asdict(cfg).items() if k != "folds"}}
        if tuned is not None:
            model.info["cv"] = tuned
        return model


ROUTER = MFRouter()

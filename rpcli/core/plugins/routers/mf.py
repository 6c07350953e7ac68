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
from typing import TYPE_CHECKING, Any


from rpcli.core.plugin import Capabilities, Router, option
from rpcli.core.plugins.routers._field import TASK_NEIGHBOURS, Adam, TaskOffsets, centred, check_descent, cv_tune
from rpcli.core.plugins.routers._field import query_matrix, record, refuse_held_out, signal_mask, task_index
from rpcli.core.plugins.routers._field import training_pairs, training_signal, tuned_config
from rpcli.core.plugins.routers._field import subset_pairs as _subset_pairs
from rpcli.core.plugins.routers._field import unit as _unit
from rpcli.errors import ConfigError, TrainingDataError

if TYPE_CHECKING:  # numpy loads on first use: registering the plugin (every rp command) stays light
    import numpy as np

# The defaults and GRID come from grouped CV on the training queries (5 folds, fold seeds 0-2, labeled top-1) of
# the embedded demo and the released data, both modes, the index profile. The width barely matters (4-64 within
# 0.005: the query-level part is small on this signal) and 150-600 steps converge alike; the penalties matter: the
# demo prefers l2 0.01-0.03, the released data 0.003-0.01, task_l2 1e-4-1e-2 on both. The defaults (l2 0.01,
# task_l2 0.001) score 0.684 / 0.682 (demo standard / newllm) and 0.746 / 0.777 (released), within 0.025 of each
# dataset's best; the per-task prior scores 0.681 / 0.688 and 0.741 / 0.773 there.
GRID = {"l2": (1e-3, 3e-3, 1e-2, 3e-2), "task_l2": (1e-4, 1e-3, 1e-2)}


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
    check_descent(cfg)


class MFModel(TaskOffsets):
    """A fitted MF router: `scores(query_vecs [B, D], tasks=None) -> [B, K]`; `task_offsets` (TaskOffsets): the
    per-task offsets, free text the mean offset of its TASK_NEIGHBOURS nearest training queries' tasks."""

    def __init__(self, mean, W, V, b, tasks: list, offsets, train_unit, train_task, info: dict) -> None:
        super().__init__(tasks, offsets, train_unit, train_task)  # [T, K] offsets (none without --task-bias)
        self.mean, self.W, self.V, self.b, self.info = mean, W, V, b, info
        self.query_dim = int(W.shape[1])

    def scores(self, query_vecs, tasks=None) -> np.ndarray:
        u = _unit(query_matrix(query_vecs, self.query_dim, "MF"))
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
    import numpy as np
    _check(cfg)
    U0, mean, X = centred(train_vecs)
    Pn = _unit(profile_vecs)
    K, D, d = Pn.shape[0], X.shape[1], cfg.dim
    task_names, qtask = task_index(tasks, cfg.task_bias, len(X))
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    p = {"W": rng.standard_normal((d, D)), "U": np.zeros((K, d)), "A": np.zeros((d, Pn.shape[1])),
         "beta": np.zeros(K), "c": np.zeros(Pn.shape[1]), "T": np.zeros((max(len(task_names), 1), K))}
    opt = Adam(p, cfg.lr)
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


def tune(train_vecs, tasks, labels, pairs, profile_vecs, groups, base: MFConfig, seed: int, progress=None) -> dict:
    """Choose l2 x task_l2 (`GRID`; l2 alone without --task-bias) by grouped cross-validation on the training
    queries: the best mean labeled top-1 over the validation folds wins (ties: the earlier row).

    Returns:
        {"config": {option: value}, "rows": [one per configuration], "seed", "n_folds", "rule"}.
    """
    import numpy as np
    X = np.asarray(train_vecs, dtype=np.float64)
    tasks = [str(t) for t in tasks]
    Q = len(X)
    keys = list(GRID) if base.task_bias else ["l2"]
    grid: list[dict[str, Any]] = [{"l2": a} for a in GRID["l2"]]
    if base.task_bias:
        grid = [{"l2": a, "task_l2": b} for a in GRID["l2"] for b in GRID["task_l2"]]

    def fit_scores(cfg, tr, val):
        m = fit_mf(X[tr], _subset_pairs(pairs, tr, Q), profile_vecs, cfg, seed, tasks=[tasks[j] for j in tr])
        return m.scores(X[val], [tasks[j] for j in val])

    return cv_tune("mf", grid, keys, fit_scores, groups, labels, base, seed, progress)


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
        import numpy as np
        _check(cfg)
        sig, labels = training_signal(ctx, "mf", "pairs")
        pairs = training_pairs(labels, sig.pairs)
        if len(pairs) == 0:
            raise TrainingDataError("the mf router found no (better, worse) pair in the training signal")
        refuse_held_out(ctx, "pairs of the mf router", lambda: signal_mask(len(ctx.models), pairs=pairs))
        X = np.asarray(ctx.train_vecs(), dtype=np.float64)
        profile = np.asarray(ctx.profile_vecs, dtype=np.float64)
        cfg, tuned = tuned_config(cfg, lambda: tune(X, sig.tasks, labels, pairs, profile, list(sig.queries), cfg,
                                                    seed, progress=ctx.progress))
        model = fit_mf(X, pairs, profile, cfg, seed, tasks=list(sig.tasks))
        has = signal_mask(len(ctx.models), pairs=pairs)
        no_signal = [m for m, s in zip(ctx.models, has) if not s]
        return record(model, cfg, tuned, {"n_train_queries": len(sig), "n_pairs": int(len(pairs)),
                                          "models_without_signal": no_signal})


ROUTER = MFRouter()

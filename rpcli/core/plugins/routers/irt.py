"""Item-response-theory router (`rp route irt`): IRT-Router's idea as a plugin. Each candidate is an examinee with
an ability, each query an item with a difficulty (and, in the multidimensional model, a discrimination vector)
read off its embedding; the router sends a query to the candidate most likely to answer it best.

    dims >= 2 (multidimensional, compensatory):  P(m wins q) = sigmoid(<theta_m, alpha(q)> + gamma_m - b(q))
    dims == 1 (unidimensional 2PL):              P(m wins q) = sigmoid(a_m (theta_m - b(q)))

alpha(q) = A q and b(q) = <w, q> + b0 are linear in the query embedding q (unit, centred on the training queries'
mean). The candidate side (theta_m, gamma_m; or theta_m, log a_m) is the candidate's own vector plus a shared
projection of its unit profile vector: a candidate without labels (newllm's new model) gets no gradient on its own
vector, which starts at zero and stays there, so it is scored through its profile alone (`caps.new_model`
"profile"; the `index` profile's random vectors carry nothing about a model). `--task-bias` (on by default) adds a
per-task intercept of each candidate to the logit, shrunk toward 0 by `task_l2`; a task without training queries
gets none, free text (no task) the mean intercept of its 10 nearest training queries' tasks.

"Wins" is the training label (1 = among the best of the query's pairs, 0 = beaten; unlabeled entries are masked
out): the fit is the Bernoulli likelihood of every labeled entry (mean binary cross-entropy), plus `l2` x the
squared norm of every parameter but b0 (`task_l2` x the task intercepts'); full-batch Adam, `epochs` steps,
learning rate `lr`, from a seeded random A (the rest starts at zero). Deterministic given the seed. The scores are
the probabilities. In the multidimensional model b(q) is shared by every candidate, so it sets how likely a query
is won by anyone, never which candidate is chosen.

`--tune` chooses `dims` and `l2` (`GRID`) by grouped cross-validation on the training queries
(rpcli.core.eval.cv; folds grouped by query text and dealt by the seed; never the test rows), scored by labeled
top-1. The run is refitted at load from its training signal and the chosen configuration (`info["config"]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any


from rpcli.core.plugin import Capabilities, Router, option
from rpcli.core.plugins.routers._field import TASK_NEIGHBOURS, Adam, TaskOffsets, centred, check_descent, cv_tune
from rpcli.core.plugins.routers._field import query_matrix, record, refuse_held_out, signal_mask, task_index
from rpcli.core.plugins.routers._field import training_signal, tuned_config
from rpcli.core.plugins.routers._field import unit as _unit
from rpcli.errors import ConfigError, TrainingDataError

if TYPE_CHECKING:  # numpy loads on first use: registering the plugin (every rp command) stays light
    import numpy as np

# The defaults and GRID come from grouped CV on the training queries (5 folds, fold seeds 0-2, labeled top-1) of
# the embedded demo and the released data, both modes, the index profile: the query-level part overfits unless
# penalised (l2 1e-4: 0.59-0.67), and from l2 0.01 on every width scores alike (the candidates' per-task
# intercepts carry the signal). The defaults (4 dims, l2 0.01) score 0.708 / 0.691 (demo standard / newllm) and
# 0.758 / 0.780 (released); the per-task prior scores 0.681 / 0.688 and 0.741 / 0.773 there.
GRID = {"dims": (1, 4, 16), "l2": (1e-3, 3e-3, 1e-2, 3e-2)}


@dataclass
class IRTConfig:
    dims: int = option(4, "Ability dimensions (1: the unidimensional 2PL model a_m (theta_m - b(q))).", min=1)
    l2: float = option(1e-2, "Penalty on the squared norm of the parameters.", min=0.0)
    task_bias: bool = option(True, "A per-task intercept of each candidate (shrunk by --task-l2).",
                             flag="--task-bias/--no-task-bias")
    task_l2: float = option(1e-3, "Penalty on the squared per-task intercepts.", flag="--task-l2", min=0.0)
    epochs: int = option(200, "Full-batch gradient steps (Adam).", min=1)
    lr: float = option(0.05, "Adam learning rate.", min=1e-9)
    tune: bool = option(False, "Choose dims and l2 by grouped cross-validation on the training queries (never the "
                        "test rows); the seed deals the folds.", flag="--tune")
    folds: int = option(5, "Cross-validation folds (--tune).", min=2)


def _check(cfg: IRTConfig) -> None:
    if cfg.dims < 1:
        raise ConfigError("--dims must be at least 1")
    check_descent(cfg)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    import numpy as np
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logits(X: np.ndarray, p: dict, Pn: np.ndarray, dims: int) -> tuple[np.ndarray, dict]:
    """[Q, K] logits without the task intercepts, and the intermediates the gradient needs."""
    import numpy as np
    Phi = p["F"] + Pn @ p["B"].T  # [K, dims + 1]
    bq = X @ p["w"] + p["b0"][0]  # [Q] difficulty
    if dims == 1:
        theta, a = Phi[:, 0], np.exp(np.clip(Phi[:, 1], -20.0, 20.0))
        return (theta[None, :] - bq[:, None]) * a[None, :], {"Phi": Phi, "bq": bq, "theta": theta, "a": a}
    alpha = X @ p["A"].T  # [Q, dims] discrimination
    return alpha @ Phi[:, :dims].T + Phi[:, dims][None, :] - bq[:, None], {"Phi": Phi, "alpha": alpha}


class IRTModel(TaskOffsets):
    """A fitted IRT router: `scores(query_vecs [B, D], tasks=None) -> [B, K]` win probabilities; `task_offsets`
    (TaskOffsets): the per-task intercepts, free text the mean intercept of its TASK_NEIGHBOURS nearest training
    queries' tasks."""

    def __init__(self, mean, params: dict, Pn, dims: int, tasks: list, offsets, train_unit, train_task,
                 info: dict) -> None:
        super().__init__(tasks, offsets, train_unit, train_task)  # [T, K] intercepts (none without --task-bias)
        self.mean, self.params, self.Pn, self.dims = mean, params, Pn, dims
        self.info = info
        self.query_dim = int(mean.shape[0])

    def logits(self, query_vecs, tasks=None) -> np.ndarray:
        u = _unit(query_matrix(query_vecs, self.query_dim, "IRT"))
        z, _ = _logits(u - self.mean, self.params, self.Pn, self.dims)
        return z + self.task_offsets(u, tasks)

    def scores(self, query_vecs, tasks=None) -> np.ndarray:
        return _sigmoid(self.logits(query_vecs, tasks))


def fit_irt(train_vecs, labels, profile_vecs, cfg: IRTConfig, seed: int, tasks=None) -> IRTModel:
    """Fit the IRT router.

    Args:
        train_vecs: [Q, D] training query embeddings.
        labels: [Q, K] 1 / 0 / NaN (unlabeled, masked out).
        profile_vecs: [K, Dp] the candidates' profile vectors (candidate order).
        cfg: the options (dims, l2, task_bias, task_l2, epochs, lr).
        seed: seeds the initialisation of the discrimination projection A.
        tasks: [Q] the training queries' task names (needed with cfg.task_bias).

    Returns:
        An `IRTModel`; its `info` has the final training loss.
    """
    import numpy as np
    _check(cfg)
    U0, mean, X = centred(train_vecs)
    Y = np.asarray(labels, dtype=np.float64)
    mask = ~np.isnan(Y)
    Y0 = np.where(mask, Y, 0.0)
    n = max(int(mask.sum()), 1)
    Pn = _unit(profile_vecs)
    K, D, dims = Pn.shape[0], X.shape[1], cfg.dims
    task_names, qtask = task_index(tasks, cfg.task_bias, len(X))
    rng = np.random.default_rng(seed)
    p = {"A": rng.standard_normal((dims, D)) if dims > 1 else np.zeros((1, D)), "w": np.zeros(D), "b0": np.zeros(1),
         "F": np.zeros((K, dims + 1)), "B": np.zeros((dims + 1, Pn.shape[1])),
         "T": np.zeros((max(len(task_names), 1), K))}
    opt = Adam(p, cfg.lr)
    lam, tlam = cfg.l2, cfg.task_l2
    use_t = 1.0 if task_names else 0.0
    loss = float("nan")
    for _ in range(cfg.epochs):
        z, mid = _logits(X, p, Pn, dims)
        z = z + use_t * p["T"][qtask]
        prob = _sigmoid(z)
        loss = float((np.logaddexp(0.0, z) - Y0 * z)[mask].sum() / n)
        G = np.where(mask, prob - Y0, 0.0) / n  # d loss / d logit
        if dims == 1:
            theta, a, bq = mid["theta"], mid["a"], mid["bq"]
            Ga = G * a[None, :]
            dPhi = np.stack([Ga.sum(0), (Ga * (theta[None, :] - bq[:, None])).sum(0)], axis=1)
            dbq = -Ga.sum(1)
            dA = np.zeros_like(p["A"])
        else:
            Phi, alpha = mid["Phi"], mid["alpha"]
            dPhi = np.concatenate([G.T @ alpha, G.sum(0)[:, None]], axis=1)
            dA = (G @ Phi[:, :dims]).T @ X
            dbq = -G.sum(1)
        dT = np.zeros_like(p["T"])
        np.add.at(dT, qtask, G)
        grads = {"A": dA + 2 * lam * p["A"], "w": X.T @ dbq + 2 * lam * p["w"], "b0": np.array([dbq.sum()]),
                 "F": dPhi + 2 * lam * p["F"], "B": dPhi.T @ Pn + 2 * lam * p["B"],
                 "T": use_t * dT + 2 * tlam * p["T"]}
        opt.step(p, grads)
    offsets = p["T"] if task_names else np.zeros((0, K))
    return IRTModel(mean, p, Pn, dims, task_names, offsets, U0, qtask, {"final_loss": round(loss, 6)})


def tune(train_vecs, tasks, labels, profile_vecs, groups, base: IRTConfig, seed: int, progress=None) -> dict:
    """Choose dims x l2 (`GRID`) by grouped cross-validation on the training queries: the best mean labeled top-1
    over the validation folds wins (ties: the earlier row, i.e. fewer dimensions, less penalty).

    Returns:
        {"config": {option: value}, "rows": [one per configuration], "seed", "n_folds", "rule"}.
    """
    import numpy as np
    X = np.asarray(train_vecs, dtype=np.float64)
    L = np.asarray(labels, dtype=np.float64)
    tasks = [str(t) for t in tasks]
    grid: list[dict[str, Any]] = [{"dims": d, "l2": l2} for d in GRID["dims"] for l2 in GRID["l2"]]

    def fit_scores(cfg, tr, val):
        m = fit_irt(X[tr], L[tr], profile_vecs, cfg, seed, tasks=[tasks[j] for j in tr])
        return m.logits(X[val], [tasks[j] for j in val])

    return cv_tune("irt", grid, GRID, fit_scores, groups, L, base, seed, progress)


class IRTRouter(Router):
    name = "irt"
    Config = IRTConfig
    caps = Capabilities(training=True, seeded=True, checkpoint=False, new_model="profile")
    order = 82
    title = "IRT"
    summary = "IRT (IRT-Router): candidate abilities and query difficulty/discrimination, from the labels."
    description = ("Item-response-theory router (IRT-Router): P(m wins q) = sigmoid(<theta_m, alpha(q)> + "
                   "gamma_m - b(q)) (multidimensional; --dims 1: the 2PL a_m (theta_m - b(q))), alpha(q) and "
                   "b(q) linear in the query embedding, each candidate's parameters tied to its profile vector (a "
                   "model without labels is scored through its profile alone), plus a per-task intercept "
                   "(--task-bias); fitted to the per-query labels by full-batch Adam, L2. --tune chooses dims and "
                   "l2 by grouped cross-validation on the training queries. Refitted at load (deterministic given "
                   "the seed).")
    example = "rp route irt --profile profile-0d9e --mode standard --tune --seeds 0,1,2"

    def fit(self, ctx, cfg: IRTConfig, seed: int) -> IRTModel:
        import numpy as np
        _check(cfg)
        sig, labels = training_signal(ctx, "irt", "labels")
        if not (~np.isnan(labels)).any():
            raise TrainingDataError("the irt router found no label in the training signal")
        has = signal_mask(len(ctx.models), labels=labels)
        named = [m for m, s in zip(ctx.models, has) if s]
        refuse_held_out(ctx, "labels of the irt router", lambda: has)
        X = np.asarray(ctx.train_vecs(), dtype=np.float64)
        profile = np.asarray(ctx.profile_vecs, dtype=np.float64)
        cfg, tuned = tuned_config(cfg, lambda: tune(X, sig.tasks, labels, profile, list(sig.queries), cfg, seed,
                                                    progress=ctx.progress))
        model = fit_irt(X, labels, profile, cfg, seed, tasks=list(sig.tasks))
        return record(model, cfg, tuned, {"n_train_queries": len(sig), "n_labels": int((~np.isnan(labels)).sum()),
                                          "models_without_signal": [m for m in ctx.models if m not in named]})


ROUTER = IRTRouter()

"""Prior + query-level residual router, and the prior/kNN/residual blend (docs/beyond.md): beyond the study.

`residual`: the per-task prior of `rpcli.core.routers.ability` (win rates from the training pairs, optionally
blended with the cards; a new model's card estimate) plus, for each candidate with training labels, a ridge
regression of its residual (label - prior) on the query embedding:

    score[q, m] = prior[task(q), m] + x_q . w_m,   w_m = argmin sum_n (label[n, m] - prior[task(n), m] - x_n . w_m)^2
                                                        + l2 * n_m * |w_m|^2

over the n_m training queries where m is labeled (x: the unit query embedding; no intercept: the prior is the
offset). A candidate without labels (newllm's new model) scores its prior. `l2` large is the prior alone.

`blend`: (1 - blend) * knn score + blend * residual score (both on the win-rate scale, both shrunk to the same
prior), with each component's hyperparameters and the weight chosen by grouped CV on the training queries
(`tune`).

Everything is plain numpy and deterministic; the seed is used only by `tune` (which queries fall in which fold).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from rpcli.core.routers.ability import Prior, prior_of
from rpcli.core.routers.knn import (KNNConfig, cold_stage, cv_cards, fold_inputs, new_model_cards, router_labels,
                                    signal_note, validate_card_options)
from rpcli.core.routers.sim import unit_rows
from rpcli.core.routers.knn import fit as knn_fit
from rpcli.core.routers.knn import scores as knn_scores
from rpcli.errors import ConfigError


@dataclass
class ResidualConfig:
    l2: float = 0.1
    card_weight: float = 0.0
    ridge: float = 1.0  # card imputation
    cold_bonus: float = 0.0
    tune: bool = False
    folds: int = 5
    min_cold_recall: float = 0.5
    gate: bool = False  # per task, the router only where CV shows a gain (rpcli.core.routers.gate)
    gate_z: float = 1.645
    gate_open: list | None = None  # the tasks the gate opened (decided by CV at run time; recorded)


@dataclass
class BlendConfig:
    blend: float = 0.5  # weight of the residual score (0: knn alone, 1: residual alone)
    k: int = 10
    temperature: float = 0.0
    prior_weight: float = 8.0
    l2: float = 0.1
    card_weight: float = 0.0
    ridge: float = 1.0
    cold_bonus: float = 0.0
    tune: bool = False
    folds: int = 5
    min_cold_recall: float = 0.5
    gate: bool = False  # per task, the router only where CV shows a gain (rpcli.core.routers.gate)
    gate_z: float = 1.645
    gate_open: list | None = None  # the tasks the gate opened (decided by CV at run time; recorded)


def validate(cfg) -> None:
    if cfg.l2 <= 0:
        raise ConfigError("--l2 must be positive")
    validate_card_options(cfg)
    if isinstance(cfg, BlendConfig):
        if not 0 <= cfg.blend <= 1:
            raise ConfigError("--blend must be in [0, 1]")
        if cfg.k < 0 or cfg.temperature < 0 or cfg.prior_weight <= 0:
            raise ConfigError("--k and --temperature must be >= 0, --prior-weight positive")


@dataclass
class Fitted:
    prior: Prior
    W: np.ndarray  # [D, K] residual weights (0 for a model without labels)
    cfg: ResidualConfig


def _prior(pairs, train_tasks, models, tasks, cards, card_models, cfg, labels=None) -> Prior:
    """The per-task prior: from the pairs, or (pairs None) from the per-query scores `labels`."""
    prior = prior_of(pairs, train_tasks, models, tasks, cards, card_models, cfg.card_weight, cfg.ridge,
                     quality=np.asarray(labels, dtype=np.float64) if pairs is None else None)
    if cfg.cold_bonus:
        prior.value[:, ~prior.signal] += cfg.cold_bonus
    return prior


def residual_weights(X: np.ndarray, labels: np.ndarray, base: np.ndarray, l2s, eig_cache: dict | None = None,
                     key=None) -> list[np.ndarray]:
    """[D, K] ridge weights of the residual labels - base (NaN labels skipped per model), one per l2 in `l2s`
    (one eigendecomposition per model serves every l2)."""
    D, K = X.shape[1], labels.shape[1]
    out = [np.zeros((D, K)) for _ in l2s]
    for j in range(K):
        lab = ~np.isnan(labels[:, j])
        n = int(lab.sum())
        if n == 0:
            continue
        Xj = X[lab]
        ck = None if eig_cache is None else (key, j)
        if ck is not None and ck in eig_cache:
            s, V = eig_cache[ck]
        else:
            s, V = np.linalg.eigh(Xj.T @ Xj)
            if ck is not None:
                eig_cache[ck] = (s, V)
        b = V.T @ (Xj.T @ (labels[lab, j] - base[lab, j]))
        for i, l2 in enumerate(l2s):
            out[i][:, j] = V @ (b / (np.clip(s, 0.0, None) + l2 * n))
    return out


def fit(train_vecs, labels, train_tasks, pairs, models, cards, card_models, cfg: ResidualConfig,
        tasks: list | None = None) -> Fitted:
    validate(cfg)
    train_tasks = [str(t) for t in train_tasks]
    tasks = list(dict.fromkeys(list(tasks or []) + train_tasks))
    prior = _prior(pairs, train_tasks, models, tasks, cards, card_models, cfg, labels=labels)
    L = np.asarray(labels, dtype=np.float64)
    X = unit_rows(train_vecs)
    W = residual_weights(X, L, prior.rows(train_tasks), [cfg.l2])[0]
    return Fitted(prior=prior, W=W, cfg=cfg)


def scores(f: Fitted, query_vecs, query_tasks=None, task_prior_rows=None) -> np.ndarray:
    """[N, K]: the prior of each query's task (`task_prior_rows` [N, K] when its task is unknown: e.g. the kNN
    neighbours' mix) plus the residual."""
    n = len(query_vecs)
    if n == 0:
        return np.zeros((0, f.W.shape[1]))
    if task_prior_rows is not None:
        pr = task_prior_rows
    elif query_tasks is not None:
        pr = f.prior.rows(query_tasks)
    else:
        pr = np.tile(f.prior.value[-1], (n, 1))
    return pr + unit_rows(query_vecs) @ f.W


# ----------------------------------------------------------------------------------------------------------------
# CV
# ----------------------------------------------------------------------------------------------------------------
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
CARD_GRID = (0.0, 0.5, 1.0)
BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, cfg, knn_cfg=None,
                eig_cache: dict | None = None):
    """(train_idx, val_idx, hidden) -> scores of one residual (or, with `knn_cfg` and cfg a BlendConfig, blend)
    configuration, fitted on the training-fold queries only; a hidden model loses its pairs, labels and
    routing-task card scores."""
    vecs = np.asarray(vecs)
    X = unit_rows(vecs)
    labels = np.asarray(labels, dtype=np.float64)
    pairs = None if pairs is None else np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    tasks = [str(t) for t in tasks]
    routing = list(routing_tasks)

    def fn(tr, val, hidden):
        p, L, cd = fold_inputs(tr, hidden, vecs, labels, tasks, pairs, models, cards, set(routing))
        ttr = [tasks[i] for i in tr]
        allt = list(dict.fromkeys(routing + ttr))
        prior = _prior(p, ttr, models, allt, cd, card_models, cfg, labels=L)
        # X_m'X_m depends on the fold and model m's labeled rows only (a hidden model has none): one cache serves
        # every configuration and every hidden model
        W = residual_weights(X[tr], L, prior.rows(ttr), [cfg.l2], eig_cache, tr.tobytes())[0]
        tval = [tasks[i] for i in val]
        res = prior.rows(tval) + X[val] @ W
        if knn_cfg is None:
            return res
        fk = knn_fit(vecs[tr], L, ttr, p, models, cd, card_models, knn_cfg, tasks=allt)
        kn = knn_scores(fk, vecs[val], tval)
        return (1.0 - cfg.blend) * kn + cfg.blend * res

    return fn


def tune(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, base, seed: int, n_folds: int = 5,
         min_cold_recall: float = 0.5, cold_start: bool = False, query_groups=None, progress=None) -> dict:
    """Choose a residual (base: ResidualConfig) or blend (base: BlendConfig) configuration by grouped CV on the
    training queries.

    Residual, stage 1: l2 x card_weight over L2_GRID x CARD_GRID, best labeled top-1 (ties: the earlier).
    Blend, stage 1: the residual's stage 1, the kNN router's stage 1 (rpcli.core.routers.knn.KNN_GRID) with the
    residual's card weight, then the weight over BLEND_GRID with both components fixed.
    Stage 2 (`cold_start`): ridge x cold bonus under the cold-start CV, as the kNN router's `tune`.
    Returns {"config", "stage1": [rows], "stage2": [rows], "rule", "seed", "n_folds"}."""
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.routers.knn import knn_grid

    groups = list(query_groups) if query_groups is not None else list(range(len(tasks)))
    labels = np.asarray(labels, dtype=np.float64)
    eig: dict = {}
    is_blend = isinstance(base, BlendConfig)
    res_base = ResidualConfig(l2=base.l2, card_weight=base.card_weight, ridge=base.ridge, cold_bonus=base.cold_bonus)
    rows1 = []

    def note(msg):
        if progress is not None:
            progress.note(msg)

    for cw in CARD_GRID:
        for l2 in L2_GRID:
            c = replace(res_base, l2=l2, card_weight=cw)
            r = cross_validate(groups, labels, cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models,
                                                           routing_tasks, c, eig_cache=eig), n_folds=n_folds,
                               seed=seed)
            rows1.append({"component": "residual", "l2": l2, "card_weight": cw, "top1": round(r["top1"], 6),
                          "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
            note(f"cv residual l2 {l2} cw {cw}: top-1 {r['top1']:.4f}")
    b = max(range(len(rows1)), key=lambda i: (rows1[i]["top1"], -i))
    l2, cw = rows1[b]["l2"], rows1[b]["card_weight"]
    out = {"stage1": rows1, "stage2": [], "seed": seed, "n_folds": n_folds,
           "rule": "stage 1: best labeled top-1 (blend: residual, then knn at the residual's card weight, then the "
                   "weight); stage 2 (cold start): best top-1 with cold-start recall >= "
                   f"{min_cold_recall}, else the best recall"}
    if not is_blend:
        cfg = replace(base, l2=l2, card_weight=cw)

        def make(c):
            return cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, c,
                               eig_cache=eig)
    else:
        kbest, kt = None, -1.0
        for g in [g for g in knn_grid() if g["card_weight"] == cw and g["k"] > 0]:
            kc = KNNConfig(k=g["k"], temperature=g["temperature"], prior_weight=g["prior_weight"], card_weight=cw,
                           ridge=base.ridge)
            from rpcli.core.routers.knn import cv_score_fn as knn_cv

            r = cross_validate(groups, labels, knn_cv(vecs, labels, tasks, pairs, models, cards, card_models,
                                                      routing_tasks, kc), n_folds=n_folds, seed=seed)
            rows1.append({"component": "knn", **g, "top1": round(r["top1"], 6),
                          "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
            if r["top1"] > kt:
                kbest, kt = g, r["top1"]
            note(f"cv knn {g}: top-1 {r['top1']:.4f}")
        cfg = replace(base, l2=l2, card_weight=cw, k=kbest["k"], temperature=kbest["temperature"],
                      prior_weight=kbest["prior_weight"])

        def make(c):
            kc = KNNConfig(k=c.k, temperature=c.temperature, prior_weight=c.prior_weight, card_weight=c.card_weight,
                           ridge=c.ridge, cold_bonus=c.cold_bonus)
            return cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, c, knn_cfg=kc,
                               eig_cache=eig)
        bw, bt = None, -1.0
        for w in BLEND_GRID:
            r = cross_validate(groups, labels, make(replace(cfg, blend=w)), n_folds=n_folds, seed=seed)
            rows1.append({"component": "blend", "blend": w, "top1": round(r["top1"], 6),
                          "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
            if r["top1"] > bt:
                bw, bt = w, r["top1"]
            note(f"cv blend {w}: top-1 {r['top1']:.4f}")
        cfg = replace(cfg, blend=bw)
    if cold_start:
        cfg, rows2 = cold_stage(make, cfg, groups, labels, models, n_folds, seed, min_cold_recall)
        out["stage2"] = rows2
    out["config"] = {k: v for k, v in asdict(cfg).items() if k not in ("tune", "min_cold_recall", "folds")}
    return out


# ----------------------------------------------------------------------------------------------------------------
# router runs
# ----------------------------------------------------------------------------------------------------------------
def fit_any(qv, sig, models, cards, card_models, cfg, tasks):
    """The fitted (residual, knn or None) pair of a residual or blend configuration on the whole training signal."""
    L, P = router_labels(sig)
    rc = ResidualConfig(l2=cfg.l2, card_weight=cfg.card_weight, ridge=cfg.ridge, cold_bonus=cfg.cold_bonus)
    fr = fit(qv, L, sig.tasks, P, models, cards, card_models, rc, tasks=tasks)
    fk = None
    if isinstance(cfg, BlendConfig):
        kc = KNNConfig(k=cfg.k, temperature=cfg.temperature, prior_weight=cfg.prior_weight,
                       card_weight=cfg.card_weight, ridge=cfg.ridge, cold_bonus=cfg.cold_bonus)
        fk = knn_fit(qv, L, sig.tasks, P, models, cards, card_models, kc, tasks=tasks)
    return fr, fk


def score_any(cfg, fr: Fitted, fk, query_vecs, query_tasks=None, exclude=None) -> np.ndarray:
    """Scores of a residual or blend router. Unknown task (free text): the prior is the kNN neighbours' mix of
    task priors (rpcli.core.routers.knn.scores with the prior alone)."""
    rows = None
    if query_tasks is None:
        rows = task_mix(fr, query_vecs)
    res = scores(fr, query_vecs, query_tasks, task_prior_rows=rows)
    if fk is None:
        return res
    kn = knn_scores(fk, query_vecs, query_tasks, exclude=exclude)
    return (1.0 - cfg.blend) * kn + cfg.blend * res


def task_mix(fr: Fitted, query_vecs, k: int = 10) -> np.ndarray | None:
    """[N, K] the prior of queries of unknown task: the mean of the task priors of their k nearest training queries
    (the training embeddings and tasks kept on the Fitted as `train` by `build`; None without them)."""
    train = getattr(fr, "train", None)
    if train is None:
        return None
    vecs, ttasks = train
    sims = unit_rows(query_vecs) @ vecs.T
    kk = min(k, len(ttasks))
    idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    rows = fr.prior.rows(np.asarray(ttasks, dtype=object)[idx].ravel()).reshape(len(query_vecs), kk, -1)
    return rows.mean(1)


def build(ctx_like, cfg, seed: int, qv, sig, models, cards, card_models, routing, held_out, mode, progress=None,
          cv_cards=None):
    """(cfg after tuning, tuned record or None, fitted residual, fitted knn or None). `cv_cards`: the cards CV may
    use (default: `cards`; rpcli.core.routers.knn.cv_cards)."""
    tuned = None
    if cfg.tune:
        L, P = router_labels(sig)
        labeled = [m for j, m in enumerate(models) if (~np.isnan(sig.labels[:, j])).any()]
        tuned = tune(qv, L, sig.tasks, P, models, cards if cv_cards is None else cv_cards, card_models, routing,
                     cfg, seed,
                     n_folds=cfg.folds, min_cold_recall=cfg.min_cold_recall, cold_start=len(labeled) < len(models),
                     query_groups=list(sig.queries), progress=progress)
        cfg = replace(cfg, **{k: v for k, v in tuned["config"].items() if k in type(cfg).__dataclass_fields__},
                      tune=False)
    fr, fk = fit_any(qv, sig, models, cards, card_models, cfg, routing)
    fr.train = (unit_rows(qv), list(sig.tasks))
    return cfg, tuned, fr, fk


def gate_cv(cfg, seed: int, qv, sig, models, cards, card_models, routing) -> dict:
    """The gate's per-task CV decision for a residual or blend configuration (rpcli.core.routers.gate.cv_decide)."""
    from rpcli.core.routers import gate
    from rpcli.core.routers.knn import cv_score_fn as knn_cv

    eig: dict = {}
    fb = gate.fallback_config(cfg)
    L, P = router_labels(sig)

    def make(c):
        if c is None:
            return knn_cv(qv, L, sig.tasks, P, models, cards, card_models, routing, fb)
        kc = None
        if isinstance(c, BlendConfig):
            kc = KNNConfig(k=c.k, temperature=c.temperature, prior_weight=c.prior_weight, card_weight=c.card_weight,
                           ridge=c.ridge, cold_bonus=c.cold_bonus)
        return cv_score_fn(qv, L, sig.tasks, P, models, cards, card_models, routing, c, knn_cfg=kc, eig_cache=eig)

    return gate.cv_decide(make, cfg, list(sig.queries), L, sig.tasks, cfg.folds, seed, cfg.gate_z)


class ResidualScorer:
    """Scores of a fitted residual or blend router, gated per task when its configuration says so."""

    def __init__(self, cfg, fr: Fitted, fk, fallback=None) -> None:
        self.cfg, self.fr, self.fk, self.fallback = cfg, fr, fk, fallback

    def scores(self, query_vecs, query_tasks=None, exclude=None) -> np.ndarray:
        s = score_any(self.cfg, self.fr, self.fk, query_vecs, query_tasks, exclude=exclude)
        if self.fallback is None:
            return s
        from rpcli.core.routers import gate

        fb = knn_scores(self.fallback, query_vecs, query_tasks, exclude=exclude)
        vecs, ttasks = getattr(self.fr, "train", (np.zeros((0, 1)), []))
        share = None if query_tasks is not None else gate.open_share(vecs, ttasks, query_vecs, self.cfg.gate_open)
        return gate.combine(s, fb, query_tasks, self.cfg.gate_open, share)


def scorer_for(cfg, fr: Fitted, fk, qv, sig, models, cards, card_models, routing) -> ResidualScorer:
    """The (gated, when cfg.gate) scorer of a fitted residual or blend configuration."""
    fb = None
    if cfg.gate:
        from rpcli.core.routers.gate import fallback_config

        L, P = router_labels(sig)
        fb = knn_fit(qv, L, sig.tasks, P, models, cards, card_models, fallback_config(cfg), tasks=routing)
    return ResidualScorer(cfg, fr, fk, fb)


def run_config(ctx, opts: dict, seed: int, cls):
    """A residual (cls ResidualConfig) or blend (BlendConfig) router run."""
    from rpcli.core.routers.knn import run_inputs
    from rpcli.core.routers.run import RouterResult, config_from

    cfg = config_from(cls, opts)
    validate(cfg)
    sig, qv, cards, _ = run_inputs(ctx, "residual and blend", "residual")
    routing = list(dict.fromkeys(ctx.test_tasks or sig.tasks))
    card_models = list(ctx.card_models or ctx.models)
    cvc, cv_dropped = cv_cards(ctx, cards)
    cfg, tuned, fr, fk = build(ctx, cfg, seed, qv, sig, ctx.models, cards, card_models, routing, ctx.held_out,
                               ctx.mode, progress=ctx.progress, cv_cards=cvc)
    gate_rec = None
    if cfg.gate and cfg.gate_open is None:
        from rpcli.core.routers.gate import with_open

        gate_rec = gate_cv(cfg, seed, qv, sig, ctx.models, cvc, card_models, routing)
        cfg = with_open(cfg, gate_rec["open"])
    scorer = scorer_for(cfg, fr, fk, qv, sig, ctx.models, cards, card_models, routing)
    test = scorer.scores(ctx.test_vecs(), ctx.test_tasks)
    # training-query scores (the cost-quality calibration): in-sample for the residual part, leave-one-out for knn
    train = scorer.scores(qv, sig.tasks, exclude=np.arange(len(sig)))
    info = {"n_train_queries": len(sig), "models_without_signal": [m for m, s in zip(ctx.models, fr.prior.signal)
                                                                   if not s],
            "seed_used": tuned is not None,
            "config": {k: getattr(cfg, k) for k in type(cfg).__dataclass_fields__
                       if k not in ("tune", "folds", "min_cold_recall")}}
    info["signal"] = signal_note(sig, cv_dropped)
    no_signal = [m for m, s in zip(ctx.models, fr.prior.signal) if not s]
    if no_signal:
        info["card_signal"] = new_model_cards(ctx, cards, no_signal, routing)
    if tuned is not None:
        info["cv"] = tuned
    if gate_rec is not None:
        info["gate"] = gate_rec
    return RouterResult(test, train_scores=train, info=info)


def run(ctx, opts: dict, seed: int):
    """The residual router as a router run."""
    return run_config(ctx, opts, seed, ResidualConfig)


def run_blend(ctx, opts: dict, seed: int):
    """The blend router as a router run."""
    return run_config(ctx, opts, seed, BlendConfig)

"""kNN router and per-task prior router (docs/beyond.md): beyond the study.

`knn`: for a query, the k nearest training queries (cosine of the query embeddings; by default only training
queries of the query's own task, when its task is known and has training queries) vote with their pairwise labels
(1 = among the best of that query's pairs, 0 = beaten, unlabeled skipped), weighted by exp(temperature * (cos - 1)).
Each candidate's vote is shrunk toward its per-task prior (``rpcli.core.routers.ability``) with `prior_weight`
pseudo-votes:

    score[q, m] = (sum_n w_n * label[n, m] + prior_weight * prior[task(q), m]) / (sum_n w_n * labeled[n, m] + prior_weight)

A candidate with no training signal (newllm's new model) has no labels anywhere, so its score is its prior: its
card estimate (given or imputed from its card's other benchmarks), never a pair that names it.

`prior` is the same with k = 0: the per-task prior alone (with card_weight 0 it picks what "per-task-best (train)"
picks, ties aside).

Task of a query: the test row's task (the information "per-task-best (train)" uses too); when it is unknown
(free text: rp route query, rp serve) the prior is the neighbour-weighted mix of the neighbours' task priors and
every training query is a possible neighbour (the prior router, k = 0: the mean task prior of the query's
TASK_NEIGHBOURS nearest training queries). Deterministic; the seed is used only by `tune` (which queries fall
in which CV fold).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rpcli.core.routers.ability import Prior, prior_of
from rpcli.core.routers.sim import unit_rows
from rpcli.errors import ConfigError, TrainingDataError


TASK_NEIGHBOURS = 10  # the prior router on free text (no task): its nearest training queries' task priors


@dataclass
class KNNConfig:
    k: int = 20
    temperature: float = 0.0
    prior_weight: float = 4.0
    same_task: bool = True
    card_weight: float = 0.0
    ridge: float = 1.0
    cold_bonus: float = 0.0  # added to the prior of a model without training signal (a new model)
    tune: bool = False  # choose k, temperature, prior_weight, card_weight (and ridge, cold_bonus) by CV (`tune`)
    folds: int = 5
    min_cold_recall: float = 0.5
    gate: bool = False  # per task, the router only where CV shows a gain over the per-task rule (routers/gate.py)
    gate_z: float = 1.645
    gate_open: list | None = None  # the tasks the gate opened (decided by CV at run time; recorded)


def validate(cfg: KNNConfig) -> None:
    if cfg.k < 0:
        raise ConfigError("--k must be >= 0 (0: the per-task prior alone)")
    if cfg.temperature < 0:
        raise ConfigError("--temperature must be >= 0")
    if cfg.prior_weight <= 0:
        raise ConfigError("--prior-weight must be positive")
    validate_card_options(cfg)


def validate_card_options(cfg) -> None:
    """The card, cold-start and CV options the routers beyond the study share."""
    if not 0 <= cfg.card_weight <= 1:
        raise ConfigError("--card-weight must be in [0, 1]")
    if cfg.ridge <= 0:
        raise ConfigError("--ridge must be positive")
    if not -1 <= cfg.cold_bonus <= 1:
        raise ConfigError("--cold-bonus must be in [-1, 1]")
    if cfg.folds < 2:
        raise ConfigError("--folds must be at least 2")
    if not 0 <= cfg.min_cold_recall <= 1:
        raise ConfigError("--min-cold-recall must be in [0, 1]")
    if getattr(cfg, "gate_z", 0.0) < 0:
        raise ConfigError("--gate-z must be >= 0")


@dataclass
class Fitted:
    """What the router keeps after `fit`: the unit training embeddings, labels, tasks and the prior."""

    vecs: np.ndarray  # [Q, D] unit
    labels: np.ndarray  # [Q, K]
    tasks: np.ndarray  # [Q] task names
    prior: Prior
    cfg: KNNConfig


def fit(train_vecs, labels, train_tasks, pairs, models, cards, card_models, cfg: KNNConfig,
        tasks: list | None = None) -> Fitted:
    """The router from training queries (embeddings [Q, D], labels [Q, K], task names [Q]), their (query, better,
    worse) triples and the cards ({model: {benchmark: score}} or None). `pairs` None: the labels are per-query
    scores (a signal of source "scores", `router_labels`) and the prior is their per-task mean."""
    validate(cfg)
    train_tasks = [str(t) for t in train_tasks]
    tasks = list(dict.fromkeys(list(tasks or []) + train_tasks))
    prior = prior_of(pairs, train_tasks, models, tasks, cards, card_models, cfg.card_weight, cfg.ridge,
                     quality=np.asarray(labels, dtype=np.float64) if pairs is None else None)
    if cfg.cold_bonus:
        prior.value[:, ~prior.signal] += cfg.cold_bonus
    return Fitted(vecs=unit_rows(train_vecs) if len(train_vecs) else np.zeros((0, 1)),
                  labels=np.asarray(labels, dtype=np.float64), tasks=np.array(train_tasks, dtype=object),
                  prior=prior, cfg=cfg)


def scores(f: Fitted, query_vecs, query_tasks=None, exclude: np.ndarray | None = None) -> np.ndarray:
    """[N, K] scores of queries (embeddings [N, D]; task names [N] or None). `exclude` [N] (optional): the index of
    a training query each query may not use as a neighbour (itself, when scoring the training queries)."""
    cfg, prior = f.cfg, f.prior
    n, K = len(query_vecs), prior.value.shape[1]
    if n == 0:
        return np.zeros((0, prior.value.shape[1]))
    Q = len(f.tasks)
    k = min(cfg.k, Q - (1 if exclude is not None else 0))
    if k <= 0:
        if query_tasks is not None:
            return prior.rows(query_tasks).copy()
        if Q == 0:
            return np.tile(prior.value[-1], (n, 1))
        # free text (no task): the mean of the task priors of its TASK_NEIGHBOURS nearest training queries
        kk = min(TASK_NEIGHBOURS, Q)
        idx = np.argpartition(-(unit_rows(query_vecs) @ f.vecs.T), kk - 1, axis=1)[:, :kk]
        return prior.rows(f.tasks[idx].ravel()).reshape(n, kk, K).mean(1)
    sims = unit_rows(query_vecs) @ f.vecs.T  # [N, Q]
    if exclude is not None:
        ok = exclude >= 0
        sims[np.flatnonzero(ok), exclude[ok]] = -np.inf
    if cfg.same_task and query_tasks is not None:
        qt = np.asarray([str(t) for t in query_tasks], dtype=object)
        same = qt[:, None] == f.tasks[None, :]
        has = same.sum(1) > (0 if exclude is None else 1)
        sims = np.where(same | ~has[:, None], sims, -np.inf)  # fewer same-task queries than k: the rest weigh 0
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    s = np.take_along_axis(sims, idx, 1)
    w = np.where(np.isfinite(s), np.exp(cfg.temperature * (np.where(np.isfinite(s), s, 0.0) - 1.0)), 0.0)
    L = f.labels[idx]  # [N, k, K]
    lab = ~np.isnan(L)
    num = (np.where(lab, L, 0.0) * w[:, :, None]).sum(1)
    den = (lab * w[:, :, None]).sum(1)
    if query_tasks is not None:
        pr = prior.rows(query_tasks)
    else:  # the neighbours' task priors, weighted like their votes
        rows = prior.rows(f.tasks[idx].ravel()).reshape(n, k, K)
        ws = w.sum(1, keepdims=True)
        pr = (rows * w[:, :, None]).sum(1) / np.where(ws > 0, ws, 1.0)
    return (num + cfg.prior_weight * pr) / (den + cfg.prior_weight)


def run_inputs(ctx, routers: str, router: str):
    """(training signal, training-query embeddings, cards or None, models with labels) of a run of the routers
    beyond the study; TrainingDataError without training pairs, and the mode's held-out models refused."""
    from rpcli.core.data.held_out import refuse_held_out

    sig = ctx.train
    if sig is None or len(sig) == 0:
        raise TrainingDataError(f"the {routers} routers need the mode's training pairs, and there are none",
                                hint="add route_data/pairwise_training_data_<mode>.json")
    qv = ctx.train_vecs()
    labeled = [m for j, m in enumerate(ctx.models) if (~np.isnan(sig.labels[:, j])).any()]
    refuse_held_out(labeled, ctx.held_out, what=f"the {ctx.mode} labels of the {router} router", mode=ctx.mode)
    return sig, qv, ctx.cards or None, labeled


def router_labels(sig):
    """(labels, pairs) the routers beyond the study learn from: the pairwise labels and pairs of a pairs signal, or
    the per-query scores themselves (labels in [0, 1], pairs None) of a signal of source "scores"
    (route_data/routing_train_data.json, rpcli.core.routers.training.score_signal)."""
    if getattr(sig, "source", "pairs") == "scores":
        return np.asarray(sig.quality, dtype=np.float64), None
    return sig.labels, sig.pairs


def cv_cards(ctx, cards):
    """The cards CV may use: without the tasks whose card scores were measured on the training queries when the
    dataset has no per-query scores to rebuild them without a fold (ctx.card_train_tasks; with scores,
    `fold_inputs` rebuilds them per fold). Returns (cards, the tasks left out)."""
    drop = [t for t in (getattr(ctx, "card_train_tasks", None) or [])]
    if not cards or not drop or getattr(ctx.train, "source", "pairs") == "scores":
        return cards, []
    return {m: {k: v for k, v in (c or {}).items() if k not in drop} for m, c in cards.items()}, drop


def run(ctx, opts: dict, seed: int):
    """The kNN (or prior, k = 0) router as a router run: test scores and leave-one-out training-query scores."""
    from rpcli.core.routers.run import RouterResult, config_from

    from dataclasses import replace

    cfg = config_from(KNNConfig, opts)
    validate(cfg)
    sig, qv, cards, labeled = run_inputs(ctx, "knn and prior", "knn")
    L, P = router_labels(sig)
    cvc, cv_dropped = cv_cards(ctx, cards)
    tuned = None
    if cfg.tune:
        routing = list(dict.fromkeys(ctx.test_tasks or sig.tasks))
        tuned = tune(qv, L, sig.tasks, P, ctx.models, cvc, list(ctx.card_models or ctx.models),
                     routing, cfg, seed, n_folds=cfg.folds, min_cold_recall=cfg.min_cold_recall,
                     cold_start=len(labeled) < len(ctx.models), query_groups=list(sig.queries),
                     progress=ctx.progress)
        cfg = replace(cfg, **{k: v for k, v in tuned["config"].items() if k in KNNConfig.__dataclass_fields__},
                      tune=False)
    card_models = list(ctx.card_models or ctx.models)
    gate_rec = None
    if cfg.gate and cfg.gate_open is None:
        from rpcli.core.routers import gate

        routing = list(dict.fromkeys(ctx.test_tasks or sig.tasks))
        fb = gate.fallback_config(cfg)
        gate_rec = gate.cv_decide(
            lambda c: cv_score_fn(qv, L, sig.tasks, P, ctx.models, cvc, card_models, routing, fb if c is None else c),
            cfg, list(sig.queries), L, sig.tasks, cfg.folds, seed, cfg.gate_z)
        cfg = gate.with_open(cfg, gate_rec["open"])
    f = fit(qv, L, sig.tasks, P, ctx.models, cards, card_models, cfg, tasks=list(dict.fromkeys(ctx.test_tasks or [])))
    scorer = KNNScorer(f, fit_fallback(f, qv, sig, ctx.models, cards, card_models, ctx.test_tasks))
    test = scorer.scores(ctx.test_vecs(), ctx.test_tasks)
    train = scorer.scores(qv, sig.tasks, exclude=np.arange(len(sig)))
    no_signal = [m for m, s in zip(ctx.models, f.prior.signal) if not s]
    info = {"n_train_queries": len(sig), "k": cfg.k, "models_without_signal": no_signal,
            "card_imputed": {m: [t for t, imp in zip(f.prior.tasks, f.prior.imputed[:len(f.prior.tasks), j]) if imp]
                             for j, m in enumerate(ctx.models) if f.prior.imputed[:, j].any()},
            "seed_used": tuned is not None, "config": {k: getattr(cfg, k) for k in KNNConfig.__dataclass_fields__
                                                       if k not in ("tune", "folds", "min_cold_recall")}}
    info["signal"] = signal_note(sig, cv_dropped)
    if no_signal:
        info["card_signal"] = new_model_cards(ctx, cards, no_signal, list(dict.fromkeys(ctx.test_tasks or sig.tasks)))
    if tuned is not None:
        info["cv"] = tuned
    if gate_rec is not None:
        info["gate"] = gate_rec
    return RouterResult(test, train_scores=train, info=info)


def new_model_cards(ctx, cards, no_signal: list, routing: list) -> dict:
    """{model: card_signal} of the candidates without training signal (a new model), with a warning on the run's
    progress when a card gives nothing the router can use: such a model is reached only through its cold bonus."""
    from rpcli.core.routers.ability import card_signal

    out = {}
    for m in no_signal:
        cs = card_signal(cards or {}, m, routing, list(ctx.card_models or ctx.models))
        out[m] = cs
        if ctx.progress is not None and (cs["scores"] == 0 or not (cs["routing_scores"] or cs["imputable"])):
            what = ("gives no benchmark score" if cs["scores"] == 0 else
                    "gives no score on the routing tasks and none that two other models also report")
            ctx.progress.warn(f"{m} has no training signal and its card {what}: its prior is the other models' "
                              "average, so the router reaches it only through --cold-bonus; give its benchmark "
                              "scores in its card (rp model add) to route to it where it is strong")
    return out


def signal_note(sig, cv_dropped) -> dict:
    """What a run of the routers beyond the study learned from (recorded in metrics.train.signal)."""
    out = {"source": getattr(sig, "source", "pairs"), "queries": len(sig)}
    if out["source"] == "scores":
        out["cv_cards"] = ("card scores that are 100 x the training mean are recomputed without each CV fold's "
                           "validation queries")
    elif cv_dropped:
        out["cv_cards"] = (f"card scores of {', '.join(cv_dropped)} were measured on the training queries and there "
                           "are no per-query scores to rebuild them without a fold: left out of CV (used in the fit)")
        out["cv_cards_left_out"] = list(cv_dropped)
    return out


def fit_fallback(f: Fitted, qv, sig, models, cards, card_models, test_tasks):
    """The gate's fallback (the per-task prior, card weight 0) fitted beside a gated configuration, else None."""
    if not f.cfg.gate:
        return None
    from rpcli.core.routers.gate import fallback_config

    L, P = router_labels(sig)
    return fit(qv, L, sig.tasks, P, models, cards, card_models, fallback_config(f.cfg),
               tasks=list(dict.fromkeys(test_tasks or [])))


class KNNScorer:
    """Scores of a fitted knn/prior router, gated per task when its configuration says so (`fallback`)."""

    def __init__(self, f: Fitted, fallback: Fitted | None = None) -> None:
        self.f, self.fallback = f, fallback

    def scores(self, query_vecs, query_tasks=None, exclude=None) -> np.ndarray:
        s = scores(self.f, query_vecs, query_tasks, exclude=exclude)
        if self.fallback is None:
            return s
        from rpcli.core.routers import gate

        fb = scores(self.fallback, query_vecs, query_tasks, exclude=exclude)
        share = None if query_tasks is not None else gate.open_share(self.f.vecs, list(self.f.tasks), query_vecs,
                                                                    self.f.cfg.gate_open)
        return gate.combine(s, fb, query_tasks, self.f.cfg.gate_open, share)


def cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, cfg: KNNConfig):
    """The (train_idx, val_idx, hidden) -> scores function of `rpcli.core.eval.cv.cross_validate` for one
    configuration: fitted on the training-fold queries only; a hidden model loses its pairs, its labels and its
    card scores on the routing tasks (as newllm's held-out model)."""
    validate(cfg)
    vecs = np.asarray(vecs)
    labels = np.asarray(labels, dtype=np.float64)
    pairs = None if pairs is None else np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
    tasks = [str(t) for t in tasks]
    routing = set(routing_tasks)

    def fn(tr, val, hidden):
        p, L, cd = fold_inputs(tr, hidden, vecs, labels, tasks, pairs, models, cards, routing)
        f = fit(vecs[tr], L, [tasks[i] for i in tr], p, models, cd, card_models, cfg, tasks=list(routing_tasks))
        return scores(f, vecs[val], [tasks[i] for i in val])

    return fn


# ----------------------------------------------------------------------------------------------------------------
# tune: choose the configuration by grouped cross-validation on the training queries (never the test rows)
# ----------------------------------------------------------------------------------------------------------------
KNN_GRID = {"k": (0, 10, 30), "temperature": (0.0, 20.0), "prior_weight": (2.0, 8.0), "card_weight": (0.0, 0.5, 1.0)}
COLD_GRID = {"ridge": (0.3, 1.0), "cold_bonus": (0.0, 0.05, 0.1, 0.15, 0.2)}


def knn_grid() -> list[dict]:
    """The configurations stage 1 compares (k = 0 once per card weight: temperature and prior weight do nothing
    there)."""
    out = []
    for k in KNN_GRID["k"]:
        for t in KNN_GRID["temperature"] if k else (0.0,):
            for pw in KNN_GRID["prior_weight"] if k else (KNN_GRID["prior_weight"][0],):
                for cw in KNN_GRID["card_weight"]:
                    out.append({"k": k, "temperature": t, "prior_weight": pw, "card_weight": cw})
    return out


def tune(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, base: KNNConfig, seed: int,
         n_folds: int = 5, min_cold_recall: float = 0.5, cold_start: bool = False, query_groups=None,
         progress=None) -> dict:
    """Choose a configuration by grouped cross-validation on the training queries (rpcli.core.eval.cv).

    Stage 1 (every mode): the KNN_GRID configurations, scored by labeled top-1 over the validation folds; the best
    wins (ties: the earlier, i.e. smaller k and card weight).
    Stage 2 (`cold_start`: the mode has a candidate without training signal): with stage 1's choice, COLD_GRID
    (card imputation ridge, cold bonus) under the cold-start CV (each candidate with a signal hidden in turn, its
    routing-task card scores removed); the best top-1 among those whose cold-start recall reaches
    `min_cold_recall` wins, or the best recall when none does.

    Returns {"config": {...}, "stage1": [rows], "stage2": [rows], "rule": text, "seed", "n_folds"}.
    """
    from dataclasses import asdict, replace

    from rpcli.core.eval.cv import cross_validate

    groups = list(query_groups) if query_groups is not None else list(range(len(tasks)))
    rows1 = []
    grid = knn_grid()
    for i, g in enumerate(grid):
        cfg = replace(base, **g)
        fn = cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks, cfg)
        r = cross_validate(groups, labels, fn, n_folds=n_folds, seed=seed)
        rows1.append({**g, "top1": round(r["top1"], 6), "top1_fold_sd": round(float(np.std(r["top1_folds"])), 6)})
        if progress is not None:
            progress.note(f"cv {i + 1}/{len(grid)}: {g} top-1 {r['top1']:.4f}")
    best1 = max(range(len(rows1)), key=lambda i: (rows1[i]["top1"], -i))
    chosen = {k: rows1[best1][k] for k in KNN_GRID}
    out = {"stage1": rows1, "stage2": [], "seed": seed, "n_folds": n_folds,
           "rule": "stage 1: best labeled top-1; stage 2 (cold start): best top-1 with cold-start recall >= "
                   f"{min_cold_recall}, else the best recall"}
    cfg = replace(base, **chosen)
    if cold_start:
        make_fn = (lambda c2: cv_score_fn(vecs, labels, tasks, pairs, models, cards, card_models, routing_tasks,
                                          c2))
        cfg, rows2 = cold_stage(make_fn, cfg, groups, labels, models, n_folds, seed, min_cold_recall)
        out["stage2"] = rows2
    out["config"] = {k: v for k, v in asdict(cfg).items() if k not in ("tune", "min_cold_recall", "folds")}
    return out


def cold_stage(make_fn, cfg, groups, labels, models, n_folds, seed, min_cold_recall):
    from rpcli.core.eval.cv import cross_validate

    labels_a = np.asarray(labels, dtype=np.float64)
    hide = [j for j in range(len(models)) if (~np.isnan(labels_a[:, j])).any()]
    rows = []
    for ridge in COLD_GRID["ridge"]:
        for cb in COLD_GRID["cold_bonus"]:
            c2 = replace(cfg, ridge=ridge, cold_bonus=cb)
            r = cross_validate(groups, labels_a, make_fn(c2), n_folds=n_folds, seed=seed, hide=hide)
            rows.append({"ridge": ridge, "cold_bonus": cb, "top1": round(r["top1"], 6),
                         "cold_recall": None if r["recall"] is None else round(r["recall"], 6),
                         "recall_n": r["recall_n"]})
    ok = [i for i, r in enumerate(rows) if r["cold_recall"] is not None and r["cold_recall"] >= min_cold_recall]
    if ok:
        b = max(ok, key=lambda i: (rows[i]["top1"], -i))
    else:
        b = max(range(len(rows)), key=lambda i: (rows[i]["cold_recall"] or 0.0, rows[i]["top1"], -i))
    return replace(cfg, ridge=rows[b]["ridge"], cold_bonus=rows[b]["cold_bonus"]), rows


def fold_inputs(tr, hidden, vecs, labels, tasks, pairs, models, cards, routing):
    """A CV fold's training inputs: the pairs of the training queries `tr` (query indices renumbered to `tr`'s
    order), their labels and the cards; with `hidden` (a model column), that model's pairs, labels and routing-task
    card scores removed (cold start)."""
    Q = len(tasks)
    L = labels[tr].copy()
    cd = cards
    if pairs is None and cards:  # per-query scores: cards measured on them are rebuilt without the fold
        from rpcli.core.routers.ability import fold_cards

        held = np.ones(Q, dtype=bool)
        held[tr] = False
        fc = fold_cards(cards, labels, tasks, models, held)
        cd = {m: {k: v for k, v in c.items() if k not in fc.unrebuildable} for m, c in fc.cards.items()}
    if hidden is not None:
        L[:, hidden] = np.nan
        if cd:
            name = models[hidden]
            cd = {**cd, name: {k: v for k, v in (cd.get(name) or {}).items() if k not in routing}}
    if pairs is None:
        return None, L, cd
    pos = np.full(Q, -1)
    pos[tr] = np.arange(len(tr))
    p = pairs[np.isin(pairs[:, 0], tr)]
    if hidden is not None:
        p = p[(p[:, 1] != hidden) & (p[:, 2] != hidden)]
    p = p.copy()
    p[:, 0] = pos[p[:, 0]]
    return p, L, cd

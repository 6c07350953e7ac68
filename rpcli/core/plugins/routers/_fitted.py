"""What the routers beyond the study (prior, knn, residual, blend; docs/beyond.md) share: the card and tuning
options, and refitting at load. They write no checkpoint: a run is refitted at load, deterministically, from its
training signal, the cards and the seed's recorded configuration (after CV tuning), and scores exactly as it
scored its test rows."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Router, option
from rpcli.errors import ConfigError


@dataclass
class CardOptions:
    card_weight: float = option(0.0, "Weight of the card-based estimate in the per-task prior of models with "
                                "training pairs (0: win rates alone).", flag="--card-weight", min=0.0, max=1.0)
    ridge: float = option(1.0, "Ridge strength of the card imputation (a card score the card does not give, "
                          "predicted from its other benchmarks).", min=1e-6)
    cold_bonus: float = option(0.0, "Added to the prior of a model without training pairs (a new model).",
                               flag="--cold-bonus", min=0.0, max=1.0)


@dataclass
class TuneOptions:
    tune: bool = option(False, "Choose the hyperparameters by grouped cross-validation on the training queries "
                        "(never the test rows); the seed deals the folds.", flag="--tune")
    folds: int = option(5, "Cross-validation folds (--tune).", min=2)
    min_cold_recall: float = option(0.5, "--tune with a new model: the cold-start CV recall a configuration must "
                                    "reach to be chosen.", flag="--min-cold-recall", min=0.0, max=1.0)


@dataclass
class GateOptions:
    gate: bool = option(False, "Per task, use this router only where grouped cross-validation on the training "
                        "queries shows a gain over the per-task rule (per-task-best (train)) beyond fold noise; "
                        "route the other tasks by that rule (docs/beyond.md).", flag="--gate")
    gate_z: float = option(1.645, "--gate: the one-sided z a task's CV gain must exceed, in standard errors.",
                           flag="--gate-z", min=0.0)


class _Scorer:
    def __init__(self, scorer, dim: int) -> None:
        self.scorer, self.query_dim = scorer, dim

    def scores(self, q, tasks=None):
        import numpy as np

        return self.scorer.scores(np.asarray(q, dtype=np.float64), tasks)

    def calibration_scores(self, q, tasks=None):
        import numpy as np

        q = np.asarray(q, dtype=np.float64)
        return self.scorer.scores(q, tasks, exclude=np.arange(len(q)))


class FittedRouter(Router):
    """A router refitted at load from its recorded configuration (`refit(cfg_dict, qv, train, ctx) -> scorer`)."""

    def refit(self, config: dict, qv, ctx):
        raise NotImplementedError

    def load(self, run_dir, ctx, *, seed=0, n_seeds=1, opts=None, recorded=None, new_candidates=False):
        import numpy as np

        from rpcli.core.routers.inference import LoadedRouter

        config = (recorded or {}).get("config")
        if config is None:
            raise ConfigError(f"a {self.name} run is refitted at load and needs its recorded configuration",
                              hint="rerun it with --force")
        train = ctx.train
        if train is None or len(train) == 0:
            raise ConfigError(f"a {self.name} run needs its training signal and training-query embeddings to be "
                              "loaded")
        train_vecs = ctx.train_vecs()
        if train_vecs is None:
            raise ConfigError(f"a {self.name} run needs its training-query embeddings to be loaded")
        if list(train.models) != list(ctx.models):
            raise ConfigError(f"the training signal's candidates {list(train.models)} are not {list(ctx.models)}")
        lr = LoadedRouter(router=self.name, models=list(ctx.models), profile_vecs=ctx.profile_vecs, seed=int(seed),
                          device=ctx.device)
        lr.scorer = self.refit(config, np.asarray(train_vecs), ctx)
        return lr


class KNNFamily(FittedRouter):
    """prior and knn: rpcli.core.routers.knn."""

    def run(self, ctx, opts, seed):
        from rpcli.core.routers.knn import run

        return run(ctx, opts, seed)

    def refit(self, config, qv, ctx):
        from rpcli.core.routers.knn import KNNConfig, KNNScorer, fit, fit_fallback, router_labels

        cfg = KNNConfig(**{k: v for k, v in config.items() if k in KNNConfig.__dataclass_fields__})
        train = ctx.train
        cards, card_models = ctx.cards or None, list(ctx.card_models or ctx.models)
        L, P = router_labels(train)
        f = fit(qv, L, train.tasks, P, list(ctx.models), cards, card_models, cfg,
                tasks=list(dict.fromkeys(ctx.test_tasks or [])))
        fb = fit_fallback(f, qv, train, list(ctx.models), cards, card_models, ctx.test_tasks)
        return _Scorer(KNNScorer(f, fb), qv.shape[1])


class ResidualFamily(FittedRouter):
    """residual and blend: rpcli.core.routers.residual (`config_cls`: ResidualConfig or BlendConfig)."""

    def config_cls(self):
        raise NotImplementedError

    def run(self, ctx, opts, seed):
        from rpcli.core.routers.residual import run_config

        return run_config(ctx, opts, seed, self.config_cls())

    def refit(self, config, qv, ctx):
        from rpcli.core.routers import residual as R

        cls = self.config_cls()
        cfg = cls(**{k: v for k, v in config.items() if k in cls.__dataclass_fields__})
        routing = list(dict.fromkeys(ctx.test_tasks or ctx.train.tasks))
        cards, card_models = ctx.cards or None, list(ctx.card_models or ctx.models)
        _, _, fr, fk = R.build(None, cfg, 0, qv, ctx.train, list(ctx.models), cards, card_models, routing, [], "")
        scorer = R.scorer_for(cfg, fr, fk, qv, ctx.train, list(ctx.models), cards, card_models, routing)
        return _Scorer(scorer, qv.shape[1])

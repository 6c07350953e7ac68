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


class _KNNScorer:
    def __init__(self, f, dim: int) -> None:
        self.f, self.query_dim = f, dim

    def scores(self, q, tasks=None):
        import numpy as np

        from rpcli.core.routers.knn import scores

        return scores(self.f, np.asarray(q, dtype=np.float64), tasks)

    def calibration_scores(self, q, tasks=None):
        import numpy as np

        from rpcli.core.routers.knn import scores

        q = np.asarray(q, dtype=np.float64)
        return scores(self.f, q, tasks, exclude=np.arange(len(q)))


class _ResidualScorer:
    def __init__(self, cfg, fr, fk, dim: int) -> None:
        self.cfg, self.fr, self.fk, self.query_dim = cfg, fr, fk, dim

    def scores(self, q, tasks=None):
        import numpy as np

        from rpcli.core.routers.residual import score_any

        return score_any(self.cfg, self.fr, self.fk, np.asarray(q, dtype=np.float64), tasks)

    def calibration_scores(self, q, tasks=None):
        import numpy as np

        from rpcli.core.routers.residual import score_any

        q = np.asarray(q, dtype=np.float64)
        return score_any(self.cfg, self.fr, self.fk, q, tasks, exclude=np.arange(len(q)))


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
        from rpcli.core.routers.knn import KNNConfig, fit

        cfg = KNNConfig(**{k: v for k, v in config.items() if k in KNNConfig.__dataclass_fields__})
        train = ctx.train
        f = fit(qv, train.labels, train.tasks, train.pairs, list(ctx.models), ctx.cards or None,
                list(ctx.card_models or ctx.models), cfg, tasks=list(dict.fromkeys(ctx.test_tasks or [])))
        return _KNNScorer(f, qv.shape[1])


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
        _, _, fr, fk = R.build(None, cfg, 0, qv, ctx.train, list(ctx.models), ctx.cards or None,
                               list(ctx.card_models or ctx.models), routing, [], "")
        return _ResidualScorer(cfg, fr, fk, qv.shape[1])

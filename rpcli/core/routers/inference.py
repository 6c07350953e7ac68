"""A recorded router run, loaded for inference: `load_router(run_dir, ...) -> LoadedRouter` whose
`scores(query_vecs)` gives the [B, K] scores the run's router gives new queries, exactly those it recorded for
its test rows (predictions.jsonl, checked by the tests and by `LoadedRouter.check_predictions`); `choose` is the
argmax (ties to the first candidate). Everything that does not depend on the query is computed once, at load:

| router | loaded                                 | cached at load                      | scores(q)                    |
|--------|----------------------------------------|-------------------------------------|------------------------------|
| sim    | the profile                            | the unit profile vectors [K, D]     | cosine(q, profile)           |
| mlp    | ckpt.pt (both towers)                  | the model tower's embeddings [K, o] | <query_mlp(q), model_mlp(p)> |
|        |                                        |                                     | (both L2-normalised)         |
| graph  | ckpt.pt: the weights and the model     | per layer: the attention maps, the  | the query attached to the    |
|        | states entering each GAT layer on the  | projected model states and their    | training graph: it receives  |
|        | training graph (`model_states`); older | source scores                       | messages from the models and |
|        | runs and a new candidate set: the      |                                     | sends none, exactly as the   |
|        | states recomputed from the training    |                                     | run scored its test and      |
|        | graph (see below)                      |                                     | validation queries           |

| prior, | nothing (no checkpoint): refitted    | the fitted router (training         | the prior of the query's     |
| knn,   | from the training signal, the cards  | embeddings, labels, the per-task    | task (free text: its nearest |
| resid- | and the seed's recorded config       | prior, residual weights)            | training queries' tasks)     |
| ual,   | (`config`, after CV tuning)          |                                     | + kNN votes / residual       |
| blend  |                                      |                                     | (rpcli.core.routers.knn,     |
|        |                                      |                                     | residual)                    |

Graph model states: a checkpoint written since they are saved carries them (`states_from == "checkpoint"`), so a
query is scored from the checkpoint alone. Otherwise (runs recorded before, or `new_candidates=True`) they are
recomputed (`states_from == "training graph"`) from the members of the run's training graph: the seed's training
split (labeled queries only), transductive runs every training query and every test row. Both reproduce the
recorded predictions.

`new_candidates=True` (rp model add): the candidate set may differ from the one the router was trained on (a new
model's profile vector beside the old ones): the checkpoint's candidate names are not checked, only its profile
width, and a graph router's training graph is rebuilt with a node per given candidate (the new model attached to
it), since the saved states belong to the old set. `LoadedRouter.checkpoint()` is then the checkpoint of the
router on the new set (with its recomputed states).

Everything a router needs besides its run directory is passed in (this module never reads the manifest or a
dataset): the candidate names and profile vectors (the run's parent profile), and for recomputed graph states the
training signal and its query embeddings (and, transductive, the test rows' embeddings; either may be a function
returning them, called only when needed). rpcli.services.serving.inference.load_run resolves those for a workspace run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rpcli.errors import ConfigError

@dataclass
class LoadedRouter:
    """A run's router, ready to score queries. `models` is the candidate order (argmax ties go to the first).

    What scores a query is the router plugin's `scorer` (rpcli.core.plugin.Router.load builds it): an object with
    `scores(q, tasks)`, and optionally `query_dim`, `calibration_scores(q, tasks)`, `checkpoint()` and
    `attention(q)`."""

    router: str
    models: list
    profile_vecs: np.ndarray  # [K, Dp]
    seed: int = 0
    scorer: Any = None  # the plugin's scorer (see the class docstring)
    net: Any = None  # the trained torch module (checkpointed torch routers), eval mode
    ckpt: dict = field(default_factory=dict, repr=False)  # the checkpoint as loaded (checkpointed routers)
    device: str = "cpu"
    states_from: str | None = None  # graph: "checkpoint" or "training graph"
    n_train_members: int | None = None  # graph, recomputed states: training-split queries in the training graph
    _cache: dict = field(default_factory=dict, repr=False)  # what scoring needs that does not depend on the query

    def __post_init__(self) -> None:
        self.profile_vecs = np.asarray(self.profile_vecs, dtype=np.float32)
        if self.profile_vecs.shape[0] != len(self.models):
            raise ConfigError(f"{len(self.models)} candidates but {self.profile_vecs.shape[0]} profile vectors")

    @property
    def config(self) -> dict:
        """The checkpoint's config (checkpointed routers)."""
        return dict(self.ckpt.get("config") or {})

    @property
    def query_dim(self) -> int:
        """The query embedding width the router takes."""
        dim = getattr(self.scorer, "query_dim", None)
        return int(self.profile_vecs.shape[1] if dim is None else dim)

    def _queries(self, query_vecs) -> np.ndarray:
        q = np.asarray(query_vecs)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2:
            raise ValueError(f"query_vecs must be [B, D] (or one [D] vector), got shape {q.shape}")
        if q.shape[1] != self.query_dim:
            raise ConfigError(f"the {self.router} router of this run expects {self.query_dim}-d query embeddings, "
                              f"got {q.shape[1]}-d", hint="encode the queries with the encoder the run was built with")
        return q

    def scores(self, query_vecs, tasks=None) -> np.ndarray:
        """[B, K] float64 scores of raw query embeddings [B, Dq] (a single [Dq] vector is one query). `tasks` [B]:
        the queries' task names, for routers that use the task (None: free text)."""
        q = self._queries(query_vecs)
        if tasks is not None:
            tasks = [str(t) for t in tasks]
            if len(tasks) != len(q):
                raise ValueError(f"{len(tasks)} task names for {len(q)} queries")
        if len(q) == 0:
            return np.zeros((0, len(self.models)))
        return np.asarray(self.scorer.scores(q, tasks), dtype=np.float64)

    def calibration_scores(self, train_vecs, train_tasks=None) -> np.ndarray:
        """[Q, K] the scores the run's cost-quality calibration was fitted on: the training queries' scores, as the
        run scored them (the knn routers: each query not its own neighbour)."""
        q = self._queries(train_vecs)
        tasks = None if train_tasks is None else [str(t) for t in train_tasks]
        fn = getattr(self.scorer, "calibration_scores", None)
        if fn is None:
            return self.scores(q, tasks)
        return np.asarray(fn(q, tasks), dtype=np.float64)

    def choose(self, query_vecs) -> np.ndarray:
        """[B] index into `models` of the chosen candidate (the first among ties)."""
        return np.argmax(self.scores(query_vecs), axis=1)

    @property
    def has_attention(self) -> bool:
        return hasattr(self.scorer, "attention")

    def attention(self, query_vecs) -> np.ndarray:
        """[B, K] the router's attention of each query over the candidates (GraphRouter: the last layer's, mean
        over heads); ConfigError for a router without attention."""
        if not self.has_attention:
            raise ConfigError(f"the {self.router} router has no attention weights")
        return np.asarray(self.scorer.attention(self._queries(query_vecs)), dtype=np.float64)

    def check_predictions(self, test_vecs, recorded: np.ndarray, atol: float = 2e-6, tasks=None) -> float:
        """The largest absolute difference between the scores of the test rows now and those the run recorded;
        raises ConfigError above `atol` (the recorded scores are rounded to 6 decimals). `tasks`: the test rows'
        task names (routers that use the task scored them with it)."""
        got = self.scores(test_vecs, tasks=tasks)
        rec = np.asarray(recorded, dtype=np.float64)
        if got.shape != rec.shape:
            raise ConfigError(f"the run recorded {rec.shape} test scores, the loaded router gives {got.shape}")
        diff = float(np.max(np.abs(got - rec))) if got.size else 0.0
        if diff > atol:
            raise ConfigError(f"the loaded {self.router} router does not reproduce the run's recorded test scores "
                              f"(largest difference {diff:.2e})",
                              hint="the run was recorded by another version of rp, or its inputs changed; "
                                   "rerun it with --force")
        return diff

    def checkpoint(self) -> dict | None:
        """The router's checkpoint on the candidates it scores (None for routers without one): the loaded one with
        `model_names` = `models`, `trained_on_models` = the checkpoint's own (and what it scores with)."""
        fn = getattr(self.scorer, "checkpoint", None)
        return fn() if fn is not None else None


def checkpoint_file(run_dir: Path, seed: int, n_seeds: int) -> Path:
    return Path(run_dir) / ("ckpt.pt" if n_seeds == 1 else f"ckpt.seed{seed}.pt")


def predictions_file(run_dir: Path, seed: int, n_seeds: int) -> Path:
    return Path(run_dir) / ("predictions.jsonl" if n_seeds == 1 else f"predictions.seed{seed}.jsonl")


def recorded_scores(run_dir: Path, models: list, seed: int = 0, n_seeds: int = 1) -> np.ndarray:
    """[N, K] the test-row scores a run recorded (predictions.jsonl, rounded to 6 decimals)."""
    path = predictions_file(run_dir, seed, n_seeds)
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                s = json.loads(line)["scores"]
                rows.append([s[m] for m in models])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(models))


def load_router(run_dir, *, router: str, models: list, profile_vecs, seed: int = 0, n_seeds: int = 1,
                train=None, train_vecs=None, test_vecs=None, device: str = "cpu",
                new_candidates: bool = False, config: dict | None = None, cards: dict | None = None,
                card_models: list | None = None, tasks: list | None = None, opts: dict | None = None) -> LoadedRouter:
    """The router of the run in `run_dir` for `seed` (one of the run's `n_seeds` seeds), through its plugin's
    `load` (rpcli.core.plugin.Router.load).

    Args:
        router: the run's params["router"] (any registered router).
        models, profile_vecs: the candidates in profile order and their profile vectors [K, Dp].
        train, train_vecs: the run's TrainingSignal (rebuilt from its dataset, mode, query text and label source)
            and its query embeddings [Q, Dq] (raw, as the encoder gives them; or a function returning them):
            routers refitted at load, and graph runs whose states are recomputed.
        test_vecs: the test rows' embeddings [N, Dq] (or a function returning them): transductive graph runs.
        new_candidates: `models` may differ from the candidates the router was trained on (see the module).
        config: the seed's configuration as the run recorded it (metrics `train.config`, after tuning).
        cards, card_models, tasks: the mode's cards without the leaky tasks (rpcli.services.artifacts.routes.router_cards)
            and the test rows' task names, for routers that read them.
        opts: the run's options (its recipe); default: the router's defaults.
    """
    from rpcli.core.registry import router as get_router
    from rpcli.core.routers.run import RouteContext

    plugin = get_router(router)
    vecs = np.asarray(profile_vecs, dtype=np.float32)
    if vecs.shape[0] != len(models):
        raise ConfigError(f"{len(models)} candidates but {vecs.shape[0]} profile vectors")
    ctx = RouteContext(mode="", models=list(models), profile_vecs=vecs, test_texts=[], encoder=None, train=train,
                       seeds=list(range(n_seeds)), device=device, test_tasks=tasks, cards=cards,
                       card_models=card_models, sources={"train": train_vecs, "test": test_vecs})
    return plugin.load(run_dir, ctx, seed=seed, n_seeds=n_seeds, opts=opts,
                       recorded={"config": config} if config is not None else None, new_candidates=new_candidates)


def rank(scores, cal: dict | None = None, costs=None, lam: float | None = None, lo: float | None = None,
         hi: float | None = None):
    """(order [B, K] best first, utility [B, K]) of raw router scores [B, K].

    lam None: the run's own rule (raw score, ties to the first candidate). Otherwise the cost-quality curve's rule
    (rpcli.core.eval.cost_quality): the calibrated quality `cal(score)` plus 1e-6 * (score - lo) / (hi - lo) (ties
    follow the raw score; lo/hi: the run's test-score range) minus lam * cost ([B, K] dollars per query)."""
    raw = np.asarray(scores, dtype=np.float64)
    if lam is None:
        util = raw
    else:
        from rpcli.core.eval.metrics import apply_calibration

        if cal is None:
            raise ConfigError("this run has no cost-quality calibration (no training signal to calibrate on)",
                              hint="route without --lambda")
        util = apply_calibration(cal, raw)
        if lo is not None and hi is not None and hi > lo:
            util = util + 1e-6 * (raw - lo) / (hi - lo)
        if lam != 0:
            c = np.asarray(costs, dtype=np.float64)
            if np.isnan(c).any():
                raise ConfigError("--lambda needs every candidate's cost, and a candidate has no price",
                                  hint="give every candidate an input and output price")
            util = util - lam * c
    order = np.argsort(-util, axis=1, kind="stable")
    return order, util

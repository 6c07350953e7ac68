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
returning them, called only when needed). rpcli.services.inference.load_run resolves those for a workspace run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rpcli.errors import ConfigError

FITTED = ("prior", "knn", "residual", "blend")  # refitted at load from the training signal and the run's config
ROUTERS = ("sim", "mlp", "graph") + FITTED


@dataclass
class LoadedRouter:
    """A run's router, ready to score queries. `models` is the candidate order (argmax ties go to the first)."""

    router: str
    models: list
    profile_vecs: np.ndarray  # [K, Dp]
    seed: int = 0
    net: object = None  # the trained torch module (mlp, graph), eval mode
    ckpt: dict = field(default_factory=dict, repr=False)  # the checkpoint as loaded (trained routers)
    device: str = "cpu"
    states_from: str | None = None  # graph: "checkpoint" or "training graph"
    n_train_members: int | None = None  # graph, recomputed states: training-split queries in the training graph
    _cache: dict = field(default_factory=dict, repr=False)  # what scoring needs that does not depend on the query

    @property
    def config(self) -> dict:
        """The checkpoint's config (trained routers)."""
        return dict(self.ckpt.get("config") or {})

    @property
    def query_dim(self) -> int:
        """The query embedding width the router takes."""
        if self.router == "sim":
            return int(self.profile_vecs.shape[1])
        if self.router in FITTED:
            return int(self._cache["dim"])
        return int(self.config["q_in_dim"])

    def _queries(self, query_vecs) -> np.ndarray:
        q = np.asarray(query_vecs, dtype=np.float32)
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
        the queries' task names, used by the prior/knn/residual/blend routers only (None: free text; the prior
        of a query is then the mix of its nearest training queries' task priors)."""
        q = self._queries(query_vecs)
        if self.router == "sim":
            from rpcli.core.routers.sim import _unit

            return _unit(q) @ self._cache["unit"].T
        if self.router in FITTED:  # the embeddings as given (the run scored them unrounded)
            raw = np.asarray(query_vecs, dtype=np.float64)
            return _fitted_scores(self, raw[None, :] if raw.ndim == 1 else raw, tasks)
        import torch

        if len(q) == 0:
            return np.zeros((0, len(self.models)))
        with torch.inference_mode():
            if self.router == "mlp":
                return self._mlp_scores(torch, q)
            from rpcli.core.routers.graph import _unit

            xq = torch.as_tensor(_unit(q), device=self.device)
            return self.net.attached_logits(self._cache["states"], xq, self._cache["att"]).double().cpu().numpy()

    def _mlp_scores(self, torch, q, batch: int = 4096) -> np.ndarray:
        m = self._cache["m"]
        out = [(self.net.embed_queries(torch.as_tensor(q[s0:s0 + batch], device=self.device)) @ m.T)
               .double().cpu().numpy() for s0 in range(0, len(q), batch)]
        return np.concatenate(out)

    def calibration_scores(self, train_vecs, train_tasks=None) -> np.ndarray:
        """[Q, K] the scores the run's cost-quality calibration was fitted on: the training queries' scores
        (prior/knn/residual/blend: with their tasks, each query not its own kNN neighbour, as the run scored
        them)."""
        if self.router not in FITTED:
            return self.scores(train_vecs)
        self._queries(train_vecs)
        q = np.asarray(train_vecs, dtype=np.float64)
        tasks = None if train_tasks is None else [str(t) for t in train_tasks]
        if "knn" in self._cache:
            from rpcli.core.routers.knn import scores

            return scores(self._cache["knn"], q, tasks, exclude=np.arange(len(q)))
        from rpcli.core.routers.residual import score_any

        cfg, fr, fk = self._cache["residual"]
        return score_any(cfg, fr, fk, q, tasks, exclude=np.arange(len(q)))

    def choose(self, query_vecs) -> np.ndarray:
        """[B] index into `models` of the chosen candidate (the first among ties)."""
        return np.argmax(self.scores(query_vecs), axis=1)

    def attention(self, query_vecs) -> np.ndarray:
        """graph only: [B, K] the last layer's attention of each query over the candidates' messages (mean over
        heads; each row sums to 1 minus the weight the query gives itself)."""
        import torch

        from rpcli.core.routers.graph import _unit

        if self.router != "graph":
            raise ConfigError("attention weights exist for graph runs only")
        q = self._queries(query_vecs)
        with torch.inference_mode():
            xq = torch.as_tensor(_unit(q), device=self.device)
            return self.net.attached_attention(xq, self._cache["att"]).cpu().numpy().astype(np.float64)

    def check_predictions(self, test_vecs, recorded: np.ndarray, atol: float = 2e-6, tasks=None) -> float:
        """The largest absolute difference between the scores of the test rows now and those the run recorded;
        raises ConfigError above `atol` (the recorded scores are rounded to 6 decimals). `tasks`: the test rows'
        task names (the prior/knn/residual/blend routers scored them with their task)."""
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
        """The router's checkpoint on the candidates it scores (trained routers; None for sim): the loaded one with
        `model_names` = `models`, `trained_on_models` = the checkpoint's own and, graph, the model states it scores
        with (so a run recorded with it loads them)."""
        if self.router == "sim" or self.router in FITTED:
            return None
        ck = {**self.ckpt, "model_names": list(self.models),
              "trained_on_models": list(self.ckpt.get("model_names", []))}
        if self.router == "graph":
            ck["model_states"] = [h.detach().cpu().clone() for h in self._cache["states"]]
        return ck


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
                card_models: list | None = None, tasks: list | None = None) -> LoadedRouter:
    """The router of the run in `run_dir` for `seed` (one of the run's `n_seeds` seeds).

    Args:
        router: "sim", "mlp" or "graph" (the run's params["router"]).
        models, profile_vecs: the candidates in profile order and their profile vectors [K, Dp].
        train, train_vecs: graph, when its states are recomputed: the run's TrainingSignal (rebuilt from its
            dataset, mode, query text and label source) and its query embeddings [Q, Dq] (raw, as the encoder
            gives them; or a function returning them).
        test_vecs: graph transductive, when its states are recomputed: the test rows' embeddings [N, Dq] (members
            of its training graph; or a function returning them).
        new_candidates: `models` may differ from the candidates the router was trained on (see the module).
        config, cards, card_models, tasks: prior/knn/residual/blend, refitted at load (deterministic, no
            checkpoint): the seed's configuration as the run recorded it (metrics `train.config`, after `tune`),
            the mode's cards without the leaky tasks (rpcli.services.routes.router_cards) and the routing tasks
            (the test rows' tasks, in first-appearance order); `train`/`train_vecs` are required.
    """
    if router not in ROUTERS:
        raise ConfigError(f"cannot load a {router!r} router (known: {', '.join(ROUTERS)})")
    vecs = np.asarray(profile_vecs, dtype=np.float32)
    if vecs.shape[0] != len(models):
        raise ConfigError(f"{len(models)} candidates but {vecs.shape[0]} profile vectors")
    lr = LoadedRouter(router=router, models=list(models), profile_vecs=vecs, seed=int(seed), device=device)
    if router in FITTED:
        _fit_router(lr, config, train, train_vecs, cards, card_models, tasks)
        return lr
    if router == "sim":
        from rpcli.core.routers.sim import _unit

        lr._cache["unit"] = _unit(vecs)
        return lr
    import torch

    path = checkpoint_file(Path(run_dir), seed, n_seeds)
    if not path.is_file():
        raise ConfigError(f"{path} is absent: the run has no checkpoint for seed {seed}",
                          hint=f"rebuild it: rp route {router} ... --force")
    if router == "mlp":
        from rpcli.core.routers.mlp import load_checkpoint
    else:
        from rpcli.core.routers.graph import load_checkpoint
    net, ck = load_checkpoint(path)
    trained_on = list(ck.get("model_names", []))
    if not new_candidates and trained_on != list(models):
        raise ConfigError(f"{path} was trained on candidates {trained_on}, not {list(models)}")
    if int(ck["config"]["m_in_dim"]) != vecs.shape[1]:
        raise ConfigError(f"the {router} checkpoint {path} takes {ck['config']['m_in_dim']}-d profiles; the given "
                          f"profile is {vecs.shape[1]}-d")
    lr.net, lr.ckpt = net.to(device), ck
    dev = torch.device(device)
    with torch.no_grad():
        if router == "mlp":
            lr._cache["m"] = net.embed_models(torch.as_tensor(vecs, device=dev))
            return lr
        states = None if new_candidates else ck.get("model_states")
        if states:
            lr.states_from = "checkpoint"
            states = [torch.as_tensor(h, device=dev) for h in states]
        else:
            lr.states_from = "training graph"
            states = _graph_model_states(lr, train, train_vecs, test_vecs)
        lr._cache["states"] = states
        lr._cache["att"] = net.attached_cache(states)
    return lr


def _fit_router(lr: LoadedRouter, config, train, train_vecs, cards, card_models, tasks) -> None:
    """Refit a prior/knn/residual/blend router from its training signal and recorded configuration."""
    if config is None:
        raise ConfigError(f"a {lr.router} run is refitted at load and needs its recorded configuration",
                          hint="rerun it with --force")
    train_vecs = train_vecs() if callable(train_vecs) else train_vecs
    if train is None or train_vecs is None or len(train) == 0:
        raise ConfigError(f"a {lr.router} run needs its training signal and training-query embeddings to be loaded")
    if list(train.models) != list(lr.models):
        raise ConfigError(f"the training signal's candidates {list(train.models)} are not {list(lr.models)}")
    qv = np.asarray(train_vecs)
    cm = list(card_models or lr.models)
    lr._cache["dim"] = qv.shape[1]
    if lr.router in ("prior", "knn"):
        from rpcli.core.routers.knn import KNNConfig, fit

        cfg = KNNConfig(**{k: v for k, v in config.items() if k in KNNConfig.__dataclass_fields__})
        lr._cache["knn"] = fit(qv, train.labels, train.tasks, train.pairs, lr.models, cards or None, cm, cfg,
                               tasks=list(dict.fromkeys(tasks or [])))
        return
    from rpcli.core.routers import residual as R

    cls = R.BlendConfig if lr.router == "blend" else R.ResidualConfig
    cfg = cls(**{k: v for k, v in config.items() if k in cls.__dataclass_fields__})
    routing = list(dict.fromkeys(tasks or train.tasks))
    _, _, fr, fk = R.build(None, cfg, 0, qv, train, lr.models, cards or None, cm, routing, [], "")
    lr._cache["residual"] = (cfg, fr, fk)


def _fitted_scores(lr: LoadedRouter, q: np.ndarray, tasks) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    if tasks is not None:
        tasks = [str(t) for t in tasks]
        if len(tasks) != len(q):
            raise ValueError(f"{len(tasks)} task names for {len(q)} queries")
    if "knn" in lr._cache:
        from rpcli.core.routers.knn import scores

        return scores(lr._cache["knn"], q, tasks)
    from rpcli.core.routers.residual import score_any

    cfg, fr, fk = lr._cache["residual"]
    return score_any(cfg, fr, fk, q, tasks)


def _graph_model_states(lr: LoadedRouter, train, train_vecs, test_vecs) -> list:
    """The models' states entering each GAT layer and leaving the last ([L + 1] x [K, H]) on the run's training
    graph: the member queries (the seed's training split, labeled queries only; transductive: every training query
    and every test row) exchange messages with the models."""
    import torch

    from rpcli.core.routers.graph import _unit
    from rpcli.core.routers.training import split_queries

    train_vecs = train_vecs() if callable(train_vecs) else train_vecs
    if train is None or train_vecs is None:
        raise ConfigError("a graph run whose checkpoint has no model states needs its training signal and "
                          "training-query embeddings to be loaded")
    cfg = lr.config
    labels = np.asarray(train.labels)
    Q = labels.shape[0]
    if len(train_vecs) != Q:
        raise ConfigError(f"{len(train_vecs)} training-query embeddings for {Q} training queries")
    tr_q, _ = split_queries(Q, float(cfg.get("val_split", 0.1)), lr.seed)
    tr_q = tr_q[(~np.isnan(labels[tr_q])).any(axis=1)]
    lr.n_train_members = int(tr_q.size)
    member_vecs = np.asarray(train_vecs, dtype=np.float32)[tr_q]
    if cfg.get("transductive"):
        test_vecs = test_vecs() if callable(test_vecs) else test_vecs
        if test_vecs is None:
            raise ConfigError("a transductive graph run needs its test rows' embeddings to be loaded")
        member_vecs = np.concatenate([np.asarray(train_vecs, dtype=np.float32), np.asarray(test_vecs, np.float32)])
    dev = torch.device(lr.device)
    xm = torch.as_tensor(lr.profile_vecs, device=dev)
    xq = torch.as_tensor(_unit(member_vecs), device=dev)
    return lr.net.model_states(xm, xq, torch.arange(len(member_vecs), device=dev))


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

"""A recorded router run, loaded once to route new queries: `load_router(run_dir) -> LoadedRouter`.

`LoadedRouter.scores(query_vecs [B, Dq]) -> [B, K]` takes raw query embeddings from the run's encoder
(`encoder_id`; texts prepared with `query_text`, see rpcli.core.routers.query_text) and returns the scores the run
itself gave those queries: argmax (ties to the first model, `choose`) is the routing decision. Everything that
does not depend on the query is computed once at load:

| router | cached at load                           | per query                                     |
|--------|------------------------------------------|-----------------------------------------------|
| sim    | the L2-normalised profile vectors [K, D] | one normalisation and a [B, D] x [D, K] product |
| mlp    | the model tower's embeddings [K, out]    | the query tower and a product                 |
| graph  | the model states entering each GAT layer (saved in ckpt.pt as `model_states`) | the query's own path through the layers against those states, then the edge MLP |

A GraphRouter query is scored as an attached query (it receives messages from the models and sends none), which
is exactly how the run scored its test rows in the inductive layout; in the transductive layout the test rows were
members, whose own states are computed the same way, so the recorded predictions are reproduced in both.

The run directory is `<workspace>/runs/<run-id>/`; its recipe (router, mode, query_text, seeds, profile) comes
from the workspace manifest. Trained routers load `ckpt.pt` (`ckpt.seed{seed}.pt` for a multi-seed run; the first
seed unless `seed` is given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rpcli.errors import ConfigError

ROUTERS = ("sim", "mlp", "graph")


@dataclass
class LoadedRouter:
    run_id: str
    router: str
    mode: str
    query_text: str  # how query texts are prepared before encoding ("formatted" or "raw")
    encoder_id: str | None  # the encoder the run's query vectors came from
    models: list  # candidate order: column j of `scores` is models[j]
    seed: int
    profile_id: str
    _score: Callable = field(repr=False, default=None)

    def scores(self, query_vecs) -> np.ndarray:
        """[B, K] float64 scores of raw query embeddings [B, Dq] (a single [Dq] vector is one query)."""
        q = np.asarray(query_vecs, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        return self._score(q)

    def choose(self, query_vecs) -> np.ndarray:
        """[B] index into `models` of the chosen model (the first among ties)."""
        return np.argmax(self.scores(query_vecs), axis=1)


def _seed_file(name: str, seeds: list, seed: int) -> str:
    if len(seeds) == 1:
        return name
    stem, _, ext = name.rpartition(".")
    return f"{stem}.seed{seed}.{ext}"


def load_router(run_dir, seed: int | None = None) -> LoadedRouter:
    """Load the run in `run_dir` (`<workspace>/runs/<run-id>`) for routing; see the module docstring."""
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import get_entry

    run_dir = Path(run_dir)
    ws = Workspace(run_dir.resolve().parent.parent)
    entry = get_entry(ws, run_dir.name, "run")
    params = entry["params"]
    router, seeds = params["router"], list(params.get("seeds") or [0])
    if router not in ROUTERS:
        raise ConfigError(f"run {entry['id']} uses router {router!r}; load_router knows {', '.join(ROUTERS)}")
    if seed is None:
        seed = seeds[0]
    if seed not in seeds:
        raise ConfigError(f"run {entry['id']} has no seed {seed} (its seeds: {', '.join(map(str, seeds))})")
    profile_id = entry["parents"][0]
    names, vecs = load_profile(ws.artifact_dir(profile_id) / PROFILE_FILE)
    models = list((entry.get("info") or {}).get("models") or names)
    if models != list(names):
        raise ConfigError(f"run {entry['id']}: its models differ from those of profile {profile_id}")
    encoder_id = (entry.get("encoder") or {}).get("id")
    base = dict(run_id=entry["id"], router=router, mode=params["mode"], query_text=params.get("query_text", "formatted"),
                encoder_id=encoder_id, models=models, seed=int(seed), profile_id=profile_id)
    if router == "sim":
        return LoadedRouter(**base, _score=_sim_scorer(vecs))
    from rpcli.core.routers.run import CKPT_FILE

    path = run_dir / _seed_file(CKPT_FILE, seeds, seed)
    if not path.is_file():
        raise ConfigError(f"{path} is missing: run {entry['id']} has no checkpoint for seed {seed}",
                          hint=f"rebuild it: rp route {router} ... --force")
    if router == "mlp":
        return LoadedRouter(**base, _score=_mlp_scorer(path, vecs))
    return LoadedRouter(**base, _score=_graph_scorer(path, vecs))


def _sim_scorer(profile_vecs: np.ndarray) -> Callable:
    from rpcli.core.routers.sim import _unit, sim_scores

    unit = _unit(profile_vecs)

    def score(q):
        if q.shape[1] != unit.shape[1]:
            sim_scores(profile_vecs, q)  # raises the router's own error
        return _unit(q) @ unit.T
    return score


def _check_width(q, want: int, what: str) -> None:
    if q.shape[1] != want:
        raise ConfigError(f"{what} expects {want}-d query embeddings, got {q.shape[1]}-d",
                          hint="encode the queries with the run's encoder (LoadedRouter.encoder_id)")


def _mlp_scorer(path: Path, profile_vecs: np.ndarray) -> Callable:
    import torch

    from rpcli.core.routers.mlp import load_checkpoint

    model, ck = load_checkpoint(path)
    with torch.no_grad():
        m = model.embed_models(torch.as_tensor(np.asarray(profile_vecs, dtype=np.float32)))
    want = int(ck["config"]["q_in_dim"])

    def score(q):
        _check_width(q, want, "this MLPRouter")
        with torch.inference_mode():
            return (model.embed_queries(torch.as_tensor(q)) @ m.T).double().numpy()
    return score


def _graph_scorer(path: Path, profile_vecs: np.ndarray) -> Callable:
    import torch

    from rpcli.core.routers.graph import _unit, load_checkpoint

    model, ck = load_checkpoint(path)
    states = ck.get("model_states")
    if not states:
        raise ConfigError(f"{path} has no cached model states (written before they were saved with the checkpoint)",
                          hint="rebuild the run with --force to route new queries with it")
    want = int(ck["config"]["q_in_dim"])
    with torch.no_grad():
        cache = model.attached_cache(states)

    def score(q):
        _check_width(q, want, "this GraphRouter")
        with torch.inference_mode():
            return model.attached_logits(states, torch.as_tensor(_unit(q)), cache=cache).double().numpy()
    return score

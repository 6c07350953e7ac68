"""MLPRouter (spec §5.3): two MLP towers (query, profile) trained with a pairwise margin ranking loss."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, Router, option
from rpcli.core.plugins.routers._torch import TrainOptions, load_net


@dataclass
class MLPOptions(TrainOptions):
    epochs: int = option(20, "Training epochs (the original's default is 20).", min=1)
    hidden: int = option(512, "Hidden width of both towers.", min=1)
    out: int = option(256, "Output width of both towers.", flag="--out-dim", min=1)
    layers: int = option(2, "Linear layers per tower.", min=1)
    patience: int = option(5, "Stop after this many epochs without a better val loss (0: never).", min=0)


class _Scorer:
    def __init__(self, lr) -> None:
        import torch

        self.lr = lr
        self.query_dim = int(lr.ckpt["config"]["q_in_dim"])
        with torch.no_grad():
            self.m = lr.net.embed_models(torch.as_tensor(lr.profile_vecs, device=torch.device(lr.device)))

    def scores(self, q, tasks=None, batch: int = 4096):
        import numpy as np
        import torch

        q = np.asarray(q, dtype=np.float32)
        with torch.inference_mode():
            out = [(self.lr.net.embed_queries(torch.as_tensor(q[s0:s0 + batch], device=self.lr.device)) @ self.m.T)
                   .double().cpu().numpy() for s0 in range(0, len(q), batch)]
        return np.concatenate(out)

    def checkpoint(self):
        return {**self.lr.ckpt, "model_names": list(self.lr.models),
                "trained_on_models": list(self.lr.ckpt.get("model_names", []))}


class MLPRouter(Router):
    name = "mlp"
    Config = MLPOptions
    caps = Capabilities(seeded=True, checkpoint=True, device=True, new_model="profile")
    order = 20
    title = "MLP"
    summary = "MLPRouter: query and profile towers trained with a pairwise margin ranking loss."
    description = ("MLPRouter: two MLP towers (query, profile) trained with a pairwise margin ranking loss on the "
                   "mode's pairs.\n\nValidation is split by query, unique queries are encoded once, the towers take "
                   "different input widths, and one self-describing ckpt.pt is written per seed.")
    example = "rp route mlp --profile profile-0d9e --mode standard --seeds 0,1,2"

    def run(self, ctx, opts, seed):
        from rpcli.core.routers.mlp import run

        return run(ctx, opts, seed)

    def load(self, run_dir, ctx, *, seed=0, n_seeds=1, opts=None, recorded=None, new_candidates=False):
        from rpcli.core.routers.mlp import load_checkpoint

        lr = load_net(run_dir, seed, n_seeds, self.name, ctx, new_candidates, load_checkpoint)
        lr.scorer = _Scorer(lr)
        return lr

    def reroute_info(self, lr, recorded: dict) -> dict:
        """What `rp model add` records of a seed routed to a new candidate set without retraining."""
        return {"best_epoch": lr.ckpt.get("best_epoch")}


ROUTER = MLPRouter()

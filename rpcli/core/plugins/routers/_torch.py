"""The options the study's trained routers (mlp, graph) share, and loading their checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rpcli.core.plugin import option
from rpcli.errors import ConfigError


@dataclass
class TrainOptions:
    lr: float = option(1e-4, "Learning rate (cosine schedule).")
    dropout: float = option(0.1, "Dropout.", min=0.0, max=0.99)
    batch_size: int = option(32, "Training examples per step.", min=1)
    val_split: float = option(0.1, "Share of training queries held out for validation (split by query).",
                              min=0.0, max=0.9)


def load_net(run_dir, seed: int, n_seeds: int, name: str, ctx, new_candidates: bool, load_checkpoint):
    """A LoadedRouter holding the net (on ctx.device) and checkpoint of a seed's ckpt.pt, checked against the
    candidates and the profile width; its scorer is the caller's to set."""
    from rpcli.core.routers.inference import LoadedRouter, checkpoint_file

    path = checkpoint_file(Path(run_dir), seed, n_seeds)
    if not path.is_file():
        raise ConfigError(f"{path} is absent: the run has no checkpoint for seed {seed}",
                          hint=f"rebuild it: rp route {name} ... --force")
    net, ck = load_checkpoint(path)
    trained_on = list(ck.get("model_names", []))
    if not new_candidates and trained_on != list(ctx.models):
        raise ConfigError(f"{path} was trained on candidates {trained_on}, not {list(ctx.models)}")
    width = int(ctx.profile_vecs.shape[1])
    if int(ck["config"]["m_in_dim"]) != width:
        raise ConfigError(f"the {name} checkpoint {path} takes {ck['config']['m_in_dim']}-d profiles; the given "
                          f"profile is {width}-d")
    lr = LoadedRouter(router=name, models=list(ctx.models), profile_vecs=ctx.profile_vecs, seed=int(seed),
                      device=ctx.device)
    lr.net, lr.ckpt = net.to(ctx.device), ck
    return lr

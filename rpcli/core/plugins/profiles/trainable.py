"""trainable (spec §4.5): a HANConv encoder trained by masked-node reconstruction plus edge-score regression.

The defaults are the trainer's own (rpcli.core.profiles.trainable_config.TrainConfig, torch-free); its fields that
are not options here (weight_decay, dropout, grad_clip) are fixed."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import ProfileMethod, option
from rpcli.core.plugins.profiles import SEED_MAX
from rpcli.core.profiles.trainable_config import SELECT, TrainConfig

_T = TrainConfig()


@dataclass
class TrainableOptions:
    hidden: int = option(_T.hidden, "Hidden width of the inner HANConv layers.", min=1)
    heads: int = option(_T.heads, "Attention heads of the inner layers (must divide --hidden; the last layer has 1).",
                        min=1)
    layers: int = option(_T.layers, "Number of HANConv layers.", min=1)
    epochs: int = option(_T.epochs, "Full-batch training epochs.", min=1)
    lr: float = option(_T.lr, "AdamW learning rate (cosine schedule down to 0.05 lr).")
    node_mask_rate: float = option(_T.node_mask_rate, "Share of nodes masked per epoch.")
    edge_mask_rate: float = option(_T.edge_mask_rate, "Share of scored edges whose score is regressed per epoch.")
    edge_loss_w: float = option(_T.edge_loss_w, "Weight of the edge-score loss.")
    out_dim: int | None = option(_T.out_dim, "Output width (default: the encoder's; another width cannot be routed "
                                 "by sim).", min=1)
    select: str = option(_T.select, "train-loss: keep the lowest training loss (faithful); val: keep the lowest "
                         "loss on a seeded held-out set of nodes and edges.", choices=SELECT)
    seed: int = option(_T.seed, "Seed for python, numpy and torch.", min=0, max=SEED_MAX)


class Trainable(ProfileMethod):
    name = "trainable"
    Config = TrainableOptions
    default_graph = "task"
    learns_scores = True
    order = 50
    summary = "HANConv encoder trained by masked-node reconstruction plus edge-score regression; saves ckpt.pt."
    example = "rp profile trainable --mode standard --epochs 100 --select val"

    def build(self, env, graph, names, opts, out_dir, runtime):
        from rpcli.core.profiles.trainable import TrainConfig, save_checkpoint, train_trainable

        vecs, ckpt, info = train_trainable(graph, names, TrainConfig(**opts), device=env.device,
                                           progress=env.progress, hidden=runtime.get("hidden", frozenset()))
        return vecs, {**info, "checkpoint": save_checkpoint(ckpt, out_dir)}


METHOD = Trainable()

"""trainable: a HANConv encoder trained by GraphMAE-style masked-node reconstruction plus edge-score regression
(spec §4.5; fixes from §9.2 item 4 behind options).

Encoder: layers 1..L-1 are HANConv(-> hidden, heads) + ELU; the last is HANConv(-> out_dim, heads=1) with no
activation; attention dropout 0.1; output L2-normalised per node; a node type with no output gets zeros.
Trainable extras: one mask token per node type ~ N(0, 0.02^2) of size in_dim; per-type node decoders
Linear(out, out) -> ELU -> Linear(out, in); an edge decoder Linear(2 out, out) -> ELU -> Linear(out, 1) -> Sigmoid
on [z_src, z_dst].

Each epoch (full batch): every node is masked with p = node_mask_rate (its x replaced by its type's token) and
every scored edge with p = edge_mask_rate (masked scores never reach the encoder: HANConv ignores edge_attr, so this
is score regression on those edges). node_loss = MSE(decoded masked nodes, raw x), averaged over the types with a
masked node; edge_loss = MSE(predicted, min-max normalised score) on the masked edges, averaged over scored edge
types (each direction is its own type); total = node_loss + edge_loss_w * edge_loss. AdamW (wd 1e-4), gradient
clipping at 1.0, cosine schedule (T_max = epochs, eta_min = 0.05 lr).

| select             | which state is kept                                                                       |
|--------------------|-------------------------------------------------------------------------------------------|
| train-loss (faith.)| the lowest total training loss seen (noisy: the masks are random)                         |
| val                | a seeded validation set of nodes (node_mask_rate of each type, at least one where a type  |
|                    | has >= 2 nodes) and scored edges (edge_mask_rate; both directions of a pair together) is   |
|                    | never a training target; after each step the model is evaluated (no dropout) with exactly  |
|                    | those nodes masked and those edges scored, and the lowest validation loss is kept          |

Unlike the original, out_dim may differ from in_dim (the vectors then are not in the encoder's space: SimRouter
refuses them, projecting routers accept them). Everything is seeded (python, numpy, torch inside a forked RNG
state; deterministic algorithms while training), so the same seed gives the same vectors on the same machine.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import HANConv

from rpcli.core.fit import Epoch, fit, optimizer_step, seeded, train_threads
from rpcli.core.progress import NullProgress
from rpcli.errors import ConfigError

from rpcli.core.profiles.trainable_config import CKPT_FILE, SELECT, TrainConfig, validate_config  # noqa: F401


class Encoder(nn.Module):
    """`layers` HANConv layers over a heterogeneous graph; ELU between layers; L2-normalised outputs.

    Args:
        in_dim: node feature width (shared by every node type); out_dim: output width.
        cfg: TrainConfig (hidden, heads, layers, dropout); metadata: (node types, edge types).

    Shapes: forward(x_dict {type: [N_type, in_dim]}, edge_index_dict {edge type: [2, E]})
    -> {type: [N_type, out_dim]}; a node type no layer writes to gets zeros.
    """

    def __init__(self, in_dim: int, out_dim: int, cfg: TrainConfig, metadata) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        d = in_dim
        for _ in range(cfg.layers - 1):
            self.convs.append(HANConv(d, cfg.hidden, metadata, heads=cfg.heads, dropout=cfg.dropout))
            d = cfg.hidden
        self.convs.append(HANConv(d, out_dim, metadata, heads=1, dropout=cfg.dropout))

    def forward(self, x_dict, edge_index_dict):
        h = x_dict
        for i, conv in enumerate(self.convs):
            out = conv(h, edge_index_dict)
            width = conv.out_channels
            h = {t: (out.get(t) if out.get(t) is not None else x.new_zeros(x.shape[0], width)) for t, x in h.items()}
            if i < len(self.convs) - 1:
                h = {t: F.elu(v) for t, v in h.items()}
        return {t: F.normalize(v, p=2, dim=1) for t, v in h.items()}


def _modules(in_dim: int, out_dim: int, cfg: TrainConfig, metadata):
    """(encoder, per-type node decoders [out -> in], edge decoder [2 out -> 1], per-type mask tokens [in])."""
    node_types, _ = metadata
    encoder = Encoder(in_dim, out_dim, cfg, metadata)
    node_dec = nn.ModuleDict({t: nn.Sequential(nn.Linear(out_dim, out_dim), nn.ELU(), nn.Linear(out_dim, in_dim))
                              for t in node_types})
    edge_dec = nn.Sequential(nn.Linear(2 * out_dim, out_dim), nn.ELU(), nn.Linear(out_dim, 1), nn.Sigmoid())
    mask_tokens = nn.ParameterDict({t: nn.Parameter(torch.randn(in_dim) * 0.02) for t in node_types})
    return encoder, node_dec, edge_dec, mask_tokens


def _minmax(a, keep=None):
    """Scores [E] (or [E, 1]) min-max scaled to [0, 1] over the entries `keep` (all when None); zeros when constant."""
    a = a.reshape(-1).float()
    ref = a if keep is None else a[keep]
    if ref.numel() == 0:
        return a.new_zeros(a.shape)
    lo, hi = ref.min(), ref.max()
    if float(hi - lo) < 1e-8:
        return a.new_zeros(a.shape)
    return (a - lo) / (hi - lo)


def _val_sets(graph, scored, cfg: TrainConfig, gen):
    """Seeded validation masks: {ntype: bool[N]} and {edge type: bool[E]}, both directions of a pair together."""
    vnodes = {}
    for t in graph.node_types:
        n = graph.num_nodes(t)
        k = 0 if n < 2 else max(1, int(round(cfg.node_mask_rate * n)))
        m = torch.zeros(n, dtype=torch.bool)
        if k:
            m[torch.randperm(n, generator=gen)[:k]] = True
        vnodes[t] = m
    vedges, pairs = {}, {}
    for et in scored:
        s, _, t = et
        ei = graph.edge_index[et]
        keys = [tuple(sorted([(s, int(a)), (t, int(b))])) for a, b in zip(ei[0].tolist(), ei[1].tolist())]
        fresh = [k for k in keys if k not in pairs]
        if fresh:
            n = len(fresh)
            k = 0 if n < 2 else max(1, int(round(cfg.edge_mask_rate * n)))
            chosen = set(torch.randperm(n, generator=gen)[:k].tolist())
            for i, key in enumerate(fresh):
                pairs[key] = i in chosen
        vedges[et] = torch.tensor([pairs[k] for k in keys], dtype=torch.bool)
    return vnodes, vedges


def train_trainable(graph, names: list[str], cfg: TrainConfig, device: str = "cpu", progress=None,
                    hidden=frozenset()):
    """Train on `graph` and return (vectors [len(names), out_dim] float32, checkpoint dict, info dict).
    `hidden`: (model, task) pairs whose score edges are never a regression target (newllm's held-out model on the
    routing tasks, rpcli.core.data.held_out); the edges still carry messages."""
    import torch

    progress = progress or NullProgress()
    validate_config(cfg)
    in_dims = {graph.x[t].shape[1] for t in graph.node_types}
    if len(in_dims) != 1:
        raise ConfigError(f"all node types must share one feature width, got {sorted(in_dims)}")
    in_dim = in_dims.pop()
    out_dim = int(cfg.out_dim or in_dim)
    node_types = list(graph.node_types)
    edge_types = [et for et, ei in graph.edge_index.items() if ei.shape[1] > 0]
    if not edge_types:
        raise ConfigError("the graph has no edges: HANConv has nothing to propagate")
    metadata = (node_types, edge_types)
    scored = [et for et in edge_types if graph.edge_attr.get(et) is not None]

    # Small graphs train single-threaded on the CPU (see rpcli.core.fit.train_threads).
    threads = train_threads(device, sum(graph.num_nodes(t) for t in node_types) * in_dim)
    with seeded(cfg.seed, device, threads):
        vecs, ckpt, info = _train(graph, names, cfg, torch.device(device), progress, in_dim, out_dim, node_types,
                                  edge_types, metadata, scored, hidden)
    info["threads"] = threads
    return vecs, ckpt, info


def _train(graph, names, cfg, dev, progress, in_dim, out_dim, node_types, edge_types, metadata, scored,
           hidden=frozenset()):
    import torch

    from rpcli.core.data.held_out import hidden_edges

    x = {t: graph.x[t].float().to(dev) for t in node_types}
    ei = {et: graph.edge_index[et].long().to(dev) for et in edge_types}
    learnable = {et: ~torch.tensor(hidden_edges(graph, et, hidden), dtype=torch.bool) for et in scored}
    target = {et: _minmax(graph.edge_attr[et], learnable[et]).to(dev) for et in scored}

    encoder, node_dec, edge_dec, mask_tokens = _modules(in_dim, out_dim, cfg, metadata)
    mods = torch.nn.ModuleList([encoder, node_dec, edge_dec])
    mods.to(dev)
    mask_tokens.to(dev)
    params = list(mods.parameters()) + list(mask_tokens.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs, eta_min=0.05 * cfg.lr)

    gen = torch.Generator().manual_seed(cfg.seed)  # masks are drawn on the CPU: identical across devices
    vnodes = vedges = None
    if cfg.select == "val":
        vnodes, vedges = _val_sets(graph, scored, cfg, torch.Generator().manual_seed(cfg.seed + 1))
        vedges = {et: m & learnable[et] for et, m in vedges.items()}

    def losses(node_mask: dict, edge_mask: dict):
        xin = {t: torch.where(node_mask[t].to(dev).unsqueeze(1), mask_tokens[t].unsqueeze(0), x[t])
               for t in node_types}
        z = encoder(xin, ei)
        nl = [F.mse_loss(node_dec[t](z[t][node_mask[t].to(dev)]), x[t][node_mask[t].to(dev)])
              for t in node_types if bool(node_mask[t].any())]
        el = []
        for et in scored:
            m = edge_mask[et].to(dev)
            if not bool(m.any()):
                continue
            src, dst = ei[et][0][m], ei[et][1][m]
            pred = edge_dec(torch.cat([z[et[0]][src], z[et[2]][dst]], dim=1)).reshape(-1)
            el.append(F.mse_loss(pred, target[et][m]))
        node_loss = torch.stack(nl).mean() if nl else x[node_types[0]].new_zeros(())
        edge_loss = torch.stack(el).mean() if el else x[node_types[0]].new_zeros(())
        return node_loss + cfg.edge_loss_w * edge_loss, node_loss, edge_loss

    def snapshot():
        return {"encoder": copy.deepcopy(encoder.state_dict()), "node_decoder": copy.deepcopy(node_dec.state_dict()),
                "edge_decoder": copy.deepcopy(edge_dec.state_dict()),
                "mask_tokens": copy.deepcopy(mask_tokens.state_dict())}

    def step(epoch: int) -> Epoch:
        mods.train()
        nmask, emask = {}, {}
        for t in node_types:
            m = torch.rand(graph.num_nodes(t), generator=gen) < cfg.node_mask_rate
            nmask[t] = m & ~vnodes[t] if vnodes is not None else m
        for et in scored:
            m = (torch.rand(ei[et].shape[1], generator=gen) < cfg.edge_mask_rate) & learnable[et]
            emask[et] = m & ~vedges[et] if vedges is not None else m
        total, nl, el = losses(nmask, emask)
        optimizer_step(total, opt, params, cfg.grad_clip)
        sched.step()
        loss = float(total.detach())
        curves = {"loss": loss, "node": float(nl.detach()), "edge": float(el.detach())}
        crit = loss
        if vnodes is not None:
            mods.eval()
            with torch.no_grad():
                crit = float(losses(vnodes, vedges)[0])
            curves["val"] = crit
        return Epoch(key=-crit, curves=curves, values={"loss": crit},
                     note=f"epoch {epoch:03d} loss {loss:.4f}" + (f" val {crit:.4f}" if vnodes is not None else ""))

    res = fit(step, epochs=cfg.epochs, snapshot=snapshot, progress=progress, description="training HANConv")
    best, best_epoch, best_state = res.best.values["loss"], res.best_epoch, res.best_state
    curve, val_curve = res.curves["loss"], res.curves.get("val", [])
    node_curve, edge_curve = res.curves["node"], res.curves["edge"]
    encoder.load_state_dict(best_state["encoder"])
    encoder.eval()
    with torch.no_grad():
        z = encoder(x, ei)
    idx = graph.node_index("model")
    vecs = z["model"][[idx[n] for n in names]].cpu().numpy().astype(np.float32)

    config = {**asdict(cfg), "in_dim": int(in_dim), "out_dim": out_dim, "hidden_dim": cfg.hidden,
              "num_layers": cfg.layers,
              "metadata": {"node_types": list(node_types), "edge_types": [list(et) for et in edge_types]},
              "scored_edge_types": [list(et) for et in scored]}
    ckpt = {"best_loss": float(best), "best_epoch": int(best_epoch), "select": cfg.select,
            **{k: {n: t.detach().cpu() for n, t in v.items()} for k, v in best_state.items()},
            "config": config, "loss_curve": curve, "val_curve": val_curve}
    info = {"loss_curve": curve, "node_loss_curve": node_curve, "edge_loss_curve": edge_curve,
            "best_epoch": int(best_epoch), "best_loss": round(float(best), 6), "select": cfg.select,
            "out_dim": out_dim, "in_dim": int(in_dim), "device": str(dev)}
    n_hidden = sum(int((~m).sum()) for m in learnable.values())
    if n_hidden:
        info["held_out_score_edges_excluded"] = n_hidden
    if vnodes is not None:
        info["val_curve"] = val_curve
        info["val_set"] = {"nodes": {t: int(m.sum()) for t, m in vnodes.items()},
                           "edges": {"__".join(et): int(m.sum()) for et, m in vedges.items()}}
    return vecs, ckpt, info


def save_checkpoint(ckpt: dict, out_dir) -> str:
    """Write the checkpoint of `train_trainable` as CKPT_FILE in `out_dir`; returns the file name."""
    torch.save(ckpt, Path(out_dir) / CKPT_FILE)
    return CKPT_FILE


def load_checkpoint(path):
    """Rebuild (encoder, node_decoder, edge_decoder, mask_tokens, config) from a ckpt.pt written by this module."""
    ck = torch.load(path, weights_only=True, map_location="cpu")
    c = ck["config"]
    cfg = TrainConfig(**{k: c[k] for k in TrainConfig.__dataclass_fields__ if k in c})
    metadata = (c["metadata"]["node_types"], [tuple(et) for et in c["metadata"]["edge_types"]])
    encoder, node_dec, edge_dec, mask_tokens = _modules(c["in_dim"], c["out_dim"], cfg, metadata)
    encoder.load_state_dict(ck["encoder"])
    node_dec.load_state_dict(ck["node_decoder"])
    edge_dec.load_state_dict(ck["edge_decoder"])
    mask_tokens.load_state_dict(ck["mask_tokens"])
    return encoder, node_dec, edge_dec, mask_tokens, c

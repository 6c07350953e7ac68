"""MLPRouter (spec §5.3): two towers trained with a pairwise margin ranking loss.

`score(q, m) = <query_mlp(q), model_mlp(p_m)>` where both towers end in L2 normalisation (so the score is a cosine).
Each tower is `Linear(in, hidden) -> LayerNorm -> ELU -> Dropout -> ... -> Linear(hidden, out)`.

Faithful: the defaults (hidden 512, out 256, 2 layers, dropout 0.1, margin 0.2, AdamW lr 1e-4 wd 1e-4, clip 1.0,
cosine schedule to 0.1 lr stepped per epoch, 20 epochs, batch 32, 10% validation, best val loss kept), the raw
(not normalised) query embedding, the raw profile vectors.

Fixed (spec §9.2 item 5): the towers have separate input widths (profiles need not match the query encoder), the
validation split is by query (no query has pairs on both sides), unique queries are encoded once (through the
shared cache), training stops early after `patience` epochs without a better val loss (0 = never).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rpcli.core.fit import Epoch, fit, seeded, state_copy, train_batches, train_threads
from rpcli.core.routers.training import TrainingSignal, split_queries
from rpcli.errors import TrainingDataError

CKPT_FORMAT = "rp-mlp-router/1"


@dataclass
class MLPConfig:
    hidden: int = 512
    out: int = 256
    layers: int = 2
    dropout: float = 0.1
    margin: float = 0.2
    lr: float = 1e-4
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    epochs: int = 20
    batch_size: int = 32
    val_split: float = 0.1
    patience: int = 5


def validate(cfg: MLPConfig) -> None:
    from rpcli.core.routers.training import validate_common

    validate_common(cfg, ("hidden", "out", "layers", "epochs", "batch_size"))


class MLPRouterNet(nn.Module):
    """Two towers and a cosine score.

    Args:
        q_in: query embedding width; m_in: profile width.
        cfg: MLPConfig (hidden, out, layers, dropout).

    Shapes: forward(q [B, q_in], p [K, m_in]) -> scores [B, K]; embed_queries [B, out], embed_models [K, out]
    (both L2-normalised).
    """

    def __init__(self, q_in: int, m_in: int, cfg: MLPConfig) -> None:
        super().__init__()
        self.query_mlp = _tower(q_in, cfg.hidden, cfg.out, cfg.layers, cfg.dropout)
        self.model_mlp = _tower(m_in, cfg.hidden, cfg.out, cfg.layers, cfg.dropout)

    def embed_queries(self, q):
        return F.normalize(self.query_mlp(q), dim=-1)

    def embed_models(self, p):
        return F.normalize(self.model_mlp(p), dim=-1)

    def forward(self, q, p):
        return self.embed_queries(q) @ self.embed_models(p).T


def _tower(in_dim: int, hidden: int, out: int, layers: int, dropout: float) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = in_dim
    for i in range(layers):
        last = i == layers - 1
        mods.append(nn.Linear(d, out if last else hidden))
        if not last:
            mods += [nn.LayerNorm(hidden), nn.ELU(), nn.Dropout(dropout)]
        d = hidden
    return nn.Sequential(*mods)


def build_model(q_in: int, m_in: int, cfg: MLPConfig) -> MLPRouterNet:
    return MLPRouterNet(q_in, m_in, cfg)


def _margin_loss(s, trip, margin: float):
    q, b, w = trip[:, 0], trip[:, 1], trip[:, 2]
    sb, sw = s[q, b], s[q, w]
    return torch.relu(margin - sb + sw).mean(), (sb > sw).float().mean()


def train_mlp(sig: TrainingSignal, query_vecs: np.ndarray, profile_vecs: np.ndarray, cfg: MLPConfig, seed: int,
              device: str = "cpu", progress=None):
    """Train on the signal's pairs. `query_vecs` [Q, Dq] are the signal's query embeddings, `profile_vecs` [K, Dp]
    the candidates' profiles. Returns (model in eval mode, checkpoint dict, info dict)."""
    validate(cfg)
    if sig.pairs.shape[0] == 0:
        raise TrainingDataError("MLPRouter has no training pairs (none of the mode's pairs names two profile models)",
                                hint="check that the profile holds the routing candidates")
    if query_vecs.shape[0] != len(sig):
        raise TrainingDataError(f"{query_vecs.shape[0]} query embeddings for {len(sig)} training queries")
    dev = torch.device(device)
    t0, c0 = time.time(), time.process_time()
    threads = train_threads(device, int(query_vecs.shape[0] * query_vecs.shape[1]))
    with seeded(seed, device, threads):
        tr_q, va_q = split_queries(len(sig), cfg.val_split, seed)
        in_val = np.zeros(len(sig), dtype=bool)
        in_val[va_q] = True
        trip = torch.as_tensor(sig.pairs, dtype=torch.long)
        is_val = torch.as_tensor(in_val[sig.pairs[:, 0]])
        tr, va = trip[~is_val], trip[is_val]
        if tr.shape[0] == 0:
            raise TrainingDataError("the training split has no pairs", hint="lower --val-split")
        X = torch.as_tensor(np.asarray(query_vecs, dtype=np.float32), device=dev)
        P = torch.as_tensor(np.asarray(profile_vecs, dtype=np.float32), device=dev)
        model = build_model(X.shape[1], P.shape[1], cfg).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs, eta_min=0.1 * cfg.lr)
        gen = torch.Generator().manual_seed(seed)

        def batch_loss(t):
            uq, inv = torch.unique(t[:, 0], return_inverse=True)
            s = model(X[uq.to(dev)], P)
            loc = torch.stack([inv.to(dev), t[:, 1].to(dev), t[:, 2].to(dev)], dim=1)
            return _margin_loss(s, loc, cfg.margin)

        def step(epoch: int) -> Epoch:
            model.train()
            perm = tr[torch.randperm(tr.shape[0], generator=gen)]
            batches = (perm[s0:s0 + cfg.batch_size] for s0 in range(0, perm.shape[0], cfg.batch_size))
            train_loss = train_batches(batches, lambda b: batch_loss(b)[0], opt, model.parameters(), cfg.grad_clip)
            sched.step()
            curves = {"train": train_loss}
            if va.shape[0]:
                model.eval()
                with torch.no_grad():
                    vl, vacc = (float(v) for v in batch_loss(va))
                curves.update(val=vl, val_acc=vacc)
            else:
                vl, vacc = train_loss, None
            return Epoch(key=-vl, curves=curves, values={"loss": vl, "acc": vacc},
                         note=f"epoch {epoch:03d} train {train_loss:.4f} val {vl:.4f}"
                              + (f" acc {vacc:.3f}" if vacc is not None else ""))

        res = fit(step, epochs=cfg.epochs, snapshot=lambda: state_copy(model), patience=cfg.patience,
                  progress=progress, description="training MLPRouter", criterion="val loss")
        model.load_state_dict(res.best_state)
        model.eval()
    best, best_acc = res.best.values["loss"], res.best.values["acc"]
    config = {**asdict(cfg), "q_in_dim": int(X.shape[1]), "m_in_dim": int(P.shape[1])}
    ckpt = {"format": CKPT_FORMAT, "state_dict": {k: v.detach().cpu() for k, v in res.best_state.items()},
            "config": config, "model_names": list(sig.models), "seed": int(seed), "best_epoch": int(res.best_epoch),
            "val_loss": float(best), "val_acc": None if best_acc is None else float(best_acc)}
    info = {"train_curve": res.curves["train"], "val_curve": res.curves.get("val", []),
            "val_acc_curve": res.curves.get("val_acc", []),
            "best_epoch": int(res.best_epoch), "best_val_loss": round(float(best), 6),
            "best_val_acc": None if best_acc is None else round(float(best_acc), 6),
            "stopped_early_at": res.stopped_early_at, "epochs_run": res.epochs_run,
            "n_train_queries": int(len(tr_q)), "n_val_queries": int(len(va_q)),
            "n_train_pairs": int(tr.shape[0]), "n_val_pairs": int(va.shape[0]),
            "train_seconds": round(time.time() - t0, 3), "train_cpu_seconds": round(time.process_time() - c0, 3),
            "device": str(dev), "threads": threads}
    return model, ckpt, info


def score(model, query_vecs: np.ndarray, profile_vecs: np.ndarray, device: str = "cpu",
          batch: int = 4096) -> np.ndarray:
    """[N, K] float64 scores of queries against the profiles with a trained model (eval mode)."""
    dev = torch.device(device)
    model.eval()
    P = torch.as_tensor(np.asarray(profile_vecs, dtype=np.float32), device=dev)
    out = []
    with torch.no_grad():
        m = model.embed_models(P)
        for s0 in range(0, len(query_vecs), batch):
            q = torch.as_tensor(np.asarray(query_vecs[s0:s0 + batch], dtype=np.float32), device=dev)
            out.append((model.embed_queries(q) @ m.T).double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, P.shape[0]))


def load_checkpoint(path):
    """(model in eval mode, checkpoint dict) from a ckpt.pt written by `train_mlp` (weights_only load)."""
    from rpcli.core.routers.training import load_router_checkpoint

    return load_router_checkpoint(path, CKPT_FORMAT, MLPConfig, build_model, "an MLPRouter")


def run(ctx, opts: dict, seed: int):
    """MLPRouter as a router run (see rpcli.core.routers.run): train on ctx.train, score test and training queries."""
    from rpcli.core.routers.run import RouterResult, config_from

    qv, tv = ctx.train_vecs(), ctx.test_vecs()
    model, ckpt, info = train_mlp(ctx.train, qv, ctx.profile_vecs, config_from(MLPConfig, opts), seed,
                                  device=ctx.device, progress=ctx.progress)
    return RouterResult(score(model, tv, ctx.profile_vecs, device=ctx.device), info=info, checkpoint=ckpt,
                        train_scores=score(model, qv, ctx.profile_vecs, device=ctx.device))

"""GraphRouter (spec §5.4): a bipartite query-model GAT with an edge predictor, trained on multi-hot labels.

Nodes: the candidate models (features: the raw profile vectors) and queries (features: the L2-normalised query
embeddings). `q_proj`/`m_proj` (Linear + ELU) map both to the hidden width; `layers` GATConv(H, H, heads,
concat=False, dropout) with ELU between layers and dropout after every layer; the edge predictor
`Linear(2H, H) -> ReLU -> Dropout -> Linear(H, 1)` on `[h_q || h_m]` gives a logit per (query, model).
Loss: BCEWithLogits on the labels of `training.py` (unlabeled models masked out). Adam (lr 1e-4, no weight decay),
clip 1.0, cosine schedule to 0.01 lr per epoch; the checkpoint with the best val_perf is kept.

Graph layouts:

| layout                 | members (edges both ways with every model)        | attached (edges model -> query only)   |
|------------------------|---------------------------------------------------|----------------------------------------|
| inductive (default)    | training-split queries                            | val queries; test queries at inference |
| transductive (faithful)| training, val and test queries                    | none                                   |

An attached query receives messages from the models but sends none, so the models' representations are exactly
those of the training graph and each attached query is scored as a training query would be: test queries never
influence training. As in the original, the graph is encoded once per optimisation step (batch), from text
embeddings computed once through the cache. The GAT layers run in a dense bipartite form (`encode_bipartite`) that
computes the same function as PyG's GATConv on `bipartite_edges` (checked in the tests) without materialising
per-edge messages: about 10x faster on CPU for ~1k queries.

`residual` (a fix, off by default): each GAT layer adds a linear map of its input (PyG's `residual=True`). In the
faithful network a query's own features reach the edge predictor only through its self-loop, one of K + 1
attention terms per layer, beside K model messages shared by every query; with dropout 0.1 that signal drowns and
training often collapses to one score vector for all queries (i.e. a single-model router). The residual keeps it.

`member_sample` (speed, off by default: 0): the faithful step encodes the whole graph for every batch of 32, so an
epoch costs (training queries / 32) full-graph passes with gradients through every member (55 ms of CPU per step
on the released data, ~29 steps per epoch). With `member_sample = S`, each training step builds its graph on S
member queries drawn without replacement (a seeded stream of its own, `seed + 1`) plus the batch; validation, the
checkpoint choice and inference use every member, as before. Attention normalises over the members, so a model's
state from a sample estimates its state on the full graph (mini-batching over queries, like GraphSAINT-style
subgraph sampling). The sampled path also uses the fused CPU Adam kernel (the same update in one pass per
tensor, different float rounding), so the faithful path stays bit-identical to runs recorded before the option.
A step's cost then stops growing with the training queries, but ~15 ms of it does not depend on S (the weight
gradients and the optimiser of ~0.85M parameters): on the released data S=256 saves about 2x of CPU, not 10x.
The option enters a run's recipe only when it is not 0 (existing ids are unchanged).

After training, the model states entering each GAT layer (and leaving the last) on the final graph are saved in
ckpt.pt as `model_states`: a query attached to that graph depends only on itself and those states, so
`attached_logits` scores new queries without the training graph (rpcli.core.routers.inference; runs recorded
before the states were saved recompute them from the training graph there).

val_perf: per val query, the label (or true score) of the best-scored model among its labeled models; ties in
val_perf go to the lower val loss (the original kept the first).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv

from rpcli.core.fit import Epoch, fit, seeded, state_copy, train_batches, train_threads
from rpcli.core.routers.graph_preset import PRESETS, RECOMMENDED
from rpcli.core.routers.sim import unit_rows
from rpcli.core.routers.training import TrainingSignal, split_queries
from rpcli.errors import TrainingDataError

CKPT_FORMAT = "rp-graph-router/1"


@dataclass
class GraphConfig:
    hidden: int = 256
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1
    lr: float = 1e-4
    grad_clip: float = 1.0
    epochs: int = 100
    batch_size: int = 32
    val_split: float = 0.1
    transductive: bool = False
    patience: int = 0
    residual: bool = False
    member_sample: int = 0
    full_batch: bool = False
    profile_norm: str = "raw"
    preset: str = "faithful"


def apply_preset(cfg: GraphConfig) -> GraphConfig:
    """The configuration a run trains with: `cfg` with its preset's values on every option still at its faithful
    default (a value the user set is kept). "faithful" changes nothing."""
    from dataclasses import fields, replace

    if cfg.preset not in PRESETS:
        from rpcli.errors import ConfigError

        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {cfg.preset!r}")
    if cfg.preset == "faithful":
        return cfg
    faithful = {f.name: f.default for f in fields(GraphConfig)}
    return replace(cfg, **{k: v for k, v in RECOMMENDED.items() if getattr(cfg, k) == faithful[k]})


def validate(cfg: GraphConfig) -> None:
    from rpcli.core.routers.training import validate_common

    validate_common(cfg, ("hidden", "layers", "heads", "epochs", "batch_size"))
    if cfg.profile_norm not in PROFILE_NORMS:
        from rpcli.errors import ConfigError

        raise ConfigError(f"--profile-norm must be one of {', '.join(PROFILE_NORMS)}, got {cfg.profile_norm!r}")
    apply_preset(cfg)
    if cfg.member_sample < 0:
        from rpcli.errors import ConfigError

        raise ConfigError("--member-sample must be >= 0 (0: every member query in every step, the faithful graph)")


class GraphRouterNet(nn.Module):
    """Query and model projections, `layers` GATConv layers, an edge MLP.

    Args:
        q_in: query embedding width; m_in: profile width.
        cfg: GraphConfig (hidden H, layers, heads, dropout, residual).

    Shapes: encode_bipartite(xm [K, m_in], xq [Nq, q_in], members [M], out [S]) -> ([K, H], [S, H]);
    predict(hq [B, H], hm [K, H]) -> logits [B, K]; encode(xm, xq, edge_index [2, E]) -> [K + Nq, H].
    """

    def __init__(self, q_in: int, m_in: int, cfg: GraphConfig) -> None:
        super().__init__()
        H = self.hidden = cfg.hidden
        self.q_proj = nn.Sequential(nn.Linear(q_in, H), nn.ELU())
        self.m_proj = nn.Sequential(nn.Linear(m_in, H), nn.ELU())
        self.convs = nn.ModuleList([GATConv(H, H, heads=cfg.heads, concat=False, dropout=cfg.dropout,
                                            residual=cfg.residual)
                                    for _ in range(cfg.layers)])
        self.dropout = nn.Dropout(cfg.dropout)
        self.edge_mlp = nn.Sequential(nn.Linear(2 * H, H), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(H, 1))

    def encode(self, xm, xq, edge_index):
        """Reference path through PyG: node states [K + Nq, H] (models first, then queries) over any
        edge_index. Training and inference use `encode_bipartite`, which computes the same function."""
        h = torch.cat([self.m_proj(xm), self.q_proj(xq)], dim=0)
        for i, conv in enumerate(self.convs):
            h = conv(h, edge_index)
            if i < len(self.convs) - 1:
                h = F.elu(h)
            h = self.dropout(h)
        return h

    def encode_bipartite(self, xm, xq, members, out, record=None):
        """(model states [K, H], states [len(out), H] of the queries `out`) on the complete bipartite graph in
        which the queries `members` (indices into xq) exchange messages with every model and every other
        query needed only receives from the models. Dense attention over the bipartite blocks: the same
        function as `encode` on `bipartite_edges`, without materialising per-edge messages, and each layer's
        linear map is applied only to the queries whose states are needed."""
        need = torch.unique(torch.cat([members, out]))
        pos = torch.full((xq.shape[0],), -1, dtype=torch.long, device=xq.device)
        pos[need] = torch.arange(need.shape[0], device=xq.device)
        mem, outl = pos[members], pos[out]
        if mem.shape[0] == need.shape[0]:
            mem = None  # every needed query is a member (training): attention sums run over all of hq
        hm = self.m_proj(xm)
        hq = self.q_proj(xq[need])
        for i, conv in enumerate(self.convs):
            if record is not None:
                record.append(hm)
            last = i == len(self.convs) - 1
            hm, hq = _gat_bipartite(conv, hm, hq, mem, outl if last else None, self.training)
            if not last:
                hm, hq = F.elu(hm), F.elu(hq)
            hm, hq = self.dropout(hm), self.dropout(hq)
        if record is not None:
            record.append(hm)
        return hm, hq

    def model_states(self, xm, xq, members):
        """The model states [K, H] entering each layer and leaving the last ([layers + 1] tensors) on the graph
        whose members are the queries `members` of xq (eval mode: no dropout). A query attached to that graph
        is then scored by `attached_logits` alone: its states depend only on itself and these."""
        states: list = []
        self.encode_bipartite(xm, xq, members, members[:1], record=states)
        return states

    def attached_cache(self, states):
        """What `attached_logits` needs from the model `states` that does not depend on the query: per layer the
        attention maps U, the projected model states and their source scores (compute once, reuse per query)."""
        out = []
        for conv, hm in zip(self.convs, states):
            U = _attention_maps(conv)
            out.append((U, conv.lin(hm).view(-1, conv.heads, conv.out_channels), (hm @ U)[:, :conv.heads]))
        return out

    def attached_queries(self, xq, cache, layers=None):
        """States [B, H] of queries xq [B, q_in] attached to a graph whose model states gave `cache`
        (`attached_cache`), after the first `layers` GAT layers (all of them by default)."""
        hq = self.q_proj(xq)
        n = len(self.convs) if layers is None else layers
        for i, conv in enumerate(self.convs[:n]):
            U, xm, am_s = cache[i]
            new_q = _attend_queries(conv, U, xm, am_s, hq, self.training)
            if conv.res is not None:
                new_q = new_q + conv.res(hq)
            if conv.bias is not None:
                new_q = new_q + conv.bias
            hq = new_q
            if i < len(self.convs) - 1:
                hq = F.elu(hq)
            hq = self.dropout(hq)
        return hq

    def attached_logits(self, states, xq, cache=None):
        """[B, K] logits of queries xq [B, q_in] attached to a graph with the cached model `states` (from
        `model_states`); the same function as `predict(encode_bipartite(...))` for those queries in eval mode.
        `cache`: `attached_cache(states)`, when already computed."""
        cache = cache if cache is not None else self.attached_cache(states)
        return self.predict(self.attached_queries(xq, cache), states[-1])

    def attached_attention(self, xq, cache):
        """[B, K] the last layer's attention of attached queries xq over the models' messages (mean over heads;
        each row sums to 1 minus the weight the query gives itself)."""
        hq = self.attached_queries(xq, cache, len(self.convs) - 1)
        U, _, am_s = cache[-1]
        return _query_attention(self.convs[-1], U, am_s, hq)[:, 1:].mean(dim=2)

    def predict(self, hq, hm):
        """[B, K] logits for query states [B, H] against model states [K, H]; the first Linear of the edge
        MLP on [h_q || h_m] is applied to each half separately (same function, no [B, K, 2H] tensor)."""
        lin1, act, drop, lin2 = self.edge_mlp
        w, H = lin1.weight, self.hidden
        a = hq @ w[:, :H].T
        b = hm @ w[:, H:].T + lin1.bias
        z = drop(act(a.unsqueeze(1) + b.unsqueeze(0)))
        return lin2(z).squeeze(-1)


def build_model(q_in: int, m_in: int, cfg: GraphConfig) -> GraphRouterNet:
    return GraphRouterNet(q_in, m_in, cfg)


def _gat_bipartite(conv, hm, hq, members, out, training: bool):
    """One GATConv (concat=False, self-loops, no edge features) on the bipartite graph: models attend to
    themselves and to the member queries; queries attend to themselves and to every model. Returns the new model
    states and the new states of queries `out` (all queries when None). `members` None: every query is one."""
    heads, C = conv.heads, conv.out_channels
    W = conv.lin.weight.view(heads, C, -1)  # [heads, C, D]
    U = _attention_maps(conv, W)
    slope, p = conv.negative_slope, conv.dropout
    xm = conv.lin(hm).view(-1, heads, C)
    am = hm @ U
    am_s, am_d = am[:, :heads], am[:, heads:]  # [K, heads]
    # models <- themselves + member queries
    hs = hq if members is None else hq[members]
    aq_s = hs @ U[:, :heads]  # [Qm, heads]
    e = torch.cat([(am_s + am_d).unsqueeze(1), aq_s.unsqueeze(0) + am_d.unsqueeze(1)], dim=1)  # [K, 1 + Qm, heads]
    a = F.dropout(torch.softmax(F.leaky_relu(e, slope), dim=1), p=p, training=training)
    agg = torch.einsum("kih,id->khd", a[:, 1:], hs)  # sum_i a_mi h_i, then one W per head
    new_m = (a[:, 0].unsqueeze(-1) * xm + torch.bmm(agg.transpose(0, 1), W.transpose(1, 2)).transpose(0, 1)).mean(dim=1)
    ho = hq if out is None else hq[out]
    new_q = _attend_queries(conv, U, xm, am_s, ho, training)
    # (the order of these operations fixes the order in which gradients accumulate: keep it, so runs recorded
    # before stay bit-identical)
    if conv.res is not None:
        new_m, new_q = new_m + conv.res(hm), new_q + conv.res(ho)
    if conv.bias is not None:
        new_m, new_q = new_m + conv.bias, new_q + conv.bias
    return new_m, new_q


def _attention_maps(conv, W=None):
    """[D, 2 * heads]: a node's source and destination attention scores are `h @ U` (no W h needed for them).
    `W`: the layer's weight viewed [heads, C, D], when the caller already has it."""
    heads = conv.heads
    W = conv.lin.weight.view(heads, conv.out_channels, -1) if W is None else W  # [heads, C, D]
    att_s, att_d = conv.att_src[0], conv.att_dst[0]  # [heads, C]
    return torch.bmm(torch.stack([att_s, att_d], dim=1), W).permute(2, 1, 0).reshape(W.shape[2], 2 * heads)


def _attend_queries(conv, U, xm, am_s, ho, training: bool):
    """New states [S, H] of the queries `ho` [S, H], each attending to itself and to every model (projected model
    states xm [K, heads, C], their source scores am_s [K, heads]); before the residual and the bias."""
    heads, C = conv.heads, conv.out_channels
    a = F.dropout(_query_attention(conv, U, am_s, ho), p=conv.dropout, training=training) / heads
    xq = conv.lin(ho).view(-1, heads, C)
    return torch.einsum("sh,shc->sc", a[:, 0], xq) + torch.einsum("skh,khc->sc", a[:, 1:], xm)


def _query_attention(conv, U, am_s, ho):
    """[S, 1 + K, heads] attention of the queries `ho` over themselves (index 0) and every model (source scores
    am_s [K, heads]), before dropout."""
    heads = conv.heads
    aq = ho @ U
    aq_s, aq_d = aq[:, :heads], aq[:, heads:]  # [S, heads]
    e = torch.cat([(aq_s + aq_d).unsqueeze(1), am_s.unsqueeze(0) + aq_d.unsqueeze(1)], dim=1)  # [S, 1 + K, heads]
    return torch.softmax(F.leaky_relu(e, conv.negative_slope), dim=1)


def bipartite_edges(k: int, members: np.ndarray, attached: np.ndarray):
    """edge_index [2, E] over nodes (models 0..k-1, query node i at k + i): every member query <-> every model,
    and model -> query for every attached query. Sorted by (dst, src) for a deterministic layout."""
    m = np.arange(k)
    mem = np.asarray(members, dtype=np.int64) + k
    att = np.asarray(attached, dtype=np.int64) + k
    src = [np.repeat(mem, k), np.tile(m, len(mem)), np.tile(m, len(att))]
    dst = [np.tile(m, len(mem)), np.repeat(mem, k), np.repeat(att, k)]
    s, d = np.concatenate(src), np.concatenate(dst)
    order = np.lexsort((s, d))
    return torch.as_tensor(np.stack([s[order], d[order]]), dtype=torch.long)


PROFILE_NORMS = ("raw", "zscore")


def model_features(profile_vecs, profile_norm: str = "raw") -> np.ndarray:
    """[K, Dp] float32 model node features: the raw profiles (faithful), or "zscore": each dimension centred and
    scaled over the candidates (a constant dimension becomes 0), so what tells the candidates apart is not drowned
    by what they share (profiles aggregated over a graph are often nearly parallel). A function of the candidate
    set's profiles alone (no label)."""
    x = np.asarray(profile_vecs, dtype=np.float64)
    if profile_norm == "zscore":
        sd = x.std(axis=0)
        x = np.where(sd > 1e-12, (x - x.mean(axis=0)) / np.where(sd > 1e-12, sd, 1.0), 0.0)
    elif profile_norm != "raw":
        from rpcli.errors import ConfigError

        raise ConfigError(f"--profile-norm must be one of {', '.join(PROFILE_NORMS)}, got {profile_norm!r}")
    return x.astype(np.float32)


def unit_f32(a) -> np.ndarray:
    """float32 rows of unit L2 norm (the GraphRouter's query and model features)."""
    return unit_rows(a, np.float32)


def train_graph(sig: TrainingSignal, train_vecs: np.ndarray, test_vecs: np.ndarray, profile_vecs: np.ndarray,
                cfg: GraphConfig, seed: int, device: str = "cpu", progress=None):
    """Train on the signal's labels; return (test scores [N, K], training-query scores [Q, K], checkpoint, info).

    `train_vecs` [Q, Dq] and `test_vecs` [N, Dq] are raw query embeddings (normalised here), `profile_vecs`
    [K, Dp] the candidates' profiles (used raw)."""
    validate(cfg)
    cfg = apply_preset(cfg)
    Q, K = sig.labels.shape
    if Q == 0:
        raise TrainingDataError("GraphRouter has an empty training set: no training query has a label",
                                hint="check the mode's pairwise file (or routing_train_data.json for --labels scores)")
    if train_vecs.shape[0] != Q:
        raise TrainingDataError(f"{train_vecs.shape[0]} query embeddings for {Q} training queries")
    labeled = ~np.isnan(sig.labels)
    if not labeled.any():
        raise TrainingDataError("GraphRouter's training labels are all unknown")
    dev = torch.device(device)
    t0, c0 = time.time(), time.process_time()
    N = test_vecs.shape[0]
    threads = train_threads(device, int((Q + N) * train_vecs.shape[1]))
    with seeded(seed, device, threads):
        tr_q, va_q = split_queries(Q, cfg.val_split, seed)
        tr_q = tr_q[labeled[tr_q].any(axis=1)]
        if tr_q.size == 0:
            raise TrainingDataError("the GraphRouter training split has no labeled query", hint="lower --val-split")
        test_nodes = np.arange(Q, Q + N)
        # queries are indexed 0..Q-1 (training signal) then Q..Q+N-1 (test rows)
        members = np.concatenate([np.arange(Q), test_nodes]) if cfg.transductive else tr_q
        n_edges = 2 * K * len(members) + (0 if cfg.transductive else K * (len(va_q) + N))

        def t(a):
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=dev)

        xq = torch.as_tensor(np.concatenate([unit_f32(train_vecs), unit_f32(test_vecs)]), device=dev)
        xm = torch.as_tensor(model_features(profile_vecs, cfg.profile_norm), device=dev)
        mem_t, va_t, all_t = t(members), t(va_q), t(np.arange(Q + N))
        y = torch.as_tensor(np.nan_to_num(sig.labels, nan=0.0), dtype=torch.float32, device=dev)
        mask = torch.as_tensor(labeled, dtype=torch.float32, device=dev)
        qual = np.where(labeled, sig.quality, np.nan)

        model = build_model(xq.shape[1], xm.shape[1], cfg).to(dev)
        sampled = 0 < cfg.member_sample < len(members)
        # the sampled path also uses the fused CPU Adam kernel (same update, one pass per tensor; different float
        # rounding), so the faithful full-graph path stays bit-identical to earlier runs
        fused = sampled and dev.type == "cpu"
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, **({"fused": True} if fused else {}))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs, eta_min=0.01 * cfg.lr)
        gen = torch.Generator().manual_seed(seed)
        tr_t = torch.as_tensor(tr_q, dtype=torch.long)

        def logits_of(out, members=None):
            hm, ho = model.encode_bipartite(xm, xq, mem_t if members is None else members, out)
            return model.predict(ho, hm)

        sgen = torch.Generator().manual_seed(seed + 1)  # member samples: their own stream, recorded by the seed

        def batch_loss(b):
            if not sampled:
                return masked_bce(logits_of(b), b)
            pick = mem_t[torch.randperm(mem_t.shape[0], generator=sgen)[:cfg.member_sample].to(dev)]
            return masked_bce(logits_of(b, torch.unique(torch.cat([pick, b]))), b)

        def masked_bce(logits, idx):
            lo = F.binary_cross_entropy_with_logits(logits, y[idx], reduction="none")
            mk = mask[idx]
            return (lo * mk).sum() / mk.sum().clamp(min=1.0)

        def val_perf(logits_np, idx) -> float:
            lg = np.where(labeled[idx], logits_np, -np.inf)
            return float(np.nanmean(qual[idx][np.arange(len(idx)), lg.argmax(axis=1)]))

        bsize = tr_t.shape[0] if cfg.full_batch else cfg.batch_size

        def step(epoch: int) -> Epoch:
            model.train()
            perm = tr_t[torch.randperm(tr_t.shape[0], generator=gen)]
            batches = (perm[s0:s0 + bsize].to(dev) for s0 in range(0, perm.shape[0], bsize))
            train_loss = train_batches(batches, batch_loss, opt, model.parameters(), cfg.grad_clip)
            sched.step()
            if not va_q.size:
                return Epoch(key=(0.0, -train_loss), curves={"train": train_loss},
                             values={"perf": None, "loss": train_loss},
                             note=f"epoch {epoch:03d} train {train_loss:.4f} val {train_loss:.4f}")
            model.eval()
            with torch.no_grad():
                vlog = logits_of(va_t)
                vloss = float(masked_bce(vlog, va_t))
            vperf = val_perf(vlog.cpu().numpy(), va_q)
            return Epoch(key=(vperf, -vloss), curves={"train": train_loss, "val": vloss, "val_perf": vperf},
                         values={"perf": vperf, "loss": vloss},
                         note=f"epoch {epoch:03d} train {train_loss:.4f} val {vloss:.4f} perf {vperf:.3f}")

        res = fit(step, epochs=cfg.epochs, snapshot=lambda: state_copy(model), patience=cfg.patience,
                  progress=progress, description="training GraphRouter", criterion="val_perf")
        model.load_state_dict(res.best_state)
        model.eval()
        with torch.no_grad():
            logits = logits_of(all_t).double().cpu().numpy()
            states = [h.detach().cpu().clone() for h in model.model_states(xm, xq, mem_t)]
    best_perf, best_vloss = res.best.values["perf"], res.best.values["loss"]
    config = {**asdict(cfg), "q_in_dim": int(xq.shape[1]), "m_in_dim": int(xm.shape[1])}
    ckpt = {"format": CKPT_FORMAT, "state_dict": {k: v.detach().cpu() for k, v in res.best_state.items()},
            "config": config, "model_names": list(sig.models), "seed": int(seed), "best_epoch": int(res.best_epoch),
            "val_perf": best_perf, "val_loss": best_vloss, "model_states": states}
    info = {"train_curve": res.curves["train"], "val_curve": res.curves.get("val", []),
            "val_perf_curve": res.curves.get("val_perf", []), "best_epoch": int(res.best_epoch),
            "best_val_perf": None if best_perf is None else round(best_perf, 6),
            "best_val_loss": None if best_vloss is None else round(best_vloss, 6),
            "stopped_early_at": res.stopped_early_at, "epochs_run": res.epochs_run,
            "n_train_queries": int(tr_q.size), "n_val_queries": int(va_q.size),
            "n_labels": int(labeled[tr_q].sum()), "layout": "transductive" if cfg.transductive else "inductive",
            "n_graph_edges": int(n_edges), "member_sample": int(cfg.member_sample) if sampled else 0,
            "preset": cfg.preset, "batch_size": int(bsize), "steps_per_epoch": -(-int(tr_q.size) // int(bsize)),
            "config": {k: v for k, v in asdict(cfg).items()},
            "optimizer": "adam (fused)" if fused else "adam", "train_seconds": round(time.time() - t0, 3),
            "train_cpu_seconds": round(time.process_time() - c0, 3), "device": str(dev), "threads": threads}
    return logits[Q:], logits[:Q], ckpt, info


def load_checkpoint(path):
    """(model in eval mode, checkpoint dict) from a ckpt.pt written by `train_graph` (weights_only load)."""
    from rpcli.core.routers.training import load_router_checkpoint

    return load_router_checkpoint(path, CKPT_FORMAT, GraphConfig, build_model, "a GraphRouter")


def run(ctx, opts: dict, seed: int):
    """GraphRouter as a router run (see rpcli.core.routers.run)."""
    from rpcli.core.routers.run import RouterResult, config_from

    test, train, ckpt, info = train_graph(ctx.train, ctx.train_vecs(), ctx.test_vecs(), ctx.profile_vecs,
                                          config_from(GraphConfig, opts), seed, device=ctx.device,
                                          progress=ctx.progress)
    return RouterResult(test, train_scores=train, info=info, checkpoint=ckpt)

"""emb-gnn: training-free heterogeneous propagation (spec §4.3).

    H'_t(v) = (1 / R_t) * sum_{r: dst(r) = t} sum_{e=(u->v) in r} n_e * a_e * H_s(u)

n_e is the structural weight of `norm` (sym: deg_src^-1/2 deg_dst^-1/2; right: 1/deg_src; left: 1/deg_dst;
none: 1), with degrees per edge type clamped to >= 1; a_e is the min-max normalised score on scored edge types,
else 1. R_t counts the edge types into t (per type, not per node). Types with no incoming relation keep their
features. Faithful by default; two fixes from spec §9.2 are options:

| option         | effect                                                                                  |
|----------------|-----------------------------------------------------------------------------------------|
| self_loops     | the node's own previous vector joins the mean as one more term (so R_t + 1 terms)       |
| per_node_mean  | divide by the number of relations in which *this node* has incoming edges (>= 1)        |

Implemented with index_add (scatter) on [N, D] tensors: linear in edges, fine with 100k query nodes.
"""

from __future__ import annotations

NORMS = ("sym", "right", "left", "none")


def propagate(x: dict, edge_index: dict, edge_attr: dict, K: int = 2, norm: str = "sym", self_loops: bool = False,
              per_node_mean: bool = False) -> dict:
    """Run K propagation steps. x: {ntype: [N, D]}; edge_index: {(s, r, t): [2, E]}; edge_attr: {(s,r,t): [E,1]}."""
    import torch

    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if K < 0:
        raise ValueError("K must be >= 0")
    h = {t: v.float() for t, v in x.items()}
    weights = {}
    for et, ei in edge_index.items():
        s, _, t = et
        src, dst = ei[0], ei[1]
        e = src.numel()
        if e == 0:
            weights[et] = torch.zeros(0)
            continue
        deg_s = torch.bincount(src, minlength=h[s].shape[0]).clamp(min=1).float()
        deg_d = torch.bincount(dst, minlength=h[t].shape[0]).clamp(min=1).float()
        if norm == "sym":
            w = deg_s[src].pow(-0.5) * deg_d[dst].pow(-0.5)
        elif norm == "right":
            w = 1.0 / deg_s[src]
        elif norm == "left":
            w = 1.0 / deg_d[dst]
        else:
            w = torch.ones(e)
        if et in edge_attr and edge_attr[et] is not None:
            a = edge_attr[et].reshape(-1).float()
            lo, hi = a.min(), a.max()
            a = (a - lo) / (hi - lo) if float(hi - lo) >= 1e-8 else torch.ones_like(a)
            w = w * a
        weights[et] = w
    incoming: dict = {}
    for et in edge_index:
        incoming.setdefault(et[2], []).append(et)
    for _ in range(K):
        new = {}
        for t, ets in incoming.items():
            acc = torch.zeros_like(h[t])
            count = torch.zeros(h[t].shape[0])
            for et in ets:
                ei = edge_index[et]
                if ei.shape[1] == 0:
                    continue
                src, dst = ei[0], ei[1]
                acc.index_add_(0, dst, h[et[0]][src] * weights[et].unsqueeze(1))
                count += (torch.bincount(dst, minlength=h[t].shape[0]) > 0).float()
            if per_node_mean:
                denom = count
            else:
                denom = torch.full((h[t].shape[0],), float(len(ets)))
            if self_loops:
                acc = acc + h[t]
                denom = denom + 1
            new[t] = acc / denom.clamp(min=1).unsqueeze(1)
        for t, v in new.items():
            h[t] = v
    return h


def emb_gnn_profile(graph, names: list[str], K: int = 2, norm: str = "sym", normalize: bool = False,
                    self_loops: bool = False, per_node_mean: bool = False):
    """Model rows of H^K for `names` (graph order lookup). K=0 returns the encoded descriptions."""
    import numpy as np

    h = propagate(graph.x, graph.edge_index, graph.edge_attr, K=K, norm=norm, self_loops=self_loops,
                  per_node_mean=per_node_mean)
    idx = graph.node_index("model")
    out = h["model"][[idx[n] for n in names]].numpy().astype(np.float32)
    if normalize:
        out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
    return out

"""emb-gnn (spec §4.3): training-free K-hop propagation of encoded node texts over a graph."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import ProfileMethod, option
from rpcli.core.profiles.emb_gnn import NORMS


@dataclass
class EmbGNNOptions:
    K: int = option(2, "Propagation steps (0: the descriptions).", min=0)
    norm: str = option("sym", "Structural edge weight.", choices=NORMS)
    normalize: bool = option(False, "L2-normalise the profiles.", flag="--normalize")
    self_loops: bool = option(False, "Fix (spec §9.2): keep the node's own vector in the mean.", flag="--self-loops")
    per_node_mean: bool = option(False, "Fix (spec §9.2): average over the relations a node actually has.",
                                 flag="--per-node-mean")


class EmbGNN(ProfileMethod):
    name = "emb-gnn"
    Config = EmbGNNOptions
    default_graph = "task"
    order = 40
    cli_hints = {"K": {"short": "-K"}}
    summary = "Training-free K-hop propagation of encoded node texts over a graph."
    example = "rp profile emb-gnn --mode standard --graph graph-3f9c --K 2 --norm sym"

    def build(self, env, graph, names, opts, out_dir, runtime):
        from rpcli.core.profiles.emb_gnn import emb_gnn_profile

        vecs = emb_gnn_profile(graph, names, K=opts["K"], norm=opts["norm"], normalize=opts["normalize"],
                               self_loops=opts["self_loops"], per_node_mean=opts["per_node_mean"])
        return vecs, {}


METHOD = EmbGNN()

"""Graph storage without pickles: plain tensors (graph.pt, loaded with weights_only=True) + JSON metadata.

`GraphData` is the engine's own light container; `to_heterodata()` gives a PyG `HeteroData` that passes
`validate()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.core.graph.spec import edge_key, parse_edge_key

GRAPH_FILE = "graph.pt"
META_FILE = "graph.json"
FORMAT = 1


@dataclass
class GraphData:
    node_types: list  # insertion order
    names: dict  # node type -> list[str] | None (query nodes have no names, as in the original)
    texts: dict  # node type -> list[str]
    x: dict  # node type -> FloatTensor [N, dim]
    edge_index: dict  # edge type tuple -> LongTensor [2, E]
    edge_attr: dict = field(default_factory=dict)  # edge type tuple -> FloatTensor [E, 1] (raw scores)
    meta: dict = field(default_factory=dict)

    @property
    def edge_types(self) -> list:
        return list(self.edge_index)

    def num_nodes(self, ntype: str) -> int:
        return len(self.texts[ntype])

    def node_index(self, ntype: str) -> dict:
        return {n: i for i, n in enumerate(self.names[ntype] or [])}

    @property
    def dim(self) -> int:
        return int(next(iter(self.x.values())).shape[1])

    def to_heterodata(self):
        from torch_geometric.data import HeteroData

        data = HeteroData()
        for nt in self.node_types:
            data[nt].x = self.x[nt]
            data[nt].node_feature_text = list(self.texts[nt])
            if self.names.get(nt) is not None:
                data[nt].node_names = list(self.names[nt])
        for et, ei in self.edge_index.items():
            data[et].edge_index = ei
            if et in self.edge_attr:
                data[et].edge_attr = self.edge_attr[et]
        return data

    def summary(self) -> dict:
        nodes = {nt: self.num_nodes(nt) for nt in self.node_types}
        edges = {}
        for et, ei in self.edge_index.items():
            e = int(ei.shape[1])
            info = {"edges": e}
            if e:
                import torch

                src_deg = torch.bincount(ei[0], minlength=self.num_nodes(et[0]))
                dst_deg = torch.bincount(ei[1], minlength=self.num_nodes(et[2]))
                info["src_degree"] = [int(src_deg.min()), int(src_deg.max())]
                info["dst_degree"] = [int(dst_deg.min()), int(dst_deg.max())]
            if et in self.edge_attr:
                info["attr"] = list(self.edge_attr[et].shape)
            edges[edge_key(et)] = info
        return {"nodes": nodes, "edges": edges, "dim": self.dim}


def save_graph(g: GraphData, out_dir: str | Path) -> list[Path]:
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {"x": {nt: g.x[nt].contiguous() for nt in g.node_types},
               "edge_index": {edge_key(et): ei.contiguous() for et, ei in g.edge_index.items()},
               "edge_attr": {edge_key(et): ea.contiguous() for et, ea in g.edge_attr.items()}}
    torch.save(tensors, out_dir / GRAPH_FILE)
    meta = {"format": FORMAT, "node_types": g.node_types, "edge_types": [edge_key(et) for et in g.edge_index],
            "names": g.names, "texts": g.texts, "meta": g.meta}
    (out_dir / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return [out_dir / GRAPH_FILE, out_dir / META_FILE]


def load_graph(dir_: str | Path) -> GraphData:
    import torch

    dir_ = Path(dir_)
    meta = json.loads((dir_ / META_FILE).read_text(encoding="utf-8"))
    tensors = torch.load(dir_ / GRAPH_FILE, weights_only=True)
    ets = [parse_edge_key(k) for k in meta["edge_types"]]
    return GraphData(node_types=meta["node_types"], names=meta["names"], texts=meta["texts"],
                     x={nt: tensors["x"][nt] for nt in meta["node_types"]},
                     edge_index={et: tensors["edge_index"][edge_key(et)] for et in ets},
                     edge_attr={parse_edge_key(k): v for k, v in tensors["edge_attr"].items()},
                     meta=meta["meta"])


def from_heterodata(data) -> GraphData:
    """Convert a PyG HeteroData built by the original code (node_feature_text / node_names attributes)."""
    node_types = list(data.node_types)
    names, texts, x = {}, {}, {}
    for nt in node_types:
        store = data[nt]
        x[nt] = store.x.float()
        t = getattr(store, "node_feature_text", None)
        texts[nt] = list(t) if t is not None else [f"{nt} {i}" for i in range(store.x.shape[0])]
        n = getattr(store, "node_names", None)
        names[nt] = list(n) if n is not None else None
    ei, ea = {}, {}
    for et in data.edge_types:
        ei[et] = data[et].edge_index.long()
        if getattr(data[et], "edge_attr", None) is not None:
            ea[et] = data[et].edge_attr.float().reshape(-1, 1)
    return GraphData(node_types=node_types, names=names, texts=texts, x=x, edge_index=ei, edge_attr=ea,
                     meta={"imported": True})

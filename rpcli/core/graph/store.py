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
        # Dicts lose their order in the (key-sorted) manifest; the two lists keep the graph's own order.
        return {"nodes": nodes, "edges": edges, "dim": self.dim, "node_types": list(self.node_types),
                "edge_types": [edge_key(et) for et in self.edge_index]}


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
    """Convert a PyG HeteroData built by the original code (node_feature_text / node_names attributes).

    Raises ValueError (with a readable message) when `data` is not a usable HeteroData.
    """
    from torch_geometric.data import HeteroData

    if not isinstance(data, HeteroData):
        raise ValueError(f"expected a torch_geometric HeteroData, found {type(data).__name__}")
    node_types = list(data.node_types)
    if not node_types:
        raise ValueError("the HeteroData has no node types")
    names, texts, x = {}, {}, {}
    dims = set()
    for nt in node_types:
        store = data[nt]
        feat = getattr(store, "x", None)
        if feat is None or getattr(feat, "dim", lambda: 0)() != 2:
            raise ValueError(f"node type {nt!r} has no 2-D feature matrix .x")
        x[nt] = feat.float()
        dims.add(int(feat.shape[1]))
        n_nodes = int(feat.shape[0])
        t = getattr(store, "node_feature_text", None)
        texts[nt] = [str(v) for v in t] if t is not None else [f"{nt} {i}" for i in range(n_nodes)]
        n = getattr(store, "node_names", None)
        names[nt] = [str(v) for v in n] if n is not None else None
        for what, lst in (("node_feature_text", texts[nt]), ("node_names", names[nt])):
            if lst is not None and len(lst) != n_nodes:
                raise ValueError(f"node type {nt!r}: {len(lst)} {what} entries for {n_nodes} nodes")
    if len(dims) != 1:
        raise ValueError(f"node feature widths differ between node types: {sorted(dims)}")
    ei, ea = {}, {}
    for et in data.edge_types:
        if any("__" in part for part in et):
            raise ValueError(f"edge type {et} has a name containing '__', which rp cannot store")
        idx = getattr(data[et], "edge_index", None)
        if idx is None or idx.dim() != 2 or idx.shape[0] != 2:
            raise ValueError(f"edge type {et} has no [2, E] edge_index")
        idx = idx.long()
        for row, nt in ((0, et[0]), (1, et[2])):
            if nt not in x:
                raise ValueError(f"edge type {et} names node type {nt!r}, which has no nodes")
            if idx.shape[1] and (int(idx[row].min()) < 0 or int(idx[row].max()) >= x[nt].shape[0]):
                raise ValueError(f"edge type {et} points outside the {x[nt].shape[0]} {nt!r} nodes")
        ei[et] = idx
        attr = getattr(data[et], "edge_attr", None)
        if attr is not None:
            attr = attr.float().reshape(idx.shape[1], -1)
            if attr.shape[1] != 1:
                raise ValueError(f"edge type {et}: edge_attr has {attr.shape[1]} columns; rp expects one score")
            ea[et] = attr
    return GraphData(node_types=node_types, names=names, texts=texts, x=x, edge_index=ei, edge_attr=ea,
                     meta={"imported": True})

"""flat: a plain-text profile per model, encoded and L2-normalised (spec §4.2, fix from §9.2 item 1).

| context              | what follows "[MODEL] <model text>"                                                       |
|----------------------|-------------------------------------------------------------------------------------------|
| random (faithful)    | for each other node type, in the graph's node-type order, min(top_k, N_type) node texts  |
|                      | drawn uniformly without replacement from ALL nodes of that type: not the model's          |
|                      | neighbours, no scores                                                                     |
| neighbours (fix)     | for each node type the model has edges to, min(top_k, degree) of its ACTUAL neighbours,   |
|                      | drawn uniformly without replacement; dataset lines carry the benchmark score,             |
|                      | e.g. "[DATASET (score: 80.00)] <text>". Types the model has no edge to are left out.      |

Each sampled node is one line "[<TYPE IN UPPERCASE>] <text>"; lines are joined with newlines. One shared
`random.Random(seed)` is used for all models in sequence (so a model's context depends on the models before it,
as in the original). `random.sample` picks the same positions from a range as from the list of texts, so the
draws match the original's.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: the flat plugin reads CONTEXTS when rp starts
    import numpy as np

CONTEXTS = ("random", "neighbours")
TEXTS_FILE = "flat_texts.json"  # {model: composed text}, saved beside the profile


def _model_edges(graph, ntype: str):
    """The first edge type model -> ntype (presets have at most one) and its raw scores, or (None, None)."""
    for et, ei in graph.edge_index.items():
        if et[0] == "model" and et[2] == ntype:
            return ei, graph.edge_attr.get(et)
    return None, None


def flat_texts(graph, names: list[str], top_k: int = 5, seed: int = 42, context: str = "random") -> list[str]:
    """The composed text of each model in `names` (in that order)."""
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}, got {context!r}")
    if top_k < 0:
        raise ValueError("top_k must be >= 0")
    rng = random.Random(seed)
    midx = graph.node_index("model")
    others = [t for t in graph.node_types if t != "model" and graph.texts.get(t) is not None]
    texts = []
    for name in names:
        mi = midx[name]
        parts = [f"[MODEL] {graph.texts['model'][mi]}"]
        for t in others:
            tt = graph.texts[t]
            if context == "random":
                for j in rng.sample(range(len(tt)), min(top_k, len(tt))):
                    parts.append(f"[{t.upper()}] {tt[j]}")
                continue
            ei, ea = _model_edges(graph, t)
            if ei is None:
                continue
            sel = (ei[0] == mi).nonzero().reshape(-1).tolist()  # edge positions, sorted by neighbour index
            for e in rng.sample(sel, min(top_k, len(sel))):
                j = int(ei[1, e])
                if ea is not None:
                    parts.append(f"[{t.upper()} (score: {float(ea[e].reshape(-1)[0]):.2f})] {tt[j]}")
                else:
                    parts.append(f"[{t.upper()}] {tt[j]}")
        texts.append("\n".join(parts))
    return texts


def flat_profile(graph, names: list[str], encoder, top_k: int = 5, seed: int = 42, context: str = "random",
                 progress=None) -> tuple[np.ndarray, list[str]]:
    """Encode the composed texts and L2-normalise. Returns ([len(names), encoder.dim] float32, texts)."""
    texts = flat_texts(graph, names, top_k=top_k, seed=seed, context=context)
    import numpy as np

    vecs = np.asarray(encoder.encode(texts, progress=progress), dtype=np.float32)
    vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
    return vecs.astype(np.float32), texts


def save_texts(out_dir: str | Path, names: list[str], texts: list[str]) -> str:
    """Write the composed texts as TEXTS_FILE in `out_dir`; returns the file name."""
    (Path(out_dir) / TEXTS_FILE).write_text(json.dumps(dict(zip(names, texts)), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return TEXTS_FILE

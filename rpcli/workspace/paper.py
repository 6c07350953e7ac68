"""PUBLISHED values from the RouteProfile paper, Tables 1 and 2: NOT computed by rp.

These are the paper's reported avg_performance numbers (standard mode, 600 test rows, graph = task + query +
domain), copied from docs/metrics.md ("The paper's published numbers"). The dashboard prints them beside our own
runs, labelled "paper", only when the dataset is the released one. Nothing here is a measurement of ours.
"""

from __future__ import annotations

SOURCE = "RouteProfile paper, Table 1 (published; graph task+query+domain, standard mode, 600 test rows)"
MODE = "standard"
GRAPH = "query-task-domain"  # our preset with the paper's node types (Table 1)

# The paper's router names -> rp's router names.
ROUTERS = {"SimRouter": "sim", "MLPRouter": "mlp", "GraphRouter": "graph"}

# (profile method, hops) -> {rp router name: published avg_performance}. Hops: K for emb-gnn/text-gnn, HANConv
# layers for trainable, 0 for the flat and index baselines.
TABLE1: dict[tuple[str, int], dict[str, float]] = {
    ("index", 0): {"sim": 0.499, "mlp": 0.593, "graph": 0.532},
    ("flat", 0): {"sim": 0.554, "mlp": 0.613, "graph": 0.539},
    ("text-gnn", 1): {"sim": 0.527, "mlp": 0.617, "graph": 0.549},
    ("text-gnn", 2): {"sim": 0.549, "mlp": 0.620, "graph": 0.589},
    ("text-gnn", 3): {"sim": 0.566, "mlp": 0.625, "graph": 0.593},
    ("text-gnn", 4): {"sim": 0.580, "mlp": 0.624, "graph": 0.610},
    ("emb-gnn", 1): {"sim": 0.549, "mlp": 0.613, "graph": 0.600},
    ("emb-gnn", 2): {"sim": 0.560, "mlp": 0.610, "graph": 0.610},
    ("emb-gnn", 3): {"sim": 0.534, "mlp": 0.617, "graph": 0.613},
    ("emb-gnn", 4): {"sim": 0.577, "mlp": 0.605, "graph": 0.614},
    ("trainable", 1): {"sim": 0.532, "mlp": 0.613, "graph": 0.613},
    ("trainable", 2): {"sim": 0.538, "mlp": 0.613, "graph": 0.613},
    ("trainable", 3): {"sim": 0.611, "mlp": 0.613, "graph": 0.604},
    ("trainable", 4): {"sim": 0.613, "mlp": 0.557, "graph": 0.516},
}

# The paper's Table 2 (2 hops; which node types the graph holds besides model and family), transcribed from
# ../shared/docs/metrics.md ("Table 2"). Only the cells that Table 1 does not already hold: the rows on the full
# query-task-domain graph (the "all types" rows) are Table 1's K = 2 / flat values and are read from _paper.TABLE1.
# Keys: (profile method, rp graph preset, hops) -> {router: published avg_performance}.
TABLE2: dict[tuple[str, str, int], dict[str, float]] = {
    ("text-gnn", "query-task", 2): {"sim": 0.578, "mlp": 0.627, "graph": 0.611},
    ("emb-gnn", "query-task", 2): {"sim": 0.562, "mlp": 0.630, "graph": 0.610},
}

# The released dataset's routing candidates (route_data/routing_test_data.json), used to recognise it.
RELEASED_CANDIDATES = frozenset({
    "qwen2.5-7b-instruct", "gemma-2-9b-it", "llama-3.1-8b-instruct", "mixtral-8x7b-instruct-v0.1",
    "mixtral-8x22b-instruct-v0.1", "llama-3.2-3b-instruct", "mistral-small-24b-instruct-2501-bf16",
    "llama-3.3-70b-instruct",
})
RELEASED_NAME = "routeprofile"


def is_released(dataset: dict | None) -> bool:
    """True when ``dataset`` ({name, candidates, ...}) is the released RouteProfile data."""
    if not dataset:
        return False
    if dataset.get("name") == RELEASED_NAME:
        return True
    cands = dataset.get("candidates")
    return bool(cands) and frozenset(cands) == RELEASED_CANDIDATES

"""Build any of the five graphs from a loaded dataset (spec §3.1), faithfully and deterministically.

Node order follows the original (models in JSON order, families and datasets by first appearance, domains in
key order, queries by task then list order); edges are sorted by (src, dst) within each edge type, so two
builds of the same inputs are identical. newllm differs only through its model file: the held-out model's
masked scores give no edge; no node is removed.
"""

from __future__ import annotations

from rpcli.core.data.schema import RouteDataset
from rpcli.core.graph.spec import GRAPH_SPECS, REL_ARCH, REL_DOMAIN, REL_QUERY_MODEL, REL_QUERY_TASK, REL_SCORE
from rpcli.core.graph.store import GraphData
from rpcli.core.progress import NullProgress
from rpcli.errors import ConfigError, DataFileError


def collect_queries(ds: RouteDataset, mode: str, dataset_names: list[str], max_per_task: int | None,
                    warn) -> tuple[dict, dict]:
    """Query node texts per task, and a record of where they came from.

    From profile_data/task_queries_{mode}.json when present; otherwise the training queries
    (default_query_train.jsonl, else the mode's pairwise queries), deduplicated. Never a test query.
    """
    if max_per_task is not None and max_per_task < 1:
        raise ConfigError(f"max_queries_per_task must be at least 1 (got {max_per_task})")
    md = ds.mode(mode)
    test_queries = {r.query for r in ds.test_rows}
    if md.task_queries is not None:
        source = f"profile_data/task_queries_{mode}.json"
        raw = [(t, q) for t, lst in md.task_queries.items() for q in lst]
    elif ds.train_queries:
        source = "route_data/default_query_train.jsonl (derived; task_queries file absent)"
        raw = [(r.task_name, r.query) for r in ds.train_queries]
    elif md.pairs:
        source = f"route_data/pairwise_training_data_{mode}.json (derived; task_queries file absent)"
        raw = [(p.task_name, p.query) for p in md.pairs]
    else:
        raise ConfigError("this graph needs query nodes, but the dataset has no task_queries file, no "
                          "default_query_train.jsonl and no training pairs")
    known = set(dataset_names)
    per_task: dict[str, list[str]] = {}
    seen: set = set()
    n_test = n_dup = n_cap = 0
    skipped_tasks: dict[str, int] = {}
    for task, q in raw:
        if task not in known:
            skipped_tasks[task] = skipped_tasks.get(task, 0) + 1
            continue
        if q in test_queries:
            n_test += 1
            continue
        if q in seen:
            n_dup += 1
            continue
        lst = per_task.setdefault(task, [])
        if max_per_task is not None and len(lst) >= max_per_task:
            n_cap += 1
            continue
        seen.add(q)
        lst.append(q)
    for task, n in sorted(skipped_tasks.items()):
        warn(f"{n} queries of task {task!r} skipped: the task is not a dataset node of this graph")
    if not per_task:
        warn(f"no query nodes: {source} has no usable query for any dataset node")
    info = {"source": source, "total": sum(len(v) for v in per_task.values()),
            "per_task": {t: len(v) for t, v in per_task.items()}, "task_order": list(per_task),
            "dropped_test_overlap": n_test,
            "dropped_duplicates": n_dup, "dropped_cap": n_cap, "max_per_task": max_per_task,
            "skipped_tasks": sorted(skipped_tasks)}
    return per_task, info


def _sorted_edges(pairs: list[tuple], attrs: list | None = None):
    import torch

    order = sorted(range(len(pairs)), key=lambda i: pairs[i])
    ei = torch.tensor([[pairs[i][0] for i in order], [pairs[i][1] for i in order]], dtype=torch.long).reshape(2, -1)
    ea = None
    if attrs is not None:
        ea = torch.tensor([[attrs[i]] for i in order], dtype=torch.float32).reshape(-1, 1)
    return ei, ea


def build_graph(ds: RouteDataset, mode: str, kind: str, encoder, *, max_queries_per_task: int | None = None,
                progress=None) -> GraphData:
    """Build the `kind` graph for `mode`.

    Args:
        ds: the loaded dataset.
        mode: "standard" or "newllm" (selects model_feature_{mode}.json and task_queries_{mode}.json).
        kind: one of task, query, query-task, task-domain, query-task-domain.
        encoder: a (cached) text encoder; node features are its raw mean-pooled vectors [N, encoder.dim].
        max_queries_per_task: cap on query nodes per task (default: all).

    Returns:
        GraphData with `x[ntype]` of shape [num_nodes, encoder.dim].
    """
    import torch

    progress = progress or NullProgress()
    if kind not in GRAPH_SPECS:
        raise ConfigError(f"unknown graph kind {kind!r}; choose one of {', '.join(GRAPH_SPECS)}")
    spec = GRAPH_SPECS[kind]
    md = ds.mode(mode)
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        progress.warn(msg)

    mfile = ds.root / f"profile_data/model_feature_{mode}.json"
    model_names = [m.name for m in md.models]
    model_texts = [m.feature for m in md.models]
    arch_names: list[str] = []
    arch_edges: list[tuple] = []
    dataset_names: list[str] = []
    score_edges: list[tuple] = []
    score_vals: list[float] = []
    for mi, m in enumerate(md.models):
        if m.architecture == "unknown":
            if kind != "task":
                raise DataFileError(mfile, "architecture 'unknown' is only tolerated by the task graph",
                                    record=repr(m.name), field="architecture")
        else:
            if m.architecture not in arch_names:
                arch_names.append(m.architecture)
            arch_edges.append((arch_names.index(m.architecture), mi))
        for task, s in m.scores.items():
            if s is None:
                continue
            if task not in ds.tasks:
                raise DataFileError(mfile, "a scored task has no description in task_feature.json",
                                    record=repr(m.name), field=f"detailed_scores.{task}")
            if task not in dataset_names:
                dataset_names.append(task)
            score_edges.append((mi, dataset_names.index(task)))
            score_vals.append(float(s))
    dpos = {d: i for i, d in enumerate(dataset_names)}

    names = {"architecture": arch_names, "model": model_names}
    texts = {"architecture": [ds.families[a] for a in arch_names], "model": model_texts}
    edge_index: dict = {}
    edge_attr: dict = {}
    meta: dict = {"kind": kind, "mode": mode, "warnings": warnings}

    def add(rel_pair, pairs, attrs=None):
        fwd, rev = rel_pair
        ei, ea = _sorted_edges(pairs, attrs)
        edge_index[fwd] = ei
        rev_pairs = [(b, a) for a, b in pairs]
        rei, rea = _sorted_edges(rev_pairs, attrs)
        edge_index[rev] = rei
        if attrs is not None:
            edge_attr[fwd] = ea
            edge_attr[rev] = rea

    add(REL_ARCH, arch_edges)
    if "dataset" in spec.node_types:
        names["dataset"] = dataset_names
        texts["dataset"] = [ds.tasks[d] for d in dataset_names]
        add(REL_SCORE, score_edges, score_vals)
    if "domain" in spec.node_types:
        dom_names = list(ds.domain_task_map)
        names["domain"] = dom_names
        texts["domain"] = [ds.domains[d] for d in dom_names]
        dom_edges = []
        for di, d in enumerate(dom_names):
            for t in ds.domain_task_map[d]:
                if t in dpos:
                    dom_edges.append((di, dpos[t]))
                else:
                    warn(f"domain {d!r} names {t!r}, which is not a dataset node; no edge is made")
        add(REL_DOMAIN, dom_edges)
    if spec.has_queries:
        per_task, qinfo = collect_queries(ds, mode, dataset_names, max_queries_per_task, warn)
        meta["queries"] = qinfo
        q_texts = [q for t in per_task for q in per_task[t]]
        q_task = [t for t in per_task for _ in per_task[t]]
        names["query"] = None
        texts["query"] = q_texts
        if kind == "query":
            models_of_task: dict[str, list[int]] = {}
            for mi, di in score_edges:
                models_of_task.setdefault(dataset_names[di], []).append(mi)
            pairs = [(qi, mi) for qi, t in enumerate(q_task) for mi in sorted(set(models_of_task.get(t, [])))]
            add(REL_QUERY_MODEL, pairs)
        else:
            add(REL_QUERY_TASK, [(qi, dpos[t]) for qi, t in enumerate(q_task)])

    node_types = list(spec.node_types)
    all_texts = [t for nt in node_types for t in texts[nt]]
    feats = encoder.encode(all_texts, progress=progress, description=f"encoding {kind} graph nodes:")
    x, off = {}, 0
    for nt in node_types:
        n = len(texts[nt])
        x[nt] = torch.from_numpy(feats[off:off + n].copy())
        off += n
    # Keep edge types in the preset's order.
    ordered = {et: edge_index[et] for et in spec.edge_types if et in edge_index}
    meta["encoder"] = encoder.id
    meta["dim"] = encoder.dim
    return GraphData(node_types=node_types, names={nt: names.get(nt) for nt in node_types}, texts=texts, x=x,
                     edge_index=ordered, edge_attr=edge_attr, meta=meta)

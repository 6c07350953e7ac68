"""rp graph: build, import, show."""

from __future__ import annotations

from pathlib import Path

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError
from rpcli.services.base import BuildResult, Recipe, Session, artifact_dir, build_artifact, build_recipe, resolve


def build_graph_entry(sess: Session, kind: str, mode: str, *, max_queries_per_task: int | None = None,
                      force: bool = False) -> BuildResult:
    """Build (or reuse) a graph of one of the five kinds."""
    return build_recipe(sess, graph_recipe(sess, kind, mode, max_queries_per_task=max_queries_per_task),
                        force=force)


def graph_recipe(sess: Session, kind: str, mode: str, *, max_queries_per_task: int | None = None) -> Recipe:
    """The recipe of a graph (checked; nothing built)."""
    from rpcli.core.graph.build import build_graph
    from rpcli.core.graph.spec import GRAPH_SPECS
    from rpcli.core.graph.store import save_graph

    if kind not in GRAPH_SPECS:
        raise ConfigError(f"unknown graph kind {kind!r}; choose one of {', '.join(GRAPH_SPECS)}")
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose standard or newllm")
    if max_queries_per_task is not None and max_queries_per_task < 1:
        raise ConfigError(f"--max-queries-per-task must be at least 1 (got {max_queries_per_task})")
    sess.dataset.mode(mode)
    params = {"kind": kind, "mode": mode}
    if GRAPH_SPECS[kind].has_queries:
        params["max_queries_per_task"] = max_queries_per_task
    elif max_queries_per_task is not None:
        sess.progress.note(f"--max-queries-per-task is ignored: the {kind} graph has no query nodes")

    def builder(out_dir: Path) -> dict:
        g = build_graph(sess.dataset, mode, kind, sess.encoder, max_queries_per_task=max_queries_per_task,
                        progress=sess.progress)
        save_graph(g, out_dir)
        info = g.summary()
        if "queries" in g.meta:
            info["queries"] = g.meta["queries"]
        info["warnings"] = g.meta.get("warnings", [])
        return {"info": info}

    return Recipe("graph", params, [], builder)


def import_graph_entry(sess: Session, file: Path, mode: str, kind: str | None, force: bool = False) -> BuildResult:
    """Register a HeteroData .pt built by the original code (a trusted file: it is unpickled)."""
    import torch

    from rpcli.core.graph.spec import GRAPH_SPECS
    from rpcli.core.graph.store import from_heterodata, save_graph
    from rpcli.workspace.hashing import sha256_file

    file = Path(file)
    if not file.is_file():
        raise ConfigError(f"{file} not found")
    params = {"kind": kind or "imported", "mode": mode, "imported_from": file.name, "sha256": sha256_file(file)}

    def builder(out_dir: Path) -> dict:
        try:
            data = torch.load(file, weights_only=False)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a user-facing error here
            raise ConfigError(f"cannot load {file} as a PyG HeteroData: {exc}") from None
        try:
            g = from_heterodata(data)
        except ValueError as exc:
            raise ConfigError(f"{file} is not a graph rp can import: {exc}",
                              hint="rp graph import takes a PyG HeteroData saved with torch.save, as written by "
                                   "the original build_*_graph scripts") from None
        # Which of the five presets the node types match (None for a custom graph).
        preset = next((k for k, sp in GRAPH_SPECS.items() if set(sp.node_types) == set(g.node_types)), None)
        if kind is not None and kind in GRAPH_SPECS and preset != kind:
            sess.progress.warn(f"--kind {kind} was given, but the node types {g.node_types} match "
                               f"{preset or 'none of the five presets'}")
        if g.names.get("model") is None:
            sess.progress.warn("the graph has no model nodes with node_names; profile methods need them")
        g.meta.update({"kind": params["kind"], "mode": mode, "dim": g.dim, "preset": preset})
        save_graph(g, out_dir)
        return {"info": {**g.summary(), "preset": preset}}

    return build_artifact(sess, "graph", params, [], builder, force=force, uses_encoder=False)


def load_graph_entry(sess: Session, ref: str):
    from rpcli.core.graph.store import load_graph

    entry = resolve(sess, ref, "graph")
    memo = sess.__dict__.get("_plan_graphs")  # set while a sweep plans (rpcli.services.sweep.driver), when no builder runs
    if memo is None:
        return entry, load_graph(artifact_dir(sess, entry))
    if entry["id"] not in memo:
        memo[entry["id"]] = load_graph(artifact_dir(sess, entry))
    return entry, memo[entry["id"]]

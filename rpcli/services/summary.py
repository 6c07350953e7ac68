"""What `rp data check` and `rp ws status` report: the dataset's summary and the workspace's counts and sizes."""

from __future__ import annotations

from rpcli.services.base import Session
from rpcli.workspace.layout import Workspace


def dataset_summary(sess: Session) -> dict:
    """Counts, modes, held-out models and warnings of the session's dataset (loading and validating it)."""
    ds = sess.dataset
    return {
        "root": str(ds.root), "data_hash": ds.data_hash,
        "models": len(next(iter(ds.modes.values())).models), "candidates": list(ds.candidates),
        "families": len(ds.families), "tasks_described": len(ds.tasks), "domains": len(ds.domains),
        "test_rows": len(ds.test_rows), "test_tasks": ds.test_tasks, "train_queries": len(ds.train_queries),
        "modes": {m: {"pairs_released": md.pairs_released, "pairs_dropped_overlap": md.pairs_dropped_overlap,
                      "pairs": len(md.pairs), "held_out": md.held_out,
                      "task_queries": "file" if md.task_queries is not None else "derived from training queries"}
                  for m, md in ds.modes.items()},
        "keep_overlap": ds.keep_overlap, "warnings": list(ds.warnings),
    }


def workspace_status(ws: Workspace) -> dict:
    """Root, schema, artifact counts per kind, artifact and embedding-cache bytes."""
    from rpcli.workspace.manifest import load_manifest

    doc = load_manifest(ws)
    counts: dict = {}
    size = 0
    for e in doc["entries"].values():
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        size += sum(o.get("bytes", 0) for o in e.get("outputs", []))
    cache = sum(p.stat().st_size for p in ws.emb_cache_dir.rglob("*.npy")) if ws.emb_cache_dir.exists() else 0
    return {"root": str(ws.root), "exists": ws.exists(), "schema": doc["schema"], "counts": counts,
            "artifact_bytes": size, "embedding_cache_bytes": cache}

"""Wall time of building all ten graphs (5 kinds x 2 modes) with a real encoder.

Three passes, each in its own fresh workspace under a temporary directory:
  cold    a fresh workspace and a fresh embedding cache (includes loading the encoder model once);
  warm    a second fresh workspace whose encoder shares the cold pass's embedding cache (no model load:
          every node text is a cache hit), i.e. the cost of building and saving the graphs themselves;
  reused  the cold workspace again: every graph is recorded, so each call only checks the manifest.
It also checks that the cold and warm passes wrote byte-identical graph files.

Usage:
  python bench/graphs_build.py [--data ../shared/data/routeprofile] [--encoder default] [--device cpu]
                               [--kinds task,query] [--modes standard] [--keep DIR] [--json]
                               [--out bench/results/graphs_build.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rpcli.core.encoder import resolve_encoder  # noqa: E402
from rpcli.core.graph.spec import GRAPH_SPECS  # noqa: E402
from rpcli.services.base import Session  # noqa: E402
from rpcli.services.artifacts.graphs import build_graph_entry  # noqa: E402
from rpcli.workspace.layout import Workspace  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "routeprofile"


def graph_hashes(ws: Workspace) -> dict:
    root = ws.root / "graphs"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_pass(sess: Session, kinds, modes) -> tuple[list[dict], float]:
    rows = []
    t_all = time.perf_counter()
    for kind in kinds:
        for mode in modes:
            t0 = time.perf_counter()
            res = build_graph_entry(sess, kind, mode)
            dt = time.perf_counter() - t0
            info = res.entry["info"]
            rows.append({"kind": kind, "mode": mode, "id": res.entry["id"], "built": res.built, "seconds": dt,
                         "nodes": sum(info["nodes"].values()), "queries": info["nodes"].get("query", 0),
                         "edges": sum(d["edges"] for d in info["edges"].values())})
    return rows, time.perf_counter() - t_all


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder (RouteProfile layout)")
    ap.add_argument("--encoder", default="default", help="encoder spec: default (MiniLM), a model dir, hash:N")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--kinds", default=",".join(GRAPH_SPECS), help="comma-separated graph kinds")
    ap.add_argument("--modes", default="standard,newllm")
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspaces under this folder")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "graphs_build.json",
                    help="write the results as JSON here")
    args = ap.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    modes = [m for m in args.modes.split(",") if m]
    if not args.data.is_dir():
        print(f"dataset not found: {args.data}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    tmp_ctx = None
    if args.keep is not None:
        base = args.keep.resolve()
        base.mkdir(parents=True, exist_ok=True)
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="rp-bench-graphs-")
        base = Path(tmp_ctx.name)
    try:
        ws_cold, ws_warm = Workspace(base / "cold"), Workspace(base / "warm")
        for ws in (ws_cold, ws_warm):
            if ws.root.exists() and any(ws.root.iterdir()):
                print(f"{ws.root} is not empty; pass an empty --keep folder", file=sys.stderr)
                return 2

        t0 = time.perf_counter()
        cold = Session(workspace=ws_cold, data_root=args.data, encoder_spec=args.encoder, device=args.device)
        _ = cold.dataset
        t_data = time.perf_counter() - t0
        cold_rows, cold_total = run_pass(cold, kinds, modes)
        enc = cold.encoder
        cold_stats = {"misses": enc.misses, "hits": enc.hits}

        # Warm: a new workspace, a new encoder instance reading the cold pass's cache (the model never loads).
        warm = Session(workspace=ws_warm, data_root=args.data, encoder_spec=args.encoder, device=args.device,
                       _dataset=cold.dataset,
                       _encoder=resolve_encoder(args.encoder, ws_cold.emb_cache_dir, device=args.device))
        warm_rows, warm_total = run_pass(warm, kinds, modes)
        warm_stats = {"misses": warm.encoder.misses, "hits": warm.encoder.hits}

        reuse_rows, reuse_total = run_pass(cold, kinds, modes)
        identical = graph_hashes(ws_cold) == graph_hashes(ws_warm)

        result = {
            "bench": "graphs_build", "command": "python bench/graphs_build.py " + " ".join(sys.argv[1:]),
            "data": str(args.data), "encoder": enc.id, "dim": enc.dim, "device": args.device,
            "torch_threads": __import__("torch").get_num_threads(), "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "dataset_load_s": round(t_data, 3),
            "cold_total_s": round(cold_total, 3), "warm_total_s": round(warm_total, 3),
            "reused_total_s": round(reuse_total, 3), "cold_cache": cold_stats, "warm_cache": warm_stats,
            "cold_equals_warm_files": identical,
            "graphs": [{**c, "cold_s": round(c.pop("seconds"), 3), "warm_s": round(w["seconds"], 3),
                        "reused_s": round(r["seconds"], 3), "reused": not r["built"]}
                       for c, w, r in zip(cold_rows, warm_rows, reuse_rows)],
        }
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if identical else 1
    print(f"data {result['data']}  encoder {result['encoder']} (dim {result['dim']}, {args.device}, "
          f"{result['torch_threads']} torch threads, {result['cpus']} CPUs)")
    print(f"dataset load {result['dataset_load_s']:.2f}s")
    print(f"{'kind':<18} {'mode':<9} {'nodes':>6} {'edges':>6} {'cold s':>8} {'warm s':>8} {'reused s':>9}")
    for g in result["graphs"]:
        print(f"{g['kind']:<18} {g['mode']:<9} {g['nodes']:>6} {g['edges']:>6} {g['cold_s']:>8.2f} "
              f"{g['warm_s']:>8.2f} {g['reused_s']:>9.3f}")
    print(f"{'total':<42} {cold_total:>8.2f} {warm_total:>8.2f} {reuse_total:>9.3f}")
    print(f"cold: {cold_stats['misses']} texts encoded, {cold_stats['hits']} cache hits; "
          f"warm: {warm_stats['misses']} encoded, {warm_stats['hits']} hits")
    print(f"cold and warm graph files identical: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""GraphRouter training time and result per seed: the faithful full graph, sampled members (`member_sample`) and
the recommended preset (`--preset recommended`).

On the released data (standard mode, task graph, emb-gnn K=2 profile, the original's router settings) it runs
`rp route graph` through the service layer once per variant (with --force, so nothing is reused) and reads each
seed's record: wall seconds and CPU seconds of training (`train_seconds`, `train_cpu_seconds`), the best epoch and
avg_performance on the test rows. Query embeddings come from the workspace cache (the first call encodes them).
Other processes share the machine, so compare CPU seconds and ratios within one run; the load average at the start
and the end is recorded.

Usage:
  python bench/graph_router.py [--data ../shared/data/routeprofile] [--workspace DIR] [--seeds 0,1,2]
                               [--variants faithful,fast,recommended] [--sample 256] [--epochs 100] [--out FILE]
The recommended variant trains with its preset's own epochs and early stopping (--epochs does not apply to it).
Writes bench/results/graph_router.json (or --out) with the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import commit  # noqa: E402  (one commit() for every bench)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "data" / "routeprofile"
EMB_GNN = {"K": 2, "norm": "sym", "normalize": False, "self_loops": False, "per_node_mean": False}




def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--workspace", default="/tmp/rp-bench-graph-router")
    ap.add_argument("--mode", default="standard")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variants", default="faithful,fast",
                    help="faithful (member_sample 0), fast (--sample), recommended (--preset recommended)")
    ap.add_argument("--sample", type=int, default=256, help="member_sample of the fast variant")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "graph_router.json"))
    a = ap.parse_args(argv)

    from rpcli.services.base import Session
    from rpcli.services.artifacts.graphs import build_graph_entry
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import init_workspace

    ws = Workspace(Path(a.workspace))
    init_workspace(ws)
    sess = Session(workspace=ws, data_root=Path(a.data))
    g = build_graph_entry(sess, "task", a.mode).entry
    p = build_profile_entry(sess, "emb-gnn", a.mode, EMB_GNN, graph_ref=g["id"]).entry
    seeds = [int(s) for s in a.seeds.split(",")]
    variants = {"faithful": 0, "fast": a.sample, "recommended": 0}
    load0 = os.getloadavg()
    rows, summary = [], {}
    for name in a.variants.split(","):
        opts = ({"preset": "recommended"} if name == "recommended"
                else {"epochs": a.epochs, "member_sample": variants[name]})
        t0 = time.time()
        res = run_router_entry(sess, "graph", p["id"], a.mode, opts, seeds=seeds, force=True)
        wall = time.time() - t0
        run_id = res.entry["id"]
        doc = json.loads((ws.artifact_dir(run_id) / "metrics.json").read_text())
        perfs, cpus = [], []
        for rec in doc["per_seed"]:
            t = rec["train"]
            row = {"variant": name, "member_sample": variants[name], "run": run_id, "seed": rec["seed"],
                   "avg_performance": round(rec["avg_performance"], 4), "train_seconds": t["train_seconds"],
                   "train_cpu_seconds": t["train_cpu_seconds"], "best_epoch": t["best_epoch"],
                   "epochs_run": t["epochs_run"]}
            rows.append(row)
            perfs.append(rec["avg_performance"])
            cpus.append(t["train_cpu_seconds"])
        summary[name] = {"run": run_id, "mean": round(statistics.mean(perfs), 4),
                         "sd": round(statistics.stdev(perfs), 4) if len(perfs) > 1 else 0.0,
                         "cpu_seconds_per_seed": round(statistics.mean(cpus), 2), "wall_seconds": round(wall, 1)}
    load1 = os.getloadavg()
    if "faithful" in summary and "fast" in summary:
        summary["cpu_speedup"] = round(summary["faithful"]["cpu_seconds_per_seed"]
                                       / summary["fast"]["cpu_seconds_per_seed"], 2)
    print(f"{'variant':9} {'sample':>6} {'seed':>4} {'avg_perf':>8} {'train s':>8} {'cpu s':>7} {'best ep':>7}")
    for r in rows:
        print(f"{r['variant']:9} {r['member_sample']:>6} {r['seed']:>4} {r['avg_performance']:>8.4f} "
              f"{r['train_seconds']:>8.1f} {r['train_cpu_seconds']:>7.1f} {r['best_epoch']:>7}")
    for name, s in summary.items():
        if isinstance(s, dict):
            print(f"{name}: {s['mean']:.4f} ± {s['sd']:.4f}, {s['cpu_seconds_per_seed']} CPU s/seed ({s['run']})")
    if "cpu_speedup" in summary:
        print(f"CPU speed-up fast vs faithful: {summary['cpu_speedup']}x")
    print(f"load average: {load0[0]:.1f} at the start, {load1[0]:.1f} at the end ({os.cpu_count()} cores)")
    out = {"bench": "graph_router", "commit": commit(), "data": str(a.data), "mode": a.mode, "profile": p["id"],
           "graph": g["id"], "epochs": a.epochs, "seeds": seeds, "rows": rows, "summary": summary,
           "loadavg_start": load0, "loadavg_end": load1, "cores": os.cpu_count(),
           "command": "python bench/graph_router.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Routing speed of recorded runs: batched decisions per second with cached query embeddings, and single-query
latency split into encoding and decision.

For each router (sim, mlp, graph) it loads a run with `rpcli.services.serving.inference.load_run(..., check=False)` (the
one loader, rpcli.core.routers.inference.load_router: everything that does not depend on the query is computed
once at load; graph runs from the model states in their checkpoint) and measures
  batched   decisions/s: `scores` + argmax over the released test queries' cached embeddings, tiled to
            --n queries and fed in batches of --batch (best of --repeat passes);
  single    per query (the first --single test queries, one at a time, after --warmup queries): encoding its text
            with the run's encoder without the embedding cache (`encode`), reading it from the cache (`cache`),
            and the decision (`decide`: scores + argmax of one vector); total = encode + decide; wall-clock
            times, and the process CPU time of encode and decide (on a shared machine wall time includes waiting).
Runs are given with --runs sim=ID,mlp=ID,graph=ID; missing ones are built on the released data (standard mode,
task graph, emb-gnn K=2 profile; the graph run with --graph-epochs epochs, 2 by default: a decision's cost does
not depend on how long the router trained). Torch uses --threads intra-op threads (1 by default: other processes
share the machine). The load average at the start and the end is recorded.

Usage:
  python bench/route_speed.py [--data ../shared/data/routeprofile] [--workspace DIR] [--runs sim=ID,...]
                              [--n 20000] [--batch 1024] [--single 200] [--threads 1] [--out FILE]
Writes bench/results/route_speed.json (or --out) with the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.graph_router import DEFAULT_DATA, EMB_GNN, commit  # noqa: E402


def pct(a, q) -> float:
    return round(float(np.percentile(np.asarray(a) * 1000.0, q)), 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--workspace", default="/tmp/rp-bench-route-speed")
    ap.add_argument("--mode", default="standard")
    ap.add_argument("--runs", default="", help="router=run-id pairs, comma-separated")
    ap.add_argument("--routers", default="sim,mlp,graph")
    ap.add_argument("--graph-epochs", type=int, default=2)
    ap.add_argument("--n", type=int, default=20000, help="queries per batched pass")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--single", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--encoder", default=None, help="encoder spec (default: the default encoder), e.g. minilm-int8")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "route_speed.json"))
    a = ap.parse_args(argv)

    import torch

    from rpcli.core.routers.query_text import query_text as qtext
    from rpcli.services.base import Session
    from rpcli.services.artifacts.graphs import build_graph_entry
    from rpcli.services.serving.inference import load_run
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import init_workspace

    torch.set_num_threads(a.threads)
    ws = Workspace(Path(a.workspace))
    init_workspace(ws)
    sess = Session(workspace=ws, data_root=Path(a.data), encoder_spec=a.encoder)
    given = dict(kv.split("=", 1) for kv in a.runs.split(",") if kv)
    routers = a.routers.split(",")
    run_ids = {}
    pid = None
    for r in routers:
        if r in given:
            run_ids[r] = given[r]
            continue
        if pid is None:
            g = build_graph_entry(sess, "task", a.mode).entry
            pid = build_profile_entry(sess, "emb-gnn", a.mode, EMB_GNN, graph_ref=g["id"]).entry["id"]
        opts = {"epochs": a.graph_epochs} if r == "graph" else {}
        run_ids[r] = run_router_entry(sess, r, pid, a.mode, opts).entry["id"]

    load0 = os.getloadavg()
    rows = []
    enc = sess.encoder
    inner = getattr(enc, "inner", enc)
    for r in routers:
        t0 = time.perf_counter()
        rr = load_run(sess, run_ids[r], check=False)
        lr = rr.loaded
        load_s = time.perf_counter() - t0
        texts = [qtext(row, rr.params.get("query_text", "formatted")) for row in sess.dataset.test_rows]
        vecs = enc.encode(texts)  # cached embeddings of the test queries
        reps = -(-a.n // len(vecs))
        big = np.tile(vecs, (reps, 1))[:a.n]
        lr.choose(big[:a.batch])  # warm-up
        best = None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            for s0 in range(0, len(big), a.batch):
                lr.choose(big[s0:s0 + a.batch])
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        enc_t, cache_t, dec_t, dec_cpu, enc_cpu = [], [], [], [], []
        for i, text in enumerate(texts[:a.warmup + a.single]):
            c0, t0 = time.process_time(), time.perf_counter()
            v = inner.encode([text])
            c1, t1 = time.process_time(), time.perf_counter()
            enc.encode([text])
            t2 = time.perf_counter()
            c2 = time.process_time()
            int(lr.choose(v[0])[0])
            t3, c3 = time.perf_counter(), time.process_time()
            if i >= a.warmup:
                enc_t.append(t1 - t0)
                cache_t.append(t2 - t1)
                dec_t.append(t3 - t2)
                enc_cpu.append(c1 - c0)
                dec_cpu.append(c3 - c2)
        tot = np.asarray(enc_t) + np.asarray(dec_t)
        rows.append({"router": r, "run": run_ids[r], "models": len(lr.models), "load_seconds": round(load_s, 3),
                     "batched_decisions_per_s": round(a.n / best, 1), "batch": a.batch, "n": a.n,
                     "single": {name: {"p50_ms": pct(x, 50), "p95_ms": pct(x, 95), "p99_ms": pct(x, 99)}
                                for name, x in (("encode", enc_t), ("cache", cache_t), ("decide", dec_t),
                                                ("total", tot), ("encode_cpu", enc_cpu), ("decide_cpu", dec_cpu))},
                     "n_single": len(enc_t)})
    load1 = os.getloadavg()
    print(f"{'router':6} {'run':16} {'decisions/s':>12} | {'encode p50/p95/p99 ms':>22} | "
          f"{'decide p50/p95/p99 ms':>22} | {'total p50/p95/p99 ms':>22} | {'cache p50 ms':>12} | "
          f"{'CPU ms p50 encode/decide':>24}")
    for row in rows:
        s = row["single"]

        def f(x):
            return f"{x['p50_ms']:.2f}/{x['p95_ms']:.2f}/{x['p99_ms']:.2f}"
        print(f"{row['router']:6} {row['run']:16} {row['batched_decisions_per_s']:>12,.0f} | {f(s['encode']):>22} | "
              f"{f(s['decide']):>22} | {f(s['total']):>22} | {s['cache']['p50_ms']:>12.2f} | "
              f"{s['encode_cpu']['p50_ms']:>13.2f}/{s['decide_cpu']['p50_ms']:<10.3f}")
    print(f"encoder {enc.id}; torch threads {a.threads}; batched: {a.n} queries in batches of {a.batch}, "
          f"best of {a.repeat}; single: {rows[0]['n_single'] if rows else 0} queries after {a.warmup} warm-up")
    print(f"load average: {load0[0]:.1f} at the start, {load1[0]:.1f} at the end ({os.cpu_count()} cores)")
    out = {"bench": "route_speed", "commit": commit(), "data": str(a.data), "mode": a.mode, "encoder": enc.id,
           "threads": a.threads, "rows": rows, "loadavg_start": load0, "loadavg_end": load1,
           "cores": os.cpu_count(), "command": "python bench/route_speed.py " + " ".join(
               argv if argv is not None else sys.argv[1:])}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

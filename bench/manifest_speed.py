"""Recording one artifact in a workspace that already holds N entries: the JSON manifest vs the SQLite store, timed
in process (the manifest calls alone).

These are not command timings: an `rp` command also starts an interpreter, imports, and before step 15 rewrote
manifest.json at exit above EXPORT_SYNC_MAX entries (the `export` row below; about 30 s at 10,000 entries), which an
in-process timing never sees. bench/ws_scale.py times whole `rp` processes in a small and a large workspace.

Entries are realistic run records: the shape `build_artifact` writes (params, data, encoder, input files with their
hashes, outputs, provenance) with the metrics of a run on the released data (per task, selection shares, a
cost-quality curve, per seed): about 7 KB each as JSON. Measured, each over --repeat records (median, p95):

  json-register   the manifest before step 11 (rpcli/workspace/manifest.py at --json-rev, loaded from git):
                  read manifest.json, add the entry, rewrite it (fsync + rename) under the workspace lock;
  store-register  register_entry on the SQLite store (one transaction under the lock);
  store-build     build_artifact end to end with a trivial builder (lock, init check, reuse lookup, staging,
                  move, hashing the output, register): the in-process part of recording an artifact;
  load            load_manifest (every entry) from each;
  export          rewriting manifest.json from the store (done after each write up to EXPORT_SYNC_MAX
                  entries; above that only on demand, by `rp ws export`).

Usage: python bench/manifest_speed.py [--entries 10000] [--repeat 20] [--json-rev HEAD~1] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import commit, machine  # noqa: E402

TASKS = ["aime", "arc_challenge", "gpqa", "gsm8k", "human_eval", "math", "mbpp", "mmlu", "mmlu_pro", "trivia_qa"]
MODELS = [f"model-{i}" for i in range(8)]


def run_entry(i: int) -> dict:
    rid = "run-" + hashlib.sha256(str(i).encode()).hexdigest()[:10]
    curve = [{"lambda": lam, "avg_cost": 1e-4 / (1 + lam), "avg_performance": 0.6 - lam * 1e-5}
             for lam in (0, 10, 30, 100, 300, 1000, 3000, 10000)]
    per_task = {t: {"n": 60, "avg_performance": 0.61, "hit_rate": 0.7, "best_pick_rate": 0.55, "avg_cost": 1.1e-4}
                for t in TASKS}
    metrics = {"n_rows": 600, "avg_performance": 0.6123, "avg_performance_ci95": [0.58, 0.64],
               "macro_avg_performance": 0.61, "per_task": per_task, "hit_rate": 0.66, "hit_rate_rp": 0.86,
               "best_pick_rate": 0.81, "n_best_pick_rows": 600, "best_pick_rate_discriminative": 0.6,
               "n_discriminative": 275, "avg_cost": 9.5e-5, "avg_cost_micro": 95.2, "n_cost_missing": 0,
               "selection_share": {m: 0.125 for m in MODELS}, "selection_entropy": 1.5, "oracle": 0.7574,
               "regret": 0.145, "gap_closed": 0.01, "n_missing": 0, "warnings": [],
               "bsm_reference": {"name": "best-single (train)", "avg_performance": 0.6104},
               "per_seed": [{"seed": s, "avg_performance": 0.61, "avg_cost": 9.5e-5} for s in range(3)],
               "seeds": {"avg_performance": {"mean": 0.61, "sd": 0.004, "n": 3}},
               "cost_quality": {"points": curve, "pareto": curve},
               "train": {"epochs_run": 20, "best_epoch": 17, "device": "cpu", "seconds": 12.5}}
    return {"id": rid, "kind": "run", "key": f"{i:064x}", "parents": [f"profile-{i % 97:010x}"],
            "params": {"router": "mlp", "mode": "standard", "query_text": "formatted", "seeds": [0, 1, 2],
                       "epochs": 20, "lr": 1e-4, "hidden": 512, "out": 256, "layers": 2, "batch_size": 32,
                       "dropout": 0.1, "val_split": 0.1, "patience": 5},
            "data": {"root": "/work/shared/data/routeprofile", "hash": "d" * 64, "keep_overlap": False},
            "data_hash": "d" * 64, "encoder": {"id": "all-MiniLM-L6-v2-78c505bbed", "dim": 384, "kind": "transformers"},
            "inputs": [{"path": f"route_data/file_{j}.json", "sha256": f"{j:064x}"} for j in range(8)],
            "outputs": [{"path": f"runs/{rid}/{n}", "sha256": "0" * 64, "bytes": 8000}
                        for n in ("metrics.json", "predictions.jsonl", "ckpt.pt")],
            "metrics": metrics, "info": {"models": MODELS, "held_out": [], "n_test_rows": 600},
            "provenance": {"git_commit": "4bbc95de45cf", "git_dirty": False, "python": "3.11.7", "rp": "0.1.0",
                           "platform": "Linux-x86_64", "torch": "2.13.0", "numpy": "2.4.6"},
            "created_at": f"2025-01-15T10:{i % 60:02d}:00Z", "duration_s": 2.5, "status": "done"}


def old_manifest_module(rev: str):
    """rpcli/workspace/manifest.py as it was at `rev` (the JSON manifest), imported under another name."""
    src = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:rpcli/workspace/manifest.py"],
                         capture_output=True, text=True, check=True).stdout
    if "sqlite3" in src:
        raise SystemExit(f"{rev} already has the SQLite store: pass --json-rev with the JSON manifest")
    mod = types.ModuleType("old_manifest")
    exec(compile(src, f"{rev}:rpcli/workspace/manifest.py", "exec"), mod.__dict__)
    return mod


def stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"median_ms": round(statistics.median(xs) * 1000, 2),
            "p95_ms": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))] * 1000, 2),
            "min_ms": round(xs[0] * 1000, 2), "n": len(xs)}


def timed(fn, repeat: int) -> list[float]:
    out = []
    for k in range(repeat):
        t0 = time.perf_counter()
        fn(k)
        out.append(time.perf_counter() - t0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json-rev", default="afe4536", help="a commit whose manifest.py is the JSON manifest")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "manifest_speed.json")
    args = ap.parse_args(argv)

    from rpcli.services.base import Session, build_artifact
    from rpcli.workspace import manifest as M
    from rpcli.workspace.layout import Workspace

    old = old_manifest_module(args.json_rev)
    base_doc = {"schema": 1, "entries": {e["id"]: e for e in (run_entry(i) for i in range(args.entries))}}
    text = json.dumps(base_doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    entry_bytes = len(text.encode()) / max(1, args.entries)
    res = {"bench": "manifest_speed", "commit": commit(), "machine": machine(),
           "command": "python bench/manifest_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "entries": args.entries, "entry_json_bytes": round(entry_bytes), "manifest_json_mib":
           round(len(text.encode()) / 2**20, 1), "json_rev": args.json_rev, "export_sync_max": M.EXPORT_SYNC_MAX}
    with tempfile.TemporaryDirectory(prefix="rp-manifest-") as tmp:
        # --- the JSON manifest (before)
        ws_j = Workspace(Path(tmp) / "json")
        ws_j.root.mkdir()
        ws_j.manifest_path.write_text(text, encoding="utf-8")
        rep_json = max(3, args.repeat // 4)  # each costs a full rewrite: fewer repeats
        res["json_register"] = stats(timed(lambda k: old.register_entry(ws_j, run_entry(10**7 + k)), rep_json))
        res["json_load"] = stats(timed(lambda k: old.load_manifest(ws_j), 3))
        # --- the store (after): the first write migrates the JSON workspace
        ws_s = Workspace(Path(tmp) / "store")
        ws_s.root.mkdir()
        ws_s.manifest_path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        M.register_entry(ws_s, run_entry(10**8))
        res["store_migrate_first_write_s"] = round(time.perf_counter() - t0, 3)
        res["store_register"] = stats(timed(lambda k: M.register_entry(ws_s, run_entry(10**7 + k)), args.repeat))
        res["store_lookup"] = stats(timed(lambda k: M.lookup_entry(ws_s, run_entry(k * 7)["id"]), args.repeat))
        res["store_get_entry_prefix"] = stats(timed(lambda k: M.get_entry(ws_s, run_entry(k * 7)["id"][:11]),
                                                    args.repeat))
        res["store_load"] = stats(timed(lambda k: M.load_manifest(ws_s), 3))
        res["store_export"] = stats(timed(lambda k: M.export_manifest(ws_s), 3))
        # --- build_artifact end to end (trivial builder)
        sess = Session(workspace=ws_s)
        sess._dataset = types.SimpleNamespace(data_hash="d" * 64, files={f"route_data/f{j}.json": f"{j:064x}"
                                                                         for j in range(8)},
                                              root=Path("/data"), keep_overlap=False)
        sess._encoder = types.SimpleNamespace(id="hash-32", describe={"kind": "hash", "dim": 32})

        def build(k):
            def builder(out_dir):
                (out_dir / "metrics.json").write_text(json.dumps(run_entry(k)["metrics"]))
                return {"metrics": run_entry(k)["metrics"]}
            r = build_artifact(sess, "run", {"bench": k}, [], builder)
            assert r.built
        build(-1)  # provenance() caches git's answer once per process
        res["store_build_artifact"] = stats(timed(lambda k: build(k), args.repeat))
        res["store_entries_at_end"] = len(M.load_manifest(ws_s)["entries"])
    res["target_ms"] = 50
    res["met"] = res["store_build_artifact"]["median_ms"] < 50 and res["store_register"]["median_ms"] < 50
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{args.entries:,} entries ({res['entry_json_bytes']:,} B each, manifest.json {res['manifest_json_mib']} MiB)")
    print(f"  {'':28s} {'median ms':>10} {'p95 ms':>10} {'n':>4}")
    for k in ("json_register", "json_load", "store_register", "store_build_artifact", "store_lookup",
              "store_get_entry_prefix", "store_load", "store_export"):
        s = res[k]
        print(f"  {k:28s} {s['median_ms']:>10.2f} {s['p95_ms']:>10.2f} {s['n']:>4}")
    print(f"  first write (migrating manifest.json into the store): {res['store_migrate_first_write_s']} s")
    print(f"target: recording one artifact < 50 ms: {'met' if res['met'] else 'NOT met'}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

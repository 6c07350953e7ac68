"""Wall time of a sweep, cold (empty workspace) and warm (everything recorded), per executor configuration.

    python bench/sweep_time.py                                   # sweeps/paper-table1.yaml on the released data
    python bench/sweep_time.py --sweep sweeps/quick.yaml --data ''   # the demo data (embedded default)
    python bench/sweep_time.py --configs local:1,local:2,ray:2 --out bench/results/sweep_time.json

Each configuration gets a fresh workspace (embedding cache included), runs `rp sweep` once cold and once warm,
and the script prints a table and writes JSON (commit, machine, sweep file, data, one row per configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_sweep(sweep: Path, data: str | None, ws: Path, executor: str, jobs: int, encoder: str | None) -> dict:
    cmd = [sys.executable, "-m", "rpcli", "-w", str(ws), "-q"]
    if data:
        cmd += ["-d", data]
    if encoder:
        cmd += ["--encoder", encoder]
    cmd += ["sweep", str(sweep), "--json", "--jobs", str(jobs), "--executor", executor]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    rows = json.loads(p.stdout) if p.stdout.strip().startswith("[") else []
    counts: dict = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"wall_s": round(wall, 1), "rc": p.returncode, "counts": counts,
            "stderr_tail": p.stderr[-400:] if p.returncode else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=str(ROOT / "sweeps" / "paper-table1.yaml"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "routeprofile"),
                    help="dataset folder ('' for the embedded demo data)")
    ap.add_argument("--encoder", default=None, help="encoder spec (default: the default encoder)")
    ap.add_argument("--configs", default="local:1,local:2,ray:2", help="executor:jobs, comma-separated")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "sweep_time.json"))
    ap.add_argument("--keep", action="store_true", help="keep the workspaces (printed)")
    args = ap.parse_args()
    sweep = Path(args.sweep).resolve()
    results = []
    for conf in args.configs.split(","):
        executor, jobs = conf.split(":")
        if executor == "ray":
            try:
                import ray  # noqa: F401
            except ImportError:
                print(f"skipping {conf}: ray is not installed (pip install -e '.[ray]')", file=sys.stderr)
                continue
        ws = Path(tempfile.mkdtemp(prefix=f"rp-bench-{executor}{jobs}-"))
        print(f"[{conf}] cold ...", file=sys.stderr, flush=True)
        cold = run_sweep(sweep, args.data, ws, executor, int(jobs), args.encoder)
        print(f"[{conf}] cold {cold['wall_s']}s {cold['counts']}; warm ...", file=sys.stderr, flush=True)
        warm = run_sweep(sweep, args.data, ws, executor, int(jobs), args.encoder)
        results.append({"executor": executor, "jobs": int(jobs), "cold": cold, "warm": warm,
                        "workspace": str(ws) if args.keep else None})
        if not args.keep:
            shutil.rmtree(ws, ignore_errors=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or None
    doc = {"bench": "sweep_time", "command": "python bench/sweep_time.py " + " ".join(sys.argv[1:]), "sweep": str(sweep.relative_to(ROOT) if sweep.is_relative_to(ROOT) else sweep), "data": args.data or
           "embedded demo", "encoder": args.encoder or "default", "commit": commit,
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
           "machine": platform.platform(), "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'executor':10s} {'jobs':>4s} {'cold s':>8s} {'warm s':>8s}  built / reused (cold; warm)")
    for r in results:
        print(f"{r['executor']:10s} {r['jobs']:4d} {r['cold']['wall_s']:8.1f} {r['warm']['wall_s']:8.1f}  "
              f"{r['cold']['counts']}; {r['warm']['counts']}" + ("  FAILED" if r["cold"]["rc"] else ""))
    print(f"written: {args.out}", file=sys.stderr)
    return 1 if any(r["cold"]["rc"] or r["warm"]["rc"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time of a sweep, cold (empty workspace) and warm (everything recorded), per executor configuration.

    python bench/sweep_time.py                                   # sweeps/paper-table1.yaml on the released data
    python bench/sweep_time.py --sweep sweeps/quick.yaml --data ''   # the demo data (embedded default)
    python bench/sweep_time.py --configs local:1,local:2,ray:2 --out bench/results/sweep_time.json
    python bench/sweep_time.py --workspace DIR --sweep sweeps/paper-table1.yaml   # warm only, on a recorded sweep

Each configuration gets a fresh workspace (embedding cache included), runs `rp sweep` once cold and once warm,
and the script prints a table and writes JSON (commit, machine, sweep file, data, one row per configuration).

With --workspace, nothing is built: the sweep must already be recorded there (a cold table-1 sweep takes hours on
2 cores); each configuration reruns it warm on that workspace, and the cold side is read from the workspace's
sweep record (rpcli/services/sweep/driver.py): the wall time, executor and jobs of every earlier invocation of the sweep
that built something (`history`), and the sum of the recorded build durations of its artifacts (what one job
would take, before any reuse).
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
    ap.add_argument("--workspace", default=None,
                    help="a workspace that already holds the sweep: time warm reruns only (see above)")
    ap.add_argument("--built-by", default="",
                    help="with --workspace: other recorded sweeps (comma-separated names) whose invocations built "
                         "part of this one (e.g. paper-table1-pre for paper-table1): their building invocations "
                         "count in the cold wall time")
    args = ap.parse_args()
    sweep = Path(args.sweep).resolve()
    results = []
    recorded = None
    if args.workspace:
        recorded = recorded_cold(Path(args.workspace), sweep, [n for n in args.built_by.split(",") if n])
    for conf in args.configs.split(","):
        executor, jobs = conf.split(":")
        if executor == "ray":
            try:
                import ray  # noqa: F401
            except ImportError:
                print(f"skipping {conf}: ray is not installed (pip install -e '.[ray]')", file=sys.stderr)
                continue
        if args.workspace:
            ws = Path(args.workspace)
            print(f"[{conf}] warm on {ws} ...", file=sys.stderr, flush=True)
            warm = run_sweep(sweep, args.data, ws, executor, int(jobs), args.encoder)
            results.append({"executor": executor, "jobs": int(jobs), "cold": None, "warm": warm,
                            "workspace": str(ws)})
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
           "machine": platform.platform(), "load_avg": [round(x, 2) for x in os.getloadavg()],
           "results": results, "recorded_cold": recorded}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'executor':10s} {'jobs':>4s} {'cold s':>8s} {'warm s':>8s}  built / reused (cold; warm)")
    for r in results:
        cold = r["cold"] or {"wall_s": float("nan"), "counts": "(recorded)", "rc": 0}
        print(f"{r['executor']:10s} {r['jobs']:4d} {cold['wall_s']:8.1f} {r['warm']['wall_s']:8.1f}  "
              f"{cold['counts']}; {r['warm']['counts']}" + ("  FAILED" if cold["rc"] or r["warm"]["rc"] else ""))
    if recorded:
        print(f"recorded cold: {recorded['artifacts']} artifacts, sum of build durations "
              f"{recorded['build_s_sum']:.0f} s; invocations that built: "
              + "; ".join(f"{h['sweep']} {h['executor']}:{h['jobs']} {h['wall_s']:.0f} s" for h in recorded["invocations"]))
    print(f"written: {args.out}", file=sys.stderr)
    return 1 if any((r["cold"] or {}).get("rc") or r["warm"]["rc"] for r in results) else 0


def recorded_cold(ws: Path, sweep: Path, built_by: list | None = None) -> dict:
    """The cold side of a sweep recorded in `ws`: its artifacts' build durations and the invocations that built
    them (from the sweep record's history, and from those of the sweeps named in `built_by`; an invocation that
    built nothing is left out)."""
    import yaml

    name = yaml.safe_load(sweep.read_text())["name"]
    doc = json.loads((ws / "sweeps" / f"{name}.json").read_text())
    arts = doc["artifacts"]
    inv = []
    for n, d in [(name, doc)] + [(b, json.loads((ws / "sweeps" / f"{b}.json").read_text())) for b in built_by or []]:
        last = {**d, "counts": {"built": sum(a.get("status") == "built" for a in d["artifacts"])}}
        for h in (d.get("history") or []) + [last]:
            if (h.get("counts") or {}).get("built") and h.get("wall_s"):
                inv.append({**h, "sweep": n})
    return {"sweep": name, "artifacts": len(arts), "build_s_sum": round(sum(a.get("duration_s") or 0 for a in arts), 1),
            "by_kind_s": {k: round(sum(a.get("duration_s") or 0 for a in arts if a["kind"] == k), 1)
                          for k in ("graph", "profile", "run")},
            "invocations": [{k: h.get(k) for k in ("sweep", "started", "finished", "wall_s", "jobs", "executor",
                                                   "commit", "counts")} for h in inv],
            "cold_wall_s": round(sum(h["wall_s"] for h in inv), 1),
            "complete": all((a.get("id") and a.get("status") in ("reused", "built")) for a in arts)}


if __name__ == "__main__":
    sys.exit(main())

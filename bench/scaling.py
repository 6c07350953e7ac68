"""Scaling of the pipeline on `rp data synth` data: models x training queries -> wall time and peak memory.

Every step is one `rp` process (so each has its own peak memory, read with os.wait4 from the kernel's rusage):
  synth      rp data synth (the dataset itself; not a target, listed for context)
  graph      rp graph build query-task-domain (query nodes: grows with the queries)
  emb-gnn    rp profile emb-gnn --K 2 on that graph
  trainable  rp profile trainable --epochs E_T (fixed, small)
  sim        rp route sim   (training-free: its time is the evaluation)
  mlp        rp route mlp   --epochs E_M
  graph-rt   rp route graph --epochs E_G (few)
  compare    rp compare --plain
The encoder is `hash:64` (feature hashing, no model): the numbers measure the pipeline, not MiniLM (see
bench/encoder_speed.py for the encoder). Mode: standard. Tasks: 8; test queries: 10 % of the training queries;
all models are routing candidates (--candidates = --models); 80 pairs per task.

The growth of each step is fitted as the slope of log(time) against log(queries) (models fixed) and against
log(models) (queries fixed), by least squares over the cells that ran; a slope of 1 is linear growth.

Usage:
  python bench/scaling.py [--models 8,32,128] [--queries 1000,10000,100000] [--max-queries N]
                          [--step-timeout 300] [--budget 900] [--out bench/results/scaling.json]
Cells are run smallest first; a cell is skipped (and listed as "not run") once the wall-time budget is spent,
and a step that passes --step-timeout is killed and recorded as a timeout (later steps of that cell that need
its output are skipped). --resume merges the cells already in the output file (to run the rest later).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from _common import machine, commit  # noqa: E402

STEPS = ("synth", "graph", "emb-gnn", "trainable", "sim", "mlp", "graph-rt", "compare")
TASKS = 8
EPOCHS = {"trainable": 2, "mlp": 2, "graph-rt": 1}


def run_step(cmd: list[str], env: dict, timeout: float) -> dict:
    """Run one command; wall seconds, peak RSS (MiB) of that process, exit code, last stdout line."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = t0 + timeout
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                _, status, rusage = os.wait4(p.pid, 0)
                p.returncode = -9
                return {"seconds": round(time.perf_counter() - t0, 3), "peak_mib": round(rusage.ru_maxrss / 1024, 1),
                        "rc": "timeout", "cmd": cmd}
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        secs = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
        tail = err.read().decode(errors="replace").strip()[-400:]
    rec = {"seconds": round(secs, 3), "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 3),
           "peak_mib": round(rusage.ru_maxrss / 1024, 1), "rc": p.returncode, "cmd": cmd,
           "out": lines[-1] if lines else ""}
    if p.returncode != 0:
        rec["stderr"] = tail
    return rec


def run_cell(models: int, queries: int, base: Path, rp: list[str], timeout: float) -> dict:
    data, ws = base / f"data-{models}x{queries}", base / f"ws-{models}x{queries}"
    env = {**os.environ, "RP_ENCODER": "hash:64", "RP_WORKSPACE": str(ws), "RP_DATA": str(data),
           "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    per_task = max(1, queries // TASKS)
    test_per_task = max(10, per_task // 10)
    cell = {"models": models, "queries": per_task * TASKS, "test_rows": test_per_task * TASKS, "steps": {}}
    steps = cell["steps"]

    def step(name, args):
        r = run_step(rp + ["-q"] + args, env, timeout)
        steps[name] = r
        if r["rc"] == 0 and r["out"].startswith(("graph-", "profile-", "run-")):
            # the artifact's own build time as recorded (no interpreter start, imports or data loading)
            try:
                e = json.loads((ws / "manifest.json").read_text())["entries"].get(r["out"], {})
                r["work_s"] = e.get("duration_s")
            except (OSError, ValueError):
                pass
        print(f"  {models:>4} models {cell['queries']:>7} queries  {name:<10} {r['seconds']:8.2f} s "
              f"{r['peak_mib']:8.1f} MiB  work {r.get('work_s')} s  rc={r['rc']}", flush=True)
        return r["out"] if r["rc"] == 0 else None

    if step("synth", ["data", "synth", "--out", str(data), "--models", str(models), "--candidates", str(models),
                      "--tasks", str(TASKS), "--train-queries-per-task", str(per_task),
                      "--test-queries-per-task", str(test_per_task)]) is None:
        return cell
    g = step("graph", ["graph", "build", "query-task-domain", "--mode", "standard"])
    if g is None:
        return cell
    p = step("emb-gnn", ["profile", "emb-gnn", "--mode", "standard", "--graph", g, "--K", "2"])
    step("trainable", ["profile", "trainable", "--mode", "standard", "--graph", g,
                       "--epochs", str(EPOCHS["trainable"])])
    if p is not None:
        step("sim", ["route", "sim", "--profile", p, "--mode", "standard"])
        step("mlp", ["route", "mlp", "--profile", p, "--mode", "standard", "--epochs", str(EPOCHS["mlp"])])
        step("graph-rt", ["route", "graph", "--profile", p, "--mode", "standard",
                          "--epochs", str(EPOCHS["graph-rt"])])
    step("compare", ["compare", "--plain"])
    return cell


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two distinct x."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx, 2)


def fit_growth(cells: list[dict], measure: str = "seconds") -> dict:
    """Per step: slope vs queries (pooled over model counts: each model count's own points, centred) and vs
    models (pooled over query counts), of `measure` (seconds: the process's wall time; work_s: the recorded
    build time of the artifact)."""
    out = {}
    for s in STEPS:
        ok = [(c["models"], c["queries"], c["steps"][s][measure]) for c in cells
              if s in c["steps"] and c["steps"][s]["rc"] == 0 and c["steps"][s].get(measure)]
        res = {}
        for axis, group_key, x_key in (("queries", 0, 1), ("models", 1, 0)):
            groups: dict = {}
            for row in ok:
                groups.setdefault(row[group_key], []).append((row[x_key], row[2]))
            per_group = {str(k): slope(v) for k, v in groups.items() if slope(v) is not None}
            # pooled slope: centre log x and log y within each group, then one least-squares fit
            num = den = 0.0
            for v in groups.values():
                pts = [(math.log(x), math.log(y)) for x, y in v]
                if len({x for x, _ in pts}) < 2:
                    continue
                mx = sum(x for x, _ in pts) / len(pts)
                my = sum(y for _, y in pts) / len(pts)
                num += sum((x - mx) * (y - my) for x, y in pts)
                den += sum((x - mx) ** 2 for x, _ in pts)
            res[f"vs_{axis}"] = round(num / den, 2) if den else None
            res[f"vs_{axis}_by_group"] = per_group
        out[s] = res
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="8,32,128")
    ap.add_argument("--queries", default="1000,10000,100000")
    ap.add_argument("--max-queries", type=int, default=None, help="skip cells with more training queries")
    ap.add_argument("--step-timeout", type=float, default=300.0)
    ap.add_argument("--budget", type=float, default=900.0, help="wall seconds for the whole grid")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "scaling.json")
    ap.add_argument("--resume", action="store_true", help="keep the cells already in --out and run the others")
    ap.add_argument("--merge", type=Path, nargs="*", default=[], help="also keep the cells of these result files")
    ap.add_argument("--keep", type=Path, default=None, help="keep datasets and workspaces under this folder")
    args = ap.parse_args(argv)
    models = [int(x) for x in args.models.split(",") if x]
    queries = [int(x) for x in args.queries.split(",") if x]
    grid = sorted(((m, q) for m in models for q in queries if args.max_queries is None or q <= args.max_queries),
                  key=lambda mq: (mq[1], mq[0]))
    done: dict = {}
    earlier = []  # the commands whose cells are kept
    for other in ([args.out] if args.resume and args.out.exists() else []) + list(args.merge):
        # cells measured by another run of this script (its commit is kept in each cell)
        r = json.loads(other.read_text())
        earlier += r.get("runs") or [{"command": r.get("command"), "commit": r.get("commit")}]
        for c in r["cells"]:
            c.setdefault("commit", r.get("commit"))
            done[(c["models"], c["requested_queries"])] = c
    rp = [sys.executable, "-m", "rpcli"]
    t_start = time.perf_counter()
    cells, not_run = [], []
    base_ctx = tempfile.TemporaryDirectory(prefix="rp-scale-") if args.keep is None else None
    base = Path(base_ctx.name) if base_ctx else args.keep.resolve()
    base.mkdir(parents=True, exist_ok=True)
    m0 = machine()
    try:
        for m, q in grid:
            if (m, q) in done:
                cells.append(done[(m, q)])
                continue
            if time.perf_counter() - t_start > args.budget:
                not_run.append({"models": m, "queries": q, "why": "wall-time budget spent"})
                continue
            print(f"cell: {m} models x {q} queries", flush=True)
            m0_load = [round(x, 2) for x in os.getloadavg()]
            t0 = time.perf_counter()
            cell = run_cell(m, q, base, rp, args.step_timeout)
            cell["requested_queries"] = q
            cell["commit"], cell["load_avg_at_start"] = commit(), m0_load
            cell["wall_s"] = round(time.perf_counter() - t0, 2)
            cells.append(cell)
    except BaseException:
        if base_ctx:
            base_ctx.cleanup()
        raise
    for m, q in [(m, q) for m in models for q in queries if args.max_queries is not None and q > args.max_queries]:
        not_run.append({"models": m, "queries": q, "why": f"--max-queries {args.max_queries}"})
    ran = {(c["models"], c["requested_queries"]) for c in cells}
    cells += [c for k, c in done.items() if k not in ran]  # kept from --out, outside this grid
    ran |= set(done)
    not_run = [c for c in not_run if (c["models"], c["queries"]) not in ran]
    growth = fit_growth(cells)
    growth_work = {k: v for k, v in fit_growth(cells, "work_s").items() if v["vs_queries"] is not None
                   or v["vs_models"] is not None}
    big = [c for c in cells if c["models"] == 128 and c["requested_queries"] == 100000]
    result = {"bench": "scaling", "commit": commit(), "machine": {**m0, "load_after": os.getloadavg()},
              "command": "python bench/scaling.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "runs": earlier + [{"command": "python bench/scaling.py " + " ".join(sys.argv[1:] if argv is None
                                                                                  else argv), "commit": commit()}],
              "encoder": "hash:64", "tasks": TASKS, "epochs": EPOCHS, "step_timeout_s": args.step_timeout,
              "cells": sorted(cells, key=lambda c: (c["models"], c["requested_queries"])), "not_run": not_run,
              "growth": growth, "growth_work": growth_work,
              "memory_128x100k_mib": (max(s["peak_mib"] for s in big[0]["steps"].values()) if big else None),
              "python": platform.python_version()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("\ngrowth (log-log slope of wall time):")
    print(f"  {'step':<10} {'vs queries':>10} {'vs models':>10}")
    for s, g in growth.items():
        w = growth_work.get(s, {})
        print(f"  {s:<10} {str(g['vs_queries']):>10} {str(g['vs_models']):>10}   recorded build time: "
              f"{w.get('vs_queries')} vs queries, {w.get('vs_models')} vs models")
    if not_run:
        print("not run: " + ", ".join(f"{c['models']}x{c['queries']} ({c['why']})" for c in not_run))
    print(f"wrote {args.out}")
    if base_ctx:
        base_ctx.cleanup()  # after writing: removing 100k cached embeddings takes a while
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

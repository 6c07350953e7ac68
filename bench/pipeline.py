"""Wall and CPU seconds of every pipeline stage on the released data, with a cold and a warm embedding cache.

Each stage is one `rp` command run as a subprocess (so the numbers include what a user pays: interpreter start,
imports, loading the dataset and, when it has to encode, the encoder model). CPU seconds are the children's user +
system time of that command. Stages, per mode:
  graph build KIND          for each of the five graph kinds
  profile METHOD            index, flat (task graph), emb-gnn K=2 (task graph), trainable (task graph, default
                            epochs), text-gnn K=2 with the extractive backend (its default query-task-domain graph)
  route ROUTER on PROFILE   sim, mlp (seed 0), graph (seed 0; --graph-epochs caps its epochs) on every profile
Passes, each in its own fresh workspace under a temporary directory:
  cold   an empty embedding cache: the first stage that needs a text encodes it
  warm   a fresh workspace whose embedding cache is a copy of the cold pass's (every text is a cache hit), i.e.
         the cost of the stages themselves
The load average is recorded before and after each pass: the machine is shared, so compare rows of one run.

Usage:
  python bench/pipeline.py --data ../shared/data/routeprofile --out bench/results/pipeline.json
         [--modes standard[,newllm]] [--kinds ...] [--methods ...] [--routers sim,mlp,graph] [--graph-epochs N]
         [--passes cold,warm] [--encoder default] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import commit  # noqa: E402  (one commit() for every bench)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "routeprofile"
KINDS = ("task", "query", "query-task", "task-domain", "query-task-domain")
METHODS = ("index", "flat", "emb-gnn", "trainable", "text-gnn")
ROUTERS = ("sim", "mlp", "graph")


def rp_exe() -> list[str]:
    exe = Path(sys.executable).with_name("rp")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "rpcli.cli.main"]




class Runner:
    def __init__(self, data: Path, ws: Path, encoder: str | None) -> None:
        self.base = rp_exe() + ["-q", "-d", str(data), "-w", str(ws)] + (["--encoder", encoder] if encoder else [])

    def __call__(self, args: list[str]) -> tuple[str, float, float]:
        """(stdout's last line, wall s, CPU s) of `rp ARGS`; raises on a non-zero exit."""
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(self.base + args, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            raise RuntimeError(f"rp {' '.join(args)} exited {p.returncode}:\n{p.stderr[-2000:]}")
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        lines = [x for x in p.stdout.strip().splitlines() if x.strip()]
        return (lines[-1].strip() if lines else ""), wall, cpu


def profile_args(method: str, mode: str, graphs: dict) -> list[str]:
    if method == "index":
        return ["profile", "index", "--mode", mode]
    if method == "flat":
        return ["profile", "flat", "--mode", mode, "--graph", graphs["task"]]
    if method == "emb-gnn":
        return ["profile", "emb-gnn", "--mode", mode, "--graph", graphs["task"], "--K", "2"]
    if method == "trainable":
        return ["profile", "trainable", "--mode", mode, "--graph", graphs["task"]]
    if method == "text-gnn":
        g = ["--graph", graphs["query-task-domain"]] if "query-task-domain" in graphs else []
        return ["profile", "text-gnn", "--mode", mode, *g, "--K", "2", "--backend", "extractive"]
    raise ValueError(method)


def run_pass(name: str, run: Runner, args, rows: list[dict], save) -> None:
    def stage(mode, what, detail, argv):
        out, wall, cpu = run(argv)
        rows.append({"pass": name, "mode": mode, "stage": what, "detail": detail, "id": out,
                     "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load1": round(os.getloadavg()[0], 2)})
        print(f"  {name:4s} {mode:8s} {what:8s} {detail:30s} {wall:8.1f} s wall {cpu:8.1f} s CPU  {out}",
              file=sys.stderr, flush=True)
        save(complete=False)
        return out

    for mode in args.modes:
        graphs = {k: stage(mode, "graph", k, ["graph", "build", k, "--mode", mode]) for k in args.kinds}
        needed = {"flat", "emb-gnn", "trainable"} & set(args.methods)
        if needed and "task" not in graphs:
            graphs["task"] = stage(mode, "graph", "task", ["graph", "build", "task", "--mode", mode])
        profiles = {m: stage(mode, "profile", m, profile_args(m, mode, graphs)) for m in args.methods}
        for m, pid in profiles.items():
            for r in args.routers:
                argv = ["route", r, "--profile", pid, "--mode", mode]
                detail = f"{r} on {m}"
                if r in ("mlp", "graph"):
                    argv += ["--seeds", "0"]
                if r == "graph" and args.graph_epochs:
                    argv += ["--epochs", str(args.graph_epochs)]
                    detail += f" ({args.graph_epochs} ep)"
                stage(mode, "route", detail, argv)


def table(rows: list[dict], passes: list[str]) -> str:
    keys = list(dict.fromkeys((r["mode"], r["stage"], r["detail"]) for r in rows))
    by = {(r["pass"], r["mode"], r["stage"], r["detail"]): r for r in rows}
    head = "| mode | stage | what | " + " | ".join(f"{p} wall s | {p} CPU s" for p in passes) + " |"
    out = [head, "|" + "---|" * (3 + 2 * len(passes))]
    for k in keys:
        cells = []
        for p in passes:
            r = by.get((p, *k))
            cells += [f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}"] if r else ["", ""]
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(cells) + " |")
    tot = []
    for p in passes:
        rs = [r for r in rows if r["pass"] == p]
        tot += [f"{sum(r['wall_s'] for r in rs):.1f}", f"{sum(r['cpu_s'] for r in rs):.1f}"]
    out.append("| | total | | " + " | ".join(tot) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder (RouteProfile layout)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pipeline.json",
                    help="write the results as JSON here")
    ap.add_argument("--encoder", default=None, help="encoder spec passed as rp --encoder (default: rp's default)")
    ap.add_argument("--modes", default="standard", help="comma-separated: standard, newllm")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated graph kinds")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated profile methods")
    ap.add_argument("--routers", default=",".join(ROUTERS), help="comma-separated routers")
    ap.add_argument("--graph-epochs", type=int, default=None,
                    help="cap GraphRouter's epochs (default: its own default, 100)")
    ap.add_argument("--passes", default="cold,warm", help="cold, warm or both (warm needs cold)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspaces under this folder")
    args = ap.parse_args(argv)
    for name, allowed in (("modes", ("standard", "newllm")), ("kinds", KINDS), ("methods", METHODS),
                          ("routers", ROUTERS), ("passes", ("cold", "warm"))):
        vals = [v for v in getattr(args, name).split(",") if v]
        bad = [v for v in vals if v not in allowed]
        if bad or not vals:
            ap.error(f"--{name}: {', '.join(bad) or 'empty'}; choose from {', '.join(allowed)}")
        setattr(args, name, vals)
    if "warm" in args.passes and "cold" not in args.passes:
        ap.error("--passes warm needs cold (the warm pass copies the cold pass's embedding cache)")
    if not args.data.is_dir():
        print(f"dataset not found: {args.data}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.pop("RP_WORKSPACE", None)

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        base, tmp_ctx = args.keep.resolve(), None
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="rp-bench-pipeline-")
        base = Path(tmp_ctx.name)
    rows: list[dict] = []
    loads: dict = {}
    t_all = time.perf_counter()

    def save(complete: bool, tab: str = "") -> None:
        """Write the JSON (after every stage, so that an interrupted run keeps what it measured)."""
        if args.out is None:
            return
        doc = {"bench": "pipeline", "complete": complete, "commit": commit(),
               "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "command": "python bench/pipeline.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "data": str(args.data.resolve()), "encoder": args.encoder or "default", "modes": args.modes,
               "graph_epochs": args.graph_epochs, "cpus": os.cpu_count(), "python": platform.python_version(),
               "load_average": loads, "total_wall_s": round(time.perf_counter() - t_all, 1), "rows": rows,
               "table": tab or table(rows, args.passes)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1) + "\n")

    try:
        for p in args.passes:
            ws = base / p
            if p == "warm":
                shutil.copytree(base / "cold" / "cache" / "emb", ws / "cache" / "emb")
            print(f"[{p}] workspace {ws}", file=sys.stderr, flush=True)
            before = os.getloadavg()
            run_pass(p, Runner(args.data.resolve(), ws, args.encoder), args, rows, save)
            loads[p] = {"before": [round(x, 2) for x in before], "after": [round(x, 2) for x in os.getloadavg()]}
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    total = time.perf_counter() - t_all
    tab = table(rows, args.passes)
    print(tab)
    print(f"\nload average (1, 5, 15 min) per pass: {json.dumps(loads)}; {os.cpu_count()} CPUs; total {total:.0f} s")
    if args.out is not None:
        save(complete=True, tab=tab)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

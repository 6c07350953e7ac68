"""Learning curve on synthetic data with within-task structure (issue 24, target 2; docs/synth-learning-curve.md).

For each amount of training signal (training queries per task), `rp data synth --query-structure S` writes a
dataset whose tasks hold sub-topics with different winners (the ground truth is in route_data/synth_truth.json),
and the routers that `sweeps/best.yaml` recommends (the CV-tuned, per-task gated knn and blend) are run on it and
evaluated on its test rows, against per-task-best (train) with the paired bootstrap of `rp compare --json`. The
sub-topic oracle (per task and sub-topic, the candidate with the best expected score) is the room a query-level
router has; per-task-best (train) is what it must not lose to.

    .venv/bin/python scripts/synth_learning_curve.py --out /tmp/slc --json docs/synth-learning-curve.json \\
        --md docs/synth-learning-curve.md

Deterministic (the synth seed and the router seeds are recorded). Each dataset gets its own workspace under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RP = [sys.executable, "-m", "rpcli"]


def _commit() -> str:
    from rpcli.workspace.provenance import commit_label

    return commit_label()


def rp(*args, ws: Path | None = None, data: Path | None = None) -> str:
    cmd = [*RP, "-q"]
    if ws is not None:
        cmd += ["-w", str(ws)]
    if data is not None:
        cmd += ["-d", str(data)]
    r = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if r.returncode != 0:
        raise SystemExit(f"rp {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return r.stdout


def one(out: Path, n_train: int, args) -> dict:
    data = out / f"synth-{n_train}"
    ws = out / f"ws-{n_train}"
    if not (data / "route_data").is_dir():
        rp("data", "synth", "--out", data, "--seed", args.seed, "--query-structure", args.structure,
           "--subtopics", args.subtopics, "--train-queries-per-task", n_train,
           "--test-queries-per-task", args.test_per_task, "--pairs-per-task", max(80, n_train))
    row = {"train_queries_per_task": n_train, "subtopic_oracle": subtopic_oracle(data), "modes": {}}
    for mode in args.modes:
        prof = rp("profile", "index", "--mode", mode, ws=ws, data=data).strip().splitlines()[-1]
        for router in args.routers:
            t0 = time.time()
            rp("route", router, "--profile", prof, "--mode", mode, "--tune", "--gate", "--seeds",
               ",".join(map(str, args.seeds)), ws=ws, data=data)
            row.setdefault("seconds", {})[f"{mode}/{router}"] = round(time.time() - t0, 1)
        rows = json.loads(rp("compare", "--json", ws=ws, data=data))
        m = {}
        for r in rows:
            if r.get("mode") != mode:
                continue
            if r.get("kind") == "run":
                name = r.get("router") or r.get("label")
                m[str(name).split("(")[0]] = {
                    "avg_performance": r["avg_performance"], "delta": r.get("paired_delta"),
                    "ci": r.get("paired_ci"), "cold_start_recall": r.get("cold_start_recall"),
                    "gate_open": None}
            elif r.get("name") in ("per-task-best (train)", "per-task-oracle (test)", "oracle"):
                m[r["name"]] = {"avg_performance": r["avg_performance"]}
        row["modes"][mode] = m
    return row


def subtopic_oracle(data: Path) -> float | None:
    """Mean over the test rows of the test score of the candidate the ground truth names best for the row's task and
    sub-topic (route_data/synth_truth.json): what a router that knew every query's sub-topic would get."""
    truth = json.loads((data / "route_data" / "synth_truth.json").read_text())
    rows = json.loads((data / "route_data" / "routing_test_data.json").read_text())
    vals = []
    for r, t in zip(rows, truth["test"]):
        assert r["query"] == t["query"], "synth_truth.json's test rows are in routing_test_data.json's order"
        subs = truth["tasks"][t["task_name"]]["subtopics"]
        best = next((s["best"] for s in subs if s["subtopic"] == t["subtopic"]), None)
        perf = (r.get("model_performance") or {}).get(best) if best else None
        v = perf.get("task_performance") if isinstance(perf, dict) else perf
        if v is not None:
            vals.append(float(v))
    return round(sum(vals) / len(vals), 4) if vals else None


def portable(command: str) -> str:
    """The recorded command with paths a reader cannot have made portable: paths inside the checkout relative,
    the working folder as OUT, any other absolute path as its file name."""
    out, prev = [], None
    for x in command.split():
        if x.startswith(str(ROOT) + "/"):
            x = x[len(str(ROOT)) + 1:]
        elif prev == "--out" and x.startswith("/"):
            x = "OUT"
        elif x.startswith("/"):
            x = Path(x).name
        out.append(x)
        prev = x
    return " ".join(out)


def render(doc: dict) -> str:
    lines = ["# Learning curve on structured synthetic data", "",
             f"Generated by `{portable(doc['command'])}` at commit {doc['commit']} ({doc['when']}, {doc['seconds']:.0f} s, load "
             f"{doc['load_before']:.2f} before / {doc['load_after']:.2f} after)"
             + (", this page rendered again from its JSON with `--rerender`" if doc.get("rerendered") else "")
             + "; do not edit by hand.", "",
             f"Data: `rp data synth --seed {doc['seed']} --query-structure {doc['structure']} --subtopics "
             f"{doc['subtopics']} --test-queries-per-task {doc['test_per_task']} --train-queries-per-task N` (per-query "
             "training scores in route_data/routing_train_data.json; the routers learn from them). Routers: "
             f"{', '.join(doc['routers'])} with `--tune --gate`, seeds {doc['seeds']} (the rows of sweeps/best.yaml). "
             "Δ: the run's seed-averaged per-row performance minus per-task-best (train)'s, paired bootstrap 95% CI "
             "(2000 resamples) from `rp compare --json`. newllm: the run's cold-start recall in brackets (the share "
             "of test rows where the held-out model is among the best that route to it).", ""]
    for mode in doc["modes"]:
        lines += [f"## {mode}", "", "| training queries per task | sub-topic oracle | per-task-best (train) | "
                  "per-task-oracle (test) | "
                  + " | ".join(f"{r}: avg perf | {r}: Δ [95% CI]" for r in doc["routers"]) + " |",
                  "|---:|---:|---:|---:|" + "---:|---:|" * len(doc["routers"])]
        for row in doc["rows"]:
            m = row["modes"].get(mode, {})
            cells = [str(row["train_queries_per_task"]), f"{row['subtopic_oracle']:.4f}",
                     f"{m.get('per-task-best (train)', {}).get('avg_performance', float('nan')):.4f}",
                     f"{m.get('per-task-oracle (test)', {}).get('avg_performance', float('nan')):.4f}"]
            for r in doc["routers"]:
                x = m.get(r) or {}
                ci = x.get("ci") or [None, None]
                rec = x.get("cold_start_recall")
                cells += [f"{x.get('avg_performance', float('nan')):.4f}"
                          + (f" (recall {rec:.2f})" if mode == "newllm" and rec is not None else ""),
                          (f"{x['delta']:+.4f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"
                           + (" above 0" if ci[0] is not None and ci[0] > 0 else "")
                           + (" below 0" if ci[1] is not None and ci[1] < 0 else ""))
                          if x.get("delta") is not None else "–"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="working folder (datasets and workspaces)")
    ap.add_argument("--train", default="60,150,300,600", help="training queries per task, comma-separated")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--structure", type=float, default=2.0)
    ap.add_argument("--subtopics", type=int, default=3)
    ap.add_argument("--test-per-task", type=int, default=100)
    ap.add_argument("--routers", default="knn,blend")
    ap.add_argument("--modes", default="standard,newllm")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--md", type=Path)
    ap.add_argument("--rerender", type=Path, metavar="JSON", help="only rewrite --md from a recorded JSON")
    args = ap.parse_args()
    if args.rerender:
        md = render({**json.loads(args.rerender.read_text()), "rerendered": True})
        if args.md:
            args.md.write_text(md + "\n")
        print(md)
        return
    args.routers = args.routers.split(",")
    args.modes = args.modes.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    t0, load0 = time.time(), os.getloadavg()[0]
    rows = [one(args.out, int(n), args) for n in args.train.split(",")]
    doc = {"command": "python scripts/synth_learning_curve.py " + " ".join(sys.argv[1:]), "commit": _commit(),
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": time.time() - t0,
           "load_before": load0, "load_after": os.getloadavg()[0], "seed": args.seed, "structure": args.structure,
           "subtopics": args.subtopics, "test_per_task": args.test_per_task, "routers": args.routers,
           "modes": args.modes, "seeds": args.seeds, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    md = render(doc)
    if args.md:
        args.md.write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()

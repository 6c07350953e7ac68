"""What `rp data import --pairs-per-task N` costs and loses (issue 24, docs/pairs-cap.md).

    .venv/bin/python scripts/pairs_cap.py                      # the page: 3 tasks x 2,000 queries x 7 models
    .venv/bin/python scripts/pairs_cap.py --queries 300 --caps 50,0 --out /tmp/pc.md   # a quick look

It writes a per-query score file (seeded, so the same file every time; see generate()), imports it with
`rp data import --format scores --hold-out <one model>` once per cap of --caps (0 = all pairs), and records for each
dataset: the pairs kept and available and the training queries they cover, the import's wall time, the dataset's
size on disk, the wall time of `rp data check`, and, on an index profile with `--encoder hash:64`, the test-row
avg_performance (mean ± sd over the seeds) and wall time of the pair-trained routers `rp route mlp` (defaults) and
`rp route graph --preset recommended`. The reference rows (per-task-best (train), the oracle) read
routing_train_data.json and the test rows, not the pairs: they are the same for every cap, and recorded once.

The default is chosen by RULE (choose()); the page (--out) has the table and the rule, and the JSON beside it every
number, the machine load before and after, the commit and the command line. Every cap is run as a subprocess of the
installed `rp`, as a user would run it; the workspaces live in a temporary folder (--workdir keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RP = [sys.executable, "-m", "rpcli"]

# The rule weighs what a cap loses against all pairs by how much of all pairs' gain over the original's 350 it keeps;
# "within one seed-sd of all" (also reported, as `noise`) has no cost side: it picks all whenever all is measurably
# better, however much longer it takes, and all pairs grow with queries x models^2.
SHARE = 0.75
RULE = (f"the smallest cap that keeps at least {SHARE:.0%} of the gain of all pairs (0) over the smallest cap "
        "measured (the original's 350) for every pair-trained router, by the mean avg_performance over the seeds; "
        "0 (all) when none does")

TOPICS = {"arith": ["sum", "product", "fraction", "percent", "ratio", "equation"],
          "facts": ["history", "geography", "science", "sport", "music", "film"],
          "code": ["list", "string", "graph", "sort", "regex", "class"],
          "write": ["letter", "poem", "summary", "essay", "review", "story"]}
FILL = ("alpha beta gamma delta omega kappa sigma theta lambda zeta river stone cloud field light paper").split()


def generate(path: Path, *, tasks: int, queries: int, models: int, seed: int) -> dict:
    """Write a per-query score file (one JSON line per query, a 0/1 score per model) and return its parameters.

    Item-response data with within-task structure: every query of a task is about one of six topics, named twice in
    its text; a model's logit on it is its task skill (N(0, 0.7)) + its offset on the topic (N(0, 0.9)) - the
    query's difficulty (N(0, 1)) + noise (N(0, 0.5)), and its score is a Bernoulli draw of the logistic of that.
    So a query-level router can beat the per-task best model by reading the topic words, and more training
    queries tell it more. Token counts grow with the model's index (cards price them).
    """
    if not 1 <= tasks <= len(TOPICS):
        raise SystemExit(f"--tasks must be 1 to {len(TOPICS)}")
    rng = np.random.default_rng(seed)
    names = [f"model-{chr(ord('a') + j)}" for j in range(models)]
    task_names = list(TOPICS)[:tasks]
    skill = rng.normal(0, 0.7, size=(models, tasks))
    off = rng.normal(0, 0.9, size=(models, tasks, 6))
    with open(path, "w") as f:
        for ti, t in enumerate(task_names):
            topics = TOPICS[t]
            for i in range(queries):
                k = int(rng.integers(6))
                words = " ".join(rng.choice(FILL, size=6))
                logit = skill[:, ti] + off[:, ti, k] - rng.normal(0, 1.0) + rng.normal(0, 0.5, size=models)
                s = (rng.random(models) < 1 / (1 + np.exp(-logit))).astype(float)
                f.write(json.dumps({
                    "query": f"{t} question {i} about {topics[k]} {topics[k]}: {words}", "task": t,
                    "scores": {m: float(s[j]) for j, m in enumerate(names)},
                    "prompt_tokens": {m: 60 + 3 * j for j, m in enumerate(names)},
                    "completion_tokens": {m: 40 + 20 * j for j, m in enumerate(names)}}) + "\n")
    return {"tasks": task_names, "queries_per_task": queries, "models": names, "seed": seed,
            "rows": tasks * queries, "bytes": path.stat().st_size}


def write_cards(path: Path, models: list[str], tasks: list[str]) -> None:
    """Descriptions and prices for every model and task (no placeholders; avg cost is known)."""
    path.write_text(json.dumps({
        "models": {m: {"description": f"Synthetic model {m}.", "family": "Synthetic", "size": f"{3 * (j + 1)}B",
                       "input_price": round(0.1 * (j + 1), 2), "output_price": round(0.2 * (j + 1), 2)}
                   for j, m in enumerate(models)},
        "families": {"Synthetic": "Synthetic models of scripts/pairs_cap.py."},
        "tasks": {t: f"Synthetic {t} questions on six topics." for t in tasks}}, indent=1))


def rp(args: list[str], env: dict) -> tuple[float, str]:
    """Run `rp ARGS`; (wall seconds, stdout). A failure stops the script with rp's stderr."""
    t0 = time.perf_counter()
    p = subprocess.run(RP + args, capture_output=True, text=True, env=env, cwd=ROOT)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"rp {shlex.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return dt, p.stdout


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def route(name: str, extra: list[str], ds: Path, ws: Path, profile: str, mode: str, seeds: str, encoder: str,
          env: dict) -> dict:
    args = ["-q", "-d", str(ds), "-w", str(ws), "--encoder", encoder, "route", name, "--profile", profile,
            "--mode", mode, "--seeds", seeds, *extra, "--json"]
    dt, out = rp(args, env)
    m = json.loads(out)["metrics"]
    per_seed = [float(s["avg_performance"]) for s in m.get("per_seed", [])] or [float(m["avg_performance"])]
    sig = m.get("training_signal", {})
    fit = sum(float(s.get("seconds") or 0) for s in m.get("per_seed", []))
    return {"run": json.loads(out)["id"], "seeds": seeds, "avg_performance": float(np.mean(per_seed)),
            "sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else None, "per_seed": per_seed,
            "seconds": round(dt, 1), "fit_seconds": round(fit, 1), "n_pairs": sig.get("n_pairs"),
            "n_queries": sig.get("n_queries")}


def one_cap(cap: int, src: Path, cards: Path, work: Path, a, env: dict, log) -> dict:
    ds, ws = work / f"ds-{cap}", work / f"ws-{cap}"
    for p in (ds, ws):
        shutil.rmtree(p, ignore_errors=True)
    t_import, out = rp(["-q", "data", "import", str(src), "--format", "scores", "--cards", str(cards), "--out",
                        str(ds), "--hold-out", a.hold_out, "--seed", str(a.seed), "--pairs-per-task", str(cap),
                        "--json"], env)
    pairs = json.loads(out)["pairs"]
    t_check, out = rp(["-q", "-d", str(ds), "data", "check", "--json"], env)
    if json.loads(out)["import"]["options"]["pairs_per_task"] != cap:
        raise SystemExit(f"rp data check does not record --pairs-per-task {cap}")
    pair_files = sum((ds / "route_data" / f"pairwise_training_data_{m}.json").stat().st_size
                     for m in ("standard", "newllm"))
    row = {"cap": cap, "pairs": {m: {"kept": pairs[m]["pairs"], "available": pairs[m]["available"]}
                                 for m in pairs},
           "import_s": round(t_import, 2), "check_s": round(t_check, 2), "disk_bytes": disk_bytes(ds),
           "pair_file_bytes": pair_files, "routers": {}}
    std = row["pairs"]["standard"]
    log(f"cap {cap}: kept {std['kept']:,} of {std['available']:,} standard pairs; "
        f"import {t_import:.1f} s, {row['disk_bytes'] / 1e6:.1f} MB, check {t_check:.2f} s")
    for mode in a.modes:
        _, prof = rp(["-q", "-d", str(ds), "-w", str(ws), "--encoder", a.encoder, "profile", "index", "--mode",
                      mode], env)
        prof = prof.strip()
        for name, extra, seeds in (("mlp", [], a.mlp_seeds), ("graph", ["--preset", "recommended"], a.graph_seeds)):
            if not seeds:
                continue
            r = route(name, extra, ds, ws, prof, mode, seeds, a.encoder, env)
            row["routers"][f"{name}/{mode}"] = r
            sd = f" ± {r['sd']:.4f}" if r["sd"] is not None else ""
            log(f"  {name} {mode}: {r['avg_performance']:.4f}{sd} in {r['seconds']:.1f} s "
                f"({r['n_pairs']:,} pairs over {r['n_queries']:,} training queries)")
    return row


def references(ds: Path, ws: Path, encoder: str, modes: list[str], env: dict) -> dict:
    """The reference rows of `rp compare` (they read the training scores and the test rows, not the pairs)."""
    out = {}
    for mode in modes:
        _, txt = rp(["-q", "-d", str(ds), "-w", str(ws), "--encoder", encoder, "compare", "--json", "--mode", mode],
                    env)
        out[mode] = {r["name"]: r["avg_performance"] for r in json.loads(txt) if r["kind"] == "reference"
                     and r["name"] in ("oracle", "per-task-best (train)", "best-single (train)", "random")}
    return out


def compare_caps(rows: list[dict]) -> dict:
    """Per cap and router, against all pairs (cap 0): the share of all's gain over the smallest cap kept, how far
    below all it is and the larger of the two seed-sds (noise), and the wall time and bytes relative to all."""
    by_cap = {r["cap"]: r for r in rows}
    if 0 not in by_cap or len(by_cap) < 2:
        return {}
    low, top = by_cap[min(c for c in by_cap if c)], by_cap[0]
    out = {}
    for cap in sorted(c for c in by_cap if c):
        cell = {"disk_vs_all": by_cap[cap]["disk_bytes"] / top["disk_bytes"], "routers": {}}
        for k, t in top["routers"].items():
            r, lo = by_cap[cap]["routers"].get(k), low["routers"].get(k)
            if r is None or lo is None:
                continue
            gain = t["avg_performance"] - lo["avg_performance"]
            sds = [x for x in (r["sd"], t["sd"]) if x is not None]
            cell["routers"][k] = {
                "share_of_gain": (r["avg_performance"] - lo["avg_performance"]) / gain if gain > 0 else None,
                "below_all": t["avg_performance"] - r["avg_performance"], "sd": max(sds) if sds else None,
                "time_vs_all": r["seconds"] / t["seconds"]}
        out[cap] = cell
    return out


def within_sd(cmp: dict) -> int:
    """The smallest cap whose every router is within its seed-sd of all pairs (0, all, when none is)."""
    for cap, cell in cmp.items():
        if cell["routers"] and all(v["sd"] is not None and v["below_all"] <= v["sd"] for v in cell["routers"].values()):
            return cap
    return 0


def choose(rows: list[dict]) -> dict:
    """Apply RULE to the measured rows: {cap, reason}. A router whose all pairs gain nothing over the smallest cap
    (share None) constrains nothing."""
    cmp = compare_caps(rows)
    if not cmp:
        return {"cap": None, "reason": "cap 0 (all) and another cap are needed to compare"}
    for cap, cell in cmp.items():
        shares = {k: v["share_of_gain"] for k, v in cell["routers"].items()}
        if cell["routers"] and all(x is None or x >= SHARE for x in shares.values()):
            return {"cap": cap, "reason": "keeps " + ", ".join(
                f"{k.split('/')[0]} {x:.0%}" for k, x in shares.items() if x is not None) + " of all pairs' gain"}
    return {"cap": 0, "reason": f"no cap keeps {SHARE:.0%} of all pairs' gain"}


def _commit() -> str:
    from rpcli.workspace.provenance import commit_label

    return commit_label()


def _cap(c: int) -> str:
    return "all (0)" if c == 0 else f"{c:,}"


def _perf(r: dict | None) -> str:
    if r is None:
        return "-"
    return f"{r['avg_performance']:.4f}" + (f" ± {r['sd']:.4f}" if r["sd"] is not None else "")


def _secs(r: dict | None) -> str:
    return "-" if r is None else f"{r['seconds']:.1f} ({r['fit_seconds']:.1f})"


def render(rec: dict) -> str:
    rows, a = rec["rows"], rec["args"]
    mode = a["modes"][0]
    g = rec["data"]
    ref = rec["references"].get(mode, {})
    again = " (this page and the rule rewritten from its JSON with `--rerender`)" if rec.get("rerendered") else ""
    L = [f"_Generated by `{rec['command']}` at commit `{rec['commit']}`{again}; do not edit, rerun the command._",
         "",
         "# What the pairs cap costs and loses", "",
         f"`rp data import --pairs-per-task N` keeps at most N of each task's training pairs (0 = all). The data: "
         f"{len(g['tasks'])} tasks x {g['queries_per_task']:,} queries x {len(g['models'])} models "
         f"(scripts/pairs_cap.py `generate()`, seed {g['seed']}: item-response scores with per-topic offsets, so a "
         f"query-level router has something to learn), imported with `--hold-out {a['hold_out']} --seed "
         f"{a['seed']}` (test fraction 0.2). Routers on an index profile with `--encoder {a['encoder']}`, "
         f"{mode} mode: `rp route mlp` with its defaults (seeds {a['mlp_seeds']}) and `rp route graph --preset "
         f"recommended` (seeds {a['graph_seeds']}). Wall times on {rec['machine']['cpus']} CPU cores with "
         f"OMP_NUM_THREADS={rec['machine']['omp_num_threads']}; load average {rec['machine']['load_before'][0]:.2f} "
         f"before, {rec['machine']['load_after'][0]:.2f} after (1 min).", "",
         f"| --pairs-per-task | pairs kept of available ({mode}) | training queries in a pair | import s | "
         "on disk MB | `rp data check` s | mlp avg_performance | mlp s (fit) | graph avg_performance | graph s (fit) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = r["pairs"][mode]
        mlp, gr = r["routers"].get(f"mlp/{mode}"), r["routers"].get(f"graph/{mode}")
        nq = (mlp or gr or {}).get("n_queries")
        L.append(f"| {_cap(r['cap'])} | {p['kept']:,} of {p['available']:,} ({100 * p['kept'] / p['available']:.0f}%)"
                 f" | {nq if nq is None else format(nq, ',')} | {r['import_s']:.1f} | {r['disk_bytes'] / 1e6:.1f} | "
                 f"{r['check_s']:.2f} | {_perf(mlp)} | {_secs(mlp)} | {_perf(gr)} | {_secs(gr)} |")
    L += ["", "Cells: avg_performance on the test rows (mean ± sd over the seeds); s = wall seconds of the whole "
              "command, all seeds together (fit: the seeds' own training and evaluation time as the run records it; "
              "the rest is start-up, loading and encoding)."]
    ptb = ref.get("per-task-best (train)")
    if ref:
        below = [f"{k.split('/')[0]} at {_cap(r['cap'])}" for r in rows for k, v in r["routers"].items()
                 if k.endswith("/" + mode) and ptb is not None and v["avg_performance"] < ptb]
        L += ["", "The reference rows read the training scores (`route_data/routing_train_data.json`) and the test "
                  "rows, not the pairs, so the cap does not change them: " +
              ", ".join(f"{k} {v:.4f}" for k, v in ref.items()) + "." +
              (f" Below per-task-best (train), which needs no pairs: {', '.join(below)}." if below else "")]
    cmp = compare_caps(rows)
    keys = [k for k in (f"mlp/{mode}", f"graph/{mode}") if any(k in c["routers"] for c in cmp.values())]
    if cmp and keys:
        low = _cap(min(c for c in cmp))
        L += ["", f"Against all pairs (share: of all pairs' gain over {low}; below: all's mean minus this cap's, "
                  "with the larger of the two seed-sds; time: wall time over all's):", "",
              "| --pairs-per-task | " + " | ".join(f"{k.split('/')[0]} share | {k.split('/')[0]} below (sd) | "
                                                 f"{k.split('/')[0]} time" for k in keys) + " | on disk |",
              "|---|" + "---:|---:|---:|" * len(keys) + "---:|"]
        for cap, cell in cmp.items():
            cells = []
            for k in keys:
                v = cell["routers"].get(k)
                if v is None:
                    cells += ["-"] * 3
                    continue
                cells += ["-" if v["share_of_gain"] is None else f"{v['share_of_gain']:.0%}",
                          f"{v['below_all']:+.4f}" + ("" if v["sd"] is None else f" ({v['sd']:.4f})"),
                          f"{v['time_vs_all']:.0%}"]
            L.append(f"| {_cap(cap)} | " + " | ".join(cells) + f" | {cell['disk_vs_all']:.0%} |")
    ch = rec["chosen"]
    L += ["", f"**Rule:** {RULE}. (Within one seed-sd of all, the other rule one could use, has no cost side: it "
              "picks all whenever all is measurably better, however much longer that takes.) This rule was set "
              "after a first run's numbers had been seen; the rule coded before it, the smallest cap within one "
              f"seed-sd of all pairs for every router, picks {_cap(within_sd(cmp))} on these numbers.", "",
          f"**Chosen: `--pairs-per-task {ch['cap']}`** ({ch['reason']})."]
    if ch["cap"] and ch["cap"] in cmp:
        cell = cmp[ch["cap"]]
        L.append("What it costs and loses against all pairs: " + "; ".join(
            f"{k.split('/')[0]} {v['below_all']:.4f} lower (seed-sd {v['sd']:.4f}) in {v['time_vs_all']:.0%} of "
            "the time" for k, v in cell["routers"].items() if k.endswith("/" + mode)) +
            f"; {cell['disk_vs_all']:.0%} of the bytes on disk.")
    L += ["", "The cap bounds the pair-trained routers' cost per task whatever the size of the data, while all "
              "pairs grow with queries x models² (7 models make up to 21 pairs per query): `--pairs-per-task 0` "
              "keeps them all when the time is there. The routers beyond the study (prior, knn, residual, blend) "
              "and the reference rows read the per-query training scores, so the cap does not touch them.", ""]
    return "\n".join(L)


def portable_command(argv: list[str]) -> str:
    """The command line as recorded: paths inside the checkout relative, --workdir left out."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
            continue
        if x == "--workdir":
            skip = True
            continue
        if x.startswith("--workdir="):
            continue
        out.append("." + x[len(str(ROOT)):] if x.startswith(str(ROOT)) else x)
    return "python scripts/pairs_cap.py" + "".join(f" {shlex.quote(x)}" for x in out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=3)
    ap.add_argument("--queries", type=int, default=2000, help="queries per task (default 2000)")
    ap.add_argument("--models", type=int, default=7)
    ap.add_argument("--data-seed", type=int, default=7, help="seed of the score file")
    ap.add_argument("--seed", type=int, default=0, help="rp data import --seed")
    ap.add_argument("--hold-out", default="model-g")
    ap.add_argument("--caps", default="350,1000,2000,5000,0", help="comma-separated --pairs-per-task values")
    ap.add_argument("--modes", default="standard", help="standard, newllm or both (comma-separated)")
    ap.add_argument("--mlp-seeds", default="0,1,2")
    ap.add_argument("--graph-seeds", default="0,1,2", help="'' skips the graph router")
    ap.add_argument("--encoder", default="hash:64")
    ap.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of every rp process")
    ap.add_argument("--workdir", default=None, help="keep the score file, datasets and workspaces here")
    ap.add_argument("--out", default=str(ROOT / "docs" / "pairs-cap.md"))
    ap.add_argument("--rerender", default=None, metavar="JSON", help="only rewrite the page from a recorded JSON")
    a = ap.parse_args()
    if a.rerender:
        rec = json.loads(Path(a.rerender).read_text())
        rec["rule"], rec["chosen"], rec["comparison"] = RULE, choose(rec["rows"]), compare_caps(rec["rows"])
        rec["rerendered"] = True
        Path(a.rerender).write_text(json.dumps(rec, indent=2) + "\n")
        Path(a.rerender).with_suffix(".md").write_text(render(rec))
        return 0
    a.caps = [int(c) for c in a.caps.split(",") if c.strip()]
    a.modes = [m for m in a.modes.split(",") if m]
    work = Path(a.workdir or tempfile.mkdtemp(prefix="rp-pairs-cap-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads),
           "PYTHONPATH": str(ROOT)}
    env.pop("RP_WORKSPACE", None)

    def log(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    load_before, t0 = os.getloadavg(), time.time()
    src, cards = work / "scores.jsonl", work / "cards.json"
    data = generate(src, tasks=a.tasks, queries=a.queries, models=a.models, seed=a.data_seed)
    write_cards(cards, data["models"], data["tasks"])
    log(f"wrote {src}: {data['rows']:,} queries x {a.models} models ({data['bytes'] / 1e6:.1f} MB)")
    rows = [one_cap(cap, src, cards, work, a, env, log) for cap in a.caps]
    refs = references(work / f"ds-{a.caps[0]}", work / f"ws-{a.caps[0]}", a.encoder, a.modes, env)
    rec = {"command": portable_command(sys.argv[1:]), "commit": _commit(), "data": data,
           "args": {"hold_out": a.hold_out, "seed": a.seed, "caps": a.caps, "modes": a.modes,
                    "mlp_seeds": a.mlp_seeds, "graph_seeds": a.graph_seeds, "encoder": a.encoder},
           "machine": {"cpus": os.cpu_count(), "omp_num_threads": a.threads, "load_before": list(load_before),
                       "load_after": list(os.getloadavg())},
           "seconds": round(time.time() - t0, 1), "rule": RULE, "references": refs, "rows": rows}
    rec["chosen"], rec["comparison"] = choose(rows), compare_caps(rows)
    out = Path(a.out)
    out.with_suffix(".json").write_text(json.dumps(rec, indent=2) + "\n")
    out.write_text(render(rec))
    log(f"chosen: --pairs-per-task {rec['chosen']['cap']} ({rec['chosen']['reason']}); wrote {out} and "
        f"{out.with_suffix('.json')} in {rec['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How the recommended GraphRouter preset was chosen: grouped cross-validation on the training queries only.

    python scripts/graph_preset_cv.py                       # released data (../shared), the demo, `rp data synth`
    python scripts/graph_preset_cv.py --data '' --cells index,emb-gnn-1 --out /tmp/cv.md   # a quick look

For every dataset it builds (or reuses, in --workspace-root) the query-task-domain graph of standard mode and the
profiles of --cells, then scores each candidate configuration of CANDIDATES by 5-fold cross-validation grouped by
query text (rpcli.core.eval.cv, as the step-13 routers are tuned): a fold's GraphRouter is trained on the other
folds' queries (with its own 10% validation split for early stopping) and judged by labeled top-1 on its fold. No
test row is read. The candidate with the best mean over every (dataset, profile) cell wins; the markdown page
(--out) lists every cell and the rule, and the JSON beside it every fold.

The faithful configuration is not among the candidates: a fit costs 100-200 CPU s (about 5x20 fits per cell);
it is compared with the recommended one on the test rows of the paper's sweep (docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Every candidate trains with the residual GAT, full-batch steps at lr 1e-3 and early stopping on val_perf (patience
# 30 of at most 200 epochs): those make a fit take seconds instead of minutes. The grid is over what the faithful
# network's collapse and the profiles' near-parallel vectors suggest: width, depth, model-feature scaling.
BASE = {"residual": True, "full_batch": True, "lr": 1e-3, "epochs": 200, "patience": 30}
CANDIDATES = {
    "h128-l1": {"hidden": 128, "layers": 1},
    "h64-l1-zscore": {"hidden": 64, "layers": 1, "profile_norm": "zscore"},
    "h128-l1-zscore": {"hidden": 128, "layers": 1, "profile_norm": "zscore"},
    "h128-l2-zscore": {"hidden": 128, "layers": 2, "profile_norm": "zscore"},
}
CELLS = {
    "index": ("index", {}),
    "flat": ("flat", {}),
    "emb-gnn-1": ("emb-gnn", {"K": 1}),
    "emb-gnn-2": ("emb-gnn", {"K": 2}),
    "emb-gnn-4": ("emb-gnn", {"K": 4}),
    "trainable-1": ("trainable", {"layers": 1, "seed": 42}),
    "trainable-4": ("trainable", {"layers": 4, "seed": 42}),
}


def subset(sig, idx):
    """The training signal restricted to the queries `idx` (what train_graph reads)."""
    return replace(sig, labels=sig.labels[idx], quality=sig.quality[idx], tasks=[sig.tasks[i] for i in idx],
                   queries=[sig.queries[i] for i in idx], texts=[sig.texts[i] for i in idx])


def cv_config(sig, vecs, profile_vecs, cfg, seed: int, n_folds: int) -> dict:
    from rpcli.core.eval.cv import cross_validate
    from rpcli.core.routers.graph import train_graph

    cpu = []

    def fn(tr, val, _hidden):
        test, _, _, info = train_graph(subset(sig, tr), vecs[tr], vecs[val], profile_vecs, cfg, seed)
        cpu.append(info["train_cpu_seconds"])
        return test

    r = cross_validate(sig.texts, sig.labels, fn, n_folds=n_folds, seed=seed)
    return {"top1": r["top1"], "top1_folds": r["top1_folds"], "n": r["n"], "cpu_s_per_fit": float(np.mean(cpu))}


def dataset_cells(name: str, data: str, ws: Path, cells: list[str], seed: int, n_folds: int, log) -> list[dict]:
    from rpcli import api
    from rpcli.core.routers.graph import GraphConfig
    from rpcli.services.artifacts.profiles import load_profile_entry
    from rpcli.services.artifacts.routes import training_signal

    sess = api.open_workspace(ws, data=data)
    mode = "standard"
    gid = api.build_graph(sess, "query-task-domain", mode)["id"]
    out = []
    for cell in cells:
        method, kw = CELLS[cell]
        pid = api.build_profile(sess, method, mode, **({} if method == "index" else {"graph": gid}), **kw)["id"]
        _, names, pvecs = load_profile_entry(sess, pid)
        sig = training_signal(sess, mode, names, "formatted")
        vecs = sess.encoder.encode(sig.texts)
        for cname, c in CANDIDATES.items():
            cfg = GraphConfig(**BASE, **c)
            r = cv_config(sig, vecs, pvecs, cfg, seed, n_folds)
            out.append({"dataset": name, "cell": cell, "profile": pid, "candidate": cname, **r})
            log(f"{name} {cell} {cname}: top-1 {r['top1']:.4f} (fold sd {np.std(r['top1_folds']):.4f}), "
                f"{r['cpu_s_per_fit']:.1f} CPU s per fit")
    return out


def choose(rows: list[dict]) -> tuple[str, dict]:
    """The candidate with the best mean top-1 over every (dataset, cell); ties: the earlier in CANDIDATES."""
    means = {c: float(np.mean([r["top1"] for r in rows if r["candidate"] == c])) for c in CANDIDATES}
    best = max(CANDIDATES, key=lambda c: (round(means[c], 6), -list(CANDIDATES).index(c)))
    return best, means


def render(rows: list[dict], best: str, means: dict, command: str, commit: str) -> str:
    cells = list(dict.fromkeys((r["dataset"], r["cell"]) for r in rows))
    L = [f"_Generated by `{command}` at commit `{commit}` — do not edit; rerun the command instead._", "",
         "# How the recommended GraphRouter was chosen", "",
         "Grouped 5-fold cross-validation on the training queries of standard mode (labeled top-1 on the held-out "
         "fold; no test row is read). Every candidate: " + ", ".join(f"{k}={v}" for k, v in BASE.items()) + ".", "",
         "| dataset | profile | " + " | ".join(CANDIDATES) + " |",
         "|---|---|" + "---:|" * len(CANDIDATES)]
    for d, c in cells:
        vals = {r["candidate"]: r for r in rows if r["dataset"] == d and r["cell"] == c}
        top = max(v["top1"] for v in vals.values())
        L.append(f"| {d} | {c} | " + " | ".join(
            (f"**{vals[k]['top1']:.4f}**" if vals[k]["top1"] == top else f"{vals[k]['top1']:.4f}")
            + f" ± {np.std(vals[k]['top1_folds']):.3f}" for k in CANDIDATES) + " |")
    L.append("| **mean** | | " + " | ".join(f"{means[k]:.4f}" for k in CANDIDATES) + " |")
    cpu = {k: float(np.mean([r["cpu_s_per_fit"] for r in rows if r["candidate"] == k])) for k in CANDIDATES}
    L.append("| CPU s per fit | | " + " | ".join(f"{cpu[k]:.1f}" for k in CANDIDATES) + " |")
    wins = {k: sum(1 for d, c in cells if max((r for r in rows if r["dataset"] == d and r["cell"] == c),
                                               key=lambda r: r["top1"])["candidate"] == k) for k in CANDIDATES}
    L += ["", "Cells: top-1 ± sd over the 5 folds (a fold holds about a fifth of the training queries, so "
              "differences below about one fold sd are noise).", "",
          f"Rule: the best mean over every cell. Chosen: **{best}** ({means[best]:.4f}; best in {wins[best]} of "
          f"{len(cells)} cells). `rpcli/core/routers/graph_preset.py` must hold {best}'s options; "
          "tests/test_graph_preset.py checks that it does against this page's JSON."]
    return "\n".join(L) + "\n"


def portable_command(argv: list[str]) -> str:
    """The command line as recorded: the checkout's paths relative, without --workspace-root (where the work
    happened does not change a number)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--workspace-root":
            skip = True
            continue
        if a.startswith("--workspace-root="):
            continue
        out.append(a if not a.startswith(str(ROOT)) else "." + a[len(str(ROOT)):])
    return "python scripts/graph_preset_cv.py" + "".join(f" {a}" if a else " ''" for a in out)


def rerender(path: Path) -> None:
    """Rewrite the page (and the JSON's command) from a recorded JSON without recomputing anything."""
    import shlex

    rec = json.loads(path.read_text())
    rec["command"] = portable_command(shlex.split(rec["command"])[2:])
    best, means = choose(rec["rows"])
    assert best == rec["chosen"], "the recorded rows choose another candidate than the one recorded"
    path.with_suffix(".md").write_text(render(rec["rows"], best, means, rec["command"], rec["commit"]))
    path.write_text(json.dumps(rec, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", default=None,
                    help="dataset folder ('' = the embedded demo); repeatable (default: the released data, the "
                         "demo and an `rp data synth --seed 1` dataset)")
    ap.add_argument("--cells", default="index,emb-gnn-1,emb-gnn-4,trainable-1")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workspace-root", default=None, help="keep the workspaces here (default: a temporary folder)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "graph-preset-cv.md"))
    ap.add_argument("--rerender", default=None, metavar="JSON",
                    help="only rewrite the page from a recorded JSON (no cross-validation)")
    args = ap.parse_args()
    if args.rerender:
        rerender(Path(args.rerender))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(args.workspace_root or tempfile.mkdtemp(prefix="rp-graph-cv-"))
    datas = args.data
    if datas is None:
        # the embedded demo is `rp data synth --seed 0`: another seed gives another dataset
        synth = root / "synth-1"
        if not (synth / "route_data").is_dir():
            subprocess.run([sys.executable, "-m", "rpcli", "data", "synth", "--out", str(synth), "--seed", "1"],
                           check=True, capture_output=True)
        datas = [str(ROOT.parent / "shared" / "data" / "routeprofile"), "", str(synth)]
    cells = [c for c in args.cells.split(",") if c]
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        ap.error(f"unknown cells {unknown}; choose from {', '.join(CELLS)}")
    rows, t0 = [], time.time()
    for d in datas:
        name = "demo" if not d else ("released" if Path(d).resolve().name == "routeprofile" else Path(d).name)
        if d and not Path(d).is_dir():
            print(f"skipping {d}: not a folder", file=sys.stderr)
            continue
        rows += dataset_cells(name, d, root / f"ws-{name}", cells, args.seed, args.folds,
                              lambda m: print(m, file=sys.stderr, flush=True))
    best, means = choose(rows)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    command = portable_command(sys.argv[1:])
    out = Path(args.out)
    out.write_text(render(rows, best, means, command, commit))
    out.with_suffix(".json").write_text(json.dumps(
        {"command": command, "commit": commit, "base": BASE, "candidates": CANDIDATES, "chosen": best,
         "chosen_options": {**BASE, **CANDIDATES[best]}, "means": means, "rows": rows,
         "seconds": round(time.time() - t0, 1)}, indent=2) + "\n")
    print(f"chosen: {best} (mean top-1 {means[best]:.4f}); wrote {out} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Routing quality with one encoder against another: the same sweeps, paired on the same test rows.

For each dataset and each encoder (default: the default MiniLM and `minilm-static`), this runs, each encoder in
its own workspace,
  sweeps/best.yaml                  unchanged (both modes), and
  the MLP cells of sweeps/quick.yaml (the profiles the mlp entry routes and the mlp entry itself; both modes),
then pairs every run of the second encoder with the run of the first that has the same sweep cell (router, mode,
profile method and options, seeds: the sweep record's `cell`) and compares them with the paired row bootstrap of
rpcli.core.eval.paired (seed-averaged per-row performance; 2,000 resamples, seed 0). The runs of the first
encoder are the baseline: `diff` = other - baseline with its 95% interval.

    python bench/encoder_quality.py [--data DIR ...] [--encoders default,minilm-static] [--keep DIR]
                                    [--out bench/results/encoder_quality.json]

`--data` may be given several times (default: the released data when present, and the embedded demo). Workspaces
live in a temporary folder unless --keep names one (then a rerun reuses every recorded artifact).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from _common import commit, machine  # noqa: E402
from pipeline import rp_exe  # noqa: E402  (the rp of this interpreter)

RELEASED = REPO.parent / "shared" / "data" / "routeprofile"


def mlp_cells(quick: Path, out: Path) -> Path:
    """sweeps/quick.yaml reduced to its mlp router entries and the profile entries they route."""
    doc = yaml.safe_load(quick.read_text(encoding="utf-8"))
    mlps = [r for r in doc["routers"] if r.get("router") == "mlp"]
    wanted = {p for r in mlps for p in (r.get("profiles") or [])}
    profiles = [p for p in doc["profiles"]
                if not wanted or p.get("method") in wanted or p.get("name") in wanted]
    doc = {**doc, "name": "quick-mlp", "description": "the MLP cells of sweeps/quick.yaml",
           "profiles": profiles, "routers": mlps}
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def run_sweep(data: Path, ws: Path, encoder: str, sweep: Path) -> dict:
    t0 = time.perf_counter()
    cmd = rp_exe() + ["-q", "-d", str(data), "-w", str(ws), "--encoder", encoder, "sweep", str(sweep)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    name = yaml.safe_load(sweep.read_text(encoding="utf-8")).get("name") or sweep.stem
    rec = json.loads((ws / "sweeps" / f"{name}.json").read_text(encoding="utf-8"))
    return {"record": rec, "wall_s": round(time.perf_counter() - t0, 1)}


def run_rows(ws: Path, data: Path, rec: dict) -> dict:
    """{cell key: (run entry, per-row values)} for every run of a sweep record."""
    from rpcli.core.data import load_dataset
    from rpcli.core.eval.paired import prediction_rows
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import lookup_entry

    ds = load_dataset(data)
    w = Workspace(ws)
    out = {}
    for a in rec["artifacts"]:
        if a["kind"] != "run":
            continue
        e = lookup_entry(w, a["id"])
        files = sorted(ws / o["path"] for o in e.get("outputs", [])
                       if Path(o["path"]).name.startswith("predictions") and o["path"].endswith(".jsonl"))
        key = json.dumps({"sweep": rec["name"], **a["cell"]}, sort_keys=True)
        out[key] = (a, prediction_rows(files, len(ds.test_rows)))
    return out


def data_name(data: Path) -> str:
    from rpcli.core.data import default_data_root

    return "demo" if data.resolve() == default_data_root().resolve() else data.name


def compare(data: Path, root: Path, encoders: list[str], sweeps: list[Path]) -> dict:
    from rpcli.core.eval.paired import mean_ci, paired_bootstrap

    base_enc = encoders[0]
    per_enc: dict = {}
    timings: dict = {}
    for enc in encoders:
        ws = root / f"{data_name(data)}-{enc.replace(':', '-').replace('/', '_')}"
        rows: dict = {}
        for sw in sweeps:
            print(f"[encoder_quality] {data_name(data)}: {sw.name} with --encoder {enc}", file=sys.stderr, flush=True)
            r = run_sweep(data, ws, enc, sw)
            timings[f"{enc}:{sw.name}"] = r["wall_s"]
            rows.update(run_rows(ws, data, r["record"]))
        per_enc[enc] = rows
    table = []
    for enc in encoders[1:]:
        for key, (a, vals) in sorted(per_enc[enc].items()):
            if key not in per_enc[base_enc]:
                continue
            b, bvals = per_enc[base_enc][key]
            pb = paired_bootstrap(vals, bvals)
            cell = json.loads(key)
            table.append({"encoder": enc, "baseline": base_enc, "cell": cell, "label": a.get("label"),
                          "run": a["id"], "baseline_run": b["id"],
                          "mean": round(mean_ci(vals)["mean"], 4), "baseline_mean": round(mean_ci(bvals)["mean"], 4),
                          "diff": round(pb["diff"], 4), "ci95": [round(x, 4) for x in pb["ci95"]],
                          "below_zero": pb["below_zero"], "above_zero": pb["above_zero"], "n": pb["n"]})
    return {"data": str(data), "name": data_name(data), "rows": table, "sweep_wall_s": timings}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, action="append", default=None)
    ap.add_argument("--encoders", default="default,minilm-static", help="comma-separated; the first is the baseline")
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the workspaces under this folder")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "encoder_quality.json")
    args = ap.parse_args(argv)
    from rpcli.core.data import default_data_root

    datas = args.data or ([RELEASED] if RELEASED.is_dir() else []) + [default_data_root()]
    encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    if len(encoders) < 2:
        ap.error("--encoders needs a baseline and at least one other encoder")
    res = {"bench": "encoder_quality", "commit": commit(), "machine": machine(),
           "command": "python bench/encoder_quality.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "encoders": encoders, "sweeps": ["sweeps/best.yaml", "sweeps/quick.yaml (mlp cells)"], "datasets": []}
    with tempfile.TemporaryDirectory(prefix="rp-encq-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        sweeps = [REPO / "sweeps" / "best.yaml", mlp_cells(REPO / "sweeps" / "quick.yaml", Path(tmp) / "quick-mlp.yaml")]
        for d in datas:
            res["datasets"].append(compare(d.resolve(), root, encoders, sweeps))
    res["machine"]["load_avg_after"] = [round(x, 2) for x in __import__("os").getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    for d in res["datasets"]:
        print(f"{d['name']}:")
        for r in d["rows"]:
            print(f"  {r['cell'].get('sweep', '')[:10]:10s} {r['label'] or '':60.60s} {r['baseline_mean']:.4f} -> "
                  f"{r['mean']:.4f}  diff {r['diff']:+.4f} [{r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}]")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

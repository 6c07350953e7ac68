"""Start-up times: `rp --help`, `rp compare --plain` on a workspace with 1,000 runs, the dashboard's first paint.

The 1,000-run workspace is written by this script: the dashboard fixture's records (tests/tui/fixture_ws.py: graphs,
profiles and realistic run records with per-task metrics, selection shares and cost-quality curves) cloned with
new ids, re-targeted at the dataset given (default: the embedded demo) so that every run is ranked and printed.
It is written as a manifest.json (as an older rp would have left it) and read once by `rp ws status` (no write)
before timing.

Each command runs --repeat times in a fresh process; wall time (median, min) and the process's CPU time (user +
system, from the kernel's rusage) are reported: on a shared machine the CPU time is the steadier of the two.
The dashboard is timed with tests/tui/measure_startup.py (pty: process start to the first run row drawn; pilot:
App() to rows shown, in process).

With --before DIR (a folder holding an older `rpcli/`, e.g. `git archive <rev> rpcli | tar -x -C DIR`), every
command also runs on that code, interleaved with this tree's runs, so both see the same load.

Usage: python bench/startup.py [--runs 1000] [--repeat 7] [--data DIR] [--no-dashboard] [--before DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "tui"))

from _common import commit, machine  # noqa: E402

TARGETS = {"help": 0.3, "help_pages_worst": 0.3, "compare_plain": 1.0}

LIST_PAGES = """
import json, typer
from rpcli.cli.main import app
root = typer.main.get_command(app)
pages = [[]]
for name, cmd in sorted(root.commands.items()):
    if getattr(cmd, "hidden", False):
        continue
    pages.append([name])
    for sub, c in sorted(getattr(cmd, "commands", {}).items()):
        if not getattr(c, "hidden", False):
            pages.append([name, sub])
print(json.dumps(pages))
"""


def help_pages(rp: list[str], env: dict) -> list[list[str]]:
    """Every help page `rp [GROUP [COMMAND]] --help` of the app (hidden commands left out)."""
    out = subprocess.run([rp[0], "-c", LIST_PAGES], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def time_help_pages(rp: list[str], env: dict, cache_root: Path, repeat: int) -> dict:
    """Each help page timed cold (an empty help cache: rendered through Typer) and cached (printed from the cache
    the cold call wrote), `repeat` times each; the worst page's medians summarise."""
    pages = help_pages(rp, env)
    rows = []
    for k, words in enumerate(pages):
        cmd = rp + words + ["--help"]
        cold = []
        for i in range(repeat):
            cache = cache_root / f"cold-{k}-{i}"
            cold.append(_once(cmd, {**env, "XDG_CACHE_HOME": str(cache)}))
        warm_env = {**env, "XDG_CACHE_HOME": str(cache_root / f"cold-{k}-0")}
        rows.append({"page": " ".join(["rp", *words, "--help"]), "cold": _summary(cold),
                     "cached": time_cmd(cmd, warm_env, repeat)})
    worst_cold = max(rows, key=lambda r: r["cold"]["wall_median_s"])
    worst = max(rows, key=lambda r: r["cached"]["wall_median_s"])
    return {"pages": rows, "n_pages": len(rows),
            "worst_cached": {"page": worst["page"], **worst["cached"]},
            "worst_cold": {"page": worst_cold["page"], **worst_cold["cold"]}}


def write_runs_workspace(root: Path, data_root: Path, n_runs: int) -> dict:
    """A manifest.json with the fixture's graphs and profiles and `n_runs` cloned runs on `data_root`."""
    import fixture_ws as F

    from rpcli.core.data import load_dataset

    ds = load_dataset(data_root)
    doc = F.manifest()
    runs = [e for e in doc["entries"].values() if e["kind"] == "run"]
    for e in list(doc["entries"].values()):
        if e["kind"] == "run":
            del doc["entries"][e["id"]]
        else:
            e["data_hash"] = ds.data_hash
    for i in range(n_runs):
        r = copy.deepcopy(runs[i % len(runs)])
        r["id"] = "run-" + hashlib.sha256(f"bench-{i}".encode()).hexdigest()[:10]
        r["data_hash"] = ds.data_hash
        r["data"] = {"root": str(ds.root), "hash": ds.data_hash, "keep_overlap": False}
        r["info"]["models"] = list(ds.candidates)
        r["created_at"] = f"2025-01-{1 + i // 1440 % 28:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
        r["metrics"]["avg_performance"] = round(r["metrics"]["avg_performance"] - (i % 97) * 1e-4, 4)
        doc["entries"][r["id"]] = r
    F.write_workspace(root, doc)
    return {"runs": n_runs, "entries": len(doc["entries"]), "manifest_bytes": (root / "manifest.json").stat().st_size}


BEFORE: dict = {}  # label -> env of the code tree to compare with (--before), filled by main


def _once(cmd: list[str], env: dict) -> tuple[float, float]:
    t0 = time.perf_counter()
    # cwd away from any checkout: `python -m rpcli` puts the cwd first on sys.path, PYTHONPATH picks the tree
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=env["RP_WORKSPACE"])
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.read().decode()[-800:]}")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime


def _summary(xs: list[tuple[float, float]]) -> dict:
    walls, cpus = [w for w, _ in xs], [c for _, c in xs]
    return {"wall_median_s": round(statistics.median(walls), 3), "wall_min_s": round(min(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3), "cpu_min_s": round(min(cpus), 3), "n": len(xs)}


def time_cmd(cmd: list[str], env: dict, repeat: int) -> dict:
    """Median and min of `repeat` runs; with --before, the before tree's runs interleaved with these (same
    moments, same load) under "before"."""
    now, before = [], []
    for _ in range(repeat):
        if BEFORE:
            before.append(_once(cmd, {**env, **BEFORE}))
        now.append(_once(cmd, env))
    out = _summary(now)
    if BEFORE:
        out["before"] = _summary(before)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--data", type=Path, default=None, help="dataset (default: the embedded demo)")
    ap.add_argument("--no-dashboard", action="store_true")
    ap.add_argument("--before", type=Path, default=None,
                    help="a copy of an older rpcli tree (its parent folder): time it too, interleaved")
    ap.add_argument("--before-rev", default=None, help="the commit that --before holds (recorded)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "startup.json")
    args = ap.parse_args(argv)
    from rpcli.core.data import default_data_root

    data = (args.data or default_data_root()).resolve()
    if args.before is not None:
        BEFORE["PYTHONPATH"] = str(args.before.resolve())
    rp = [sys.executable, "-m", "rpcli"]
    res = {"bench": "startup", "commit": commit(), "machine": machine(),
           "command": "python bench/startup.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "data": str(data), "targets_s": TARGETS, "before_rev": args.before_rev}
    with tempfile.TemporaryDirectory(prefix="rp-startup-") as tmp:
        ws = Path(tmp) / "ws"
        res["workspace"] = write_runs_workspace(ws, data, args.runs)
        env = {**os.environ, "RP_WORKSPACE": str(ws), "RP_DATA": str(data), "COLUMNS": "200",
               "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        env.pop("RP_NO_HELP_CACHE", None)
        subprocess.run(rp + ["ws", "status"], env=env, check=True, capture_output=True)
        res["python_bare"] = time_cmd([sys.executable, "-c", "pass"], env, args.repeat)
        # what bounds --help: the imports alone (each in a fresh interpreter)
        for key, code in (("import_typer", "import typer"),
                          ("import_renderer", "import typer, typer.main, typer.rich_utils, typer._adapters"),
                          ("import_cli", "import rpcli.cli.main"),
                          ("import_cli_and_rich_help", "import rpcli.cli.main, typer.rich_utils")):
            res[key] = time_cmd([sys.executable, "-c", code], env, args.repeat)
        # the root help renders through Typer once and is then printed from the user's cache (rpcli/cli/entry.py):
        # `help_uncached` is every call's cost with the cache off, `help` a call after the first
        res["help_uncached"] = time_cmd(rp + ["--help"], {**env, "RP_NO_HELP_CACHE": "1"}, args.repeat)
        subprocess.run(rp + ["--help"], env=env, check=True, capture_output=True)
        res["help"] = time_cmd(rp + ["--help"], env, args.repeat)
        pages = time_help_pages(rp, env, Path(tmp) / "help", max(1, args.repeat // 2))
        res["help_pages"] = pages
        res["help_pages_worst"] = {k: v for k, v in pages["worst_cached"].items()}
        res["help_pages_worst_cold"] = pages["worst_cold"]
        res["compare_plain"] = time_cmd(rp + ["compare", "--plain"], env, args.repeat)
        out = subprocess.run(rp + ["compare", "--plain"], env=env, capture_output=True, text=True, check=True).stdout
        res["compare_plain"]["run_rows_printed"] = sum(1 for line in out.splitlines() if "run-" in line)
        if not args.no_dashboard:
            import measure_startup as MS

            ptys = [MS.time_pty(str(ws), str(data)) for _ in range(max(3, args.repeat // 2))]
            pilots = MS.time_pilot(str(ws), str(data), max(3, args.repeat // 2))
            res["dashboard_pty"] = {"wall_median_s": round(statistics.median(ptys), 3),
                                    "wall_min_s": round(min(ptys), 3), "n": len(ptys)}
            res["dashboard_pilot"] = {"wall_median_s": round(statistics.median(pilots), 3),
                                      "wall_min_s": round(min(pilots), 3), "n": len(pilots)}
    res["machine"]["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    for k, t in TARGETS.items():
        r = res[k]
        r["target_s"] = t
        r["met_wall"] = r["wall_median_s"] < t
        r["met_cpu"] = r["cpu_median_s"] < t
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"workspace: {res['workspace']['runs']} runs ({res['workspace']['manifest_bytes'] / 2**20:.1f} MiB "
          f"manifest); load average {res['machine']['load_avg']}")
    print(f"  {'':32s} {'wall med':>9} {'wall min':>9} {'cpu med':>9}")
    for k in ("python_bare", "import_typer", "import_renderer", "import_cli", "import_cli_and_rich_help", "help_uncached", "help",
              "help_pages_worst", "help_pages_worst_cold", "compare_plain",
              "dashboard_pty", "dashboard_pilot"):
        if k in res:
            r = res[k]
            if "page" in r:
                print(f"  ({r['page']})")
            print(f"  {k:32s} {r['wall_median_s']:>9.3f} {r['wall_min_s']:>9.3f} "
                  f"{r.get('cpu_median_s', float('nan')):>9.3f}")
            if "before" in r:
                b = r["before"]
                print(f"  {'  before':32s} {b['wall_median_s']:>9.3f} {b['wall_min_s']:>9.3f} {b['cpu_median_s']:>9.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

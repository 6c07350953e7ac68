"""Does an `rp` command slow down with the size of its workspace? A write, `rp ls` and `rp show` timed as whole
processes in a small and a large workspace (default 100 and 10,000 artifacts).

Each workspace is built in a temporary folder on the embedded demo with the cheap `--encoder hash:64`: a real graph,
real index profiles (one per timed write, `--seed K`, built before the workspace is filled) and a real
`rp route sim` run. The rest of the entries are synthetic runs written through the manifest API in one transaction:
copies of that real run's entry (its params, metrics, outputs, provenance: about 12 KB of JSON each) with new ids,
keys, seeds and creation times (older than the real artifacts, as in a workspace that grew over time), up to the
size less one entry per round, so that the timed writes end at the size: the small workspace's writes then pay what
a small workspace pays (manifest.json is rewritten after each write up to 100 entries).

Then, round by round (the first round is a warm-up and not counted), each size in turn (the order alternates):

  write  `rp route sim --profile P_K --mode standard`: a new run each round (a run's id hashes its parent's content,
         and each round routes on another profile), recorded in the manifest: what every build command pays;
  ls     `rp ls` (the table);
  show   `rp show run-XXXXXXXX` (a prefix of the real run's id: 8 of its 10 hex digits).

Wall time of each process (median, min, max) and its CPU time (user + system, from the kernel's rusage: on a shared
machine the steadier of the two). The result: per command, the large workspace's median minus the small one's, and
whether it is within --target (0.3 s). `rp ws export` is timed once per size as information (the on-demand export).

With --before DIR (a folder holding an older `rpcli/`, e.g. `git archive <rev> rpcli | tar -x -C DIR`), every
command also runs on that code, interleaved with this tree's, on its own copy of each workspace (whose
manifest.json is removed: a copied export is not what the older code expects to find).

The result carries "tables" and "targets" (ws_write_delta_s, ws_ls_delta_s, ws_show_delta_s) for
bench/make_docs.py. --quick: 2 timed rounds, no export timing (about a minute).

Usage: python bench/ws_scale.py [--sizes 100,10000] [--repeat 7] [--quick] [--before DIR --before-rev REV]
                                [--no-export] [--out bench/results/ws_scale.json]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import commit, machine  # noqa: E402

COMMANDS = ("write", "ls", "show")
TARGET_IDS = {"write": "ws_write_delta_s", "ls": "ws_ls_delta_s", "show": "ws_show_delta_s"}


def _run(cmd: list[str], env: dict) -> tuple[float, None, str]:
    """(wall s, None, stdout) of one process; a failure stops the bench with its stderr."""
    t0 = time.perf_counter()
    # cwd away from any checkout: `python -m rpcli` puts the cwd first on sys.path, PYTHONPATH picks the tree
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir())
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err.decode()[-1500:]}")
    return wall, None, out.decode()


class Timer:
    """Runs processes; their CPU time is the growth of RUSAGE_CHILDREN (cumulative; one child at a time)."""

    def __init__(self) -> None:
        import resource

        self._r = resource

    def __call__(self, cmd: list[str], env: dict) -> tuple[float, float, str]:
        before = self._r.getrusage(self._r.RUSAGE_CHILDREN)
        wall, _, out = _run(cmd, env)
        after = self._r.getrusage(self._r.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, out


def synthetic_runs(real: dict, n: int, start: datetime) -> list[dict]:
    """`n` run entries shaped like `real` (a recorded run), with new ids, keys, seeds and creation times (one a
    minute, ending at `start`)."""
    out = []
    for i in range(n):
        e = copy.deepcopy(real)
        key = hashlib.sha256(f"ws_scale-{i}".encode()).hexdigest()
        e["id"], e["key"] = f"run-{key[:10]}", key
        e["params"] = {**e["params"], "seeds": [1000 + i], "query_text": ("formatted", "raw")[i % 2]}
        e["outputs"] = [{**o, "path": f"runs/{e['id']}/{o['path'].rsplit('/', 1)[-1]}"} for o in e["outputs"]]
        m = e.get("metrics") or {}
        if isinstance(m.get("avg_performance"), (int, float)):
            m["avg_performance"] = round(m["avg_performance"] - (i % 97) * 1e-4, 4)
        e["created_at"] = (start - timedelta(minutes=n - i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(e)
    return out


def fill(root: Path, total: int) -> dict:
    """Fill the workspace at `root` up to `total` entries with synthetic runs (one transaction)."""
    from rpcli.workspace import manifest as M
    from rpcli.workspace.layout import Workspace

    ws = Workspace(root)
    entries = M.load_manifest(ws)["entries"]
    real = next(e for e in entries.values() if e["kind"] == "run")
    first = min(e["created_at"] for e in entries.values())
    start = datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - timedelta(hours=1)
    new = synthetic_runs(real, max(0, total - len(entries)), start)
    t0 = time.perf_counter()
    if hasattr(M, "register_entries"):
        M.register_entries(ws, new)
    else:  # an rp from before register_entries (one transaction as well)
        M.update_manifest(ws, lambda doc: doc["entries"].update({e["id"]: e for e in new}))
    return {"entries": len(entries) + len(new), "synthetic": len(new), "fill_s": round(time.perf_counter() - t0, 2),
            "run_entry_json_bytes": len(json.dumps(real, sort_keys=True, separators=(",", ":")).encode()),
            "store_mib": round(sum(p.stat().st_size for p in root.glob("manifest.db*")) / 2**20, 1)}


def build(root: Path, rp: list[str], env: dict, n_profiles: int) -> dict:
    """A real graph, `n_profiles` index profiles (seeds 0..n-1) and one sim run on profile 0."""
    e = {**env, "RP_WORKSPACE": str(root)}
    base = rp + ["--encoder", "hash:64", "-q"]
    graph = _run(base + ["graph", "build", "task", "--mode", "standard"], e)[2].strip()
    profiles = [_run(base + ["profile", "index", "--mode", "standard", "--seed", str(k)], e)[2].strip()
                for k in range(n_profiles)]
    run = _run(base + ["route", "sim", "--profile", profiles[0], "--mode", "standard"], e)[2].strip()
    return {"graph": graph, "profiles": profiles, "run": run}


def summary(xs: list[tuple[float, float]]) -> dict:
    walls, cpus = [w for w, _ in xs], [c for _, c in xs]
    return {"wall_median_s": round(statistics.median(walls), 3), "wall_min_s": round(min(walls), 3),
            "wall_max_s": round(max(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3), "n": len(xs),
            "wall_s": [round(w, 3) for w in walls]}


def add_tables(res: dict, sizes: list[int], variants: list[str]) -> None:
    """The "tables" and "targets" bench/make_docs.py renders (every number from the fields above)."""
    small, large = min(sizes), max(sizes)
    cols = ["command", "code"] + [f"{n:,} entries: median wall s (CPU s)" for n in sizes] + [
        f"{large:,} minus {small:,}, s", f"within {res['target_s']} s"]
    rows = []
    for v in variants:
        for c in COMMANDS:
            b = res[v][c]
            rows.append([res["commands"][c], v if v == "now" else f"before ({res.get('before_rev') or '?'})"]
                        + [f"{b[str(n)]['wall_median_s']} ({b[str(n)]['cpu_median_s']})" for n in sizes]
                        + [f"{b['diff_s']:+.3f}", "yes" if b["within_target"] else "no"])
    res["tables"] = [{"title": f"Whole `rp` processes, median of {res['repeat']} (after a warm-up round), "
                               f"load {res['machine']['load_avg'][0]} before and "
                               f"{res['machine']['load_avg_after'][0]} after", "columns": cols, "rows": rows}]
    if "export" in res:
        res["tables"].append({"title": "`rp ws export` (on demand: manifest.json is rewritten automatically only "
                                       "while a workspace holds at most 100 entries)",
                              "columns": ["entries", "wall s", "CPU s", "manifest.json MiB"],
                              "rows": [[f"{int(n):,}", x["wall_s"], x["cpu_s"], x["manifest_json_mib"]]
                                       for n, x in res["export"].items()]})
    res["targets"] = []
    for c in COMMANDS:
        b = res["now"][c]
        note = (f"{b[str(large)]['wall_median_s']} s with {large:,} entries vs {b[str(small)]['wall_median_s']} s "
                f"with {small:,} (CPU {b[str(large)]['cpu_median_s']} vs {b[str(small)]['cpu_median_s']} s)")
        if "before" in res:
            note += f"; before: {res['before'][c]['diff_s']:+.3f} s"
        res["targets"].append({"id": TARGET_IDS[c], "value": b["diff_s"], "unit": "s",
                               "met": b["within_target"], "note": note,
                               "bound": None if b["within_target"] else
                               f"wall times {b[str(large)]['wall_s']} vs {b[str(small)]['wall_s']} s"})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,10000", help="workspace sizes (entries), comma-separated")
    ap.add_argument("--repeat", type=int, default=7, help="timed rounds (after one warm-up round)")
    ap.add_argument("--target", type=float, default=0.3, help="allowed difference of the medians, seconds")
    ap.add_argument("--before", type=Path, default=None,
                    help="a copy of an older rpcli tree (its parent folder): time it too, interleaved")
    ap.add_argument("--before-rev", default=None, help="the commit that --before holds (recorded)")
    ap.add_argument("--no-export", action="store_true", help="do not time `rp ws export`")
    ap.add_argument("--quick", action="store_true", help="--repeat 2 --no-export")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ws_scale.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.no_export = 2, True
    sizes = [int(s) for s in args.sizes.split(",")]
    small, large = min(sizes), max(sizes)
    rounds = args.repeat + 1
    timer = Timer()
    rp = [sys.executable, "-m", "rpcli"]
    # the embedded demo (the repository root), named explicitly: a --before tree holds only rpcli/
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "HF_HUB_OFFLINE": "1", "RP_DATA": str(REPO)}
    for k in ("RP_WORKSPACE", "RP_ENCODER"):
        env.pop(k, None)
    variants = {"now": str(REPO)}
    if args.before is not None:
        variants["before"] = str(args.before.resolve())
    res = {"bench": "ws_scale", "commit": commit(), "machine": machine(),
           "command": "python bench/ws_scale.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "sizes": sizes, "repeat": args.repeat, "target_s": args.target, "before_rev": args.before_rev,
           "encoder": "hash:64", "data": "the embedded demo"}
    with tempfile.TemporaryDirectory(prefix="rp-ws-scale-") as tmp:
        ws, made = {}, {}
        for n in sizes:
            root = Path(tmp) / f"ws-{n}"
            t0 = time.perf_counter()
            made[n] = build(root, rp, env, rounds + 1)
            made[n]["build_s"] = round(time.perf_counter() - t0, 1)
            made[n].update(fill(root, n - rounds))  # the writes of the rounds bring it to n
            for v in variants:
                ws[n, v] = root if v == "now" else Path(tmp) / f"ws-{n}-{v}"
                if v != "now":
                    shutil.copytree(root, ws[n, v])
                    ws[n, v].joinpath("manifest.json").unlink(missing_ok=True)
            print(f"workspace of {made[n]['entries']:,} entries (+{rounds} writes) built in {made[n]['build_s']} s, "
                  f"filled in "
                  f"{made[n]['fill_s']} s (store {made[n]['store_mib']} MiB)", flush=True)
        res["workspaces"] = {str(n): {**{k: v for k, v in made[n].items() if k != "profiles"},
                                      "entries_after_writes": made[n]["entries"] + rounds} for n in sizes}
        times: dict = {(n, v, c): [] for n in sizes for v in variants for c in COMMANDS}
        seen: set = set()
        for r in range(rounds):
            for n in (sizes if r % 2 == 0 else sizes[::-1]):  # alternate the order: no size always runs first
                for v, tree in variants.items():
                    e = {**env, "PYTHONPATH": tree, "RP_WORKSPACE": str(ws[n, v])}
                    base = rp + ["--encoder", "hash:64", "-q"]
                    profile = made[n]["profiles"][r + 1]
                    cmds = {"write": base + ["route", "sim", "--profile", profile, "--mode", "standard"],
                            "ls": rp + ["ls"],
                            "show": rp + ["show", made[n]["run"][:12]]}
                    for c, cmd in cmds.items():
                        wall, cpu, out = timer(cmd, e)
                        if c == "write":
                            rid = out.strip()
                            assert rid.startswith("run-") and (n, v, rid) not in seen, (rid, "not a new run")
                            seen.add((n, v, rid))
                        if r > 0:  # round 0 warms the page cache and the interpreter's imports
                            times[n, v, c].append((wall, cpu))
            print(f"round {r + 1}/{rounds} done", flush=True)
        res["commands"] = {"write": "rp route sim --profile PROFILE_K --mode standard (a new run each time)",
                           "ls": "rp ls", "show": "rp show RUN_PREFIX"}
        for v in variants:
            block = {}
            for c in COMMANDS:
                per = {str(n): summary(times[n, v, c]) for n in sizes}
                diff = per[str(large)]["wall_median_s"] - per[str(small)]["wall_median_s"]
                block[c] = {**per, "diff_s": round(diff, 3), "within_target": diff <= args.target}
            block["met"] = all(block[c]["within_target"] for c in COMMANDS)
            res[v] = block
        if not args.no_export:
            res["export"] = {}
            for n in sizes:
                e = {**env, "RP_WORKSPACE": str(ws[n, "now"])}
                wall, cpu, _ = timer(rp + ["ws", "export"], e)
                res["export"][str(n)] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                         "manifest_json_mib": round(ws[n, "now"].joinpath("manifest.json")
                                                                    .stat().st_size / 2**20, 1)}
    res["machine"]["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    res["met"] = res["now"]["met"]
    add_tables(res, sizes, list(variants))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{'':8s}" + "".join(f"{n:>12,}" for n in sizes) + f"{'diff':>10}  (median wall s)")
    for v in variants:
        for c in COMMANDS:
            b = res[v][c]
            print(f"{v + ' ' + c:14s}" + "".join(f"{b[str(n)]['wall_median_s']:>12.3f}" for n in sizes)
                  + f"{b['diff_s']:>+10.3f}  {'ok' if b['within_target'] else 'OVER'}")
    if "export" in res:
        print("rp ws export: " + ", ".join(f"{n:,} entries {res['export'][str(n)]['wall_s']} s" for n in sizes))
    print(f"target: within {args.target} s of the {small:,}-entry workspace: {'met' if res['met'] else 'NOT met'}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

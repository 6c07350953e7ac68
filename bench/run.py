"""Rerun the benchmarks from scratch: every workspace and run they need is built in a temporary folder.

    python bench/run.py [--quick] [--only NAME,...] [--long] [--data DIR] [--results DIR] [--allow-dirty]
    python bench/run.py --list

Each bench is one script of bench/ run as a subprocess with the arguments listed in BENCHES (the full set, or the
smaller `--quick` set that finishes in a few minutes); it writes `<results>/<name>.json`. This script then adds to
that file, under "run", what a reader needs to trust it: the command that made it (this script's, and the bench's),
the commit it measured (refused when the work tree has changes outside bench/results/ and docs/benchmarks.md,
unless --allow-dirty, which is then recorded), the load average before and after, the machine, and the wall time.
Finally bench/make_docs.py renders `<results>` (docs/benchmarks.md for the full set in bench/results, else
`<results>/benchmarks.md`).

Benches marked long (hours of CPU at their full settings) run only with --long or when named by --only. The
released data (--data, default ../shared/data/routeprofile) is needed by the benches that name it; without it they
are skipped with a reason. Time benches on an otherwise idle machine: the load average is recorded so a reader can
tell, and a load above the number of cores before a bench is warned about.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from _common import machine  # noqa: E402

RELEASED = REPO.parent / "shared" / "data" / "routeprofile"
OWN_FILES = ("bench/results/", "docs/benchmarks.md")  # what a bench run itself changes


@dataclass(frozen=True)
class Bench:
    name: str  # the result file's stem
    script: str  # bench/<script>.py, or a path to a script
    full: list = field(default_factory=list)  # arguments ({data} and {tmp} are substituted)
    quick: list | None = None  # None: not part of --quick
    needs_data: bool = False  # needs the released data
    long: bool = False


BENCHES = (
    Bench("startup", "startup", ["--repeat", "7"], ["--repeat", "3", "--runs", "100", "--no-dashboard"]),
    Bench("ws_scale", "ws_scale", [], ["--quick"]),
    Bench("encoder_speed", "encoder_speed", ["--data", "{data}", "--repeats", "1"],
          ["--data", "{data}", "--limit", "300", "--repeats", "1", "--paths", "minilm-torch,minilm-static"],
          needs_data=True),
    Bench("encoder_speed_1thread", "encoder_speed", ["--data", "{data}", "--limit", "300", "--repeats", "1",
                                                     "--threads", "1"], None, needs_data=True),
    Bench("route_speed", "route_speed", ["--data", "{data}", "--workspace", "{tmp}/route_speed", "--single", "100"],
          ["--data", "{data}", "--workspace", "{tmp}/route_speed", "--routers", "sim,mlp", "--n", "2000",
           "--repeat", "1", "--single", "20"], needs_data=True),
    Bench("route_speed_static", "route_speed", ["--data", "{data}", "--workspace", "{tmp}/route_speed_static",
                                                "--encoder", "minilm-static", "--single", "100"],
          ["--data", "{data}", "--workspace", "{tmp}/route_speed_static", "--encoder", "minilm-static",
           "--routers", "sim", "--n", "2000", "--repeat", "1", "--single", "20"], needs_data=True),
    Bench("route_speed_int8", "route_speed", ["--data", "{data}", "--workspace", "{tmp}/route_speed_int8",
                                              "--encoder", "minilm-int8", "--single", "100"], None, needs_data=True),
    Bench("serve_throughput", "serve_throughput", [], ["--quick"]),
    Bench("graphs_build", "graphs_build", ["--data", "{data}"],
          ["--data", "{data}", "--encoder", "hash:64", "--modes", "standard"], needs_data=True, long=True),
    Bench("pipeline", "pipeline", ["--data", "{data}", "--graph-epochs", "2"], None, needs_data=True, long=True),
    Bench("encoder_quality", "encoder_quality", ["--data", "{data}", "--data", "{demo}"], None, needs_data=True,
          long=True),
    Bench("graph_router", "graph_router", ["--data", "{data}", "--workspace", "{tmp}/graph_router",
                                           "--seeds", "0,1,2"],
          ["--data", "{data}", "--workspace", "{tmp}/graph_router", "--seeds", "0", "--variants", "fast",
           "--epochs", "2"], needs_data=True, long=True),
    Bench("graph_router_recommended", "graph_router",
          ["--data", "{data}", "--workspace", "{tmp}/graph_router_recommended", "--seeds", "0,1,2", "--variants",
           "recommended"], None, needs_data=True),
    Bench("scaling", "scaling", [], ["--models", "8", "--queries", "1000", "--budget", "120"], long=True),
    Bench("sweep_time", "sweep_time", ["--configs", "local:2", "--data", "{data}"], None, needs_data=True,
          long=True),
)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout


def tree_state() -> tuple[str, list[str]]:
    """(HEAD's full sha, the paths changed or untracked outside what a bench run writes itself)."""
    head = git("rev-parse", "HEAD").strip()
    changed = []
    for line in git("status", "--porcelain", "--untracked-files=normal").splitlines():
        path = line[3:].split(" -> ")[-1]
        if not path.startswith(OWN_FILES):
            changed.append(path)
    return head, changed


def args_for(b: Bench, quick: bool, subs: dict) -> list[str]:
    raw = b.quick if quick else b.full
    return [a.format(**subs) for a in (raw or [])]


def selected(args) -> list[Bench]:
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    known = {b.name for b in BENCHES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"bench/run.py: unknown bench(es) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    out = []
    for b in BENCHES:
        if names:
            if b.name in names:
                out.append(b)
        elif args.quick:
            if b.quick is not None:
                out.append(b)
        elif not b.long or args.long:
            out.append(b)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small settings (minutes); results default to a "
                                                         "temporary folder")
    ap.add_argument("--only", default=None, help="comma-separated bench names (see --list)")
    ap.add_argument("--long", action="store_true", help="also the long benches")
    ap.add_argument("--data", type=Path, default=RELEASED, help="the released data (default: %(default)s)")
    ap.add_argument("--results", type=Path, default=None,
                    help="where the result files go (default: bench/results; with --quick a temporary folder)")
    ap.add_argument("--allow-dirty", action="store_true", help="run on a work tree with changes (recorded)")
    ap.add_argument("--list", action="store_true", help="list the benches and exit")
    args = ap.parse_args(argv)
    this_cmd = "python bench/run.py" + "".join(" " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    if args.list:
        for b in BENCHES:
            tags = ", ".join(t for t, on in (("long", b.long), ("released data", b.needs_data),
                                             ("quick", b.quick is not None)) if on)
            print(f"{b.name:24s} bench/{b.script}.py  [{tags}]")
        return 0
    benches = selected(args)
    head, changed = tree_state()
    if changed and not args.allow_dirty:
        print("bench/run.py: the work tree has changes outside bench/results/ and docs/benchmarks.md: "
              + ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
              + "\nCommit them (results must name a clean commit) or pass --allow-dirty.", file=sys.stderr)
        return 2
    commit_id = head[:12] + ("+dirty" if changed else "")
    from rpcli.core.data import default_data_root

    tmp_results = None
    if args.results is None and args.quick:
        tmp_results = tempfile.mkdtemp(prefix="rp-bench-quick-")
    results = (args.results or (Path(tmp_results) if tmp_results else REPO / "bench" / "results")).resolve()
    results.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RP_BENCH_COMMIT": commit_id, "PYTHONPATH": str(REPO)}
    summary = []
    with tempfile.TemporaryDirectory(prefix="rp-bench-") as tmp:
        subs = {"data": str(args.data.resolve()), "tmp": tmp, "demo": str(default_data_root())}
        for b in benches:
            if b.needs_data and not args.data.is_dir():
                summary.append((b.name, "skipped", f"no released data at {args.data}"))
                continue
            out = results / f"{b.name}.json"
            script = Path(b.script) if b.script.endswith(".py") else REPO / "bench" / f"{b.script}.py"
            cmd = [sys.executable, str(script), *args_for(b, args.quick, subs),
                   "--out", str(out)]
            shown = "python " + " ".join(shlex.quote(
                str(Path(c).relative_to(REPO)) if c.startswith(str(REPO) + "/")
                else "." if c == str(REPO) else "../" + c[len(str(REPO.parent)) + 1:]
                if c.startswith(str(REPO.parent) + "/") else c.replace(tmp, "$TMP")) for c in cmd[1:])
            load0 = [round(x, 2) for x in os.getloadavg()]
            if load0[0] > (os.cpu_count() or 1):
                print(f"[bench] warning: load average {load0[0]} before {b.name} (more than the cores): timings "
                      "will be slowed by other work", file=sys.stderr)
            print(f"[bench] {b.name}: {shown}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            out.unlink(missing_ok=True)
            p = subprocess.run(cmd, env=env, cwd=REPO)
            wall = round(time.perf_counter() - t0, 1)
            if p.returncode != 0 or not out.is_file():
                summary.append((b.name, "failed", f"exit {p.returncode} after {wall} s"))
                continue
            doc = json.loads(out.read_text(encoding="utf-8"))
            doc["run"] = {"command": this_cmd, "bench_command": shown, "commit": commit_id, "clean": not changed,
                          "quick": bool(args.quick), "load_avg_before": load0,
                          "load_avg_after": [round(x, 2) for x in os.getloadavg()], "machine": machine(),
                          "wall_s": wall, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            summary.append((b.name, "ok", f"{wall} s"))
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_docs", REPO / "bench" / "make_docs.py")
    md = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(md)
    doc_path = REPO / "docs" / "benchmarks.md" if results == (REPO / "bench" / "results").resolve() \
        else results / "benchmarks.md"
    doc_path.write_text(md.render(results), encoding="utf-8")
    for name, status, note in summary:
        print(f"{name:24s} {status:8s} {note}")
    print(f"results in {results}; {doc_path} written")
    return 0 if all(s != "failed" for _, s, _ in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())

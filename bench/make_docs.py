"""Write docs/benchmarks.md from the JSON results of the bench scripts in bench/results/.

    python bench/make_docs.py [--results bench/results] [--out docs/benchmarks.md]

Each bench script writes bench/results/<name>.json with at least {"bench", "commit", "machine", "command"}. This
script renders, per bench: the command, the commit, the machine (nproc, load average at measurement), its tables,
and the issue-14 targets it measures, marked met / not met with the measured value. A bench whose JSON is missing
is listed as "not run". A result may carry
  "tables":  [{"title": str, "columns": [str], "rows": [[...]]}]       rendered as they are, and
  "targets": [{"id": str, "value": number, "unit": str, "met": bool, "note": str}]   (ids: TARGETS below);
the results of startup, manifest_speed and scaling are read by the functions below instead.
Nothing here measures anything: rerun the bench scripts, then this script.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = ("route_speed", "graph_router", "encoder_speed", "pipeline", "sweep_time", "scaling", "startup",
           "manifest_speed")
# issue 14's targets: id -> (bench, text)
TARGETS = {
    "graph_router_s_per_seed": ("graph_router", "GraphRouter at most 20 s per seed on the released data "
                                                "(query embeddings cached), same result within noise"),
    "encoder_texts_per_s": ("encoder_speed", "default encoder at least 250 texts/s on the released data's queries"),
    "encoder_cosine": ("encoder_speed", "cosine >= 0.999 to today's vectors"),
    "decisions_per_s_sim": ("route_speed", "sim at least 10,000 decisions/s (cached embeddings)"),
    "decisions_per_s_mlp": ("route_speed", "mlp at least 10,000 decisions/s (cached embeddings)"),
    "decisions_per_s_graph": ("route_speed", "graph at least 1,000 decisions/s (cached embeddings)"),
    "single_query_p50_ms": ("route_speed", "single-query routing p50 at most 20 ms including encoding"),
    "help_s": ("startup", "`rp --help` under 0.3 s"),
    "compare_plain_s": ("startup", "`rp compare --plain` under 1 s with 1,000 runs"),
    "manifest_record_ms": ("manifest_speed", "recording one artifact in a workspace of 10,000 under 50 ms"),
    "sweep_cold_min": ("sweep_time", "the table-1 sweep cold in at most 30 minutes with --jobs 2"),
    "sweep_rerun_s": ("sweep_time", "a fully recorded sweep rerun under 10 s"),
    "growth_queries": ("scaling", "at most linear growth in queries for graph build, emb-gnn and evaluation"),
    "memory_128x100k_gib": ("scaling", "128 models x 100k queries within 8 GiB"),
}


def md_table(columns: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
        return str(v).replace("|", "\\|")
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def header(res: dict) -> str:
    m = res.get("machine", {})
    load = m.get("load_avg")
    bits = [f"commit `{res.get('commit', '?')}`", f"nproc {m.get('nproc', '?')}",
            f"load average {load[0] if load else '?'} (1 min) at the start" +
            (f", {m['load_avg_after'][0]} at the end" if m.get("load_avg_after") else "")]
    if m.get("cpu"):
        bits.append(m["cpu"])
    return f"`{res.get('command', '?')}`\n\n" + "; ".join(bits) + "."


# ----------------------------------------------------------------------------------------------------- my benches
def startup_section(r: dict) -> tuple[str, list[dict]]:
    rows = []
    for k, label in (("python_bare", "python -c pass (interpreter alone)"),
                     ("import_typer", "python -c 'import typer'"),
                     ("import_cli", "python -c 'import rpcli.cli.main' (every command module, Typer, Rich console)"),
                     ("import_cli_and_rich_help", "... and typer.rich_utils (Rich help: markdown, traceback)"),
                     ("help", "rp --help"),
                     ("compare_plain", f"rp compare --plain ({r['workspace']['runs']:,} runs)"),
                     ("dashboard_pty", "rp compare, dashboard: process start -> first run row (pty)"),
                     ("dashboard_pilot", "Dashboard: App() -> rows shown (in process)")):
        if k in r:
            x = r[k]
            rows.append([label, x["wall_median_s"], x["wall_min_s"], x.get("cpu_median_s"), x["n"]])
            if "before" in x:
                b = x["before"]
                rows.append([f"... before (`{r.get('before_rev', 'older tree')}`)", b["wall_median_s"],
                             b["wall_min_s"], b["cpu_median_s"], b["n"]])
    text = md_table(["what", "wall median s", "wall min s", "CPU median s", "n"], rows)
    text += ("\n\nCPU time is the process's user + system time (kernel rusage): on this shared 2-core machine the "
             "wall time includes waiting for a core; the CPU time is what an idle machine's wall time would be close "
             "to. `rp --help` is bound by its imports (the import rows: Typer, Rich, and Typer's Rich help formatter, which "
             "imports Rich's markdown and traceback modules) and by Typer building every command's parameters "
             "before printing the root help; going lower would need lazily built sub-apps or Click's plain help "
             "formatter. `rp compare --plain` used to spend most of its time in Rich's table layout (every cell "
             "measured and wrapped): off a terminal it now writes the same box table directly "
             "(tests/test_plain_table.py checks it is byte-identical to Rich's); what is left is imports (numpy "
             "for the reference rows), loading the dataset and reading the manifest.")
    tg = []
    for k, tid in (("help", "help_s"), ("compare_plain", "compare_plain_s")):
        x = r[k]
        tg.append({"id": tid, "value": x["wall_median_s"], "unit": "s", "met": x["wall_median_s"] < x["target_s"],
                   "note": f"wall median; CPU {x['cpu_median_s']} s ({'under' if x['met_cpu'] else 'over'} "
                           f"{x['target_s']} s)"})
    return text, tg


def manifest_section(r: dict) -> tuple[str, list[dict]]:
    rows = [[label, r[k]["median_ms"], r[k]["p95_ms"], r[k]["n"]] for k, label in (
        ("json_register", "JSON manifest (before): register one entry"),
        ("json_load", "JSON manifest (before): load"),
        ("store_register", "SQLite store: register_entry"),
        ("store_build_artifact", "SQLite store: build_artifact with a trivial builder (end to end)"),
        ("store_lookup", "SQLite store: lookup by id"),
        ("store_get_entry_prefix", "SQLite store: get_entry by prefix"),
        ("store_load", "SQLite store: load_manifest (every entry)"),
        ("store_export", "SQLite store: rewrite manifest.json"),
    ) if k in r]
    text = (f"{r['entries']:,} run entries of about {r['entry_json_bytes']:,} bytes each (manifest.json "
            f"{r['manifest_json_mib']} MiB). manifest.json is rewritten after every write up to "
            f"{r['export_sync_max']} entries, above that once when the writing process exits. The first write "
            f"into a JSON workspace moves it into the store: {r['store_migrate_first_write_s']} s here.\n\n")
    text += md_table(["what", "median ms", "p95 ms", "n"], rows)
    text += ("\n\nDecision: the JSON manifest rewrites the whole file under the lock for every record, so its cost "
             "grows with the workspace (row 1); the store of record is now `manifest.db` (SQLite from the standard "
             "library, WAL mode, one row per entry, schema 2), where a record is one transaction. `manifest.json` "
             "stays as its export in the old format: readers that go through `load_manifest` read the store; an "
             "older workspace (only manifest.json) is read as it is and moved into the store by its first write; an "
             "outside edit of manifest.json is read and imported when the export was current, and refused with a "
             "message when the store holds newer records. The dashboard polls `manifest_stamp` (store and export).")
    v = r["store_build_artifact"]["median_ms"]
    return text, [{"id": "manifest_record_ms", "value": v, "unit": "ms", "met": v < 50,
                   "note": f"build_artifact median (register_entry alone {r['store_register']['median_ms']} ms; "
                           f"the JSON manifest took {r['json_register']['median_ms']:,.0f} ms)"}]


def scaling_section(r: dict) -> tuple[str, list[dict]]:
    steps = ("synth", "graph", "emb-gnn", "trainable", "sim", "mlp", "graph-rt", "compare")
    rows = []
    for c in r["cells"]:
        row = [c["models"], c["queries"], c["test_rows"], (c.get("load_avg_at_start") or ["?"])[0]]
        for s in steps:
            x = c["steps"].get(s)
            if x is None:
                row.append("–")
            elif x["rc"] != 0:
                row.append(f"{x['rc']} after {x['seconds']:.0f} s")
            else:
                work = f" ({x['work_s']:.1f})" if x.get("work_s") is not None else ""
                row.append(f"{x['seconds']:.1f}{work} s / {x['peak_mib']:.0f} MiB")
        rows.append(row)
    runs = r.get("runs", [])
    text = ("Measured by " + "; ".join(f"`{x['command']}` at `{x['commit']}`" for x in runs) + ".\n\n" if runs
            else "")
    text += (f"Encoder `{r['encoder']}` (feature hashing: these numbers measure the pipeline, not MiniLM); "
            f"{r['tasks']} tasks, test rows = 10 % of the training queries, all models are candidates, mode "
            f"standard; fixed epochs {r['epochs']}; each step is one `rp` process: wall time (in brackets the "
            f"artifact's recorded build time, without interpreter start, imports and data loading) / the process's "
            f"peak RSS; a step is killed after {r['step_timeout_s']:.0f} s.\n\n")
    text += md_table(["models", "queries", "test rows", "load"] + list(steps), rows)
    text += ("\n\n`load`: the 1-minute load average when the cell started (`?`: not recorded by that run). The "
             "cells ran at different moments of a shared machine, so a cell's times also depend on its load: a slope "
             "over three points carries that noise.")
    if r["not_run"]:
        text += "\n\nNot run: " + ", ".join(f"{c['models']} x {c['queries']:,} ({c['why']})" for c in r["not_run"])
        text += " (`python bench/scaling.py --resume --queries ... --models ...` runs them and keeps these)."
    grow = [[s, g["vs_queries"], g["vs_models"], json.dumps(g["vs_queries_by_group"]),
             json.dumps(g["vs_models_by_group"])] for s, g in r["growth"].items()]
    text += ("\n\nGrowth: least-squares slope of log(wall time) on log(queries) (models fixed; pooled, and per model "
             "count) and on log(models) (queries fixed). 1 = linear. Wall times include the `rp` process start and "
             "imports (several seconds under load), which flattens the slopes of the small cells.\n\n")
    text += md_table(["step", "vs queries", "vs models", "vs queries, per model count", "vs models, per query count"],
                     grow)
    text += ("\n\nThe routers train on the pairwise training signal (80 pairs per task here, fixed), not on every "
             "query, so router training does not grow with the queries in this grid; their evaluation grows with the "
             "test rows (10 % of the queries). emb-gnn and the trainable profile work on the graph.")
    gw = r.get("growth_work", {})
    if gw:
        text += ("\n\nGrowth of the recorded build times (what the step itself costs; the targets are judged on "
                 "these):\n\n")
        text += md_table(["step", "vs queries", "vs models", "vs queries, per model count",
                          "vs models, per query count"],
                         [[s, g["vs_queries"], g["vs_models"], json.dumps(g["vs_queries_by_group"]),
                           json.dumps(g["vs_models_by_group"])] for s, g in gw.items()])
    src = gw if gw else r["growth"]
    worst = {s: src.get(s, {}).get("vs_queries") for s in ("graph", "emb-gnn", "sim")}
    known = {s: v for s, v in worst.items() if v is not None}
    tg = [{"id": "growth_queries", "value": max(known.values()) if known else None, "unit": "slope",
           "met": (all(v <= 1.1 for v in known.values()) if len(known) == 3 else None),
           "note": ("recorded build times" if gw else "wall times") + "; graph build, emb-gnn, evaluation (sim): " + ", ".join(f"{s} {v}" for s, v in worst.items()) +
                   " (<= 1.1 counts as linear within noise)"}]
    big = [c for c in r["cells"] if c["models"] == 128 and c["requested_queries"] == 100000]
    mem = note = None
    if big:
        peaks = {s: x["peak_mib"] for s, x in big[0]["steps"].items() if x["rc"] == 0}
        mem = max(peaks.values())
        top = max((s for s in peaks if s != "synth"), key=peaks.get)
        note = (f"peak RSS of the largest step ({max(peaks, key=peaks.get)}); of the pipeline steps after synth: "
                f"{top} {peaks[top] / 1024:.2f} GiB")
    tg.append({"id": "memory_128x100k_gib", "value": None if mem is None else round(mem / 1024, 2), "unit": "GiB",
               "met": None if mem is None else mem / 1024 <= 8, "note": note or "the 128 x 100k cell was not run"})
    return text, tg


READERS = {"startup": startup_section, "manifest_speed": manifest_section, "scaling": scaling_section}


def generic_section(r: dict) -> tuple[str, list[dict]]:
    parts = []
    for t in r.get("tables", []):
        parts.append(f"**{t.get('title', '')}**\n\n" + md_table(t["columns"], t["rows"]))
    if not parts:
        skip = {"bench", "commit", "machine", "command", "targets", "tables"}
        rows = [[k, json.dumps(v) if isinstance(v, (dict, list)) else v] for k, v in r.items() if k not in skip]
        parts.append(md_table(["key", "value"], rows))
    return "\n\n".join(parts), list(r.get("targets", []))


def render(results: Path) -> str:
    out = ["# Benchmarks", "",
           "_Generated by `python bench/make_docs.py` from bench/results/*.json — do not edit; rerun the benches, "
           "then that command._", "",
           "Targets are those of issue 14 (2 CPU cores). The machine is shared with other jobs: each section gives the "
           "load average when it was measured; ratios within one run are steadier than absolute times.", ""]
    found, sections = {}, []
    for name in BENCHES:
        path = results / f"{name}.json"
        if not path.exists():
            sections.append(f"## {name}\n\nnot run (no {path.relative_to(REPO) if path.is_relative_to(REPO) else path})")
            continue
        r = json.loads(path.read_text())
        text, tg = READERS.get(name, generic_section)(r)
        for t in tg:
            found[t["id"]] = t
        sections.append(f"## {name}\n\n{header(r)}\n\n{text}")
    rows = []
    for tid, (bench, what) in TARGETS.items():
        t = found.get(tid)
        if t is None:
            rows.append([what, bench, "–", "not run"])
            continue
        met = t.get("met")
        v = t.get("value")
        rows.append([what, bench, "–" if v is None else f"{v} {t.get('unit', '')}".strip() +
                     (f" ({t['note']})" if t.get("note") else ""),
                     "met" if met is True else ("not met" if met is False else "not measured")])
    out += ["## Targets", "", md_table(["target", "bench", "measured", ""], rows), ""]
    cmds = []
    for n in BENCHES:
        if (results / f"{n}.json").exists():
            r = json.loads((results / f"{n}.json").read_text())
            cmds += [x["command"] for x in r.get("runs", [])] or [r.get("command")]
    out += ["## Commands", "", "```", *[c for c in cmds if c], "python bench/make_docs.py", "```", ""]
    out += [s + "\n" for s in sections]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "results")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = ap.parse_args(argv)
    args.out.write_text(render(args.results.resolve()), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

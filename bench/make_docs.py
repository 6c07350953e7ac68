"""Write docs/benchmarks.md from the JSON results in bench/results/ (what `python bench/run.py` writes).

    python bench/make_docs.py [--results bench/results] [--out docs/benchmarks.md]

Each bench script writes bench/results/<name>.json in its own shape; bench/run.py adds a "run" block (its command,
the bench's command, the commit, whether the tree was clean, the load average before and after, the machine). One
reader per bench below turns a result into its section (tables) and judges the targets it measures from the raw
measured fields. Every sentence printed about a result is computed from that result's numbers (fields named in
backquotes); a result that was not made by bench/run.py is flagged as such. A bench whose JSON is missing is "not
run", with the command that runs it. A result without a reader of its own may carry
  "tables":  [{"title": str, "columns": [str], "rows": [[...]]}]       rendered as they are, and
  "targets": [{"id": str, "value": number, "unit": str, "met": bool, "note": str, "bound": str}]  (ids: TARGETS).
Nothing here measures anything: rerun the benches (bench/run.py), which then runs this script.
"""

from __future__ import annotations

import argparse
import json
import statistics  # noqa: F401  (readers may use it)
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = ("startup", "ws_scale", "encoder_speed", "encoder_quality", "route_speed", "serve_throughput",
           "graphs_build", "pipeline", "graph_router", "graph_router_recommended", "scaling", "sweep_time",
           "manifest_speed")
COMPANIONS = ("encoder_speed_1thread", "route_speed_static", "route_speed_int8")  # shown in their parent's section


def run_command(name: str) -> str:
    return f"python bench/run.py --only {name}"


# target id -> (bench, text). Issue 22 (step 16), then issue 21 (step 15), then issue 14's that the benches still
# measure.
TARGETS = {
    "graph_recommended_s_per_seed": ("graph_router_recommended", "the recommended GraphRouter at most 20 CPU s per "
                                                                 "seed on the released data (cached embeddings)"),
    "static_texts_per_s": ("encoder_speed", "minilm-static at least 5,000 texts/s batched on the released queries"),
    "static_single_ms": ("encoder_speed", "minilm-static at most 0.5 ms per single query"),
    "static_quality": ("encoder_quality", "minilm-static: no cell of sweeps/best.yaml or the MLP cells of "
                                          "sweeps/quick.yaml significantly below MiniLM (paired 95% interval)"),
    "serve_rps_static": ("serve_throughput", "rp serve at least 1,000 routed requests/s with minilm-static "
                                             "(64 in flight, instant upstreams)"),
    "serve_rps_minilm_x": ("serve_throughput", "rp serve with MiniLM at least 3x the one-at-a-time server's rate"),
    "serve_overhead_p50_ms": ("serve_throughput", "routing overhead p50 at most 2 ms unloaded (minilm-static)"),
    "ws_write_delta_s": ("ws_scale", "a write command in a 10,000-artifact workspace within 0.3 s of a 100-artifact one"),
    "ws_ls_delta_s": ("ws_scale", "`rp ls` in a 10,000-artifact workspace within 0.3 s of a 100-artifact one"),
    "ws_show_delta_s": ("ws_scale", "`rp show` in a 10,000-artifact workspace within 0.3 s of a 100-artifact one"),
    "help_all_s": ("startup", "every `--help` under 0.3 s (cached)"),
    "help_cold_s": ("startup", "every `--help` under 0.3 s with an empty help cache"),
    "help_s": ("startup", "`rp --help` under 0.3 s"),
    "compare_plain_s": ("startup", "`rp compare --plain` under 1 s with 1,000 runs"),
    "encoder_texts_per_s": ("encoder_speed", "default encoder at least 250 texts/s on the released data's queries"),
    "encoder_cosine": ("encoder_speed", "cosine >= 0.999 to today's vectors"),
    "decisions_per_s_sim": ("route_speed", "sim at least 10,000 decisions/s (cached embeddings)"),
    "decisions_per_s_mlp": ("route_speed", "mlp at least 10,000 decisions/s (cached embeddings)"),
    "decisions_per_s_graph": ("route_speed", "graph at least 1,000 decisions/s (cached embeddings)"),
    "single_query_p50_ms": ("route_speed", "single-query routing p50 at most 20 ms including encoding"),
    "graph_router_s_per_seed": ("graph_router", "GraphRouter at most 20 s per seed on the released data "
                                                "(query embeddings cached), same result within noise"),
    "sweep_cold_min": ("sweep_time", "the table-1 sweep cold in at most 45 minutes with --jobs 2"),
    "sweep_rerun_s": ("sweep_time", "a fully recorded sweep rerun under 10 s"),
    "growth_queries": ("scaling", "at most linear growth in queries for graph build, emb-gnn and evaluation"),
    "memory_128x100k_gib": ("scaling", "128 models x 100k queries within 8 GiB"),
    "manifest_record_ms": ("manifest_speed", "recording one artifact in a workspace of 10,000 under 50 ms "
                                             "(in process)"),
}
# all-MiniLM-L6-v2's config (hidden_size, num_hidden_layers, intermediate_size): the weight matmuls of one token
MINILM = {"hidden": 384, "layers": 6, "ffn": 1536}


def minilm_flop_per_token() -> int:
    h, n, f = MINILM["hidden"], MINILM["layers"], MINILM["ffn"]
    return 2 * n * (4 * h * h + 2 * h * f)  # Q, K, V, output projections and the two FFN matmuls; 2 FLOP per MAC


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


def _load(results: Path, name: str) -> dict | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _r(x, n=1):
    return None if x is None else round(x, n)


def commands(r: dict) -> list[str]:
    """Every command that produced a result (the runs merged into it, or its invocations)."""
    if r.get("runs"):
        return [x["command"] for x in r["runs"]]
    if r.get("commands"):
        return list(r["commands"])
    return [r["command"]] if r.get("command") else []


def load_text(r: dict) -> str:
    """The load average at measurement, from whichever field the bench wrote."""
    m = r["machine"] if isinstance(r.get("machine"), dict) else {}
    if m.get("load_avg"):
        return (f"load average {m['load_avg'][0]} (1 min) at the start" +
                (f", {m['load_avg_after'][0]} at the end" if m.get("load_avg_after") else ""))
    if r.get("loadavg_start"):
        return (f"load average {r['loadavg_start'][0]:.1f} (1 min) at the start" +
                (f", {r['loadavg_end'][0]:.1f} at the end" if r.get("loadavg_end") else ""))
    if r.get("loadavg"):  # one [start, end] pair per invocation merged into the result
        return "load average (1 min) per invocation, start -> end: " + ", ".join(
            f"{a:.1f} -> {b:.1f}" for a, b in r["loadavg"])
    if r.get("load_average_per_round"):
        return "load average (1 min) per round: " + ", ".join(str(x) for x in r["load_average_per_round"])
    la = r.get("load_average")
    if isinstance(la, dict):
        return "load average (1 min) per pass, before -> after: " + ", ".join(
            f"{k} {v['before'][0]} -> {v['after'][0]}" for k, v in la.items())
    if isinstance(la, (int, float)):
        return f"load average {la:.1f} (1 min) at the end"
    return "load average not recorded"


def header(res: dict) -> str:
    """Who made the result: bench/run.py's record, or (flagged) the bench's own fields."""
    run = res.get("run")
    if run:
        m = run.get("machine") or {}
        bits = [f"commit `{run['commit']}`" + ("" if run.get("clean") else " (work tree with changes)"),
                f"nproc {m.get('nproc', '?')}", f"load average {run['load_avg_before'][0]} (1 min) before, "
                f"{run['load_avg_after'][0]} after", f"{run.get('wall_s')} s"]
        if m.get("cpu"):
            bits.append(m["cpu"])
        return (f"`{run['command']}` ran `{run['bench_command']}`" + (" (quick settings)" if run.get("quick") else "")
                + "; " + "; ".join(bits) + ".")
    m = res["machine"] if isinstance(res.get("machine"), dict) else {}
    commit = res.get("commit", "?")
    cmds = commands(res) or ["?"]
    return ("**Not made by bench/run.py** (no `run` record): " + "; ".join(f"`{c}`" for c in cmds) +
            f"; commit `{commit}`; {load_text(res)}" + (f"; {m['cpu']}" if m.get("cpu") else "") + ".")


def static_targets(r: dict) -> list[dict]:
    """minilm-static's speed targets from encoder_speed.json's row of that path."""
    st = next((x for x in r.get("rows", []) if x.get("path") == "minilm-static"), None)
    if not st:
        return []
    tg = [{"id": "static_texts_per_s", "value": st["texts_per_s"], "unit": "texts/s",
           "met": st["texts_per_s"] >= 5000,
           "note": f"batched; {st['texts_per_cpu_s']} texts per CPU s; against MiniLM: similarity correlation "
                   f"{st.get('sim_corr')}, kNN@10 overlap {st.get('knn10_overlap')}"}]
    single = st.get("single")
    if single:
        tg.append({"id": "static_single_ms", "value": single["p50_ms"], "unit": "ms", "met": single["p50_ms"] <= 0.5,
                   "note": f"p50 of {single['n']} single-text encodes (p99 {single['p99_ms']} ms)"})
    return tg


# ------------------------------------------------------------------------------------------------------- routing
def route_speed_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    def trio(x):
        return f"{x['p50_ms']:.2f} / {x['p95_ms']:.2f} / {x['p99_ms']:.2f}"
    rows = []
    for x in r["rows"]:
        s = x["single"]
        rows.append([x["router"], x["run"], x["models"], x["batched_decisions_per_s"], trio(s["encode"]),
                     trio(s["decide"]), trio(s["total"]), s["cache"]["p50_ms"],
                     f"{s['encode_cpu']['p50_ms']:.1f} / {s['decide_cpu']['p50_ms']:.2f}"])
    x0 = r["rows"][0]
    text = (f"Encoder `{r['encoder']}`, mode {r['mode']}, {r['threads']} torch thread(s). Batched: {x0['n']:,} "
            f"cached query embeddings in batches of {x0['batch']}, best pass. Single: {x0['n_single']} test queries "
            f"one at a time; `encode` embeds the query's text with the encoder (cache bypassed), `cache` reads it "
            f"from the embedding cache, `decide` scores and picks; total = encode + decide (wall ms); the last "
            f"column is the process CPU time (p50) of encode and decide.\n\n")
    text += md_table(["router", "run", "models", "decisions/s (batched)", "encode p50/p95/p99 ms",
                      "decide p50/p95/p99 ms", "total p50/p95/p99 ms", "cache p50 ms", "CPU p50 ms encode / decide"],
                     rows)
    by = {x["router"]: x for x in r["rows"]}
    tg = []
    for router, floor in (("sim", 10000), ("mlp", 10000), ("graph", 1000)):
        if router in by:
            v = by[router]["batched_decisions_per_s"]
            tg.append({"id": f"decisions_per_s_{router}", "value": round(v), "unit": "/s", "met": v >= floor,
                       "note": f"batches of {by[router]['batch']}, {r['threads']} thread"})
    if r["rows"]:
        tot = {x["router"]: x["single"]["total"]["p50_ms"] for x in r["rows"]}
        enc_cpu = [x["single"]["encode_cpu"]["p50_ms"] for x in r["rows"]]
        dec_cpu = [x["single"]["decide_cpu"]["p50_ms"] for x in r["rows"]]
        hit = [x["single"]["cache"]["p50_ms"] + x["single"]["decide"]["p50_ms"] for x in r["rows"]]
        worst = max(tot.values())
        cpu = {x["router"]: round(x["single"]["encode_cpu"]["p50_ms"] + x["single"]["decide_cpu"]["p50_ms"], 1)
               for x in r["rows"]}
        bound = (f"From route_speed.json `rows[].single`: the decision's CPU p50 is {min(dec_cpu):.2f}–"
                 f"{max(dec_cpu):.2f} ms (`decide_cpu`), encoding one query {min(enc_cpu):.1f}–{max(enc_cpu):.1f} ms "
                 f"of CPU (`encode_cpu`); wall p50 {min(tot.values()):.1f}–{worst:.1f} ms at load average "
                 f"{r['loadavg_start'][0]:.1f}. A query whose embedding is cached routes in {min(hit):.2f}–"
                 f"{max(hit):.2f} ms (`cache` + `decide` p50)." +
                 (f" Within 20 ms of CPU, encoding would have to be {max(enc_cpu) / (20 - max(dec_cpu)):.1f}x "
                  f"cheaper." if max(enc_cpu) + max(dec_cpu) > 20 else ""))
        i8_note = ""
        for comp in ("route_speed_static", "route_speed_int8"):
            i8 = _load(results, comp)
            if not (i8 and i8.get("rows")):
                continue
            i8_rows = [[x["router"], x["run"], trio(x["single"]["encode"]), trio(x["single"]["total"]),
                        f"{x['single']['encode_cpu']['p50_ms']:.1f} / {x['single']['decide_cpu']['p50_ms']:.2f}"]
                       for x in i8["rows"]]
            i8_cpu = {x["router"]: round(x["single"]["encode_cpu"]["p50_ms"] + x["single"]["decide_cpu"]["p50_ms"], 1)
                      for x in i8["rows"]}
            text += (f"\n\n**Encoder `{i8['encoder']}`** ({comp}.json, its own encoder id, so its own runs): "
                     + header(i8) + "\n\n")
            text += md_table(["router", "run", "encode p50/p95/p99 ms", "total p50/p95/p99 ms",
                              "CPU p50 ms encode / decide"], i8_rows)
            i8_note += (f"; with {i8['encoder']}, CPU p50 " +
                        ", ".join(f"{k} {v} ms" for k, v in i8_cpu.items()))
            bound += (f" With {i8['encoder']} ({comp}.json) one query costs " +
                      ", ".join(f"{k} {v} ms" for k, v in i8_cpu.items()) + " of CPU (encode + decide p50).")
        tg.append({"id": "single_query_p50_ms", "value": _r(worst), "unit": "ms", "met": worst <= 20,
                   "note": "slowest router's wall p50 of encode + decide; CPU p50: " +
                           ", ".join(f"{k} {v} ms" for k, v in cpu.items()) + i8_note,
                   "bound": bound})
    return text, tg


def graph_router_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    rows = [[x["variant"], x["member_sample"], x["seed"], x["run"], x["avg_performance"], x["train_seconds"],
             x["train_cpu_seconds"], x["best_epoch"], x["epochs_run"]] for x in r["rows"]]
    text = (f"Graph `{r['graph']}`, profile `{r['profile']}`, {r['epochs']} epochs; `faithful` is member_sample 0 "
            f"(the whole bipartite graph every step), `fast` samples member queries per step "
            f"(`rp route graph --member-sample N`, opt-in). Train seconds are wall time; compare CPU seconds.\n\n")
    text += md_table(["variant", "member_sample", "seed", "run", "avg_performance", "train wall s", "train CPU s",
                      "best epoch", "epochs run"], rows)
    s = {k: ({**v, "seeds": v.get("seeds") or [x["seed"] for x in r["rows"] if x["variant"] == k]}
              if isinstance(v, dict) else v) for k, v in r["summary"].items()}
    srows = [[k, ", ".join(map(str, v["seeds"])), v["mean"], v["sd"], v["cpu_seconds_per_seed"]]
             for k, v in s.items() if isinstance(v, dict) and "mean" in v]
    text += "\n\n" + md_table(["variant", "seeds", "mean avg_performance", "sd", "CPU s per seed"], srows)
    tg = []
    faithful, fast = s.get("faithful"), s.get("fast")
    best = fast or faithful
    if best:
        v = best["cpu_seconds_per_seed"]
        within = None
        note = f"CPU s per seed ({'fast' if best is fast else 'faithful'})"
        if fast and faithful and len(faithful.get("seeds", [])) >= 2 and faithful.get("sd") is not None:
            within = abs(fast["mean"] - faithful["mean"]) <= faithful["sd"]
            note += (f"; fast {fast['mean']} ± {fast['sd']} vs faithful {faithful['mean']} ± {faithful['sd']}: "
                     f"{'within' if within else 'outside'} one sd")
        bound = None
        if v > 20:
            bound = (f"{v} CPU s per seed (graph_router.json `summary.{'fast' if best is fast else 'faithful'}"
                     f".cpu_seconds_per_seed`) over {r['epochs']} epochs is {v / r['epochs']:.2f} CPU s per epoch; "
                     f"20 s per seed allows {20 / r['epochs']:.2f}, {v / 20:.1f}x less.")
            if faithful:
                bound += f" The faithful settings cost {faithful['cpu_seconds_per_seed']} CPU s per seed."
        tg.append({"id": "graph_router_s_per_seed", "value": v, "unit": "CPU s",
                   "met": v <= 20 and within is not False, "note": note, "bound": bound})
    return text, tg


def graph_recommended_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    rows = [[x["seed"], x["run"], x["avg_performance"], x["train_seconds"], x["train_cpu_seconds"], x["best_epoch"],
             x["epochs_run"]] for x in r["rows"]]
    s = r["summary"]["recommended"]
    text = (f"Graph `{r['graph']}`, profile `{r['profile']}` (the same cell as graph_router), `rp route graph "
            f"--preset recommended` (its own epochs and early stopping). Train seconds are wall time; compare CPU "
            f"seconds.\n\n")
    text += md_table(["seed", "run", "avg_performance", "train wall s", "train CPU s", "best epoch", "epochs run"],
                     rows)
    text += (f"\n\nMean over seeds {', '.join(str(x['seed']) for x in r['rows'])}: {s['mean']} ± {s['sd']}, "
             f"{s['cpu_seconds_per_seed']} CPU s per seed.")
    gr = _load(results, "graph_router")
    note = f"{s['mean']} ± {s['sd']} avg_performance"
    if gr and r.get("profile") == gr.get("profile"):
        f = gr["summary"].get("faithful") or {}
        if f.get("cpu_seconds_per_seed"):
            ratio = f["cpu_seconds_per_seed"] / s["cpu_seconds_per_seed"]
            text += (f" The faithful settings on the same cell (graph_router): {f['mean']} ± {f['sd']} at "
                     f"{f['cpu_seconds_per_seed']} CPU s per seed, {ratio:.0f}x more CPU.")
            note += f"; faithful {f['mean']} ± {f['sd']} at {ratio:.0f}x the CPU"
    v = s["cpu_seconds_per_seed"]
    tg = [{"id": "graph_recommended_s_per_seed", "value": v, "unit": "CPU s", "met": v <= 20, "note": note,
           "bound": None if v <= 20 else f"{v} CPU s per seed (graph_router_recommended.json "
                                         f"`summary.recommended.cpu_seconds_per_seed`)."}]
    return text, tg


# ------------------------------------------------------------------------------------------------------- encoder
ENC_COLS = ["path", "encoder id", "dim", "texts", "tokens", "threads", "wall s", "CPU s", "texts/s",
            "texts per CPU s", "speed-up", "ms/query p50", "cos min", "cos mean", "sim corr", "kNN@10"]


def _f(v, fmt):
    return "–" if v is None else format(v, fmt)


def _enc_rows(r: dict) -> list[list]:
    return [[x["path"], x["id"], x.get("dim"), x["texts"], x["tokens"], x["threads"], x["wall_s"], x["cpu_s"],
             x["texts_per_s"], x["texts_per_cpu_s"], x["speedup"], (x.get("single") or {}).get("p50_ms"),
             _f(x.get("cos_min"), ".6f"), _f(x.get("cos_mean"), ".6f"), x.get("sim_corr"), x.get("knn10_overlap")]
            for x in r["rows"]]


def encoder_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    text = (f"torch {r.get('torch')}, onnxruntime {r.get('onnxruntime')}; the reference vectors are "
            f"`{r['reference']}` (the default). Best of {r['repeats']} repeat(s), paths interleaved; cos: per-text "
            f"cosine to the reference path's vectors (same space only); sim corr: correlation of the pairwise cosine "
            f"similarities with the reference's; kNN@10: overlap of each text's 10 nearest neighbours; ms/query: "
            f"one text per encode call.\n\n")
    text += md_table(ENC_COLS, _enc_rows(r))
    one = _load(results, "encoder_speed_1thread")
    if one:
        text += "\n\n**One torch thread** (a subset: every k-th text). " + header(one) + "\n\n"
        text += md_table(ENC_COLS, _enc_rows(one))
    ref = next((x for x in r["rows"] if x["path"] == r["reference"]), r["rows"][0])
    others = [x for x in r["rows"] if x is not ref]
    fpt = minilm_flop_per_token()
    tpt = ref["tokens"] / ref["texts"]
    got = ref["tokens"] * fpt / ref["cpu_s"] / 1e9
    bound = (f"The default encodes {ref['texts_per_s']} texts/s ({ref['texts_per_cpu_s']} per CPU second; "
             f"encoder_speed.json `rows[path={ref['path']}]`). The texts average {tpt:.0f} tokens (`tokens` / "
             f"`texts`); at MiniLM-L6's {fpt / 1e6:.1f} MFLOP of weight matmuls per token (from its config) that "
             f"is {got:.0f} GFLOP per CPU second, and 250 texts/s would need {250 * tpt * fpt / 1e9:.0f} GFLOP/s.")
    tg = [{"id": "encoder_texts_per_s", "value": ref["texts_per_s"], "unit": "texts/s",
           "met": ref["texts_per_s"] >= 250,
           "note": f"{ref['path']} ({ref['threads']} threads); {ref['texts_per_cpu_s']} texts per CPU s",
           "bound": bound},
          {"id": "encoder_cosine", "value": round(ref["cos_min"], 6), "unit": "(min)", "met": ref["cos_min"] >= 0.999,
           "note": "the reference path against itself (same encoder id)" +
                   ("; other paths: " + ", ".join(f"{x['path']} {x['speedup']}x, cos min {x['cos_min']:.4f}"
                                                  for x in others if x.get("cos_min") is not None)
                    if others else "")}]
    tg += static_targets(r)
    return text, tg


def pipeline_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    text = (f"Each stage is one `rp` process (interpreter start, imports, data loading included); encoder "
            f"{r.get('encoder')}, modes {r.get('modes')}, GraphRouter capped at {r.get('graph_epochs')} epochs; "
            f"cold: an empty embedding cache, warm: a copy of the cold pass's cache. Total {r.get('total_wall_s')} s "
            f"wall.\n\n")
    text += r["table"] if isinstance(r.get("table"), str) else md_table(
        ["pass", "mode", "stage", "what", "wall s", "CPU s"],
        [[x["pass"], x["mode"], x["stage"], x["detail"], x["wall_s"], x["cpu_s"]] for x in r["rows"]])
    return text, []


# --------------------------------------------------------------------------------------------------------- sweep
def _sweep_graph_seeds(path: Path) -> list[tuple[str, int, int]] | None:
    """[(variant, GraphRouter runs, seeds per run)] of a sweep file's graph entries (variant: recommended, fast
    (member_sample) or faithful), or None if it cannot be read."""
    try:
        import yaml
        doc = yaml.safe_load(path.read_text())
    except Exception:  # noqa: BLE001 - an estimate only; the section then says so
        return None
    profiles = 0
    for p in doc.get("profiles", []):
        n = 1
        for v in p.values():
            if isinstance(v, list):
                n *= len(v)
        profiles += n
    runs = len(doc.get("modes", [])) * profiles
    out = []
    for g in doc.get("routers", []):
        if g.get("router") != "graph":
            continue
        variant = ("recommended" if g.get("preset") == "recommended" else "fast" if g.get("member_sample")
                   else "faithful")
        out.append((variant, runs, len(g.get("seeds", [0]))))
    return out or None


def sweep_not_run(results: Path) -> tuple[str, dict]:
    """What a cold table-1 sweep costs at least, from the GraphRouter results (no sweep result exists)."""
    gr = _load(results, "graph_router")
    rec = _load(results, "graph_router_recommended")
    entries = _sweep_graph_seeds(REPO / "sweeps" / "paper-table1.yaml")
    if not gr or not entries:
        return ("The table-1 sweep has not been timed. GraphRouter dominates it (see graph_router); "
                f"`{run_command('sweep_time')}` measures it.", {})
    cpu = {k: (gr["summary"].get(k) or {}).get("cpu_seconds_per_seed") for k in ("faithful", "fast")}
    cpu["recommended"] = ((rec or {}).get("summary", {}).get("recommended") or {}).get("cpu_seconds_per_seed")
    parts, total = [], 0.0
    for variant, runs, seeds in entries:
        v = cpu.get(variant)
        if v is None:
            parts.append(f"{runs} x {seeds} seeds {variant} (no CPU figure)")
            continue
        total += runs * seeds * v
        parts.append(f"{runs} runs x {seeds} seeds {variant} at {v} CPU s = {runs * seeds * v / 60:.0f} CPU min")
    lo = total / 2 / 60
    text = ("Estimate, not a measurement: the GraphRouter entries of sweeps/paper-table1.yaml are "
            + "; ".join(parts) + f" (CPU seconds per seed from graph_router.json and graph_router_recommended.json)"
            f": at least {lo:.0f} min on 2 busy cores for GraphRouter training alone, before the profiles, Sim "
            f"and MLP columns.")
    return text, {"sweep_cold_min": {"value": round(lo), "unit": "min (lower bound)",
                                     "note": "estimate, not a measurement: GraphRouter training alone",
                                     "bound": text}}


def sweep_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    def cell(x, k):
        return "(recorded)" if x is None else x[k]

    rows = [[x["executor"], x["jobs"], cell(x["cold"], "wall_s"), x["warm"]["wall_s"],
             "(recorded)" if x["cold"] is None else json.dumps(x["cold"]["counts"]), json.dumps(x["warm"]["counts"]),
             (x["cold"] or {}).get("rc") or x["warm"]["rc"]] for x in r["results"]]
    la = r.get("load_avg", ["?"])[0]
    text = (f"Sweep `{r['sweep']}`, data {r['data']}, encoder {r['encoder']}; commit `{r.get('commit')}`, load "
            f"average {la} at the end.\n\n")
    text += md_table(["executor", "jobs", "cold s", "warm s", "cold (status counts)", "warm", "rc"], rows)
    rc = r.get("recorded_cold")
    if rc:
        inv = "; ".join(f"`{h.get('sweep', rc['sweep'])}` {h['executor']} --jobs {h['jobs']}: {h['wall_s']:.0f} s "
                        f"({h['started']} to {h['finished'] or 'still running'}, commit {h['commit']})"
                        for h in rc["invocations"]) or "none recorded"
        text += (f"\n\nWarm reruns on a workspace that holds the sweep (`--workspace`); the cold side is read from "
                 f"its record: {rc['artifacts']} artifacts whose recorded build durations add up to "
                 f"{rc['build_s_sum']:.0f} s (graphs {rc['by_kind_s']['graph']:.0f} s, profiles "
                 f"{rc['by_kind_s']['profile']:.0f} s, runs {rc['by_kind_s']['run']:.0f} s: one job's cold time, "
                 f"before any reuse), built by these invocations: {inv}.")
    tg = []
    two = next((x for x in r["results"] if x["executor"] == "local" and x["jobs"] == 2), None)
    table1 = r["sweep"].endswith("paper-table1.yaml")
    if rc and table1 and rc.get("complete") and rc.get("cold_wall_s"):
        jobs = sorted({h["jobs"] for h in rc["invocations"]})
        tg.append({"id": "sweep_cold_min", "value": round(rc["cold_wall_s"] / 60, 1), "unit": "min",
                   "met": rc["cold_wall_s"] <= 1800 and jobs == [2],
                   "note": f"recorded: {len(rc['invocations'])} building invocation(s), --jobs "
                           f"{'/'.join(map(str, jobs))}, on a machine shared with other work",
                   "bound": (f"The recorded cold build took {rc['cold_wall_s'] / 60:.0f} min with --jobs 2; its "
                             f"artifacts' build durations add up to {rc['build_s_sum'] / 60:.0f} min, of which runs "
                             f"{rc['by_kind_s']['run'] / 60:.0f} min (one job's time).")})
    if two and table1 and two["cold"] is not None:
        ok = not (two["cold"]["rc"] or two["warm"]["rc"])
        tg.append({"id": "sweep_cold_min", "value": round(two["cold"]["wall_s"] / 60, 1), "unit": "min",
                   "met": ok and two["cold"]["wall_s"] <= 1800, "note": "local executor, --jobs 2"})
    if two:
        ok = not two["warm"]["rc"]
        what = "the table-1 sweep" if table1 else f"`{r['sweep']}` ({sum(two['warm']['counts'].values())} artifacts)"
        tg.append({"id": "sweep_rerun_s", "value": two["warm"]["wall_s"], "unit": "s",
                   "met": ok and two["warm"]["wall_s"] < 10,
                   "note": f"{what}, every cell recorded, local --jobs 2, load {la}"})
    return text, tg


def serve_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    s = r["sequential"]
    rows = [["routing decision (server)", s["routing_decision"].get("p50_ms"), s["routing_decision"].get("p99_ms")],
            ["routing overhead (server)", s["routing_overhead"].get("p50_ms"), s["routing_overhead"].get("p99_ms")],
            ["client end to end via rp", s["client_e2e_via_rp_ms"]["p50"], s["client_e2e_via_rp_ms"]["p99"]],
            ["client end to end direct", s["client_e2e_direct_ms"]["p50"], s["client_e2e_direct_ms"]["p99"]]]
    text = f"Run `{r['run']}` ({r['router']}), encoder {r['encoder']}, {r['n']} requests.\n\n"
    return text + md_table(["what", "p50 ms", "p99 ms"], rows), []


def graphs_build_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    rows = [[g.get("kind"), g.get("mode"), g.get("nodes"), g.get("edges"), g["cold_s"], g["warm_s"], g["reused_s"]]
            for g in r["graphs"]]
    text = (f"Encoder {r['encoder']} (dim {r['dim']}); cold and warm graph files identical: "
            f"{r['cold_equals_warm_files']}.\n\n")
    return text + md_table(["kind", "mode", "nodes", "edges", "cold s", "warm s", "reused s"], rows), []


def startup_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    rows = []
    for k, label in (("python_bare", "python -c pass (interpreter alone)"),
                     ("import_typer", "python -c 'import typer'"),
                     ("import_renderer", "python -c 'import typer, typer.main, typer.rich_utils, typer._adapters'"),
                     ("import_cli", "python -c 'import rpcli.cli.main'"),
                     ("import_cli_and_rich_help", "python -c 'import rpcli.cli.main, typer.rich_utils'"),
                     ("help_uncached", "rp --help, rendered by Typer (RP_NO_HELP_CACHE=1)"),
                     ("help", "rp --help (printed from the help cache)"),
                     ("help_pages_worst", "slowest help page, cached"),
                     ("help_pages_worst_cold", "slowest help page, cold (empty cache: rendered by Typer)"),
                     ("compare_plain", f"rp compare --plain ({r['workspace']['runs']:,} runs)"),
                     ("dashboard_pty", "rp compare, dashboard: process start -> first run row (pty)"),
                     ("dashboard_pilot", "Dashboard: App() -> rows shown (in process)")):
        if k in r:
            x = r[k]
            rows.append([label + (f" (`{x['page']}`)" if x.get("page") else ""), x["wall_median_s"], x["wall_min_s"],
                         x.get("cpu_median_s"), x["n"]])
    text = md_table(["what", "wall median s", "wall min s", "CPU median s", "n"], rows)
    pages = r.get("help_pages")
    if pages:
        text += (f"\n\nEvery help page ({pages['n_pages']}: `rp`, each group and each command, `--help`), cold and "
                 f"cached, medians:\n\n")
        text += md_table(["page", "cold wall s", "cold CPU s", "cached wall s", "cached CPU s"],
                         [[x["page"], x["cold"]["wall_median_s"], x["cold"]["cpu_median_s"],
                           x["cached"]["wall_median_s"], x["cached"]["cpu_median_s"]] for x in pages["pages"]])
    tg = []
    la = r["machine"].get("load_avg", ["?"])[0]
    imp = {k: r[k]["cpu_median_s"] for k in ("python_bare", "import_typer", "import_renderer", "import_cli",
                                               "import_cli_and_rich_help") if k in r}
    h = r["help"]
    tg.append({"id": "help_s", "value": h["wall_median_s"], "unit": "s", "met": h["wall_median_s"] < 0.3,
               "note": f"wall median, cached; CPU {h['cpu_median_s']} s; load {la}"})
    if pages:
        w, c = pages["worst_cached"], pages["worst_cold"]
        tg.append({"id": "help_all_s", "value": w["wall_median_s"], "unit": "s", "met": w["wall_median_s"] < 0.3,
                   "note": f"slowest of {pages['n_pages']} pages, cached (`{w['page']}`); CPU {w['cpu_median_s']} s"})
        bound = (f"A cold page is rendered by Typer: `{c['page']}` took {c['cpu_median_s']} s of CPU "
                 f"(startup.json `help_pages_worst_cold`). Importing the renderer alone (typer, typer.main, "
                 f"typer.rich_utils, typer._adapters) takes {imp.get('import_renderer')} s of CPU "
                 f"(`import_renderer.cpu_median_s`), the interpreter {imp.get('python_bare')} s, and every command "
                 f"module with the renderer {imp.get('import_cli_and_rich_help')} s." if "import_renderer" in imp
                 else None)
        tg.append({"id": "help_cold_s", "value": c["wall_median_s"], "unit": "s", "met": c["wall_median_s"] < 0.3,
                   "note": f"slowest page with an empty help cache (`{c['page']}`); CPU {c['cpu_median_s']} s",
                   "bound": bound})
    x = r["compare_plain"]
    tg.append({"id": "compare_plain_s", "value": x["wall_median_s"], "unit": "s", "met": x["wall_median_s"] < 1.0,
               "note": f"wall median; CPU {x['cpu_median_s']} s; load {la}",
               "bound": f"CPU median {x['cpu_median_s']} s, fastest wall {x['wall_min_s']} s at load {la}."})
    return text, tg


def manifest_section(r: dict, results: Path) -> tuple[str, list[dict]]:
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
            f"{r['export_sync_max']} entries. The first write into a JSON workspace moves it into the store: "
            f"{r['store_migrate_first_write_s']} s here. In-process timings: a command's own start and exit are in "
            f"ws_scale.\n\n")
    text += md_table(["what", "median ms", "p95 ms", "n"], rows)
    v = r["store_build_artifact"]["median_ms"]
    return text, [{"id": "manifest_record_ms", "value": v, "unit": "ms", "met": v < 50,
                   "note": f"build_artifact median (register_entry alone {r['store_register']['median_ms']} ms; "
                           f"the JSON manifest took {r['json_register']['median_ms']:,.0f} ms)"}]


def scaling_section(r: dict, results: Path) -> tuple[str, list[dict]]:
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
    text += "\n\n`load`: the 1-minute load average when the cell started (`?`: not recorded by that run)."
    if r["not_run"]:
        text += "\n\nNot run: " + ", ".join(f"{c['models']} x {c['queries']:,} ({c['why']})" for c in r["not_run"])
        text += " (`python bench/scaling.py --resume --queries ... --models ...` runs them and keeps these)."
    grow = [[s, g["vs_queries"], g["vs_models"], json.dumps(g["vs_queries_by_group"]),
             json.dumps(g["vs_models_by_group"])] for s, g in r["growth"].items()]
    text += ("\n\nGrowth: least-squares slope of log(wall time) on log(queries) (models fixed; pooled, and per model "
             "count) and on log(models) (queries fixed). 1 = linear. Wall times include the `rp` process start and "
             "imports.\n\n")
    text += md_table(["step", "vs queries", "vs models", "vs queries, per model count", "vs models, per query count"],
                     grow)
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


def encoder_quality_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    enc = r["encoders"]
    text = (f"Encoders {', '.join(f'`{e}`' for e in enc)} (the first is the baseline); sweeps: "
            f"{', '.join(r['sweeps'])}; per cell, the paired row bootstrap of the other encoder's run against the "
            f"baseline's run of the same sweep cell (seed-averaged per-row performance, 2,000 resamples).\n")
    below = above = n = 0
    for d in r["datasets"]:
        rows = []
        for x in d["rows"]:
            n += 1
            below += bool(x["below_zero"])
            above += bool(x["above_zero"])
            cell = x["cell"]
            rows.append([cell.get("sweep"), cell.get("mode"), x.get("label") or "", x["baseline_mean"], x["mean"],
                         f"{x['diff']:+.4f}", f"[{x['ci95'][0]:+.4f}, {x['ci95'][1]:+.4f}]", x["n"]])
        text += (f"\n**{d['name']}** ({d['data']}; sweep wall s: "
                 + ", ".join(f"{k} {v}" for k, v in d.get("sweep_wall_s", {}).items()) + ")\n\n")
        text += md_table(["sweep", "mode", "cell", enc[0], x["encoder"] if d["rows"] else "other", "diff", "95% CI",
                          "rows"], rows) + "\n"
    tg = [{"id": "static_quality", "value": below, "unit": f"of {n} cells below",
           "met": n > 0 and below == 0,
           "note": f"{above} of {n} cells significantly above the baseline",
           "bound": (f"{below} of {n} cells have a paired 95% interval entirely below zero (encoder_quality.json "
                     f"`datasets[].rows[].below_zero`)." if below else None)}]
    return text, tg


READERS = {"route_speed": route_speed_section, "graph_router": graph_router_section,
           "graph_router_recommended": graph_recommended_section,
           "encoder_speed": encoder_section, "pipeline": pipeline_section, "sweep_time": sweep_section,
           "startup": startup_section, "manifest_speed": manifest_section, "scaling": scaling_section,
           "serve_overhead": serve_section, "graphs_build": graphs_build_section,
           "encoder_quality": encoder_quality_section}
# for a bench without a result: a section text and target entries (estimates) built from the other results
NOT_RUN = {"sweep_time": sweep_not_run}


def generic_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    parts = []
    for t in r.get("tables", []):
        parts.append(f"**{t.get('title', '')}**\n\n" + md_table(t["columns"], t["rows"]))
    if not parts:
        skip = {"bench", "commit", "machine", "command", "targets", "tables"}
        rows = [[k, json.dumps(v) if isinstance(v, (dict, list)) else v] for k, v in r.items() if k not in skip]
        parts.append(md_table(["key", "value"], rows))
    return "\n\n".join(parts), list(r.get("targets", []))


def portable(text: str) -> str:
    """The page without this machine's absolute paths: the checkout as `.`, its parent as `..`, the released data
    as ../shared/data/routeprofile (wherever it was), temporary folders as $TMP/..."""
    import re

    text = text.replace(str(REPO) + "/", "").replace(str(REPO.parent) + "/", "../")
    text = re.sub(r"(?<![\w.])/[^\s`|;,()']*?/shared/data/routeprofile", "../shared/data/routeprofile", text)
    return re.sub(r"(?<![\w.$])/tmp/", "$TMP/", text)


def render(results: Path) -> str:
    return portable(_render(results))


def _render(results: Path) -> str:
    out = ["# Benchmarks", "",
           "_Generated by `python bench/make_docs.py` from bench/results/*.json — do not edit. Rerun every bench "
           "from scratch with `python bench/run.py` (the long ones: `--long`; one: `--only NAME`; a few-minute "
           "smoke run: `--quick`), which then rewrites this page._", "",
           "Each section says which command made its result, at which commit, and the load average before and "
           "after: time benches on an otherwise idle machine.", ""]
    found, sections, estimates, cmds = {}, [], {}, {}
    for name in BENCHES:
        path = results / f"{name}.json"
        if not path.exists():
            extra, est = NOT_RUN[name](results) if name in NOT_RUN else ("", {})
            estimates.update(est)
            sections.append(f"## {name}\n\nnot run: `{run_command(name)}`" + (f"\n\n{extra}" if extra else ""))
            continue
        r = json.loads(path.read_text())
        cmds[name] = [r["run"]["command"]] if r.get("run") else commands(r)
        try:
            text, tg = READERS.get(name, generic_section)(r, results)
        except (KeyError, TypeError, IndexError, ValueError, StopIteration) as e:  # a result of another shape
            text, tg = generic_section(r, results)
            text = f"(this result's fields are not the ones the reader expects: {e!r}; shown as written)\n\n" + text
        for t in tg:
            found[t["id"]] = t
        if name in NOT_RUN:  # targets this result does not measure keep the estimate made without it
            _, est = NOT_RUN[name](results)
            estimates.update({k: v for k, v in est.items() if k not in {t["id"] for t in tg}})
        sections.append(f"## {name}\n\n{header(r)}\n\n{text}")
    for path in sorted(results.glob("*.json")):  # results of benches this page has no reader for
        name = path.stem
        if name in BENCHES or name in COMPANIONS:
            continue
        r = json.loads(path.read_text())
        text, tg = generic_section(r, results)
        for t in tg:
            found.setdefault(t["id"], t)
        cmds[name] = [r["run"]["command"]] if r.get("run") else commands(r)
        sections.append(f"## {name}\n\n{header(r)}\n\n{text}")
    rows, bounds = [], []
    for tid, (bench, what) in TARGETS.items():
        t = found.get(tid)
        cl = cmds.get(bench, [])
        cmd = f"`{cl[0]}`" if cl else f"`{run_command(bench)}`"
        if t is None:
            e = estimates.get(tid)
            measured = "–" if not e else (f"≥ {e['value']} {e['unit']} ({e['note']})" if e.get("value") is not None
                                          else e.get("note", "–"))
            rows.append([tid, what, measured, "not run", cmd])
            if e and e.get("bound"):
                bounds.append(f"- **{tid}** ({what}, not run): {e['bound']}")
            continue
        met = t.get("met")
        v = t.get("value")
        rows.append([tid, what, "–" if v is None else f"{v} {t.get('unit', '')}".strip() +
                     (f" ({t['note']})" if t.get("note") else ""),
                     "met" if met is True else ("not met" if met is False else "not measured"), cmd])
        if met is not True and t.get("bound"):
            bounds.append(f"- **{tid}** ({what}): {t['bound']}")
    out += ["## Targets", "", md_table(["id", "target", "measured", "status", "command"], rows), ""]
    if bounds:
        out += ["### What bounds the targets not met (or not run)", "",
                "Computed from the result files named (field in backquotes).", "", *bounds, ""]
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

"""Write docs/benchmarks.md from the JSON results of the bench scripts in bench/results/.

    python bench/make_docs.py [--results bench/results] [--out docs/benchmarks.md]

Each bench script writes bench/results/<name>.json in its own shape (its command, commit and load average
included). One reader per bench below turns that JSON into its section (tables) and evaluates the issue-14
targets it measures from the raw measured fields, so nothing has to be rerun to regenerate this page. A target
not met carries what bounds it: figures quoted only from a result file (named with its field), otherwise said in
words together with the command that would measure it. A bench whose JSON is missing is listed as "not run".
A result without a reader of its own may carry
  "tables":  [{"title": str, "columns": [str], "rows": [[...]]}]       rendered as they are, and
  "targets": [{"id": str, "value": number, "unit": str, "met": bool, "note": str}]   (ids: TARGETS below).
Nothing here measures anything: rerun the bench scripts, then this script.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = ("route_speed", "graph_router", "encoder_speed", "pipeline", "sweep_time", "scaling", "startup",
           "manifest_speed", "serve_overhead", "graphs_build")
# the command that produces each result (shown for a bench that has not been run)
RUN_COMMANDS = {
    "route_speed": "python bench/route_speed.py --data ../shared/data/routeprofile",
    "graph_router": "python bench/graph_router.py --data ../shared/data/routeprofile --seeds 0,1,2",
    "encoder_speed": "python bench/encoder_speed.py --data ../shared/data/routeprofile",
    "pipeline": "python bench/pipeline.py --data ../shared/data/routeprofile",
    "sweep_time": "python bench/sweep_time.py --configs local:2",
    "scaling": "python bench/scaling.py",
    "startup": "python bench/startup.py",
    "manifest_speed": "python bench/manifest_speed.py --entries 10000",
    "serve_overhead": "python bench/serve_overhead.py --workspace WS --run RUN_ID",
    "graphs_build": "python bench/graphs_build.py",
}
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
        return (f"load average {r['loadavg_start'][0]:.1f} (1 min) at the start, {r['loadavg_end'][0]:.1f} at "
                f"the end")
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
    m = res["machine"] if isinstance(res.get("machine"), dict) else {}
    nproc = m.get("nproc") or res.get("cores") or res.get("cpus") or m.get("cpus") or "?"
    commit = res.get("commit", "?")
    if res.get("commits"):
        commit = ", ".join(res["commits"])
    bits = [f"commit `{commit}`", f"nproc {nproc}" if nproc != "?" else "nproc not recorded", load_text(res)]
    if m.get("cpu"):
        bits.append(m["cpu"])
    cmds = commands(res) or ["?"]
    text = "\n".join(f"`{c}`" + ("  " if i < len(cmds) - 1 else "") for i, c in enumerate(cmds))
    if res.get("note"):
        text += f"\n\n{res['note']}"
    return text + "\n\n" + "; ".join(bits) + "."


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
        enc = _load(results, "encoder_speed")
        tok = ""
        if enc:
            d = next((x for x in enc["rows"] if x["path"] == enc.get("reference")), enc["rows"][0])
            tok = (f" The texts are the formatted test queries: {d['tokens'] / d['texts']:.0f} tokens on average "
                   f"(encoder_speed.json `tokens` / `texts`), each run through MiniLM's six layers on its own.")
        bound = (f"Encoding bounds it, not the decision. From route_speed.json `rows[].single`: the decision's CPU "
                 f"p50 is {min(dec_cpu):.2f}–{max(dec_cpu):.2f} ms (`decide_cpu`), encoding one query "
                 f"{min(enc_cpu):.1f}–{max(enc_cpu):.1f} ms of CPU (`encode_cpu`), so even on an idle core "
                 f"(wall = CPU) one query costs about twice the 20 ms.{tok} Wall p50 ({min(tot.values()):.0f}–"
                 f"{worst:.0f} ms) is higher because the machine was loaded (load average "
                 f"{r['loadavg_start'][0]:.1f}). A query whose embedding is cached routes in "
                 f"{min(hit):.1f}–{max(hit):.1f} ms (`cache` + `decide` p50). Needed: encoding one text "
                 f"{max(enc_cpu) / (20 - max(dec_cpu)):.1f}x cheaper — the encoder bound below (int8 is faster but fails the cosine bar), a shorter query "
                 f"text than the formatted prompt, or a smaller encoder (a new encoder id).")
        i8 = _load(results, "route_speed_int8")
        i8_note = ""
        if i8 and i8.get("rows"):
            i8_rows = [[x["router"], x["run"], trio(x["single"]["encode"]), trio(x["single"]["total"]),
                        f"{x['single']['encode_cpu']['p50_ms']:.1f} / {x['single']['decide_cpu']['p50_ms']:.2f}"]
                       for x in i8["rows"]]
            i8_cpu = {x["router"]: round(x["single"]["encode_cpu"]["p50_ms"] + x["single"]["decide_cpu"]["p50_ms"], 1)
                      for x in i8["rows"]}
            text += (f"\n\n**Opt-in int8 encoder** (`{i8['encoder']}`: the same MiniLM weights, int8 MatMuls on ONNX "
                     f"Runtime; its own id, cosine to the default in encoder_speed): "
                     f"`{i8.get('command', 'python bench/route_speed.py --encoder minilm-int8 ...')}`, commit "
                     f"`{i8.get('commit')}`, load average {i8['loadavg_start'][0]:.1f} at the start. Runs built "
                     f"with that encoder (task graph, emb-gnn K=2).\n\n")
            text += md_table(["router", "run", "encode p50/p95/p99 ms", "total p50/p95/p99 ms",
                              "CPU p50 ms encode / decide"], i8_rows)
            i8_note = ("; with the opt-in minilm-int8 encoder, CPU p50 " +
                       ", ".join(f"{k} {v} ms" for k, v in i8_cpu.items()))
            bound += (f" With the opt-in minilm-int8 encoder (route_speed_int8.json) one query costs " +
                      ", ".join(f"{k} {v} ms" for k, v in i8_cpu.items()) + " of CPU (encode + decide p50).")
        tg.append({"id": "single_query_p50_ms", "value": _r(worst), "unit": "ms", "met": worst <= 20,
                   "note": "slowest router's wall p50 of encode + decide; CPU p50: " +
                           ", ".join(f"{k} {v} ms" for k, v in cpu.items()) + i8_note,
                   "bound": bound})
    return text, tg


def graph_router_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    rows = [[x["variant"], x["member_sample"], x["seed"], x["run"], x["avg_performance"], x["train_seconds"],
             x["train_cpu_seconds"], x["best_epoch"], x["epochs_run"]] for x in r["rows"]]
    text = (f"Graph `{r['graph']}`, profile `{r['profile']}` (emb-gnn K=2), {r['epochs']} epochs, the original's "
            f"router settings; `faithful` is member_sample 0 (the whole bipartite graph every step), `fast` samples "
            f"member queries per step (`rp route graph --member-sample N`, opt-in). Train seconds are wall time; "
            f"three invocations ran in parallel on two cores, so compare CPU seconds.\n\n")
    text += md_table(["variant", "member_sample", "seed", "run", "avg_performance", "train wall s", "train CPU s",
                      "best epoch", "epochs run"], rows)
    s = r["summary"]
    srows = [[k, ", ".join(map(str, v["seeds"])), v["mean"], v["sd"], v["cpu_seconds_per_seed"]]
             for k, v in s.items() if isinstance(v, dict) and "seeds" in v]
    ref = s.get("reference_faithful_3_seeds")
    if ref:
        srows.append([f"faithful, reference ({ref['source']})", "0, 1, 2", ref["mean"], ref["sd"], None])
    text += "\n\n" + md_table(["variant", "seeds", "mean avg_performance", "sd", "CPU s per seed"], srows)
    tg = []
    faithful, fast = s.get("faithful"), s.get("fast")
    if faithful or fast:
        within = None
        if fast and ref:
            within = abs(fast["mean"] - ref["mean"]) <= ref["sd"]
        best = fast if fast else faithful
        v = best["cpu_seconds_per_seed"]
        sample = next((x["member_sample"] for x in r["rows"] if x["variant"] == "fast"), "?")
        note = f"CPU s per seed ({'member_sample ' + str(sample) if best is fast else 'faithful'}); "
        if fast and ref:
            note += (f"{fast['mean']} ± {fast['sd']} vs the faithful {ref['mean']} ± {ref['sd']}: "
                     f"{'within' if within else 'outside'} one sd; ")
        if faithful:
            note += f"the original's settings (faithful): {faithful['cpu_seconds_per_seed']} CPU s per seed"
        bound = None
        if faithful:
            f_cpu, ep = faithful["cpu_seconds_per_seed"], r["epochs"]
            fast_rows = [x for x in r["rows"] if x["variant"] == "fast"]
            bound = (f"At the original's settings a seed costs {f_cpu} CPU s (graph_router.json "
                     f"`summary.faithful.cpu_seconds_per_seed`), {f_cpu / ep:.2f} CPU s per epoch over {ep} epochs; "
                     f"20 s per seed allows {20 / ep:.2f} s per epoch, {f_cpu / 20:.1f}x less. Each optimisation step "
                     f"runs forward and backward through the whole bipartite query–model graph, so an epoch costs "
                     f"(training queries / 32 steps) x (a pass over all training queries): quadratic in the "
                     f"training queries.")
            if fast:
                bound += (f" Sampling the member queries of each step (`--member-sample "
                          f"{fast_rows[0]['member_sample'] if fast_rows else '?'}`) removes most of the graph work: "
                          f"{s.get('cpu_speedup')}x less CPU (`summary.cpu_speedup`), {fast['cpu_seconds_per_seed']} "
                          f"CPU s per seed, result within one sd; what is left per step is the batch itself and the "
                          f"fixed weight-gradient and Adam work over the router's parameters, which does not shrink "
                          f"with the sample (profile a step with `py-spy record -- python bench/graph_router.py "
                          f"--variants fast --seeds 0 --epochs 2`; no result file records that split).")
            if fast_rows:
                cut = [min(x["epochs_run"], x["best_epoch"] + 10) / x["epochs_run"] * x["train_cpu_seconds"]
                       for x in fast_rows]
                bound += (f" The best epochs were {', '.join(str(x['best_epoch']) for x in fast_rows)} of "
                          f"{fast_rows[0]['epochs_run']} (`rows[].best_epoch`): early stopping 10 epochs after the "
                          f"best would have spent about {min(cut):.0f}–{max(cut):.0f} CPU s per seed — still above "
                          f"20 s, and it is not validated here.")
            if fast:
                bound += (f" Needed: a further {fast['cpu_seconds_per_seed'] / 20:.1f}x cheaper step on top of the "
                          f"sampling (fewer parameters or epochs, i.e. not the original's settings), or an "
                          f"accelerator.")
            bound += " On two CPU cores the target is not reachable at the original's settings."
        tg.append({"id": "graph_router_s_per_seed", "value": v, "unit": "CPU s",
                   "met": v <= 20 and within is not False, "note": note, "bound": bound})
    return text, tg


# ------------------------------------------------------------------------------------------------------- encoder
ENC_COLS = ["path", "encoder id", "texts", "tokens", "threads", "wall s", "CPU s", "texts/s", "texts per CPU s",
            "speed-up", "cos min", "cos mean", "max abs diff"]


def _enc_rows(r: dict) -> list[list]:
    return [[x["path"], x["id"], x["texts"], x["tokens"], x["threads"], x["wall_s"], x["cpu_s"], x["texts_per_s"],
             x["texts_per_cpu_s"], x["speedup"], f"{x['cos_min']:.6f}", f"{x['cos_mean']:.6f}",
             f"{x['max_abs_diff']:.3g}"] for x in r["rows"]]


def encoder_section(r: dict, results: Path) -> tuple[str, list[dict]]:
    text = (f"torch {r.get('torch')}, onnxruntime {r.get('onnxruntime')}; the reference vectors are "
            f"`{r['reference']}` (the default). Best of {r['repeats']} repeat(s), paths interleaved; cos: per-text "
            f"cosine to the reference path's vectors.\n\n")
    text += md_table(ENC_COLS, _enc_rows(r))
    one = _load(results, "encoder_speed_1thread")
    if one:
        text += ("\n\n**One torch thread** (a subset: every k-th text), "
                 + "; ".join(f"`{c}`" for c in commands(one)) + f", commit `{one['commit']}`, {load_text(one)}.\n\n")
        text += md_table(ENC_COLS, _enc_rows(one))
    ref = next((x for x in r["rows"] if x["path"] == r["reference"]), r["rows"][0])
    others = [x for x in r["rows"] if x is not ref]
    fpt = minilm_flop_per_token()
    tpt = ref["tokens"] / ref["texts"]
    need = 250 * tpt * fpt / 1e9
    got = ref["tokens"] * fpt / ref["cpu_s"] / 1e9
    nproc = r.get("cpus") or 2
    bound = (f"The default encodes {ref['texts_per_s']} texts/s here ({ref['texts_per_cpu_s']} per CPU second, "
             f"so about {ref['texts_per_cpu_s'] * nproc:.0f} on {nproc} idle cores; encoder_speed.json "
             f"`rows[path={ref['path']}]`). The released queries average {tpt:.0f} tokens (`tokens` / `texts`), and "
             f"MiniLM-L6's weight matmuls cost {fpt / 1e6:.1f} MFLOP per token (6 layers x (4 x 384² + 2 x 384 x "
             f"1536) multiply-adds, from the model's config), so 250 texts/s needs about {need:.0f} GFLOP/s, while "
             f"the torch path does {got:.0f} GFLOP per CPU second ({got * nproc:.0f} on {nproc} cores): "
             f"{need / (got * nproc):.1f}x the rate the fp32 path reaches on all {nproc} cores. A profile "
             f"(`py-spy record --native -- python bench/encoder_speed.py --paths minilm-torch --limit 300`) puts "
             f"most of the time in the Linear layers' sgemm, then GELU and attention, so the matmul rate is the "
             f"bound. The ONNX Runtime export of the same weights is no faster")
    onnx = next((x for x in others if x["path"] == "minilm-onnx"), None)
    int8 = next((x for x in others if x["path"] == "minilm-int8"), None)
    bound += f" ({onnx['speedup']}x)" if onnx else ""
    if int8:
        bound += (f"; int8 matmuls are {int8['speedup']}x faster" +
                  (f" ({next(x['speedup'] for x in one['rows'] if x['path'] == 'minilm-int8')}x with one thread)"
                   if one and any(x["path"] == "minilm-int8" for x in one["rows"]) else "") +
                  f" but agree only to cosine {int8['cos_min']:.3f} (min), below 0.999, so they stay opt-in "
                  f"(`minilm-int8`, its own encoder id).")
    bound += (" Needed for 250 texts/s at cosine >= 0.999: an accelerator, or a smaller model or shorter texts "
              "(different vectors, a new encoder id).")
    best_other = max(others, key=lambda x: x["speedup"], default=None)
    tg = [{"id": "encoder_texts_per_s", "value": ref["texts_per_s"], "unit": "texts/s",
           "met": ref["texts_per_s"] >= 250,
           "note": f"{ref['path']} ({ref['threads']} threads); {ref['texts_per_cpu_s']} texts per CPU s",
           "bound": bound},
          {"id": "encoder_cosine", "value": round(ref["cos_min"], 6), "unit": "(min)", "met": ref["cos_min"] >= 0.999,
           "note": "the default is still the torch path with the same encoder id, so its vectors are today's" +
                   ("; faster opt-in paths: " + ", ".join(f"{x['path']} {x['speedup']}x, cos min {x['cos_min']:.4f}"
                                                          for x in others) if best_other else "")}]
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
def _sweep_graph_seeds(path: Path) -> tuple[int, int] | None:
    """(GraphRouter runs, seeds per run) of a sweep file, or None if it cannot be read."""
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
    g = next((x for x in doc.get("routers", []) if x.get("router") == "graph"), None)
    return (runs, len(g.get("seeds", [0]))) if g else None


def sweep_not_run(results: Path) -> tuple[str, dict]:
    """What a cold table-1 sweep costs at least, from the GraphRouter result (no sweep result exists)."""
    gr = _load(results, "graph_router")
    cnt = _sweep_graph_seeds(REPO / "sweeps" / "paper-table1.yaml")
    if not gr or not cnt:
        return ("The table-1 sweep has not been timed. GraphRouter dominates it (see graph_router); "
                f"`{RUN_COMMANDS['sweep_time']}` measures it.", {})
    runs, seeds = cnt
    f = gr["summary"].get("faithful", {}).get("cpu_seconds_per_seed")
    fa = gr["summary"].get("fast", {}).get("cpu_seconds_per_seed")
    lo = {k: runs * seeds * v / 2 / 60 for k, v in (("faithful", f), ("fast", fa)) if v}
    text = (f"The cold table-1 sweep was not completed on this machine (hours of GraphRouter training). A lower "
            f"bound from the recorded results: sweeps/paper-table1.yaml trains {runs} GraphRouter runs x {seeds} "
            f"seeds = {runs * seeds} seeds; at the CPU seconds per seed of graph_router.json "
            f"(`summary.*.cpu_seconds_per_seed`, standard mode, emb-gnn profile) that is, with both cores busy, "
            + ", ".join(f"{v:.0f} min ({k})" for k, v in lo.items()) +
            " for GraphRouter training alone, before any encoding, profile or other router. So the 30-minute target "
            "is bounded by the GraphRouter target: it would need GraphRouter at about "
            f"{30 * 60 * 2 / (runs * seeds):.0f} CPU s per seed, i.e. close to that target's 20 s. "
            f"`{RUN_COMMANDS['sweep_time']}` measures it; a recorded rerun is only manifest look-ups (see "
            "manifest_speed and `rp sweep --dry-run`).")
    return text, {"sweep_cold_min": {"value": round(min(lo.values())) if lo else None, "unit": "min (lower bound)",
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
                             f"artifacts' build durations add up to {rc['build_s_sum'] / 60:.0f} min, of which "
                             f"GraphRouter and the other runs {rc['by_kind_s']['run'] / 60:.0f} min (one job's "
                             f"time). GraphRouter dominates: 132 seed-trainings at the CPU seconds per seed of "
                             f"graph_router.json; the 30 minutes need it near its own 20 s target.")})
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
                     ("import_cli", "python -c 'import rpcli.cli.main' (every command module, Typer, Rich console)"),
                     ("import_cli_and_rich_help", "... and typer.rich_utils (Rich help: markdown, traceback)"),
                     ("help_uncached", "rp --help, rendered by Typer (RP_NO_HELP_CACHE=1; every call before the cache)"),
                     ("help", "rp --help (after the first call: the rendering from the user's cache)"),
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
    la = r["machine"].get("load_avg", ["?"])[0]
    imp = {k: r[k]["cpu_median_s"] for k in ("python_bare", "import_typer", "import_cli", "import_cli_and_rich_help")
           if k in r}
    bounds = {
        "help": (f"`rp --help` takes {r['help']['cpu_median_s']} s of CPU (startup.json `help.cpu_median_s`) once "
                 f"its rendering is cached; rendered by Typer (the first call, or RP_NO_HELP_CACHE=1) it takes "
                 f"{r.get('help_uncached', {}).get('cpu_median_s', '?')} s of CPU. Its wall median "
                 f"{r['help']['wall_median_s']} s was measured at load {la}. The uncached call is bound by imports "
                 f"(`cpu_median_s`): the interpreter {imp.get('python_bare')} s, `import typer` "
                 f"{imp.get('import_typer')} s, every command module {imp.get('import_cli')} s, with Typer's Rich help "
                 f"formatter {imp.get('import_cli_and_rich_help')} s; the rest is Typer building every command's "
                 f"parameters. The cached call imports only the standard library (rpcli/cli/entry.py; the key covers "
                 f"the CLI's code, the terminal width and the colour settings)."),
        "compare_plain": (f"The CPU median is {r['compare_plain']['cpu_median_s']} s (startup.json "
                          f"`compare_plain.cpu_median_s`), under 1 s, and the fastest run took "
                          f"{r['compare_plain']['wall_min_s']} s wall; the wall median "
                          f"{r['compare_plain']['wall_median_s']} s includes waiting for a core at load {la}. Judged by its "
                          f"CPU time it is within the target; what bounds the wall time measured here is the "
                          f"machine's load, not the command."),
    }
    for k, tid in (("help", "help_s"), ("compare_plain", "compare_plain_s")):
        x = r[k]
        tg.append({"id": tid, "value": x["wall_median_s"], "unit": "s", "met": x["wall_median_s"] < x["target_s"],
                   "note": f"wall median; CPU {x['cpu_median_s']} s ({'under' if x['met_cpu'] else 'over'} "
                           f"{x['target_s']} s)", "bound": bounds[k]})
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


READERS = {"route_speed": route_speed_section, "graph_router": graph_router_section,
           "encoder_speed": encoder_section, "pipeline": pipeline_section, "sweep_time": sweep_section,
           "startup": startup_section, "manifest_speed": manifest_section, "scaling": scaling_section,
           "serve_overhead": serve_section, "graphs_build": graphs_build_section}
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


def render(results: Path) -> str:
    out = ["# Benchmarks", "",
           "_Generated by `python bench/make_docs.py` from bench/results/*.json — do not edit; rerun the benches, "
           "then that command._", "",
           "Targets are those of issue 14 (2 CPU cores). The machine is shared with other jobs: each section gives the "
           "load average when it was measured; ratios within one run are steadier than absolute times, and CPU "
           "seconds are closer to what an idle machine's wall time would be.", ""]
    found, sections, estimates, cmds = {}, [], {}, {}
    for name in BENCHES:
        path = results / f"{name}.json"
        if not path.exists():
            rel = path.relative_to(REPO) if path.is_relative_to(REPO) else path
            extra, est = NOT_RUN[name](results) if name in NOT_RUN else ("", {})
            estimates.update(est)
            sections.append(f"## {name}\n\nnot run (no {rel}): `{RUN_COMMANDS.get(name, '')}`" +
                            (f"\n\n{extra}" if extra else ""))
            continue
        r = json.loads(path.read_text())
        cmds[name] = commands(r)
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
    rows, bounds = [], []
    for tid, (bench, what) in TARGETS.items():
        t = found.get(tid)
        cl = cmds.get(bench, [])
        cmd = (f"`{cl[0]}`" + (f" and {len(cl) - 1} more (section {bench})" if len(cl) > 1 else "")
               if cl else f"`{RUN_COMMANDS[bench]}`")
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
                "Figures are quoted from the result files named (field in backquotes) or computed from them; "
                "where no result file holds a figure the bound is said in words with the command that measures it.",
                "", *bounds, ""]
    allc = [c for n in BENCHES for c in cmds.get(n, [])]
    out += ["## Commands", "", "```", *allc, "python bench/make_docs.py", "```", ""]
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

"""Building the report: the manifest's run records -> one plain dict of cells, grids, reference rows and paper
comparisons (stdlib only; see the package docstring for the rules)."""

from __future__ import annotations

import json
import math

# The run rows, their labels, the data filter, MODES and the order of routers and methods are the leaderboard's
# (rpcli.workspace.leaderboard, rpcli.workspace.labels): one results view.
from rpcli.workspace import paper as _paper  # TABLE1, TABLE2, GRAPH, MODE, SOURCE, is_released (pure data)
from rpcli.workspace.labels import (NON_LLM_BACKENDS, STUDY_ROUTERS, method_order, options_text, order_key,
                                    router_order, router_title, value_text)
from rpcli.workspace.leaderboard import BASELINE, HOP_PARAMS, MODES, on_data, run_rows
from rpcli.workspace.report.sweeps import sweep_run_ids, sweep_summary

PAPER_ENCODER = "Longformer (768-d)"

GRAPH_ORDER = (None, "task", "query", "query-task", "task-domain", "query-task-domain")
HOP_KEYS = HOP_PARAMS
# Profile params that are not design options: the mode (a report section), the seed (pooled), the hop count and
# the text-gnn LLM identity (their own columns).
PROFILE_NON_DESIGN = {"mode", "seed", "llm", "held_out_scores_hidden", *HOP_KEYS}  # the last: newllm data, not design
# Router options that change how a run is computed but not what the paper's cell measures: a column that differs
# from the defaults only in these keeps its label (the option is shown) and is still compared with the paper.
# GraphRouter's member_sample: training steps on sampled member queries, a speed option (docs/benchmarks.md,
# graph_router: the mean over 3 seeds within one sd of the full graph's on the cell measured).
# preset (recommended): another training recipe (docs/fidelity.md) for the same cell (profile, router, test rows);
# compared with the paper under its own column name, beside the faithful one. full_batch belongs to it.
PAPER_COMPARABLE_OPTIONS = {"graph": {"member_sample", "preset", "full_batch"}}
NO_TEXT_BACKENDS = tuple(sorted(NON_LLM_BACKENDS))

# Reference rows in a fixed order (upper bounds, task-level baselines, single models, random); others follow by name.
REFERENCE_ORDER = ("oracle", "oracle-cost-aware", "oracle-without-new", "per-task-oracle (test)",
                   "per-task-best (profile scores)", "per-task-best (train)", "best-single (test)",
                   "best-single (train)", "random")
PER_TASK_PROFILE_NOTE = ("carries test information: the model file's detailed_scores are benchmark scores measured "
                         "on the benchmarks the test queries come from")


def _r(v, digits: int = 6):
    return None if v is None else round(float(v), digits)


def _mean_sd(values: list[float]) -> tuple[float | None, float | None, int]:
    vals = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)]
    n = len(vals)
    if n == 0:
        return None, None, 0
    mean = sum(vals) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return _r(mean), _r(sd), n


def _canon(v) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def is_study_router(router: str | None) -> bool:
    """A router of the study (the paper's tables have its column); the others are "beyond the study"."""
    return router in STUDY_ROUTERS


def _text_backend(prof: dict) -> tuple[str | None, bool]:
    """(backend label, writes LLM text) of a profile; (None, True) for methods that are not text-gnn."""
    p = prof.get("params", {})
    if p.get("method") != "text-gnn":
        return None, True
    llm = p.get("llm")
    if not llm:
        return "none (K=0)", False
    b = llm.get("backend") or "?"
    if b in NO_TEXT_BACKENDS:
        return b, False
    return (f"{b}: {llm['model']}" if llm.get("model") else b), True


_order = order_key


def _run_record(row: dict, entries: dict) -> dict:
    """One run of the report: its leaderboard row (identity, labels, options) plus what the grid needs from the
    record (the per-seed values, the profile's design, the encoder, the commit, the new-model block)."""
    e = entries[row["id"]]
    m = e.get("metrics", {}) or {}
    prof = (entries.get(row["profile"]) or {}) if row.get("profile") else {}
    graph = entries.get(row["graph"]) if row.get("graph") else None
    pp = prof.get("params", {})
    backend, llm_text = _text_backend(prof) if prof else (None, True)
    per_seed = m.get("per_seed") or []
    perf_values = [s.get("avg_performance") for s in per_seed] or [m.get("avg_performance")]
    cost_values = [s["avg_cost"] * 1e6 for s in per_seed if isinstance(s.get("avg_cost"), (int, float))]
    if not cost_values and m.get("avg_cost_micro") is not None:
        cost_values = [m["avg_cost_micro"]]
    nl = m.get("newllm") or {}
    csr = nl.get("cold_start_recall") or {}
    strict = nl.get("cold_start_recall_strict") or {}
    csr_values = [s.get("cold_start_recall") for s in per_seed if "cold_start_recall" in s] or (
        [csr.get("value")] if csr else [])
    seeds = row.get("seeds") or [0]
    seed_summary = (m.get("seeds") or {}).get("avg_performance") or {}
    cq = m.get("cost_quality") or {}
    return {
        "cost_to_match_bsm_micro": _r(cq.get("cost_to_match_bsm_micro"), 3),
        "bsm_reference": (m.get("bsm_reference") or {}).get("name"),
        "id": row["id"], "mode": row["mode"], "router": row["router"], "options": row["options"],
        "label": row["label"], "router_label": row["router_label"], "profile_label": row["profile_label"],
        "seeds": list(seeds), "created_at": row.get("created_at") or "",
        "profile": prof.get("id"), "profile_params": {k: v for k, v in pp.items() if k not in PROFILE_NON_DESIGN},
        "profile_seed": pp.get("seed"),
        "method": pp.get("method") or "?", "graph": graph.get("id") if graph else None,
        "graph_kind": (graph or {}).get("params", {}).get("kind"), "hops": row.get("hops"),
        "text_backend": backend, "llm_text": llm_text,
        "encoder": (e.get("encoder") or {}).get("id"), "encoder_dim": (e.get("encoder") or {}).get("dim"),
        "commit": (e.get("provenance") or {}).get("git_commit"),
        "perf_values": perf_values, "cost_values": cost_values, "csr_values": csr_values,
        "avg_performance": _r(m.get("avg_performance")),
        "avg_performance_sd": _r(seed_summary.get("sd")) if len(seeds) > 1 else None,
        "avg_performance_ci95": [_r(v) for v in m["avg_performance_ci95"]]
        if len(seeds) == 1 and m.get("avg_performance_ci95") else None,
        "avg_cost_micro": _r(m.get("avg_cost_micro"), 3),
        "newllm": None if not nl else {
            "model": nl.get("model"),
            "cold_start_recall": _r(csr.get("value"), 4),
            "cold_start_recall_denominator": csr.get("denominator"),
            "cold_start_recall_strict": _r(strict.get("value"), 4),
            "cold_start_recall_strict_denominator": strict.get("denominator"),
            "selection_rate": _r(nl.get("selection_rate"), 4),
            "precision": _r(nl.get("precision"), 4),
            "gain_from_new": _r(nl.get("gain_from_new"), 4),
            "avg_performance_without_new": _r(nl.get("avg_performance_without_new"), 4),
        },
    }


def _differing_keys(dicts: list[dict]) -> set[str]:
    keys = set().union(*dicts) if dicts else set()
    return {k for k in keys if len({_canon(d.get(k)) for d in dicts}) > 1}


def _design_keys(runs: list[dict]) -> None:
    """Give every run its ``design`` (row) identity and label fields, in place."""
    multi_encoder = len({r["encoder"] for r in runs}) > 1
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        base = (r["method"], r["graph_kind"], r["hops"], r["text_backend"], r["encoder"])
        groups.setdefault(base, []).append(r)
    for base, rs in groups.items():
        by_profile = {r["profile"]: r["profile_params"] for r in rs}
        diff = sorted(_differing_keys(list(by_profile.values())))
        for r in rs:
            extra = [f"{k}={value_text(r['profile_params'].get(k))}" for k in diff]
            if multi_encoder:
                extra.append(f"encoder={r['encoder']}")
            r["design"] = {"method": r["method"], "graph_kind": r["graph_kind"], "hops": r["hops"],
                           "text_backend": r["text_backend"], "llm_text": r["llm_text"],
                           "options": ", ".join(extra)}
            r["design_key"] = _canon([base[:4], r["design"]["options"], r["encoder"]])


def _column_keys(runs: list[dict], defaults: dict | None) -> None:
    """Give every run its router ``column``, in place: the router's title plus the options its label names (the
    leaderboard's ``options``: every option away from the registry's default), and ``column_base`` (True when
    those options leave the paper's cell as it is)."""
    for r in runs:
        opts = r["options"]
        title = router_title(r["router"], defaults)
        r["column"] = f"{title} ({options_text(opts)})" if opts else title
        r["column_base"] = not (set(opts) - PAPER_COMPARABLE_OPTIONS.get(r["router"], set()))


def _design_sort(d: dict, methods: tuple) -> tuple:
    return (_order(d["method"], methods), _order(d["graph_kind"], GRAPH_ORDER),
            -1 if d["hops"] is None else d["hops"], d["text_backend"] or "", d["options"])


def _profile_label(d: dict) -> str:
    prof = d["method"] + (f" ({d['text_backend']})" if d["text_backend"] else "")
    return prof + (f" [{d['options']}]" if d["options"] else "")


def paper_value(mode: str, design: dict, router: str) -> tuple[float, str] | None:
    """(published avg_performance, "Table 1" or "Table 2") for a cell, or None when the paper has no such cell or
    the cell must not be compared with it (newllm mode, or a text-gnn profile with no LLM-written text)."""
    if mode != _paper.MODE or not design.get("llm_text", True):
        return None
    method, kind, hops = design["method"], design["graph_kind"], design["hops"]
    if method == "index":
        row, table = _paper.TABLE1.get(("index", 0)), "Table 1"
    elif kind == _paper.GRAPH:
        row, table = _paper.TABLE1.get((method, hops)), "Table 1"
    else:
        row, table = _paper.TABLE2.get((method, kind, hops)), "Table 2"
    if not row or router not in row:
        return None
    return row[router], table


def _cell(runs: list[dict]) -> dict:
    """One grid cell from the runs of one (mode, design, column): per profile the run with the most seeds."""
    chosen: dict[str, dict] = {}
    for r in sorted(runs, key=lambda r: (-len(r["seeds"]), _neg(r["created_at"]), r["id"])):
        chosen.setdefault(r["profile"], r)
    picked = sorted(chosen.values(), key=lambda r: r["id"])
    perf = [v for r in picked for v in r["perf_values"]]
    mean, sd, n = _mean_sd(perf)
    cost, _, _ = _mean_sd([v for r in picked for v in r["cost_values"]])
    ci = picked[0]["avg_performance_ci95"] if n == 1 and len(picked) == 1 else None
    cell = {"runs": [r["id"] for r in picked], "n": n, "avg_performance": mean, "sd": sd,
            "ci95": [_r(ci[0]), _r(ci[1])] if ci else None, "avg_cost_micro": _r(cost, 3)}
    csr = [v for r in picked for v in r["csr_values"]]
    if csr:
        cm, csd, cn = _mean_sd(csr)
        dens = sorted({(r["newllm"] or {}).get("cold_start_recall_denominator") for r in picked} - {None})
        cell["cold_start_recall"] = {"mean": _r(cm, 4), "sd": _r(csd, 4), "n": cn,
                                     "denominator": dens[0] if len(dens) == 1 else None}
    superseded = sorted(r["id"] for r in runs if r["id"] not in cell["runs"])
    return cell, superseded


def _neg(s: str) -> tuple:
    """Sort key that puts the later timestamp first (ISO strings)."""
    return tuple(-ord(c) for c in s)


def _grid(mode: str, runs: list[dict], columns: list[str], with_paper: bool) -> tuple[dict, dict[str, str]]:
    rows: dict[str, dict] = {}
    for r in runs:
        rows.setdefault(r["design_key"], {"design": r["design"], "runs": []})["runs"].append(r)
    out_rows, superseded_by = [], {}
    for key in sorted(rows, key=lambda k: rows[k]["runs"][0]["design_rank"]):
        d = rows[key]["design"]
        cells = {}
        for col in columns:
            rs = [r for r in rows[key]["runs"] if r["column"] == col]
            if not rs:
                continue
            cell, sup = _cell(rs)
            for s in sup:
                superseded_by[s] = cell["runs"][0] if len(cell["runs"]) == 1 else ", ".join(cell["runs"])
            if with_paper and rs[0]["column_base"]:
                pv = paper_value(mode, d, rs[0]["router"])
                if pv is not None and cell["avg_performance"] is not None:
                    cell["paper"] = {"value": pv[0], "table": pv[1], "router": rs[0]["router"], "column": col,
                                     "delta": _r(cell["avg_performance"] - pv[0], 4)}
            cells[col] = cell
        out_rows.append({"profile": _profile_label(d), "design": d, "cells": cells})
    used = [c for c in columns if any(c in row["cells"] for row in out_rows)]
    return {"columns": used, "rows": out_rows}, superseded_by


def _rank(runs: list[dict], defaults: dict | None) -> None:
    """Give every run its sort keys, in place: ``design_rank`` (method in the registry's order, graph, hops,
    backend, options) and ``column_rank`` (router in the registry's order, the paper-comparable column first)."""
    methods, routers = method_order(defaults), router_order(defaults)
    for r in runs:
        r["design_rank"] = _design_sort(r["design"], methods)
        r["column_rank"] = (_order(r["router"], routers), not r["column_base"], r["column"])


def _column_sort(runs: list[dict]) -> list[str]:
    cols = {r["column"]: r["column_rank"] for r in runs}
    return sorted(cols, key=lambda c: cols[c])


def _paper_rows(mode: str, grids: list[dict], runs_present: bool, defaults: dict | None) -> list[dict]:
    """Every published Table 1 / Table 2 cell, with ours beside it where a comparable cell exists."""
    ours: dict[tuple, dict] = {}
    for grid in grids:
        for row in grid["rows"]:
            for col, cell in row["cells"].items():
                if "paper" in cell:
                    d = row["design"]
                    router = cell["paper"]["router"]
                    k = (cell["paper"]["table"], d["method"], d["graph_kind"] if d["method"] != "index" else None,
                         d["hops"] if d["method"] != "index" else 0, router)
                    ours.setdefault(k, []).append((row, cell))
    published = []
    for (method, hops), vals in _paper.TABLE1.items():
        for router, v in vals.items():
            published.append(("Table 1", method, None if method == "index" else _paper.GRAPH, hops, router, v))
    for (method, kind, hops), vals in _paper.TABLE2.items():
        for router, v in vals.items():
            published.append(("Table 2", method, kind, hops, router, v))
    out = []
    methods, routers = method_order(defaults), router_order(defaults)
    for table, method, kind, hops, router, v in sorted(
            published, key=lambda t: (t[0], _order(t[1], methods), _order(t[2], GRAPH_ORDER), t[3],
                                      _order(t[4], routers))):
        matches = ours.get((table, method, kind, hops, router)) or [(None, None)]
        for row, cell in matches:
            out.append({"table": table, "method": method, "graph_kind": kind, "hops": hops, "router": router,
                        "paper": v, "profile": row["profile"] if row else None,
                        "column": cell["paper"].get("column") if cell else None,
                        "ours": cell["avg_performance"] if cell else None, "sd": cell["sd"] if cell else None,
                        "n": cell["n"] if cell else 0, "delta": cell["paper"]["delta"] if cell else None,
                        "runs": cell["runs"] if cell else []})
    return out


def build_report(doc: dict, references: list[dict], *, dataset: dict, command: str, paper: bool = False,
                 sweep: dict | None = None, defaults: dict | None = None,
                 router_defaults: dict[str, dict] | None = None, run_stats: dict | None = None,
                 more_sweeps: list | tuple = ()) -> dict:
    """The report as plain data.

    Args:
        doc: the manifest ({"entries": {...}}).
        references: reference rows (``{name, kind, mode, avg_performance, avg_cost_micro, note}``) of the dataset
            the report is about; rows of kind "single" are left out.
        dataset: ``{name, root, hash, candidates, n_test_rows}``; only runs evaluated on ``hash`` are reported.
        command: the exact command line that produces this report (printed at the top).
        paper: put the paper's published values and the deltas beside comparable cells.
        sweep: a sweep record (load_sweep); restricts the report to its runs and reports its completeness.
        defaults: the label data of rpcli.core.registry.label_defaults() ({"routers": {router: {option:
            default}}, "profiles": {...}, "router_order", "method_order", "router_titles"}): the run labels and the
            router columns name every option that differs from it (rpcli.workspace.labels), and routers and
            methods follow its order.
        router_defaults: {router: {option: default}} alone (older callers); used when ``defaults`` is None.
        run_stats: {run id or "ref:<mode>:<reference name>": {"ci95": [lo, hi], "vs_per_task_train": paired
            bootstrap}} (rpcli.services.artifacts.report.paired_stats); used by the "Beyond the study" section.
        more_sweeps: further sweep records; the report covers the runs of every sweep named.
    """
    if defaults is None and router_defaults is not None:
        defaults = {"routers": router_defaults}
    entries = doc.get("entries", {})
    scope, n_other = on_data(run_rows(doc, defaults), dataset.get("hash"))  # the leaderboard's rows and filter
    summary = None
    if sweep is not None:
        summary = sweep_summary(sweep, entries)
        ids = sweep_run_ids(sweep)
        for extra in more_sweeps:
            ids |= sweep_run_ids(extra)
        scope = [e for e in scope if e["id"] in ids]
    runs = [_run_record(r, entries) for r in sorted(scope, key=lambda r: r["id"]) if r["mode"] in MODES]
    _design_keys(runs)
    _column_keys(runs, defaults)
    _rank(runs, defaults)
    released = _paper.is_released(dataset)
    encoders = sorted({(r["encoder"], r["encoder_dim"]) for r in runs if r["encoder"]}, key=_canon)
    report = {
        "generated_by": command,
        "dataset": {"name": dataset.get("name"), "root": dataset.get("root"), "hash": dataset.get("hash"),
                    "n_test_rows": dataset.get("n_test_rows"),
                    "n_candidates": len(dataset.get("candidates") or []) or None},
        "encoders": [{"id": i, "dim": d} for i, d in encoders],
        "commits": sorted({r["commit"] for r in runs if r["commit"]}),
        "sweep": summary,
        **({"more_sweeps": [sweep_summary(x, entries) for x in more_sweeps]} if more_sweeps else {}),
        "scope": {"runs": len(runs), "runs_on_other_data": 0 if sweep is not None else n_other,
                  "restricted_to_sweep": sweep is not None},
        "paper": None,
        "modes": [],
    }
    if paper:
        enc = ", ".join(f"{i} ({d}-d)" if d else i for i, d in encoders) or "none recorded"
        report["paper"] = {
            "compared": released, "source": f"{_paper.SOURCE}; Table 2 (node-type ablation at 2 hops) of the same "
                                               "paper",
            "encoder_difference": f"ours: {enc}; the paper: {PAPER_ENCODER}. Every difference from the paper "
                                  "below includes the encoder's.",
            "note": ("The paper reports one seed per cell; ours are means over the seeds shown. text-gnn cells whose "
                     "backend wrote no LLM text (extractive, or K=0) are listed apart and never compared. "
                     "GraphRouter cells trained with member_sample (a speed option: each step samples member "
                     "queries; docs/benchmarks.md, graph_router, compares it with the full graph) or with "
                     "preset=recommended (another training recipe, docs/fidelity.md) are compared too, with the "
                     "option in their column's name."
                     if released else "The dataset is not the released RouteProfile data, so the paper's values "
                                      "are not comparable and are not shown."),
        }
    columns = _column_sort(runs)
    for mode in MODES:
        mruns = [r for r in runs if r["mode"] == mode]
        refs = []
        for ref in sorted(references, key=lambda x: (_order(x.get("name"), REFERENCE_ORDER), x.get("name") or "")):
            if ref.get("mode") != mode or ref.get("kind") == "single":
                continue
            note = ref.get("note") or ""
            if ref.get("name") == "per-task-best (profile scores)" and "carries test information" not in note:
                # the data check found no overlap to name; the scores still come from the test tasks' benchmarks
                note = f"{note}; {PER_TASK_PROFILE_NOTE}" if note else PER_TASK_PROFILE_NOTE
            refs.append({"name": ref.get("name"), "avg_performance": _r(ref.get("avg_performance")),
                         "avg_cost_micro": _r(ref.get("avg_cost_micro"), 3), "note": note,
                         **({"model": ref["model"]} if ref.get("model") else {})})
        if not mruns and not refs:
            continue
        with_paper = paper and released
        grid, sup1 = _grid(mode, [r for r in mruns if r["llm_text"]], columns, with_paper)
        no_text, sup2 = _grid(mode, [r for r in mruns if not r["llm_text"]], columns, False)
        superseded = {**sup1, **sup2}
        base = next((x["avg_performance"] for x in refs if x["name"] == BASELINE), None)
        best = None
        for g in (grid, no_text):
            for row in g["rows"]:
                for col, cell in row["cells"].items():
                    if cell["avg_performance"] is not None and (best is None or cell["avg_performance"] >
                                                                best["avg_performance"]):
                        best = {"profile": row["profile"], "graph_kind": row["design"]["graph_kind"],
                                "hops": row["design"]["hops"],
                                "router": col, "avg_performance": cell["avg_performance"], "n": cell["n"]}
        m = {"mode": mode, "references": refs, "grid": grid, "no_llm_text_grid": no_text,
             "best_cell": best, "baseline": {"name": BASELINE, "avg_performance": base},
             "beats_baseline": None if best is None or base is None else best["avg_performance"] > base,
             "runs": []}
        for r in sorted(mruns, key=lambda r: (r["design_rank"], r["column_rank"], r["id"])):
            m["runs"].append({
                "id": r["id"], "label": r["label"], "profile_label": r["profile_label"],
                "router_label": r["router_label"], "profile": _profile_label(r["design"]),
                "graph_kind": r["graph_kind"], "hops": r["hops"], "router": r["column"], "seeds": r["seeds"],
                "profile_id": r["profile"], "profile_seed": r["profile_seed"],
                "avg_performance": r["avg_performance"], "sd": r["avg_performance_sd"],
                "ci95": r["avg_performance_ci95"], "avg_cost_micro": r["avg_cost_micro"],
                "llm_text": r["llm_text"], "superseded_by": superseded.get(r["id"]),
                **({"newllm": r["newllm"]} if mode == "newllm" else {})})
        beyond = _beyond(mode, mruns, refs, grid, no_text, run_stats or {})
        if beyond is not None:
            m["beyond"] = beyond
        if with_paper and mode == _paper.MODE:
            m["paper_comparison"] = _paper_rows(mode, [grid], bool(mruns), defaults)
        report["modes"].append(m)
    return report


BEYOND_REFERENCES = ("oracle", "per-task-oracle (test)", "per-task-best (profile scores)", "per-task-best (train)",
                     "best-single (test)", "best-single (train)")


def _beyond(mode: str, mruns: list[dict], refs: list[dict], grid: dict, no_text: dict, stats: dict) -> dict | None:
    """The "Beyond the study" rows of a mode: every run of a router the study did not have (prior, knn, ...),
    the study's best cell (its routers only) and the reference rows, each with its 95% CI over rows and the paired
    bootstrap against per-task-best (train). None when the mode has no run of a new router."""
    new = [r for r in mruns if not is_study_router(r["router"])]
    if not new:
        return None
    rows = []

    def stat(key):
        st = stats.get(key) or {}
        return st.get("ci95"), st.get("vs_per_task_train")

    for r in sorted(new, key=lambda r: (r["column_rank"], r["design_rank"], r["id"])):
        ci, vs = stat(r["id"])
        mean, sd, n = _mean_sd(r["perf_values"])
        csr, _, _ = _mean_sd(r["csr_values"])
        rows.append({"kind": "ours", "name": r["label"], "runs": [r["id"]],
                     "seeds": r["seeds"], "avg_performance": mean, "sd": sd, "n": n, "ci95": ci,
                     "vs_per_task_train": vs, "avg_cost_micro": r["avg_cost_micro"],
                     "cold_start_recall": _r(csr, 4) if r["csr_values"] else None,
                     "cost_to_match_bsm_micro": r["cost_to_match_bsm_micro"]})
    best, best_runs = None, []
    for g in (grid, no_text):
        for row in g["rows"]:
            for col, cell in row["cells"].items():
                rs = [x for x in mruns if x["id"] in cell["runs"]]
                if not rs or any(not is_study_router(x["router"]) for x in rs) or cell["avg_performance"] is None:
                    continue
                if best is None or cell["avg_performance"] > best["cell"]["avg_performance"]:
                    best, best_runs = {"name": f"study's best: {col} on {row['profile']}", "cell": cell}, rs
    if best is not None:
        cell = best["cell"]
        ci, vs = stat(best_runs[0]["id"]) if len(best_runs) == 1 else (None, None)
        csr = (cell.get("cold_start_recall") or {}).get("mean")
        rows.append({"kind": "study", "name": best["name"], "runs": cell["runs"],
                     "seeds": best_runs[0]["seeds"] if len(best_runs) == 1 else None,
                     "avg_performance": cell["avg_performance"], "sd": cell["sd"], "n": cell["n"], "ci95": ci,
                     "vs_per_task_train": vs, "avg_cost_micro": cell["avg_cost_micro"], "cold_start_recall": csr,
                     "cost_to_match_bsm_micro": best_runs[0]["cost_to_match_bsm_micro"] if len(best_runs) == 1
                     else None})
    for ref in refs:
        if ref["name"] not in BEYOND_REFERENCES:
            continue
        ci, vs = stat(f"ref:{mode}:{ref['name']}")
        if ref["name"] == BASELINE:
            vs = {"diff": 0.0, "ci95": None, "baseline": True}
        rows.append({"kind": "reference", "name": ref["name"] + (f" ({ref['model']})" if ref.get("model") else ""),
                     "runs": [], "seeds": None, "avg_performance": ref["avg_performance"], "sd": None, "n": 1,
                     "ci95": ci, "vs_per_task_train": vs, "avg_cost_micro": ref["avg_cost_micro"],
                     "cold_start_recall": None, "cost_to_match_bsm_micro": None})
    ours = [x for x in rows if x["kind"] == "ours" and x["avg_performance"] is not None]
    top = max(ours, key=lambda x: x["avg_performance"]) if ours else None
    bsm = next((x for x in refs if x["name"] == "best-single (train)"), None)
    return {"rows": rows, "baseline": BASELINE,
            "best": None if top is None else {"name": top["name"], "avg_performance": top["avg_performance"],
                                              "vs_per_task_train": top["vs_per_task_train"]},
            "best_single": None if bsm is None else {"name": bsm["name"], "model": bsm.get("model"),
                                                     "avg_performance": bsm["avg_performance"],
                                                     "avg_cost_micro": bsm["avg_cost_micro"]}}

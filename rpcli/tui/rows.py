"""Plain data behind every dashboard view: leaderboard rows, the design-space pivot, plot series, the per-task
heatmap and the run detail. Pure functions of (reference rows, manifest dict): no Textual, no I/O, so they are
unit-tested directly and `rp compare` can reuse them.
"""

from __future__ import annotations

from rpcli.tui import paper
from rpcli.workspace.leaderboard import (annotate_rows, filter_rows, profile_label, row_key, run_rows,
                                         select_comparable, sort_rows_by)

MODES = ("standard", "newllm")
MICRO = 1e6
METHOD_ORDER = ("index", "flat", "text-gnn", "emb-gnn", "trainable")
ROUTER_ORDER = ("sim", "mlp", "graph")
ORACLES = ("oracle", "oracle-cost-aware")


def leaderboard_rows(references: list[dict], doc: dict, *, data_hash: str | None = None,
                     allow_mixed: bool = False) -> tuple[list[dict], str | None]:
    """Reference rows (as given) plus the manifest's comparable runs, flagged against the per-task best.

    Returns:
        (rows, notice): ``notice`` says why runs were held back (other data), or None.
    """
    runs, notice = select_comparable(run_rows(doc), data_hash, allow_mixed)
    return annotate_rows([dict(r) for r in references] + runs), notice


def view_rows(rows: list[dict], mode: str, *, query: str = "", sort_key: str = "avg_performance",
              reverse: bool = True, show_singles: bool = False) -> list[dict]:
    """The rows one leaderboard tab shows: one mode, filtered, sorted; single models only on request."""
    out = [r for r in rows if r.get("mode") == mode and (show_singles or r.get("kind") != "single")]
    return sort_rows_by(filter_rows(out, query), sort_key, reverse)


def mode_runs(rows: list[dict], mode: str, query: str = "") -> list[dict]:
    """The runs of one mode that pass the filter, best first."""
    runs = [r for r in rows if r.get("mode") == mode and r.get("kind") == "run"]
    return sort_rows_by(filter_rows(runs, query), "avg_performance", reverse=True)


# ---------------------------------------------------------------------------------------------------------------
# Design-space pivot (the paper's Table 1 layout)
# ---------------------------------------------------------------------------------------------------------------


def _order(seq, preferred):
    return sorted(seq, key=lambda x: (preferred.index(x) if x in preferred else len(preferred), str(x)))


def pivot(rows: list[dict], mode: str, *, released: bool = False, query: str = "") -> dict:
    """Profile method x hops down, router across; each cell is the best avg_performance of the matching runs.

    With ``released`` (the dataset is the published one) and the standard mode, every router column has a
    "paper" column beside it holding the published Table 1 value (rpcli.tui.paper), and the published rows are
    listed even where we have no run yet.

    Returns:
        {"routers": [router], "paper": bool, "note": str,
         "rows": [{"method", "hops", "cells": {router: {"value", "n", "id"}}, "paper": {router: value}}]}
    """
    runs = mode_runs(rows, mode, query)
    cells: dict[tuple, dict] = {}
    for r in runs:
        key = (r.get("profile_method") or "?", r.get("hops"))
        router = r.get("router") or "?"
        c = cells.setdefault(key, {}).setdefault(router, {"value": None, "n": 0, "id": None})
        c["n"] += 1
        v = r.get("avg_performance")
        if v is not None and (c["value"] is None or v > c["value"]):
            c["value"], c["id"] = v, r.get("id")
    show_paper = released and mode == paper.MODE
    routers = {rt for cs in cells.values() for rt in cs}
    keys = set(cells)
    if show_paper:
        routers |= set(paper.ROUTERS.values())
        keys |= set(paper.TABLE1)
    routers = _order(routers, ROUTER_ORDER)
    ordered = sorted(keys, key=lambda k: (METHOD_ORDER.index(k[0]) if k[0] in METHOD_ORDER else len(METHOD_ORDER),
                                          k[0], -1 if k[1] is None else k[1]))
    out_rows = [{"method": m, "hops": h, "cells": cells.get((m, h), {}),
                 "paper": paper.TABLE1.get((m, h), {}) if show_paper else {}} for m, h in ordered]
    if show_paper:
        note = f"'paper' columns: {paper.SOURCE}. Ours: best run per cell over every graph that passes the filter."
    elif released:
        note = "The paper publishes Table 1 for the standard mode only. Ours: best run per cell."
    else:
        note = "Ours: best run per cell. (Published values appear only on the released routeprofile dataset.)"
    return {"routers": routers, "paper": show_paper, "note": note, "rows": out_rows}


# ---------------------------------------------------------------------------------------------------------------
# Cost-quality plane
# ---------------------------------------------------------------------------------------------------------------


def _xy(p) -> tuple[float, float] | None:
    """A curve point as (µ$/query, avg_performance). Dicts carry avg_cost_micro or avg_cost ($); pairs are
    ($/query, avg_performance) like metrics.cost_quality_curve."""
    if isinstance(p, dict):
        y = p.get("avg_performance")
        x = p.get("avg_cost_micro")
        if x is None and p.get("avg_cost") is not None:
            x = p["avg_cost"] * MICRO
    elif isinstance(p, (list, tuple)) and len(p) >= 2:
        x, y = (p[0] * MICRO if p[0] is not None else None), p[1]
    else:
        return None
    if x is None or y is None:
        return None
    return float(x), float(y)


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Non-dominated (cost, quality) points, cheapest first (lower cost and higher quality are better)."""
    front, best = [], float("-inf")
    for x, y in sorted(set(points), key=lambda p: (p[0], -p[1])):
        if y > best:
            front.append((x, y))
            best = y
    return front


def cost_quality(rows: list[dict], doc: dict, mode: str, query: str = "") -> dict:
    """Series for the cost-quality plane of one mode.

    Returns:
        {"runs": [{"n", "id", "label", "point": (x, y), "curve": [(x, y)]}], "singles": [{"name", "point"}],
         "oracles": [{"name", "point"}], "front": [(x, y)]}; x in µ$/query. ``n`` numbers runs best first.
        The front is the Pareto front of the runs' points, their curves and the single models (not the oracles,
        which no router can reach).
    """
    entries = doc.get("entries", {})
    runs = []
    for i, r in enumerate(mode_runs(rows, mode, query), start=1):
        if r.get("avg_cost_micro") is None or r.get("avg_performance") is None:
            continue
        cq = (entries.get(r.get("id"), {}).get("metrics") or {}).get("cost_quality") or {}
        pts = cq.get("pareto") or cq.get("points") or []
        curve = sorted(p for p in (_xy(q) for q in pts) if p is not None)
        runs.append({"n": i, "id": r.get("id"), "label": r.get("name"),
                     "point": (r["avg_cost_micro"], r["avg_performance"]), "curve": curve})
    singles, oracles = [], []
    for r in rows:
        if r.get("mode") != mode or r.get("avg_cost_micro") is None or r.get("avg_performance") is None:
            continue
        pt = (r["avg_cost_micro"], r["avg_performance"])
        if r.get("kind") == "single":
            singles.append({"name": r.get("name"), "point": pt})
        elif r.get("kind") == "reference" and r.get("name") in ORACLES:
            oracles.append({"name": r.get("name"), "point": pt})
    pool = [s["point"] for s in singles] + [r["point"] for r in runs] + [p for r in runs for p in r["curve"]]
    return {"runs": runs, "singles": singles, "oracles": oracles, "front": pareto_front(pool)}


def short_model(name: str, width: int = 14) -> str:
    """A model name short enough to print beside its point: drop the instruct/it suffixes, then truncate."""
    s = name
    for suffix in ("-instruct-2501-bf16", "-instruct-v0.1", "-instruct", "-it"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    return s if len(s) <= width else s[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------------------------
# Per-task heatmap
# ---------------------------------------------------------------------------------------------------------------


def task_heatmap(rows: list[dict], doc: dict, mode: str, query: str = "") -> dict:
    """Runs (best first) x tasks of avg_performance from each run's metrics["per_task"].

    Returns:
        {"tasks": [task], "rows": [{"id", "label", "values": {task: v}}], "range": {task: (lo, hi)}}
    """
    entries = doc.get("entries", {})
    out, tasks = [], set()
    for r in mode_runs(rows, mode, query):
        per_task = (entries.get(r.get("id"), {}).get("metrics") or {}).get("per_task") or {}
        vals = {t: (d or {}).get("avg_performance") for t, d in per_task.items()}
        tasks |= set(vals)
        out.append({"id": r.get("id"), "label": f"{r.get('router')} / {r.get('profile_label')}", "values": vals})
    tasks = sorted(tasks)
    rng = {}
    for t in tasks:
        vs = [x["values"].get(t) for x in out if x["values"].get(t) is not None]
        rng[t] = (min(vs), max(vs)) if vs else (None, None)
    return {"tasks": tasks, "rows": out, "range": rng}


def heat_color(v: float | None, lo: float | None, hi: float | None) -> str | None:
    """A background colour from red (the task's worst run) through amber to green (its best); grey when all
    runs tie; None without a value."""
    if v is None or lo is None or hi is None:
        return None
    if hi - lo < 1e-12:
        return "#4a4a4a"
    t = max(0.0, min(1.0, (v - lo) / (hi - lo)))
    # red (150, 40, 40) -> amber (150, 110, 20) -> green (30, 120, 50)
    a, b, c = (150, 40, 40), (150, 110, 20), (30, 120, 50)
    lo_c, hi_c, u = (a, b, t * 2) if t < 0.5 else (b, c, (t - 0.5) * 2)
    r, g, bl = (round(lo_c[i] + (hi_c[i] - lo_c[i]) * u) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


# ---------------------------------------------------------------------------------------------------------------
# Run detail
# ---------------------------------------------------------------------------------------------------------------


def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _label(entry: dict | None) -> str:
    if entry is None:
        return "(missing from the manifest)"
    p = entry.get("params", {})
    if entry.get("kind") == "graph":
        return f"{p.get('kind', '?')} graph ({p.get('mode', '?')})"
    if entry.get("kind") == "profile":
        return f"{profile_label(entry)} ({p.get('mode', '?')})"
    return f"{p.get('router', '?')} router ({p.get('mode', '?')})"


def run_detail(doc: dict, run_id: str) -> dict:
    """Everything the run screen shows, as plain data.

    Returns:
        {"id", "title", "mode", "summary": [(label, text)], "per_task": [dict], "selection_share": [(model,
        share)], "newllm": [(label, text)], "params": {kind: params}, "lineage": [{"kind", "id", "label",
        "created_at"}], "provenance": [(label, text)], "warnings": [str]}

    Raises:
        KeyError: when the manifest has no such run.
    """
    entries = doc.get("entries", {})
    e = entries[run_id]
    m = e.get("metrics") or {}
    p = e.get("params") or {}
    pid = (e.get("parents") or [None])[0]
    prof = entries.get(pid) if pid else None
    gid = ((prof or {}).get("parents") or [None])[0]
    graph = entries.get(gid) if gid else None
    seeds = m.get("seeds") or {}
    sd = (seeds.get("avg_performance") or {}).get("sd")
    ci = m.get("avg_performance_ci95")
    summary = [
        ("avg performance", _fmt(m.get("avg_performance")) + (f" ± {sd:.4f} (sd over {len(p.get('seeds', []))} "
                                                                f"seeds)" if sd is not None else "")),
        ("95% CI (bootstrap)", f"{ci[0]:.4f} – {ci[1]:.4f}" if ci else "-"),
        ("macro avg over tasks", _fmt(m.get("macro_avg_performance"))),
        ("µ$ / query", _fmt(m.get("avg_cost_micro"), 1)),
        ("gap closed", _fmt(m.get("gap_closed"), 3) + (f"  (vs {m['bsm_reference']['name']} "
                                                       f"{m['bsm_reference']['avg_performance']:.4f})"
                                                       if m.get("bsm_reference") else "")),
        ("best-pick rate", _fmt(m.get("best_pick_rate"), 3)
         + (f"  (discriminative rows: {_fmt(m.get('best_pick_rate_discriminative'), 3)} of "
            f"{m.get('n_discriminative')})" if m.get("n_discriminative") else "")),
        ("hit rate", _fmt(m.get("hit_rate"), 3)),
        ("oracle / regret", f"{_fmt(m.get('oracle'))} / {_fmt(m.get('regret'))}"),
        ("selection entropy", _fmt(m.get("selection_entropy"), 3)),
        ("test rows", _fmt(m.get("n_rows"))),
    ]
    per_task = []
    for task, d in sorted((m.get("per_task") or {}).items()):
        d = d or {}
        cost = d.get("avg_cost")
        per_task.append({"task": task, "n": d.get("n"), "avg_performance": d.get("avg_performance"),
                         "best_pick_rate": d.get("best_pick_rate"), "hit_rate": d.get("hit_rate"),
                         "avg_cost_micro": cost * MICRO if cost is not None else None})
    share = sorted((m.get("selection_share") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    nl = m.get("newllm") or {}
    newllm = []
    if nl:
        csr, strict = nl.get("cold_start_recall") or {}, nl.get("cold_start_recall_strict") or {}
        newllm = [
            ("new model", _fmt(nl.get("model"))),
            ("selection rate", _fmt(nl.get("selection_rate"), 3) + f"  ({_fmt(nl.get('n_selected'))} rows)"),
            ("precision", _fmt(nl.get("precision"), 3)),
            ("cold-start recall", _fmt(csr.get("value"), 3)
             + f"  ({_fmt(csr.get('numerator'))}/{_fmt(csr.get('denominator'))})"),
            ("cold-start recall, strict", _fmt(strict.get("value"), 3)
             + f"  ({_fmt(strict.get('numerator'))}/{_fmt(strict.get('denominator'))})"),
            ("avg perf without the new model", _fmt(nl.get("avg_performance_without_new"))),
            ("gain from the new model", _fmt(nl.get("gain_from_new"))),
        ]
    lineage = [{"kind": x.get("kind") if x else kind, "id": i, "label": _label(x),
                "created_at": (x or {}).get("created_at")}
               for kind, i, x in (("graph", gid, graph), ("profile", pid, prof), ("run", run_id, e)) if i]
    prov = e.get("provenance") or {}
    enc = e.get("encoder") or {}
    data = e.get("data") or {}
    provenance = [("created", _fmt(e.get("created_at"))), ("duration", f"{e.get('duration_s', 0):.1f} s"),
                  ("data", f"{data.get('root', '-')}  (hash {str(e.get('data_hash') or '-')[:12]})"),
                  ("encoder", _fmt(enc.get("id")))]
    provenance += [(k.replace("_", " "), _fmt(v)) for k, v in sorted(prov.items())]
    provenance += [("output", o.get("path", "?")) for o in e.get("outputs") or []]
    params = {"run": p}
    if prof:
        params["profile"] = prof.get("params") or {}
    if graph:
        params["graph"] = graph.get("params") or {}
    return {"id": run_id, "title": f"{p.get('router')} / {profile_label(prof)} / "
                                   f"{(graph or {}).get('params', {}).get('kind', '-')}",
            "mode": p.get("mode"), "summary": summary, "per_task": per_task, "selection_share": share,
            "newllm": newllm, "params": params, "lineage": lineage, "provenance": provenance,
            "per_seed": m.get("per_seed") or [], "warnings": list(m.get("warnings") or [])}


__all__ = ["leaderboard_rows", "view_rows", "mode_runs", "pivot", "cost_quality", "pareto_front", "task_heatmap",
           "heat_color", "run_detail", "row_key", "short_model"]

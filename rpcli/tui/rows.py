"""Plain data behind the dashboard's own views: the leaderboard tabs, the design-space pivot, the plot series, the
per-task heatmap and the run detail. Pure functions of (leaderboard rows, manifest dict): no Textual, no I/O, so
they are unit-tested directly. The rows, labels, formatter and Pareto front are rpcli.workspace.leaderboard's, the
module `rp compare` prints from too; the order of routers and methods comes from the label defaults the app was
given (rpcli.workspace.labels).
"""

from __future__ import annotations

from collections.abc import Mapping

from rpcli.workspace import paper
from rpcli.workspace.labels import method_order, order_key, router_label, router_order, run_label
from rpcli.workspace.leaderboard import (MICRO, ORACLES, filter_rows, fmt, mode_runs, pareto_front, plot_point,
                                         profile_label, row_backend, sort_rows_by)

NOT_COMPARABLE = "no LLM text, not comparable"


def view_rows(rows: list[dict], mode: str, *, query: str = "", sort_key: str = "avg_performance",
              reverse: bool = True, show_singles: bool = False) -> list[dict]:
    """The rows one leaderboard tab shows: one mode, filtered, sorted; single models only on request."""
    out = [r for r in rows if r.get("mode") == mode and (show_singles or r.get("kind") != "single")]
    return sort_rows_by(filter_rows(out, query), sort_key, reverse)


# ---------------------------------------------------------------------------------------------------------------
# Design-space pivot (the paper's Table 1 layout)
# ---------------------------------------------------------------------------------------------------------------


def _design(run: dict) -> tuple:
    """A run's pivot row: (method, hops, backend text). Text-gnn runs of different backends or LLMs never share
    a row."""
    return run.get("profile_method") or "?", run.get("hops"), row_backend(run).text()


def pivot(rows: list[dict], mode: str, *, released: bool = False, query: str = "",
          defaults: Mapping | None = None) -> dict:
    """Profile method x hops (x text-gnn backend) down, router across (one column per router label: a router run
    with options away from its defaults has a column of its own); each cell is the best avg_performance of the
    matching runs. Methods and routers follow the order of ``defaults`` (the registry's; the paper's without it).

    With ``released`` (the dataset is the published one) and the standard mode, every router column has a
    "paper" column beside it holding the published Table 1 value (rpcli.workspace.paper), and the published rows are
    listed even where we have no run yet. A text-gnn profile whose backend writes no LLM text (extractive) is not
    what the paper measured: its rows stand apart (after the LLM rows of its method), labelled so, with no
    published value.

    Returns:
        {"routers": [router label], "paper": bool, "note": str,
         "rows": [{"method", "hops", "backend", "label", "comparable", "cells": {router: {"value", "n", "id"}},
                   "paper": {router: value}}]}
    """
    cells: dict[tuple, dict] = {}
    comparable: dict[tuple, bool] = {}
    base: dict[str, str] = {}  # router label -> router
    for r in mode_runs(rows, mode, query):
        key = _design(r)
        b = row_backend(r)
        comparable[key] = b.name is None or b.writes_llm_text
        col = r.get("router_label") or r.get("router") or "?"
        base[col] = r.get("router") or "?"
        c = cells.setdefault(key, {}).setdefault(col, {"value": None, "n": 0, "id": None})
        c["n"] += 1
        v = r.get("avg_performance")
        if v is not None and (c["value"] is None or v > c["value"]):
            c["value"], c["id"] = v, r.get("id")
    show_paper = released and mode == paper.MODE
    routers = {rt for cs in cells.values() for rt in cs}
    keys = set(cells)
    if show_paper:
        routers |= set(paper.ROUTERS.values())
        covered = {(m, h) for (m, h, _), ok in comparable.items() if ok}
        keys |= {(m, h, "") for m, h in paper.TABLE1 if (m, h) not in covered}
    methods, routers_in_order = method_order(defaults), router_order(defaults)
    ordered = sorted(keys, key=lambda k: (order_key(k[0], methods), not comparable.get(k, True),
                                          -1 if k[1] is None else k[1], k[2]))
    out_rows = []
    for m, h, b in ordered:
        ok = comparable.get((m, h, b), True)
        label = m + (f" [{b}]" if b else "") + ("" if ok else f" ({NOT_COMPARABLE})")
        out_rows.append({"method": m, "hops": h, "backend": b or None, "label": label, "comparable": ok,
                         "cells": cells.get((m, h, b), {}),
                         "paper": paper.TABLE1.get((m, h), {}) if show_paper and ok else {}})
    if show_paper:
        note = f"'paper' columns: {paper.SOURCE}. Ours: best run per cell over every graph that passes the filter."
    elif released:
        note = "The paper publishes Table 1 for the standard mode only. Ours: best run per cell."
    else:
        note = "Ours: best run per cell. (Published values appear only on the released routeprofile dataset.)"
    if not all(comparable.values()):
        note += (" text-gnn rows marked '" + NOT_COMPARABLE + "' come from a backend that writes no LLM text "
                 "(extractive): they are never set against the paper's LLM-written text-gnn values.")
    columns = sorted(routers, key=lambda c: (order_key(base.get(c, c), routers_in_order), c != base.get(c, c), c))
    return {"routers": columns, "paper": show_paper, "note": note, "rows": out_rows}


# ---------------------------------------------------------------------------------------------------------------
# Cost-quality plane
# ---------------------------------------------------------------------------------------------------------------


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
        curve = sorted(p for p in (plot_point(q) for q in pts) if p is not None)
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
        out.append({"id": r.get("id"), "label": f"{r.get('router_label') or r.get('router')} / "
                                                f"{r.get('profile_label')}", "values": vals})
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


def _label(entry: dict | None, defaults: Mapping | None) -> str:
    if entry is None:
        return "(missing from the manifest)"
    p = entry.get("params", {})
    if entry.get("kind") == "graph":
        return f"{p.get('kind', '?')} graph ({p.get('mode', '?')})"
    if entry.get("kind") == "profile":
        return f"{profile_label(entry, defaults)} ({p.get('mode', '?')})"
    return f"{router_label(p, defaults)} router ({p.get('mode', '?')})"


def run_detail(doc: dict, run_id: str, defaults: Mapping | None = None) -> dict:
    """Everything the run screen shows, as plain data; the title is the run's label (the leaderboard's, with
    ``defaults`` the label data).

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
        ("avg performance", fmt(m.get("avg_performance")) + (f" ± {sd:.4f} (sd over {len(p.get('seeds', []))} "
                                                                f"seeds)" if sd is not None else "")),
        ("95% CI (bootstrap)", f"{ci[0]:.4f} – {ci[1]:.4f}" if ci else "-"),
        ("macro avg over tasks", fmt(m.get("macro_avg_performance"))),
        ("µ$ / query", fmt(m.get("avg_cost_micro"), 1)),
        ("gap closed", fmt(m.get("gap_closed"), 3) + (f"  (vs {m['bsm_reference']['name']} "
                                                       f"{m['bsm_reference']['avg_performance']:.4f})"
                                                       if m.get("bsm_reference") else "")),
        ("best-pick rate", fmt(m.get("best_pick_rate"), 3)
         + (f"  (discriminative rows: {fmt(m.get('best_pick_rate_discriminative'), 3)} of "
            f"{m.get('n_discriminative')})" if m.get("n_discriminative") else "")),
        ("hit rate", fmt(m.get("hit_rate"), 3)),
        ("oracle / regret", f"{fmt(m.get('oracle'))} / {fmt(m.get('regret'))}"),
        ("selection entropy", fmt(m.get("selection_entropy"), 3)),
        ("test rows", fmt(m.get("n_rows"))),
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
            ("new model", fmt(nl.get("model"))),
            ("selection rate", fmt(nl.get("selection_rate"), 3) + f"  ({fmt(nl.get('n_selected'))} rows)"),
            ("precision", fmt(nl.get("precision"), 3)),
            ("cold-start recall", fmt(csr.get("value"), 3)
             + f"  ({fmt(csr.get('numerator'))}/{fmt(csr.get('denominator'))})"),
            ("cold-start recall, strict", fmt(strict.get("value"), 3)
             + f"  ({fmt(strict.get('numerator'))}/{fmt(strict.get('denominator'))})"),
            ("avg perf without the new model", fmt(nl.get("avg_performance_without_new"))),
            ("gain from the new model", fmt(nl.get("gain_from_new"))),
        ]
    lineage = [{"kind": x.get("kind") if x else kind, "id": i, "label": _label(x, defaults),
                "created_at": (x or {}).get("created_at")}
               for kind, i, x in (("graph", gid, graph), ("profile", pid, prof), ("run", run_id, e)) if i]
    prov = e.get("provenance") or {}
    enc = e.get("encoder") or {}
    data = e.get("data") or {}
    provenance = [("created", fmt(e.get("created_at"))), ("duration", f"{e.get('duration_s', 0):.1f} s"),
                  ("data", f"{data.get('root', '-')}  (hash {str(e.get('data_hash') or '-')[:12]})"),
                  ("encoder", fmt(enc.get("id")))]
    provenance += [(k.replace("_", " "), fmt(v)) for k, v in sorted(prov.items())]
    provenance += [("output", o.get("path", "?")) for o in e.get("outputs") or []]
    params = {"run": p}
    if prof:
        params["profile"] = prof.get("params") or {}
    if graph:
        params["graph"] = graph.get("params") or {}
    return {"id": run_id, "title": run_label(p, prof, graph, defaults),
            "mode": p.get("mode"), "summary": summary, "per_task": per_task, "selection_share": share,
            "newllm": newllm, "params": params, "lineage": lineage, "provenance": provenance,
            "per_seed": m.get("per_seed") or [], "warnings": list(m.get("warnings") or [])}


__all__ = ["view_rows", "pivot", "cost_quality", "task_heatmap", "heat_color", "run_detail", "short_model"]

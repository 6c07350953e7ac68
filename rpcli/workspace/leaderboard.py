"""Leaderboard rows from the manifest: plain data shared by `rp compare` and the dashboard (stdlib only)."""

from __future__ import annotations

KEY_PARAMS = ("K", "norm", "layers", "num_layers", "hops", "context", "backend", "self_loops", "per_node_mean",
              "normalize")


def profile_label(entry: dict | None) -> str:
    if entry is None:
        return "?"
    p = entry.get("params", {})
    bits = []
    for k in KEY_PARAMS:
        if k in p and p[k] not in (None, False):
            bits.append(f"{k}={p[k]}" if p[k] is not True else k)
    return f"{p.get('method', '?')}" + (f"({', '.join(bits)})" if bits else "")


def graph_label(entry: dict | None) -> str:
    if entry is None:
        return "-"
    return entry.get("params", {}).get("kind", "?")


def run_rows(doc: dict) -> list[dict]:
    entries = doc.get("entries", {})
    rows = []
    for e in entries.values():
        if e.get("kind") != "run" or e.get("status") != "done":
            continue
        prof = entries.get((e.get("parents") or [None])[0])
        graph = entries.get((prof.get("parents") or [None])[0]) if prof and prof.get("parents") else None
        m = e.get("metrics", {})
        p = e.get("params", {})
        seeds = m.get("seeds", {})
        nl = m.get("newllm") or {}
        csr = nl.get("cold_start_recall") or {}
        # A multi-seed run reports seed means ± sd; seed 0's bootstrap CI and recall numerator would not match them.
        multi = len(p.get("seeds", [0]) or [0]) > 1
        rows.append({
            "kind": "run", "id": e["id"], "mode": p.get("mode"), "router": p.get("router"),
            "profile": prof["id"] if prof else None, "graph": graph["id"] if graph else None,
            "profile_label": profile_label(prof), "graph_label": graph_label(graph),
            "name": f"{p.get('router')} / {profile_label(prof)} / {graph_label(graph)}",
            "seeds": p.get("seeds", [0]),
            "avg_performance": m.get("avg_performance"),
            "avg_performance_sd": (seeds.get("avg_performance") or {}).get("sd"),
            "avg_performance_ci95": None if multi else m.get("avg_performance_ci95"),
            "avg_cost": m.get("avg_cost"), "avg_cost_micro": m.get("avg_cost_micro"),
            "gap_closed": m.get("gap_closed"), "best_pick_rate": m.get("best_pick_rate"),
            "hit_rate": m.get("hit_rate"), "selection_entropy": m.get("selection_entropy"),
            "cold_start_recall": csr.get("value"), "data_hash": e.get("data_hash"),
            "created_at": e.get("created_at"),
            # additive fields (dashboard, CSV): keep the ones above stable, they are the --json contract
            "profile_method": (prof or {}).get("params", {}).get("method"),
            "hops": profile_hops(prof),
            "n_seeds": len(p.get("seeds", [0]) or [0]),
            "cold_start_recall_numerator": None if multi else csr.get("numerator"),
            "cold_start_recall_denominator": csr.get("denominator"),
            "new_selection_rate": nl.get("selection_rate"),
            "gain_from_new": nl.get("gain_from_new"),
            "has_cost_quality": bool(m.get("cost_quality")),
        })
    return rows


HOP_PARAMS = ("K", "hops", "layers", "num_layers")


def profile_hops(entry: dict | None) -> int | None:
    """The profile's depth: K for propagation methods, the layer count for trainable encoders, 0 for flat/index."""
    if entry is None:
        return None
    p = entry.get("params", {})
    for k in HOP_PARAMS:
        if isinstance(p.get(k), int) and not isinstance(p.get(k), bool):
            return p[k]
    return 0 if p.get("method") in ("index", "flat") else None


def sort_rows(rows: list[dict]) -> list[dict]:
    modes = {"standard": 0, "newllm": 1}
    return sorted(rows, key=lambda r: (modes.get(r.get("mode"), 9), -(r.get("avg_performance") or -1e9),
                                       r.get("kind") != "run", r.get("name") or ""))


# ---------------------------------------------------------------------------------------------------------------
# Flags, sorting and filtering shared by `rp compare` (plain/CSV/JSON) and the dashboard
# ---------------------------------------------------------------------------------------------------------------

BASELINE = "per-task-best (train)"  # the reference a router must beat (metrics.md: "a strong baseline")


def annotate_rows(rows: list[dict]) -> list[dict]:
    """Add ``beats_per_task_best`` to every run row (True/False; None when its mode has no such reference).

    A run that does not beat the per-task best (train) is no better than routing by task alone.
    """
    base = {r.get("mode"): r.get("avg_performance") for r in rows
            if r.get("kind") != "run" and r.get("name") == BASELINE}
    for r in rows:
        if r.get("kind") != "run":
            continue
        b, a = base.get(r.get("mode")), r.get("avg_performance")
        r["beats_per_task_best"] = None if b is None or a is None else bool(a > b)
    return rows


def row_key(row: dict) -> str:
    """A unique, stable key per row of one mode: the run id, or "ref:" + the reference name."""
    return row["id"] if row.get("kind") == "run" and row.get("id") else f"{row.get('kind')}:{row.get('name')}"


def _sort_value(row: dict, key: str):
    if key == "name":
        return (row.get("id") if row.get("kind") == "run" else row.get("name")) or ""
    if key == "graph":
        return row.get("graph_label") or ""
    if key == "profile":
        return row.get("profile_label") or ""
    if key == "seeds":
        return row.get("n_seeds")
    if key == "ci95":
        ci = row.get("avg_performance_ci95")
        return ci[0] if ci else None
    return row.get(key)


def sort_rows_by(rows: list[dict], key: str, reverse: bool = False) -> list[dict]:
    """Rows sorted by one column; rows without a value go last in either direction; ties keep their order."""
    have = [r for r in rows if _sort_value(r, key) is not None]
    missing = [r for r in rows if _sort_value(r, key) is None]
    have.sort(key=lambda r: _sort_value(r, key), reverse=reverse)
    return have + missing


FILTER_FIELDS = {"router": ("router",), "profile": ("profile_label", "profile"), "graph": ("graph_label", "graph"),
                 "id": ("id",), "method": ("profile_method",)}


def filter_rows(rows: list[dict], query: str) -> list[dict]:
    """Keep the runs that match every term of ``query``; reference rows always stay (they are the yardstick).

    Terms are case-insensitive substrings: ``field:value`` for router, profile, graph, id or method, and bare
    words matched against the id, the name and the graph, profile and router labels.
    Example: ``router:sim profile:K=2 emb``.
    """
    terms = query.lower().split()
    if not terms:
        return list(rows)

    def text(r, fields):
        return " ".join(str(r.get(f) or "") for f in fields).lower()

    def match(r):
        for t in terms:
            field, sep, value = t.partition(":")
            if sep and field in FILTER_FIELDS:
                if value not in text(r, FILTER_FIELDS[field]):
                    return False
            elif t not in text(r, ("id", "name", "graph_label", "profile_label", "router")):
                return False
        return True

    return [r for r in rows if r.get("kind") != "run" or match(r)]


def select_comparable(runs: list[dict], data_hash: str | None, allow_mixed: bool) -> tuple[list[dict], str | None]:
    """The runs that may be ranked together, and a notice when some were held back.

    With ``data_hash`` (the dataset the references were computed on) only runs evaluated on it are kept. Without
    it, runs from several datasets are refused altogether. ``allow_mixed`` keeps everything (with a notice).
    """
    hashes = {r.get("data_hash") for r in runs}
    if allow_mixed:
        n = len(hashes - {data_hash}) if data_hash else len(hashes) - 1
        return list(runs), (f"ranking runs from {len(hashes)} datasets together (--allow-mixed)" if n > 0 else None)
    if data_hash is not None:
        kept = [r for r in runs if r.get("data_hash") == data_hash]
        hidden = len(runs) - len(kept)
        return kept, (f"{hidden} run(s) evaluated on other data are hidden (--allow-mixed shows them)"
                      if hidden else None)
    if len(hashes) > 1:
        return [], (f"the runs were evaluated on {len(hashes)} different datasets and are not ranked together; "
                    "pass --data for one of them, or --allow-mixed")
    return list(runs), None


# ---------------------------------------------------------------------------------------------------------------
# Columns and cell text shared by the Rich table, the CSV and the dashboard
# ---------------------------------------------------------------------------------------------------------------

# (key, label, numeric, default descending, modes)
COLUMNS = (
    ("name", "run / reference", False, False, ("standard", "newllm")),
    ("graph", "graph", False, False, ("standard", "newllm")),
    ("profile", "profile", False, False, ("standard", "newllm")),
    ("router", "router", False, False, ("standard", "newllm")),
    ("seeds", "seeds", True, True, ("standard", "newllm")),
    ("avg_performance", "avg perf", True, True, ("standard", "newllm")),
    ("ci95", "95% CI", True, True, ("standard", "newllm")),
    ("avg_cost_micro", "µ$/query", True, False, ("standard", "newllm")),
    ("gap_closed", "gap closed", True, True, ("standard", "newllm")),
    ("best_pick_rate", "best-pick", True, True, ("standard", "newllm")),
    ("cold_start_recall", "cold-start", True, True, ("newllm",)),
)


def columns_for(mode: str | None) -> list[tuple]:
    return [c for c in COLUMNS if mode is None or mode in c[4]]


def _num(v, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def cell_text(row: dict, key: str) -> str:
    """The text of one leaderboard cell (no styling)."""
    is_run = row.get("kind") == "run"
    if key == "name":
        return (row.get("id") if is_run else row.get("name")) or "-"
    if key == "graph":
        return (row.get("graph_label") if is_run else "") or ("-" if is_run else "")
    if key == "profile":
        return (row.get("profile_label") or "-") if is_run else ""
    if key == "router":
        if not is_run:
            return {"reference": "ref"}.get(row.get("kind"), row.get("kind") or "")
        return row.get("router") or "-"
    if key == "seeds":
        return str(row.get("n_seeds") or len(row.get("seeds") or [0])) if is_run else ""
    if key == "avg_performance":
        s = _num(row.get("avg_performance"), 4)
        sd = row.get("avg_performance_sd")
        return s + (f" ±{sd:.3f}" if is_run and sd is not None and (row.get("n_seeds") or 1) > 1 else "")
    if key == "ci95":
        ci = row.get("avg_performance_ci95")
        return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else ""
    if key == "avg_cost_micro":
        return _num(row.get("avg_cost_micro"), 1)
    if key == "gap_closed":
        return _num(row.get("gap_closed"), 3) if is_run else ""
    if key == "best_pick_rate":
        return _num(row.get("best_pick_rate"), 3) if is_run else ""
    if key == "cold_start_recall":
        v = row.get("cold_start_recall")
        if not is_run or v is None:
            return "" if not is_run else "-"
        den = row.get("cold_start_recall_denominator")
        num = row.get("cold_start_recall_numerator")
        return f"{v:.3f}" + ((f" ({num}/{den})" if num is not None else f" (of {den})") if den else "")
    v = row.get(key)
    return "" if v is None else str(v)


def flag_text(row: dict) -> str:
    """"▽" for a run that does not beat the per-task best (train) reference of its mode."""
    return "▽" if row.get("kind") == "run" and row.get("beats_per_task_best") is False else ""


CSV_FIELDS = ("mode", "kind", "name", "id", "graph", "graph_label", "profile", "profile_label", "profile_method",
              "hops", "router", "seeds", "avg_performance", "avg_performance_sd", "ci95_low", "ci95_high",
              "avg_cost", "avg_cost_micro", "gap_closed", "best_pick_rate", "hit_rate", "selection_entropy",
              "cold_start_recall", "cold_start_recall_numerator", "cold_start_recall_denominator",
              "beats_per_task_best", "data_hash")


def rows_to_csv(rows: list[dict]) -> str:
    """The leaderboard as CSV (one header line, one line per row, full float precision, empty = none)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in rows:
        ci = r.get("avg_performance_ci95") or [None, None]
        vals = {**r, "ci95_low": ci[0], "ci95_high": ci[1],
                "seeds": ";".join(str(s) for s in r["seeds"]) if r.get("seeds") else None}
        out = []
        for f in CSV_FIELDS:
            v = vals.get(f)
            out.append("" if v is None else ("true" if v is True else "false" if v is False else
                                               repr(v) if isinstance(v, float) else str(v)))
        w.writerow(out)
    return buf.getvalue()

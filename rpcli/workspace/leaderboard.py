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
        rows.append({
            "kind": "run", "id": e["id"], "mode": p.get("mode"), "router": p.get("router"),
            "profile": prof["id"] if prof else None, "graph": graph["id"] if graph else None,
            "profile_label": profile_label(prof), "graph_label": graph_label(graph),
            "name": f"{p.get('router')} / {profile_label(prof)} / {graph_label(graph)}",
            "seeds": p.get("seeds", [0]),
            "avg_performance": m.get("avg_performance"),
            "avg_performance_sd": (seeds.get("avg_performance") or {}).get("sd"),
            "avg_performance_ci95": m.get("avg_performance_ci95"),
            "avg_cost": m.get("avg_cost"), "avg_cost_micro": m.get("avg_cost_micro"),
            "gap_closed": m.get("gap_closed"), "best_pick_rate": m.get("best_pick_rate"),
            "hit_rate": m.get("hit_rate"), "selection_entropy": m.get("selection_entropy"),
            "cold_start_recall": csr.get("value"), "data_hash": e.get("data_hash"),
            "created_at": e.get("created_at"),
        })
    return rows


def sort_rows(rows: list[dict]) -> list[dict]:
    modes = {"standard": 0, "newllm": 1}
    return sorted(rows, key=lambda r: (modes.get(r.get("mode"), 9), -(r.get("avg_performance") or -1e9),
                                       r.get("kind") != "run", r.get("name") or ""))

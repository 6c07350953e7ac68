"""Estimate how long a cell takes to build from the recorded durations of similar artifacts.

Similar means: the same kind and the same graph kind / profile method / router; among those, the ones sharing the
most (mode, option values) with the cell count. The estimate is their median duration. Runs are scaled by the
number of training seeds (a run of 3 seeds takes about three times one seed), and by the ratio of the size
options that cost grows with (hops K, layers, epochs) when they differ from the recorded artifact's.
"""

from __future__ import annotations

import statistics

from rpcli.core.sweep.expand import Cell

_WHAT = {"graph": "kind", "profile": "method", "run": "router"}
SCALE_KEYS = ("K", "layers", "epochs")


def _scale(cell: Cell, params: dict) -> float:
    f = 1.0
    for k in SCALE_KEYS:
        a, b = cell.options.get(k), params.get(k)
        if isinstance(a, int) and isinstance(b, int) and a > 0 and b > 0:
            f *= a / b
    return f


def _seeds(params: dict) -> int:
    s = params.get("seeds")
    return len(s) if isinstance(s, list) and s else 1


def _graph_kind(entry: dict, entries: dict) -> str | None:
    """The graph kind an artifact descends from (None for profiles without a graph)."""
    for _ in range(3):
        if entry.get("kind") == "graph":
            return (entry.get("params") or {}).get("kind")
        parents = entry.get("parents") or []
        if not parents or parents[0] not in entries:
            return None
        entry = entries[parents[0]]
    return None


def estimate_seconds(cell: Cell, entries: dict) -> tuple[float | None, int]:
    """(seconds, how many recorded artifacts the estimate rests on); (None, 0) without a similar artifact.
    `entries` are the manifest's entries by id."""
    field = _WHAT[cell.kind]
    gcell = cell.graph_cell
    scored = []
    for e in entries.values():
        if e.get("kind") != cell.kind or e.get("status") != "done" or e.get("duration_s") is None:
            continue
        p = e.get("params") or {}
        if p.get(field) != cell.what:
            continue
        score = 2 * (p.get("mode") == cell.mode)
        score += sum(1 for k, v in cell.options.items() if k != "seeds" and p.get(k) == v)
        if cell.kind != "graph" and gcell is not None and _graph_kind(e, entries) == gcell.what:
            score += 2
        scored.append((score, e))
    if not scored:
        return None, 0
    best = max(s for s, _ in scored)
    group = [e for s, e in scored if s == best]
    if cell.kind == "run":
        want = len(cell.options.get("seeds") or [0]) if cell.what != "sim" else 1
        per = [float(e["duration_s"]) / _seeds(e["params"]) * _scale(cell, e["params"]) for e in group]
        return statistics.median(per) * want, len(group)
    return statistics.median(float(e["duration_s"]) * _scale(cell, e["params"]) for e in group), len(group)

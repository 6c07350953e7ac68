"""The leaderboard, as plain data: the one module behind `rp compare` (plain, JSON, CSV), the dashboard and the run
rows of `rp report`.

Stdlib only (no numpy, no torch, no rpcli.core): the dashboard imports it without the engine. It holds the run rows
read from the manifest (labelled by rpcli.workspace.labels), the data filter, the comparability filter and its
messages, the flags, sorting and filtering, the columns and the cell text, the number formatter, the CSV, the
cost-quality coordinates and the Pareto front. The reference rows and the label defaults need the dataset and the
registry: services.compare computes them with the core and passes them in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from rpcli.workspace import labels as _labels
from rpcli.workspace.labels import (NON_LLM_BACKENDS, call_text, encoder_options, graph_label,  # noqa: F401
                                    profile_label, router_label, router_options, run_label)

MODES = ("standard", "newllm")  # the one list of modes of the results view (compare, report, dashboard)
MICRO = 1e6  # dollars -> micro-dollars
TEST_INFO = "carries test information"  # in a reference row's note when it saw test queries (step 7)
BASELINE = "per-task-best (train)"  # the reference a router must beat (metrics.md: "a strong baseline")
ORACLES = ("oracle", "oracle-cost-aware")
UNPRICED_MARK = "*"  # after a cost cell computed without the cost of candidates that have no price


def fmt(v, digits: int = 4) -> str:
    """One value as text: "-" for none, yes/no for booleans, floats with ``digits`` decimals, the rest as is."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


# ---------------------------------------------------------------------------------------------------------------
# Labels and run rows
# ---------------------------------------------------------------------------------------------------------------

HOP_PARAMS = ("K", "hops", "layers", "num_layers")


class Backend(NamedTuple):
    """The text generator of a text-gnn profile: its backend id and, for an LLM backend, the model."""
    name: str | None
    model: str | None

    @property
    def writes_llm_text(self) -> bool:
        return self.name is not None and self.name not in NON_LLM_BACKENDS

    def text(self) -> str:
        """"extractive" or "transformers model=<id>"; empty without a backend."""
        if self.name is None:
            return ""
        return self.name + (f" model={self.model}" if self.model else "")


def profile_backend(entry: dict | None) -> Backend:
    """The text generator recorded in a profile's params (rpcli.workspace.labels.profile_backend)."""
    return Backend(*_labels.profile_backend(entry))


def profile_hops(entry: dict | None) -> int | None:
    """The profile's depth: K for propagation methods, the layer count for trainable encoders, 0 for a method
    without a depth option (flat, index, a plugin's)."""
    if entry is None:
        return None
    p = entry.get("params", {})
    for k in HOP_PARAMS:
        if isinstance(p.get(k), int) and not isinstance(p.get(k), bool):
            return p[k]
    return 0 if p.get("method") else None


def run_row(e: dict, entries: Mapping, defaults: Mapping | None = None) -> dict:
    """The row of one run record (see `run_rows`)."""
    prof = entries.get((e.get("parents") or [None])[0])
    graph = entries.get((prof.get("parents") or [None])[0]) if prof and prof.get("parents") else None
    m = e.get("metrics", {})
    p = e.get("params", {})
    seeds = m.get("seeds", {})
    nl = m.get("newllm") or {}
    csr = nl.get("cold_start_recall") or {}
    backend = profile_backend(prof)
    # A multi-seed run reports seed means ± sd; seed 0's bootstrap CI and recall numerator would not match them.
    multi = len(p.get("seeds", [0]) or [0]) > 1
    enc = encoder_options(e, prof, graph)  # a non-default encoder is named beside the router's options
    label = run_label(p, prof, graph, defaults, extra=enc)
    return {
        "kind": "run", "id": e["id"], "mode": p.get("mode"), "router": p.get("router"),
        "profile": prof["id"] if prof else None, "graph": graph["id"] if graph else None,
        "profile_label": profile_label(prof, defaults), "graph_label": graph_label(graph),
        "name": label,
        "seeds": p.get("seeds", [0]),
        "avg_performance": m.get("avg_performance"),
        "avg_performance_sd": (seeds.get("avg_performance") or {}).get("sd"),
        "avg_performance_ci95": None if multi else m.get("avg_performance_ci95"),
        "avg_cost": m.get("avg_cost"), "avg_cost_micro": m.get("avg_cost_micro"),
        "gap_closed": m.get("gap_closed"), "best_pick_rate": m.get("best_pick_rate"),
        "hit_rate": m.get("hit_rate"), "selection_entropy": m.get("selection_entropy"),
        "cold_start_recall": csr.get("value"), "data_hash": e.get("data_hash"),
        "created_at": e.get("created_at"),
        # additive fields (dashboard, CSV, report): keep the ones above stable, they are the --json contract
        "profile_method": (prof or {}).get("params", {}).get("method"),
        "backend": backend.name, "llm_model": backend.model,
        "hops": profile_hops(prof),
        "n_seeds": len(p.get("seeds", [0]) or [0]),
        "cold_start_recall_numerator": None if multi else csr.get("numerator"),
        "cold_start_recall_denominator": csr.get("denominator"),
        "new_selection_rate": nl.get("selection_rate"),
        "gain_from_new": nl.get("gain_from_new"),
        "has_cost_quality": bool(m.get("cost_quality")),
        "label": label,  # the run's label (= name): router(options, seeds) / profile / graph
        "router_label": (call_text(str(p.get("router") or "?"), {**router_options(p, defaults), **enc}) if enc
                         else router_label(p, defaults)),  # router(options): the router column
        "options": {**router_options(p, defaults), **enc},  # the options the label names (not the seeds)
        # the candidates without a price on the run's data (recorded by the run; None: not recorded, see `board`)
        "unpriced_candidates": (e.get("info") or {}).get("unpriced"),
    }


def run_rows(doc: dict, defaults: Mapping | None = None) -> list[dict]:
    """One row per finished run of the manifest, every mode and dataset: the rows of `rp compare` (the --json
    contract; see docs/dashboard.md), the dashboard and `rp report`.

    ``defaults`` is the label data of rpcli.core.registry.label_defaults(); the labels name every option that
    differs from it (rpcli.workspace.labels). Without it, every recorded option that is on is named.
    """
    entries = doc.get("entries", {})
    return [run_row(e, entries, defaults) for e in entries.values()
            if e.get("kind") == "run" and e.get("status") == "done"]


def on_data(runs: list[dict], data_hash: str | None) -> tuple[list[dict], int]:
    """The runs evaluated on ``data_hash`` and how many others there are: the one data filter of the results
    view (the leaderboard's comparability filter and the report's scope)."""
    kept = [r for r in runs if r.get("data_hash") == data_hash]
    return kept, len(runs) - len(kept)


def row_backend(row: dict) -> Backend:
    """The text-gnn backend of a leaderboard row (none for reference rows and other methods)."""
    return Backend(row.get("backend"), row.get("llm_model"))


# ---------------------------------------------------------------------------------------------------------------
# The board: reference rows + the comparable runs, flagged against the per-task best
# ---------------------------------------------------------------------------------------------------------------


class Board(NamedTuple):
    rows: list[dict]
    notice: str | None  # why runs were held back, or that datasets are mixed; None when all share the dataset


def select_comparable(runs: list[dict], data_hash: str | None, allow_mixed: bool,
                      data_name: str | None = None) -> Board:
    """The runs that may be ranked together, and a notice when some were held back (or mixed).

    With ``data_hash`` (the dataset the references were computed on, called ``data_name`` in the notice) only runs
    evaluated on it are kept. Without it, runs from several datasets are refused altogether. ``allow_mixed`` keeps
    everything (with a notice).
    """
    hashes = {r.get("data_hash") for r in runs}
    if allow_mixed:
        n = len(hashes | {data_hash}) if data_hash else len(hashes)  # the references' dataset counts too
        return Board(list(runs), f"ranking runs from {n} datasets together (--allow-mixed)" if n > 1 else None)
    if data_hash is not None:
        kept, hidden = on_data(runs, data_hash)
        if hidden and not kept:
            return Board(kept, f"{hidden} recorded run(s) were evaluated on other data than "
                               f"{data_name or 'this dataset'}; none is shown (pass --data for their dataset, "
                               "or --allow-mixed)")
        return Board(kept, f"{hidden} run(s) evaluated on other data are hidden (--allow-mixed shows them)"
                     if hidden else None)
    if len(hashes) > 1:
        return Board([], f"the runs were evaluated on {len(hashes)} different datasets and are not ranked "
                         "together; pass --data for one of them, or --allow-mixed")
    return Board(list(runs), None)


def baseline_value(rows: list[dict], mode: str | None) -> float | None:
    """avg_performance of the per-task best (train) reference of ``mode`` (None when absent)."""
    return next((r.get("avg_performance") for r in rows
                 if r.get("mode") == mode and r.get("kind") != "run" and r.get("name") == BASELINE), None)


def annotate_rows(rows: list[dict]) -> list[dict]:
    """Add ``beats_per_task_best`` to every run row (True/False; None when its mode has no such reference).

    A run that does not beat the per-task best (train) is no better than routing by task alone.
    """
    base = {m: baseline_value(rows, m) for m in {r.get("mode") for r in rows}}
    for r in rows:
        if r.get("kind") != "run":
            continue
        b, a = base[r.get("mode")], r.get("avg_performance")
        r["beats_per_task_best"] = None if b is None or a is None else bool(a > b)
    return rows


def board(references: Iterable[dict], doc: dict, *, data_hash: str | None = None, allow_mixed: bool = False,
          modes: Iterable[str] = MODES, data_name: str | None = None, defaults: Mapping | None = None,
          unpriced: Iterable[str] | None = None) -> Board:
    """Reference rows (as given) plus the manifest's comparable runs of ``modes``, flagged against the per-task
    best (train). The notice says why runs were held back, or that several datasets are mixed. ``defaults``:
    the label data (see `run_rows`). ``unpriced``: the candidates without a price of the ``data_hash`` dataset; a
    run on it that recorded none (older runs) gets them as its ``unpriced_candidates``."""
    modes = tuple(modes)
    runs = [r for r in run_rows(doc, defaults) if r.get("mode") in modes]
    kept, notice = select_comparable(runs, data_hash, allow_mixed, data_name)
    if unpriced is not None:
        for r in kept:
            if r.get("unpriced_candidates") is None and data_hash is not None and r.get("data_hash") == data_hash:
                r["unpriced_candidates"] = list(unpriced)
    return Board(annotate_rows([dict(r) for r in references] + kept), notice)


def unpriced_note(rows: Iterable[dict]) -> str | None:
    """The note under a table whose cost cells carry `UNPRICED_MARK` (None when none does)."""
    names = sorted({m for r in rows if r.get("kind") != "single" for m in (r.get("unpriced_candidates") or ())})
    if not names:
        return None
    return (f"{UNPRICED_MARK} µ$/query computed without the cost of candidates that have no price "
            f"({', '.join(names)}): an average leaves out the rows where one of them is chosen, and cost-quality "
            "curves lack their cost (`rp data check` lists them)")


# ---------------------------------------------------------------------------------------------------------------
# Order, keys and the filter
# ---------------------------------------------------------------------------------------------------------------


def sort_rows(rows: list[dict]) -> list[dict]:
    """The printed order: by mode, best first, runs before references on ties, then by name."""
    order = {m: i for i, m in enumerate(MODES)}
    return sorted(rows, key=lambda r: (order.get(r.get("mode"), 9), -(r.get("avg_performance") or -1e9),
                                       r.get("kind") != "run", r.get("name") or ""))


def row_key(row: dict) -> str:
    """A unique, stable key per row of one mode: the run id, or kind + ":" + the reference name."""
    return row["id"] if row.get("kind") == "run" and row.get("id") else f"{row.get('kind')}:{row.get('name')}"


def _sort_value(row: dict, key: str):
    if key == "name":
        return (row.get("id") if row.get("kind") == "run" else row.get("name")) or ""
    if key == "graph":
        return row.get("graph_label") or ""
    if key == "profile":
        return row.get("profile_label") or ""
    if key == "router":
        return row.get("router_label") or row.get("router") or ""
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


FILTER_FIELDS = {"router": ("router", "router_label"), "profile": ("profile_label", "profile"),
                 "graph": ("graph_label", "graph"), "id": ("id",), "method": ("profile_method",),
                 "backend": ("backend", "llm_model")}


def filter_rows(rows: list[dict], query: str) -> list[dict]:
    """Keep the runs that match every term of ``query``; reference rows always stay (they are the yardstick).

    Terms are case-insensitive substrings: ``field:value`` for router (the name and its label, so
    ``router:card_weight`` works), profile, graph, id, method or backend; ``hops:N`` matches the hop count exactly
    (a label leaves out a K at its default); bare words are matched against the id, the name (the run's label) and
    the graph, profile and router labels. Example: ``router:sim hops:2 emb``.
    """
    terms = query.lower().split()
    if not terms:
        return list(rows)

    def text(r, fields):
        return " ".join(str(r.get(f) or "") for f in fields).lower()

    def match(r):
        for t in terms:
            field, sep, value = t.partition(":")
            if sep and field == "hops":
                if str(r.get("hops")) != value:
                    return False
            elif sep and field in FILTER_FIELDS:
                if value not in text(r, FILTER_FIELDS[field]):
                    return False
            elif t not in text(r, ("id", "name", "graph_label", "profile_label", "router", "router_label")):
                return False
        return True

    return [r for r in rows if r.get("kind") != "run" or match(r)]


def mode_runs(rows: list[dict], mode: str, query: str = "") -> list[dict]:
    """The runs of one mode that pass the filter, best first."""
    runs = [r for r in rows if r.get("mode") == mode and r.get("kind") == "run"]
    return sort_rows_by(filter_rows(runs, query), "avg_performance", reverse=True)


# ---------------------------------------------------------------------------------------------------------------
# Columns and cell text shared by the Rich table, the CSV and the dashboard
# ---------------------------------------------------------------------------------------------------------------


class Column(NamedTuple):
    key: str
    label: str
    numeric: bool
    descending: bool  # the first sort on this column puts the largest first
    modes: tuple[str, ...] = MODES


COLUMNS = (
    Column("name", "run / reference", False, False),
    Column("graph", "graph", False, False),
    Column("profile", "profile", False, False),
    Column("router", "router", False, False),
    Column("seeds", "seeds", True, True),
    Column("avg_performance", "avg perf", True, True),
    Column("ci95", "95% CI", True, True),
    Column("avg_cost_micro", "µ$/query", True, False),
    Column("gap_closed", "gap closed", True, True),
    Column("best_pick_rate", "best-pick", True, True),
    Column("cold_start_recall", "cold-start", True, True, ("newllm",)),
)


def columns_for(mode: str | None) -> list[Column]:
    return [c for c in COLUMNS if mode is None or mode in c.modes]


def cell_text(row: dict, key: str) -> str:
    """The text of one leaderboard cell (no styling)."""
    is_run = row.get("kind") == "run"
    if key == "name":
        if not is_run and TEST_INFO in (row.get("note") or ""):
            return f"{row.get('name')} (carries test info)"
        return (row.get("id") if is_run else row.get("name")) or "-"
    if key == "graph":
        return (row.get("graph_label") if is_run else "") or ("-" if is_run else "")
    if key == "profile":
        return (row.get("profile_label") or "-") if is_run else ""
    if key == "router":
        if not is_run:
            return {"reference": "ref"}.get(row.get("kind"), row.get("kind") or "")
        return row.get("router_label") or row.get("router") or "-"
    if key == "seeds":
        return str(row.get("n_seeds") or len(row.get("seeds") or [0])) if is_run else ""
    if key == "avg_performance":
        sd = row.get("avg_performance_sd")
        return fmt(row.get("avg_performance")) + (f" ±{sd:.3f}" if is_run and sd is not None
                                                   and (row.get("n_seeds") or 1) > 1 else "")
    if key == "ci95":
        ci = row.get("avg_performance_ci95")
        return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else ""
    if key == "avg_cost_micro":
        v = row.get("avg_cost_micro")
        marked = v is not None and row.get("kind") != "single" and row.get("unpriced_candidates")
        return fmt(v, 1) + (UNPRICED_MARK if marked else "")
    if key in ("gap_closed", "best_pick_rate"):
        return fmt(row.get(key), 3) if is_run else ""
    if key == "cold_start_recall":
        v = row.get("cold_start_recall")
        if not is_run or v is None:
            return "" if not is_run else "-"
        den = row.get("cold_start_recall_denominator")
        num = row.get("cold_start_recall_numerator")
        return fmt(v, 3) + ((f" ({num}/{den})" if num is not None else f" (of {den})") if den else "")
    v = row.get(key)
    return "" if v is None else str(v)


def flag_text(row: dict) -> str:
    """"▽" for a run that does not beat the per-task best (train) reference of its mode."""
    return "▽" if row.get("kind") == "run" and row.get("beats_per_task_best") is False else ""


CSV_FIELDS = ("mode", "kind", "name", "id", "graph", "graph_label", "profile", "profile_label", "profile_method",
              "hops", "router", "seeds", "avg_performance", "avg_performance_sd", "ci95_low", "ci95_high",
              "avg_cost", "avg_cost_micro", "gap_closed", "best_pick_rate", "hit_rate", "selection_entropy",
              "cold_start_recall", "cold_start_recall_numerator", "cold_start_recall_denominator",
              "beats_per_task_best", "data_hash", "backend", "llm_model",
              "router_label", "unpriced_candidates")  # new columns go last: keep positions


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
                "seeds": ";".join(str(s) for s in r["seeds"]) if r.get("seeds") else None,
                "unpriced_candidates": (";".join(r["unpriced_candidates"]) if r.get("unpriced_candidates") is not None
                                        else None)}
        out = []
        for f in CSV_FIELDS:
            v = vals.get(f)
            out.append("" if v is None else ("true" if v is True else "false" if v is False else
                                               repr(v) if isinstance(v, float) else str(v)))
        w.writerow(out)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# The cost-quality plane
# ---------------------------------------------------------------------------------------------------------------


def _finite(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def plot_point(p) -> tuple[float, float] | None:
    """A point as (µ$/query, avg_performance), or None without both. Dicts carry ``avg_cost_micro`` or
    ``avg_cost`` ($); pairs are ($/query, avg_performance) like the core's cost-quality curve."""
    if isinstance(p, dict):
        y, x = p.get("avg_performance"), p.get("avg_cost_micro")
        if x is None and p.get("avg_cost") is not None:
            x = p["avg_cost"] * MICRO
    elif isinstance(p, (list, tuple)) and len(p) >= 2:
        x, y = (p[0] * MICRO if p[0] is not None else None), p[1]
    else:
        return None
    x, y = _finite(x), _finite(y)
    return None if x is None or y is None else (x, y)


def pareto_front(points: Iterable[Any]) -> list[Any]:
    """Points not dominated by any other (lower or equal cost and higher or equal quality, one strict), cheapest
    first. Points are (cost, quality) pairs, or dicts with ``avg_cost`` and ``avg_performance`` (returned as
    given); points missing a coordinate are ignored and of exact duplicates the first is kept."""
    pts = []
    for p in points:
        x, y = (p.get("avg_cost"), p.get("avg_performance")) if isinstance(p, Mapping) else (p[0], p[1])
        x, y = _finite(x), _finite(y)
        if x is not None and y is not None:
            pts.append((x, y, p))
    front, best = [], -math.inf
    for x, y, p in sorted(pts, key=lambda t: (t[0], -t[1])):  # stable: the first of equal points leads
        if y > best:
            front.append(p)
            best = y
    return front

"""rp report: the study's tables regenerated from the workspace manifest (stdlib only; no numpy or torch).

`build_report(doc, references, dataset=..., ...)` turns the manifest's run records (plus the reference rows the
caller computed from the dataset) into one plain dict; `render_markdown` and `render_json` print it. Both
renderings are deterministic: rows and columns are sorted by fixed keys, numbers have fixed formats, and nothing
depends on the clock or on the order of the manifest.

Cells. A cell is one (mode, profile design, router column). A profile design is (method, graph kind, hops, text
backend for text-gnn, encoder), plus any other profile option that differs between profiles which share that key
(shown in the row label only then). A profile's ``seed`` is a seed axis, not a design axis: profiles that differ
only in their seed share a row. A router column is the router plus every option that differs from the router's
defaults (when the caller knows them) or between the runs of that router. Per profile, the cell uses the run with
the most seeds (then the newest, then the smallest id); the others stay in the per-mode list of runs, marked as
superseded. The cell's value is the mean over every (profile seed, router seed) value it pools, with the sample
sd and n; the 95% bootstrap interval is shown when the cell holds one value and the run recorded one.

Paper values (--paper) come from rpcli.workspace.paper (Table 1 and Table 2, the node-type
ablation at 2 hops), are shown only on the released data and in standard mode, and never beside a text-gnn profile
whose backend wrote no LLM text (extractive, or K = 0): those sit in their own grid.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from rpcli.errors import ArtifactNotFoundError, DataFileError

# --- Everything this module takes from the leaderboard and the dashboard's paper data (one place, on purpose:
# --- the lead reconciles these imports with the merged leaderboard module).
from rpcli.workspace import paper as _paper  # TABLE1, TABLE2, GRAPH, MODE, SOURCE, is_released (pure data)
from rpcli.workspace.leaderboard import BASELINE, profile_hops

PAPER_ENCODER = "Longformer (768-d)"

MODES = ("standard", "newllm")
METHOD_ORDER = ("index", "flat", "text-gnn", "emb-gnn", "trainable")
GRAPH_ORDER = (None, "task", "query", "query-task", "task-domain", "query-task-domain")
ROUTER_ORDER = ("sim", "mlp", "graph")
ROUTER_TITLES = {"sim": "Sim", "mlp": "MLP", "graph": "Graph"}
HOP_KEYS = ("K", "hops", "layers", "num_layers")
# Profile params that are not design options: the mode (a report section), the seed (pooled), the hop count and
# the text-gnn LLM identity (their own columns).
PROFILE_NON_DESIGN = {"mode", "seed", "llm", *HOP_KEYS}
# Run params that do not make a router variant.
RUN_NON_DESIGN = {"router", "mode", "seeds", "device", "train_file_sha256"}
NO_TEXT_BACKENDS = ("extractive",)

# Reference rows in a fixed order (upper bounds, task-level baselines, single models, random); others follow by name.
REFERENCE_ORDER = ("oracle", "oracle-cost-aware", "oracle-without-new", "per-task-oracle (test)",
                   "per-task-best (profile scores)", "per-task-best (train)", "best-single (test)",
                   "best-single (train)", "random")
PER_TASK_PROFILE_NOTE = ("carries test information: the model file's detailed_scores are benchmark scores measured "
                         "on the benchmarks the test queries come from")


# ---------------------------------------------------------------------------------------------------------------
# Sweep records
# ---------------------------------------------------------------------------------------------------------------

def safe_name(name: str) -> bool:
    """A sweep name is a file name under <workspace>/sweeps/, never a path."""
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""))


def sweep_path(ws_root: Path, name: str) -> Path:
    base = name[:-5] if name.endswith(".json") else name
    return Path(ws_root) / "sweeps" / f"{base}.json"


def load_sweep(ws_root: Path, name: str) -> dict:
    """The sweep record ``<workspace>/sweeps/<name>.json``, checked for the fields the report reads.

    Raises:
        ArtifactNotFoundError: no such file (the message names it and lists the recorded sweeps).
        DataFileError: the file is not JSON or a field has the wrong type (names the file and the field).
    """
    if not safe_name(name):
        raise ArtifactNotFoundError(f"{name!r} is not a sweep name", hint="give the name of a recorded sweep, "
                                                                           "e.g. --sweep quick")
    path = sweep_path(ws_root, name)
    if not path.is_file():
        have = sorted(p.stem for p in (Path(ws_root) / "sweeps").glob("*.json")) if (
            Path(ws_root) / "sweeps").is_dir() else []
        raise ArtifactNotFoundError(
            f"no sweep named {name!r}: {path} does not exist",
            hint=("recorded sweeps: " + ", ".join(have)) if have else "this workspace has no recorded sweeps; "
                                                                      "run one with `rp sweep FILE.yaml`")
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(path, f"cannot read the sweep record: {exc}") from None
    if not isinstance(rec, dict):
        raise DataFileError(path, "the sweep record must be a JSON object")
    arts = rec.get("artifacts")
    if not isinstance(arts, list):
        raise DataFileError(path, "must be a list of {id, kind, status, ...}", field="artifacts")
    for i, a in enumerate(arts):
        if not isinstance(a, dict) or a.get("kind") not in ("graph", "profile", "run"):
            raise DataFileError(path, "each artifact needs a kind of graph, profile or run", record=f"#{i}",
                                field="artifacts.kind")
        if a.get("id") is not None and not isinstance(a.get("id"), str):
            raise DataFileError(path, "must be a string or null", record=f"#{i}", field="artifacts.id")
    data = rec.get("data")
    if data is not None and not isinstance(data, dict):
        raise DataFileError(path, "must be an object {root, hash}", field="data")
    for key in ("wall_s",):
        v = rec.get(key)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise DataFileError(path, "must be a number or null", field=key)
    return rec


def sweep_summary(rec: dict, entries: dict) -> dict:
    """Name, file, commit, wall time and completeness of a sweep record against the manifest's entries.

    An artifact counts as done when the sweep names its id and the manifest holds that id with status done.
    """
    arts = rec.get("artifacts") or []
    by_kind: dict[str, dict[str, int]] = {}
    done = 0
    for a in arts:
        k = a.get("kind")
        ok = bool(a.get("id")) and (entries.get(a["id"]) or {}).get("status") == "done"
        done += ok
        c = by_kind.setdefault(k, {"done": 0, "total": 0})
        c["done"] += ok
        c["total"] += 1
    data = rec.get("data") or {}
    # The time the sweep spent building: every invocation that built something (a cold run and its resumptions);
    # a warm rerun that only reused artifacts does not hide it.
    runs = [h for h in (rec.get("history") or []) if isinstance(h, dict)]
    runs.append({"wall_s": rec.get("wall_s"), "counts": {"built": sum(a.get("status") == "built" for a in arts)}})
    building = [h for h in runs if (h.get("counts") or {}).get("built") and isinstance(h.get("wall_s"), (int, float))]
    return {"name": rec.get("name"), "file": rec.get("file"), "yaml_sha256": rec.get("yaml_sha256"),
            "commit": rec.get("commit"), "started": rec.get("started"), "finished": rec.get("finished"),
            "wall_s": rec.get("wall_s"), "build_wall_s": round(sum(h["wall_s"] for h in building), 3) if building
            else None, "build_invocations": len(building), "invocations": len(runs),
            "jobs": rec.get("jobs"), "executor": rec.get("executor"),
            "data": {"root": data.get("root"), "hash": data.get("hash")},
            "done": done, "total": len(arts), "complete": len(arts) > 0 and done == len(arts),
            "by_kind": {k: by_kind[k] for k in ("graph", "profile", "run") if k in by_kind}}


def sweep_run_ids(rec: dict) -> set[str]:
    return {a["id"] for a in rec.get("artifacts") or [] if a.get("kind") == "run" and a.get("id")}


# ---------------------------------------------------------------------------------------------------------------
# Building the report
# ---------------------------------------------------------------------------------------------------------------

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


def _opt_text(k: str, v) -> str:
    if isinstance(v, bool):
        return f"{k}={'true' if v else 'false'}"
    if isinstance(v, (dict, list)):
        return f"{k}={_canon(v)}"
    return f"{k}={v}"


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


def _order(value, order: tuple) -> tuple:
    return (order.index(value), "") if value in order else (len(order), str(value))


def _run_record(e: dict, entries: dict) -> dict:
    """The fields of one run that the report needs."""
    p = e.get("params", {})
    m = e.get("metrics", {}) or {}
    prof = entries.get((e.get("parents") or [None])[0]) or {}
    graph = entries.get((prof.get("parents") or [None])[0]) if prof.get("parents") else None
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
    seeds = p.get("seeds") or [0]
    seed_summary = (m.get("seeds") or {}).get("avg_performance") or {}
    return {
        "id": e["id"], "mode": p.get("mode"), "router": p.get("router"),
        "router_params": {k: v for k, v in p.items() if k not in RUN_NON_DESIGN},
        "seeds": list(seeds), "created_at": e.get("created_at") or "",
        "profile": prof.get("id"), "profile_params": {k: v for k, v in pp.items() if k not in PROFILE_NON_DESIGN},
        "profile_seed": pp.get("seed"),
        "method": pp.get("method") or "?", "graph": graph.get("id") if graph else None,
        "graph_kind": (graph or {}).get("params", {}).get("kind"), "hops": profile_hops(prof) if prof else None,
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
            extra = [_opt_text(k, r["profile_params"].get(k)) for k in diff]
            if multi_encoder:
                extra.append(f"encoder={r['encoder']}")
            r["design"] = {"method": r["method"], "graph_kind": r["graph_kind"], "hops": r["hops"],
                           "text_backend": r["text_backend"], "llm_text": r["llm_text"],
                           "options": ", ".join(extra)}
            r["design_key"] = _canon([base[:4], r["design"]["options"], r["encoder"]])


def _column_keys(runs: list[dict], router_defaults: dict[str, dict] | None) -> None:
    """Give every run its router ``column`` label, in place."""
    by_router: dict[str, list[dict]] = {}
    for r in runs:
        by_router.setdefault(r["router"], []).append(r)
    for router, rs in by_router.items():
        diff = _differing_keys([r["router_params"] for r in rs])
        defaults = (router_defaults or {}).get(router)
        for r in rs:
            if defaults is None:
                keys = set(diff)
            else:  # options that differ from the defaults, and options the defaults do not know that vary
                keys = {k for k in diff if k not in defaults}
                keys |= {k for k, v in r["router_params"].items()
                         if k in defaults and k not in RUN_NON_DESIGN and _canon(v) != _canon(defaults[k])}
            opts = ", ".join(_opt_text(k, r["router_params"].get(k)) for k in sorted(keys))
            title = ROUTER_TITLES.get(router, router)
            r["column"] = f"{title} ({opts})" if opts else title
            r["column_base"] = not opts


def _design_sort(d: dict) -> tuple:
    return (_order(d["method"], METHOD_ORDER), _order(d["graph_kind"], GRAPH_ORDER),
            -1 if d["hops"] is None else d["hops"], d["text_backend"] or "", d["options"])


def _profile_label(d: dict) -> str:
    prof = d["method"] + (f" ({d['text_backend']})" if d["text_backend"] else "")
    return prof + (f" [{d['options']}]" if d["options"] else "")


def _dash(v) -> str:
    return "–" if v is None or v == "" else str(v)


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
    for key in sorted(rows, key=lambda k: _design_sort(rows[k]["design"])):
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
                    cell["paper"] = {"value": pv[0], "table": pv[1], "router": rs[0]["router"],
                                     "delta": _r(cell["avg_performance"] - pv[0], 4)}
            cells[col] = cell
        out_rows.append({"profile": _profile_label(d), "design": d, "cells": cells})
    used = [c for c in columns if any(c in row["cells"] for row in out_rows)]
    return {"columns": used, "rows": out_rows}, superseded_by


def _column_order(r: dict) -> tuple:
    return (_order(r["router"], ROUTER_ORDER), not r["column_base"], r["column"])


def _column_sort(runs: list[dict]) -> list[str]:
    cols = {r["column"]: _column_order(r) for r in runs}
    return sorted(cols, key=lambda c: cols[c])


def _paper_rows(mode: str, grids: list[dict], runs_present: bool) -> list[dict]:
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
    for table, method, kind, hops, router, v in sorted(
            published, key=lambda t: (t[0], _order(t[1], METHOD_ORDER), _order(t[2], GRAPH_ORDER), t[3],
                                      _order(t[4], ROUTER_ORDER))):
        matches = ours.get((table, method, kind, hops, router)) or [(None, None)]
        for row, cell in matches:
            out.append({"table": table, "method": method, "graph_kind": kind, "hops": hops, "router": router,
                        "paper": v, "profile": row["profile"] if row else None,
                        "ours": cell["avg_performance"] if cell else None, "sd": cell["sd"] if cell else None,
                        "n": cell["n"] if cell else 0, "delta": cell["paper"]["delta"] if cell else None,
                        "runs": cell["runs"] if cell else []})
    return out


def build_report(doc: dict, references: list[dict], *, dataset: dict, command: str, paper: bool = False,
                 sweep: dict | None = None, router_defaults: dict[str, dict] | None = None) -> dict:
    """The report as plain data.

    Args:
        doc: the manifest ({"entries": {...}}).
        references: reference rows (``{name, kind, mode, avg_performance, avg_cost_micro, note}``) of the dataset
            the report is about; rows of kind "single" are left out.
        dataset: ``{name, root, hash, candidates, n_test_rows}``; only runs evaluated on ``hash`` are reported.
        command: the exact command line that produces this report (printed at the top).
        paper: put the paper's published values and the deltas beside comparable cells.
        sweep: a sweep record (load_sweep); restricts the report to its runs and reports its completeness.
        router_defaults: {router: {option: default}}; options that differ from them name the router column.
    """
    entries = doc.get("entries", {})
    all_runs = [e for e in entries.values() if e.get("kind") == "run" and e.get("status") == "done"]
    other = [e for e in all_runs if e.get("data_hash") != dataset.get("hash")]
    scope = [e for e in all_runs if e.get("data_hash") == dataset.get("hash")]
    summary = None
    if sweep is not None:
        summary = sweep_summary(sweep, entries)
        ids = sweep_run_ids(sweep)
        scope = [e for e in scope if e["id"] in ids]
    runs = [_run_record(e, entries) for e in sorted(scope, key=lambda e: e["id"])]
    runs = [r for r in runs if r["mode"] in MODES]
    _design_keys(runs)
    _column_keys(runs, router_defaults)
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
        "scope": {"runs": len(runs), "runs_on_other_data": 0 if sweep is not None else len(other),
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
                     "backend wrote no LLM text (extractive, or K=0) are listed apart and never compared."
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
            if ref.get("name") == "per-task-best (profile scores)":
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
        for r in sorted(mruns, key=lambda r: (_design_sort(r["design"]), _column_order(r), r["id"])):
            m["runs"].append({
                "id": r["id"], "profile": _profile_label(r["design"]), "graph_kind": r["graph_kind"],
                "hops": r["hops"], "router": r["column"], "seeds": r["seeds"],
                "profile_id": r["profile"], "profile_seed": r["profile_seed"],
                "avg_performance": r["avg_performance"], "sd": r["avg_performance_sd"],
                "ci95": r["avg_performance_ci95"], "avg_cost_micro": r["avg_cost_micro"],
                "llm_text": r["llm_text"], "superseded_by": superseded.get(r["id"]),
                **({"newllm": r["newllm"]} if mode == "newllm" else {})})
        if with_paper and mode == _paper.MODE:
            m["paper_comparison"] = _paper_rows(mode, [grid], bool(mruns))
        report["modes"].append(m)
    return report


# ---------------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------------

def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _f(v, digits: int = 4) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _signed(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:+.{digits}f}"


def _esc(s) -> str:
    return str(s).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(_esc(c) for c in row) + " |" for row in rows]
    return out


def cell_text(cell: dict | None) -> str:
    """avg_performance mean ± sd (n) and the 95% CI of a single-value cell."""
    if not cell:
        return "–"
    s = _f(cell["avg_performance"])
    if cell.get("sd") is not None:
        s += f" ± {cell['sd']:.4f}"
    s += f" (n={cell['n']})"
    if cell.get("ci95"):
        s += f" [{cell['ci95'][0]:.3f}, {cell['ci95'][1]:.3f}]"
    return s


def _csr_text(c: dict | None) -> str:
    if not c or c.get("mean") is None:
        return "–"
    s = f"{c['mean']:.3f}"
    if c.get("sd") is not None:
        s += f" ± {c['sd']:.3f}"
    s += f" (n={c['n']}" + (f", of {c['denominator']} rows)" if c.get("denominator") else ")")
    return s


def _grid_lines(grid: dict, paper: bool, value=cell_text) -> list[str]:
    cols = grid["columns"]
    header = ["profile", "graph", "hops"] + cols
    rows = []
    for row in grid["rows"]:
        cells = []
        for c in cols:
            cell = row["cells"].get(c)
            txt = value(cell) if cell else "–"
            if paper and cell and "paper" in cell:
                p = cell["paper"]
                txt += f" · paper {p['value']:.3f} ({p['table'].replace('Table ', 'T')}) · Δ {_signed(p['delta'])}"
            cells.append(txt)
        rows.append([row["profile"], _dash(row["design"]["graph_kind"]), _dash(row["design"]["hops"])] + cells)
    return _table(header, rows, right=set(range(3, len(header))))


def _duration(s) -> str:
    if s is None:
        return "–"
    s = float(s)
    h, rem = divmod(int(s + 0.5), 3600)
    m, sec = divmod(rem, 60)
    return f"{s:.1f} s (" + (f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s") + ")"


def render_markdown(report: dict) -> str:
    L: list[str] = [f"_Generated by `{report['generated_by']}` — do not edit; rerun the command instead._", "",
                    "# rp report", ""]
    ds = report["dataset"]
    h = ds.get("hash") or ""
    L.append(f"- Dataset: `{ds.get('root')}` (hash `{h[:12]}`" +
             (f", {ds['n_test_rows']} test rows" if ds.get("n_test_rows") is not None else "") +
             (f", {ds['n_candidates']} candidates" if ds.get("n_candidates") else "") + ")")
    encs = report["encoders"]
    L.append("- Encoder: " + (", ".join(f"`{e['id']}`" + (f" ({e['dim']}-d)" if e.get("dim") else "")
                                        for e in encs) if encs else "– (no runs)"))
    sw = report.get("sweep")
    if sw:
        L.append(f"- Sweep: `{sw['name']}`" + (f" from `{sw['file']}`" if sw.get("file") else "") +
                 f"; commit `{sw.get('commit') or '–'}`; build time {_duration(sw.get('build_wall_s'))}" +
                 (f" over {sw['build_invocations']} invocations" if sw.get("build_invocations", 0) > 1 else "") +
                 f" (last invocation {_duration(sw.get('wall_s'))})" +
                 ("" if sw.get("finished") else " (not finished)") +
                 (f"; executor {sw['executor']}" if sw.get("executor") else "") +
                 (f", {sw['jobs']} job(s)" if sw.get("jobs") is not None else ""))
        kinds = ", ".join(f"{k}s {v['done']}/{v['total']}" for k, v in sw["by_kind"].items())
        L.append(f"- Completeness: {sw['done']} of {sw['total']} artifacts done" + (f" ({kinds})" if kinds else "")
                 + ("" if sw["complete"] else " — INCOMPLETE: the tables below miss the rest"))
    sc = report["scope"]
    if sc["restricted_to_sweep"]:
        L.append(f"- Runs: the {sc['runs']} run(s) of this sweep that the workspace holds")
    else:
        L.append(f"- Runs: every run in the workspace evaluated on this dataset ({sc['runs']})" +
                 (f"; {sc['runs_on_other_data']} run(s) on other data are not shown"
                  if sc["runs_on_other_data"] else ""))
    if report["commits"]:
        L.append("- Run commits: " + ", ".join(f"`{c}`" for c in report["commits"]))
    pp = report.get("paper")
    if pp:
        L.append(f"- Encoder difference: {pp['encoder_difference']}")
        L.append(f"- Paper values: {pp['source']}. {pp['note']}")
    L += ["", "Cells: avg_performance, mean ± sd over the (profile seed, router seed) values they pool (n); "
              "[95% bootstrap CI] where a cell holds one value. Every run is listed under its mode."]
    for m in report["modes"]:
        mode = m["mode"]
        L += ["", f"## {mode}", "", "### Reference rows", ""]
        L += _table(["reference", "avg_performance", "µ$/query", "note"],
                    [[r["name"] + (f" ({r['model']})" if r.get("model") else ""), _f(r["avg_performance"]),
                      _f(r["avg_cost_micro"], 1), r["note"]] for r in m["references"]], right={1, 2})
        paper_cols = bool(pp and pp["compared"] and mode == "standard")
        L += ["", "### Profile design × router", ""]
        if m["grid"]["rows"]:
            L += _grid_lines(m["grid"], paper_cols)
        else:
            L.append("No run.")
        if m["no_llm_text_grid"]["rows"]:
            L += ["", "### text-gnn without LLM-written text (shown apart; never compared with the paper's "
                      "text-gnn)", ""]
            L += _grid_lines(m["no_llm_text_grid"], False)
        if mode == "newllm":
            for title, g in (("", m["grid"]), (" (text-gnn without LLM text)", m["no_llm_text_grid"])):
                if any("cold_start_recall" in c for row in g["rows"] for c in row["cells"].values()):
                    L += ["", f"### Cold-start recall{title}", ""]
                    L += _grid_lines(g, False, value=lambda c: _csr_text(c.get("cold_start_recall")))
        b = m["best_cell"]
        if b:
            base = m["baseline"]["avg_performance"]
            L += ["", f"Best cell: {b['router']} on {b['profile']} ({_dash(b['graph_kind'])}, hops {_dash(b['hops'])}) "
                      f"{b['avg_performance']:.4f} (n={b['n']}); {m['baseline']['name']} {_f(base)}: " +
                  ("it beats it." if m["beats_baseline"] else "no cell beats it." if base is not None else "")]
        if "paper_comparison" in m:
            L += ["", "### Beside the paper (standard mode; ours − paper)", ""]
            rows = [[p["table"], p["method"], p["graph_kind"] or "–", str(p["hops"]), p["router"], f"{p['paper']:.3f}",
                     ("–" if p["ours"] is None else _f(p["ours"]) + (f" ± {p['sd']:.4f}" if p["sd"] is not None
                                                                     else "") + f" (n={p['n']})"),
                     _signed(p["delta"]), p["profile"] or "not run"] for p in m["paper_comparison"]]
            L += _table(["table", "method", "graph", "hops", "router", "paper", "ours", "Δ", "our profile"], rows,
                        right={5, 6, 7})
            have = [p for p in m["paper_comparison"] if p["delta"] is not None]
            L += ["", f"{len(have)} of {len({(p['table'], p['method'], p['graph_kind'], p['hops'], p['router']) for p in m['paper_comparison']})} published cells have a comparable cell here."]
            if have:
                top = sorted(have, key=lambda p: (-abs(p["delta"]), p["table"], p["method"], p["hops"],
                                                  p["router"]))[:3]
                L.append("Largest differences: " + "; ".join(
                    f"{p['method']} {p['hops']} hops {p['router']} ({p['table']}) {_signed(p['delta'])}"
                    for p in top) + ".")
        L += ["", f"### Runs ({mode})", ""]
        if not m["runs"]:
            L.append("No run.")
            continue
        header = ["run", "profile", "graph", "hops", "router", "seeds", "avg_performance", "95% CI", "µ$/query"]
        if mode == "newllm":
            header += ["cold-start recall", "strict", "new-model share", "precision", "gain from new"]
        header.append("in grid")
        rows = []
        for r in m["runs"]:
            perf = _f(r["avg_performance"]) + (f" ± {r['sd']:.4f}" if r.get("sd") is not None else "")
            ci = f"{r['ci95'][0]:.3f}–{r['ci95'][1]:.3f}" if r.get("ci95") else "–"
            seeds = ",".join(str(s) for s in r["seeds"]) + (
                f" (profile seed {r['profile_seed']})" if r.get("profile_seed") is not None else "")
            row = [r["id"], r["profile"], _dash(r["graph_kind"]), _dash(r["hops"]), r["router"], seeds, perf, ci,
                   _f(r["avg_cost_micro"], 1)]
            if mode == "newllm":
                nl = r.get("newllm") or {}
                den = nl.get("cold_start_recall_denominator")
                sden = nl.get("cold_start_recall_strict_denominator")
                row += [_f(nl.get("cold_start_recall"), 3) + (f" (of {den})" if den else ""),
                        _f(nl.get("cold_start_recall_strict"), 3) + (f" (of {sden})" if sden else ""),
                        _f(nl.get("selection_rate"), 3), _f(nl.get("precision"), 3),
                        _signed(nl.get("gain_from_new"), 4)]
            row.append("yes" if not r.get("superseded_by") else f"no: {r['superseded_by']}")
            rows.append(row)
        L += _table(header, rows, right={6, 8} | (set(range(9, 14)) if mode == "newllm" else set()))
    return "\n".join(L) + "\n"


"""rp report: the study's tables regenerated from the workspace manifest (stdlib only; no numpy or torch).

`build_report(doc, references, dataset=..., ...)` turns the manifest's run records (plus the reference rows the
caller computed from the dataset) into one plain dict; `render_markdown` and `render_json` print it. Both
renderings are deterministic: rows and columns are sorted by fixed keys, numbers have fixed formats, and nothing
depends on the clock or on the order of the manifest.

Cells. A cell is one (mode, profile design, router column). A profile design is (method, graph kind, hops, text
backend for text-gnn, encoder), plus any other profile option that differs between profiles which share that key
(shown in the row label only then). A profile's ``seed`` is a seed axis, not a design axis: profiles that differ
only in their seed share a row. A router column is the router's title plus every option its label names (the
leaderboard's rule, rpcli.workspace.labels: every option that differs from the registry's defaults; the seeds
are pooled, never a column). Per profile, the cell uses the run with the most seeds (then the newest, then the
smallest id); the others stay in the per-mode list of runs, marked as superseded. The cell's value is the mean
over every (profile seed, router seed) value it pools, with the sample sd and n; the 95% bootstrap interval is
shown when the cell holds one value and the run recorded one.

Paper values (--paper) come from rpcli.workspace.paper (Table 1 and Table 2, the node-type
ablation at 2 hops), are shown only on the released data and in standard mode, and never beside a text-gnn profile
whose backend wrote no LLM text (extractive, or K = 0): those sit in their own grid.

Runs. The report's runs are the leaderboard's run rows (rpcli.workspace.leaderboard.run_rows, its data filter
`on_data` and its MODES), so every run carries the same label as in `rp compare` and the dashboard; routers and
profile methods are ordered by the label defaults the caller passes (the registry's order).

Layout: `sweeps` reads and summarises the sweep records (`--sweep`), `build` turns the manifest into the report
dict, `render` prints it as Markdown or JSON; this facade re-exports their names, so `from rpcli.workspace import
report as R` and `R.build_report(...)` keep working.
"""

from rpcli.workspace.report.build import (
    GRAPH_ORDER, HOP_KEYS, MODES, NO_TEXT_BACKENDS, PAPER_ENCODER, PER_TASK_PROFILE_NOTE, PROFILE_NON_DESIGN,
    REFERENCE_ORDER, STUDY_ROUTERS, build_report, is_study_router, paper_value)
from rpcli.workspace.report.render import cell_text, render_json, render_markdown
from rpcli.workspace.report.sweeps import load_sweep, safe_name, sweep_path, sweep_run_ids, sweep_summary

__all__ = [
    "build_report",
    "render_markdown",
    "render_json",
    "cell_text",
    "paper_value",
    "load_sweep",
    "sweep_path",
    "sweep_summary",
    "sweep_run_ids",
    "safe_name",
    "is_study_router",
    "MODES",
    "GRAPH_ORDER",
    "STUDY_ROUTERS",
    "HOP_KEYS",
    "PROFILE_NON_DESIGN",
    "NO_TEXT_BACKENDS",
    "REFERENCE_ORDER",
    "PER_TASK_PROFILE_NOTE",
    "PAPER_ENCODER",
]

"""rp graph build | import | show | ls."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._options import ForceOpt, JsonOpt, Mode, ModeOpt
from rpcli.cli._output import cli_errors, out_console, print_built, print_json
from rpcli.cli._state import options, session

app = typer.Typer(no_args_is_help=True)


class GraphKind(str, Enum):
    task = "task"
    query = "query"
    query_task = "query-task"
    task_domain = "task-domain"
    query_task_domain = "query-task-domain"


@app.command("build")
def build(
    ctx: typer.Context,
    kind: Annotated[GraphKind, typer.Argument(help="Which of the study's five graphs.")],
    mode: ModeOpt = Mode.standard,
    max_queries_per_task: Annotated[Optional[int], typer.Option(
        min=1, help="Cap query nodes per task (graphs with query nodes; default: all).")] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a heterogeneous graph and record it; prints its id.

    Example: G=$(rp graph build task --mode newllm)
    """
    sess = session(ctx)
    from rpcli.services.artifacts.graphs import build_graph_entry

    with cli_errors():
        res = build_graph_entry(sess, kind.value, mode.value, max_queries_per_task=max_queries_per_task,
                                force=force)
    print_built(res, as_json)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A HeteroData .pt from the original.")],
    mode: ModeOpt = Mode.standard,
    kind: Annotated[Optional[str], typer.Option(help="Which graph it is (a label).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a graph built by the original code. The file is unpickled: import only files you trust.

    Example: rp graph import results/result_data_graph/standard/task_graph_full.pt --kind task
    """
    sess = session(ctx)
    from rpcli.services.artifacts.graphs import import_graph_entry

    with cli_errors():
        res = import_graph_entry(sess, file, mode.value, kind)
    print_built(res, as_json)


def _ordered(d: dict, order: list | None) -> list:
    """Items of a manifest dict (stored key-sorted) in the graph's own order when it is recorded."""
    keys = [k for k in (order or []) if k in d] + [k for k in d if k not in (order or [])]
    return [(k, d[k]) for k in keys]


def _relation(key: str) -> str:
    """The relation name of a stored edge key (src__relation__dst); the names say src_to_dst already."""
    parts = key.split("__")
    return parts[1] if len(parts) == 3 else key


@app.command("show")
def show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Graph id or unique prefix.")],
         as_json: JsonOpt = False) -> None:
    """Node and edge counts per type, degree ranges, query source and per-task query counts, encoder, dims.

    Example: rp graph show graph-3f9c
    """
    from rpcli.workspace.layout import resolve_workspace
    from rpcli.workspace.manifest import get_entry

    with cli_errors():
        e = get_entry(resolve_workspace(options(ctx).workspace), ref, kind="graph")
    info = e.get("info", {})
    rec = {"id": e["id"], "params": e["params"], "encoder": (e.get("encoder") or {}).get("id"), **info}
    if as_json:
        print_json(rec)
        return
    from rich.markup import escape
    from rich.table import Table

    p = e["params"]
    head = f"[bold]{e['id']}[/bold]  kind={p.get('kind')}  mode={p.get('mode')}  encoder={rec['encoder']}  " \
           f"dim={info.get('dim')}"
    if p.get("imported_from"):
        head += f"  imported from {p['imported_from']} (matches preset: {info.get('preset')})"
    out_console.print(head)  # ids, kinds and encoder ids hold no markup
    t = Table(title="nodes", title_justify="left")
    t.add_column("type")
    t.add_column("count", justify="right")
    for nt, n in _ordered(info.get("nodes", {}), info.get("node_types")):
        t.add_row(nt, str(n))
    out_console.print(t)
    t = Table(title="edges (degree = edges per node, min..max)", title_justify="left")
    for c, j in (("relation", "left"), ("edges", "right"), ("src degree", "right"), ("dst degree", "right"),
                 ("edge_attr", "left")):
        t.add_column(c, justify=j, no_wrap=True)
    for et, d in _ordered(info.get("edges", {}), info.get("edge_types")):
        t.add_row(escape(_relation(et)), str(d["edges"]),
                  "{}..{}".format(*d["src_degree"]) if "src_degree" in d else "-",
                  "{}..{}".format(*d["dst_degree"]) if "dst_degree" in d else "-",
                  "raw score" if d.get("attr") else "")
    out_console.print(t)
    q = info.get("queries")
    if q:
        cap = f", capped at {q['max_per_task']} per task" if q.get("max_per_task") else ""
        out_console.print(escape(f"query nodes: {q['total']} from {q['source']}{cap}; left out: "
                                 f"{q['dropped_test_overlap']} test queries, {q['dropped_duplicates']} repeats, "
                                 f"{q['dropped_cap']} over the cap"))
        per_task = q.get("per_task", {})
        t = Table(title="query nodes per task", title_justify="left")
        t.add_column("task")
        t.add_column("queries", justify="right")
        for task, n in _ordered(per_task, q.get("task_order")):
            t.add_row(task, str(n))
        out_console.print(t)
        n_ds = info.get("nodes", {}).get("dataset")
        if n_ds is not None and n_ds > len(per_task):
            out_console.print(f"{n_ds - len(per_task)} of {n_ds} dataset nodes have no query nodes")
        if q.get("skipped_tasks"):
            out_console.print(escape(f"skipped tasks (not dataset nodes): {', '.join(q['skipped_tasks'])}"))
    for w in info.get("warnings", []):
        out_console.print(f"[yellow]warning:[/yellow] {escape(w)}")


@app.command("ls")
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List recorded graphs: kind, mode, node and edge totals, query nodes, encoder.

    Example: rp graph ls --json
    """
    from rpcli.workspace.layout import resolve_workspace
    from rpcli.workspace.manifest import list_entries

    with cli_errors():
        rows = list_entries(resolve_workspace(options(ctx).workspace), "graph")
    if as_json:
        print_json(rows)
        return
    from rich.markup import escape
    from rich.table import Table

    wide = out_console.width >= 110  # the creation time only when it fits
    t = Table(box=None, pad_edge=False, header_style="bold underline")
    cols = [("id", "left"), ("kind", "left"), ("mode", "left"), ("nodes", "right"), ("edges", "right"),
            ("queries", "right"), ("encoder", "left")] + ([("created", "left")] if wide else [])
    for c, j in cols:
        t.add_column(c, justify=j, no_wrap=c != "encoder")
    for e in rows:
        p, info = e.get("params", {}), e.get("info", {})
        nodes = sum(info.get("nodes", {}).values())
        edges = sum(d.get("edges", 0) for d in info.get("edges", {}).values())
        q = info.get("nodes", {}).get("query")
        row = [e["id"], escape(str(p.get("kind"))), str(p.get("mode", "-")), str(nodes), str(edges),
               "-" if q is None else str(q), escape(str((e.get("encoder") or {}).get("id") or "-"))]
        if wide:
            row.append(str(e.get("created_at", "")).replace("T", " ")[:16])
        t.add_row(*row)
    out_console.print(t)

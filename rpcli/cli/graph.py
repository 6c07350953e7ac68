"""rp graph build | import | show | ls."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._output import cli_errors, out_console, print_built, print_json
from rpcli.cli._state import session

app = typer.Typer(no_args_is_help=True)


class GraphKind(str, Enum):
    task = "task"
    query = "query"
    query_task = "query-task"
    task_domain = "task-domain"
    query_task_domain = "query-task-domain"


class Mode(str, Enum):
    standard = "standard"
    newllm = "newllm"


@app.command("build")
def build(
    ctx: typer.Context,
    kind: Annotated[GraphKind, typer.Argument(help="Which of the study's five graphs.")],
    mode: Annotated[Mode, typer.Option("--mode", "-m", help="standard or newllm.")] = Mode.standard,
    max_queries_per_task: Annotated[Optional[int], typer.Option(help="Cap query nodes per task.")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if an identical graph is recorded.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")] = False,
) -> None:
    """Build a heterogeneous graph and record it; prints its id.

    Example: G=$(rp graph build task --mode newllm)
    """
    sess = session(ctx)
    from rpcli.services.graphs import build_graph_entry

    with cli_errors():
        res = build_graph_entry(sess, kind.value, mode.value, max_queries_per_task=max_queries_per_task,
                                force=force)
    print_built(res, as_json)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A HeteroData .pt from the original.")],
    mode: Annotated[Mode, typer.Option("--mode", "-m")] = Mode.standard,
    kind: Annotated[Optional[str], typer.Option(help="Which graph it is (a label).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register a graph built by the original code. The file is unpickled: import only files you trust.

    Example: rp graph import results/result_data_graph/standard/task_graph_full.pt --kind task
    """
    sess = session(ctx)
    from rpcli.services.graphs import import_graph_entry

    with cli_errors():
        res = import_graph_entry(sess, file, mode.value, kind)
    print_built(res, as_json)


@app.command("show")
def show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Graph id or unique prefix.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Node and edge counts per type, degree ranges, query source, encoder, dims.

    Example: rp graph show graph-3f9c
    """
    from rpcli.workspace.layout import resolve_workspace
    from rpcli.workspace.manifest import get_entry

    from rpcli.cli._state import options

    with cli_errors():
        e = get_entry(resolve_workspace(options(ctx).workspace), ref, kind="graph")
    info = e.get("info", {})
    rec = {"id": e["id"], "params": e["params"], "encoder": (e.get("encoder") or {}).get("id"), **info}
    if as_json:
        print_json(rec)
        return
    from rich.table import Table

    out_console.print(f"[bold]{e['id']}[/bold]  kind={e['params'].get('kind')}  mode={e['params'].get('mode')}  "
                      f"encoder={rec['encoder']}  dim={info.get('dim')}")
    t = Table(title="nodes")
    t.add_column("type")
    t.add_column("count", justify="right")
    for nt, n in info.get("nodes", {}).items():
        t.add_row(nt, str(n))
    out_console.print(t)
    t = Table(title="edges")
    for c in ("edge type", "edges", "src degree", "dst degree", "attr"):
        t.add_column(c)
    for et, d in info.get("edges", {}).items():
        t.add_row(et.replace("__", " -> ", 1).replace("__", " -> "), str(d["edges"]),
                  "{}..{}".format(*d["src_degree"]) if "src_degree" in d else "-",
                  "{}..{}".format(*d["dst_degree"]) if "dst_degree" in d else "-", str(d.get("attr", "")))
    out_console.print(t)
    q = info.get("queries")
    if q:
        out_console.print(f"query nodes: {q['total']} from {q['source']}; dropped {q['dropped_test_overlap']} "
                          f"test-overlapping, {q['dropped_duplicates']} duplicates, {q['dropped_cap']} over the cap")


@app.command("ls")
def ls(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List recorded graphs.

    Example: rp graph ls --json
    """
    from rpcli.cli.ws import Kind, ls as ls_all

    ls_all(ctx, Kind.graphs, as_json)

"""rp ws init | status | path, and the top-level rp ls / rp show."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from rpcli.cli._options import JsonOpt
from rpcli.cli._output import cli_errors, err_console, fmt, out_console, print_json
from rpcli.cli._state import options

app = typer.Typer(no_args_is_help=True)


def _ws(ctx):
    from rpcli.workspace.layout import resolve_workspace

    with cli_errors():
        return resolve_workspace(options(ctx).workspace)


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the workspace (a manifest.json) if it does not exist.

    Example: rp -w /tmp/ws ws init
    """
    from rpcli.workspace.manifest import init_workspace

    ws = _ws(ctx)
    with cli_errors():
        created = init_workspace(ws)
    typer.echo(str(ws.root))
    err_console.print("created" if created else "already initialised")


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the workspace root.

    Example: cd $(rp ws path)
    """
    typer.echo(str(_ws(ctx).root))


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Counts, sizes and schema of the workspace.

    Example: rp ws status --json
    """
    from rpcli.services.base import workspace_status

    with cli_errors():
        s = workspace_status(_ws(ctx))
    if as_json:
        print_json(s)
        return
    out_console.print(f"workspace {s['root']} ({'initialised' if s['exists'] else 'not initialised'}), "
                      f"schema {s['schema']}")
    for k in ("graph", "profile", "run"):
        out_console.print(f"  {k}s: {s['counts'].get(k, 0)}")
    out_console.print(f"  artifacts: {s['artifact_bytes'] / 1e6:.1f} MB, "
                      f"embedding cache: {s['embedding_cache_bytes'] / 1e6:.1f} MB")


@app.command("verify")
def verify(ctx: typer.Context,
           fix: Annotated[bool, typer.Option("--fix", help="Remove orphans (staging folders, unrecorded artifact "
                                                           "folders); recorded artifacts are never touched.")] = False,
           as_json: JsonOpt = False) -> None:
    """Re-hash every recorded output against the manifest; report mismatches and orphans (exit 1 if any).

    Example: rp ws verify --fix
    """
    from rpcli.workspace.verify import verify_workspace

    ws = _ws(ctx)
    with cli_errors():
        r = verify_workspace(ws, fix=fix)
    if as_json:
        print_json(r)
    else:
        for m in r["mismatches"]:
            out_console.print(f"mismatch {m['id']}: {m['path']}: {m['problem']}", markup=False)
        for o in r["orphans"]:
            done = " (removed)" if o["path"] in r["removed"] else ""
            out_console.print(f"orphan {o['path']}: {o['problem']}{done}", markup=False)
        err_console.print(f"{r['artifacts']} artifacts, {r['outputs_checked']} outputs re-hashed: "
                          f"{len(r['mismatches'])} mismatch(es), {len(r['orphans'])} orphan(s)"
                          + (f", {len(r['removed'])} removed" if r["removed"] else ""))
    if not r["ok"]:
        raise typer.Exit(1)


class Kind(str, Enum):
    graphs = "graphs"
    profiles = "profiles"
    runs = "runs"


def ls(ctx: typer.Context,
       kind: Annotated[Optional[Kind], typer.Argument(help="graphs, profiles or runs (default: all).")] = None,
       as_json: JsonOpt = False) -> None:
    """List the artifacts recorded in the workspace.

    Example: rp ls runs --json
    """
    from rpcli.workspace.manifest import list_entries

    with cli_errors():
        rows = list_entries(_ws(ctx), kind.value[:-1] if kind else None)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    from rpcli.services.artifacts.compare import label_defaults
    from rpcli.workspace.leaderboard import profile_label, router_label

    defaults = label_defaults()
    t = Table()
    for c in ("id", "kind", "mode", "what", "parents", "metric", "created"):
        t.add_column(c)
    for e in rows:
        p = e.get("params", {})
        what = (p.get("kind") if e["kind"] == "graph" else profile_label(e, defaults) if e["kind"] == "profile"
                else router_label(p, defaults))
        metric = fmt(e.get("metrics", {}).get("avg_performance")) if e["kind"] == "run" else ""
        t.add_row(e["id"], e["kind"], p.get("mode", "-"), str(what), ",".join(e.get("parents", [])), metric,
                  e.get("created_at", ""))
    out_console.print(t)


def show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="An artifact id or unique prefix.")],
         as_json: JsonOpt = False) -> None:
    """Show one artifact's full record.

    Example: rp show run-81c0
    """
    from rpcli.workspace.manifest import get_entry

    if not ref.strip():  # as a prefix it would match every artifact
        raise typer.BadParameter("an empty id matches every artifact: give an id or a unique prefix of one "
                                 "(`rp ls` lists them)", param_hint="REF")
    with cli_errors():
        e = get_entry(_ws(ctx), ref)
    if as_json:
        print_json(e)
        return
    import json

    out_console.print_json(json.dumps({k: v for k, v in e.items() if k not in ("inputs",)}, default=str))

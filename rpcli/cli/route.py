"""rp route sim (mlp and graph come with step 4)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from rpcli.cli._output import cli_errors, err_console, fmt, print_built
from rpcli.cli._state import session
from rpcli.cli.graph import Mode

app = typer.Typer(no_args_is_help=True)


class QueryText(str, Enum):
    formatted = "formatted"
    raw = "raw"


ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Profile id or unique prefix.")]
ModeOpt = Annotated[Mode, typer.Option("--mode", "-m", help="standard or newllm.")]
QueryTextOpt = Annotated[QueryText, typer.Option("--query-text", help="formatted: the row's formatted_query when "
                                                 "present, else the raw query; raw: always the raw query.")]


def report(res) -> None:
    m = res.entry.get("metrics", {})
    line = (f"{res.entry['params']['router']} {res.entry['params']['mode']}: avg_performance "
            f"{fmt(m.get('avg_performance'))}")
    if m.get("seeds"):
        line += f" ± {fmt(m['seeds']['avg_performance']['sd'])}"
    line += f", avg cost {fmt(m.get('avg_cost_micro'), 1)} µ$/query, gap closed {fmt(m.get('gap_closed'), 3)}"
    nl = m.get("newllm")
    if nl and nl.get("cold_start_recall"):
        c = nl["cold_start_recall"]
        line += f", cold-start recall {fmt(c.get('value'), 3)} ({c.get('numerator')}/{c.get('denominator')})"
    err_console.print(line)


@app.command("sim")
def sim(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
        query_text: QueryTextOpt = QueryText.formatted,
        force: Annotated[bool, typer.Option(help="Re-run even if an identical run is recorded.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the run record as JSON.")] = False) -> None:
    """SimRouter: route each test query to the profile with the highest cosine similarity; evaluate; record.

    Example: rp route sim --profile profile-0d9e --mode newllm
    """
    sess = session(ctx)
    from rpcli.services.routes import run_router_entry

    with cli_errors():
        res = run_router_entry(sess, "sim", profile, mode.value, {}, query_text=query_text.value, force=force)
    print_built(res, as_json)
    report(res)

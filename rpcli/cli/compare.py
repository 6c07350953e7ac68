"""rp compare: the leaderboard (reference rows + runs) as a table or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from rpcli.cli._output import cli_errors, fmt, out_console, print_json
from rpcli.cli._state import session


def compare(ctx: typer.Context,
            plain: Annotated[bool, typer.Option("--plain", help="Print a table (the default for now).")] = False,
            as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON (scripts).")] = False,
            mode: Annotated[str, typer.Option("--mode", "-m", help="standard, newllm or both.")] = "both",
            singles: Annotated[bool, typer.Option("--singles", help="Also list every single model.")] = False,
            allow_mixed: Annotated[bool, typer.Option("--allow-mixed", help="Also rank runs evaluated on other "
                                                                            "data.")] = False) -> None:
    """The leaderboard: every recorded run beside the reference rows, per mode.

    Example: rp compare --json | jq '.[] | select(.kind=="run") | .avg_performance'
    """
    sess = session(ctx)
    from rpcli.services.compare import compare_rows

    modes = ("standard", "newllm") if mode == "both" else (mode,)
    with cli_errors():
        rows = compare_rows(sess, modes=modes, allow_mixed=allow_mixed, include_singles=singles)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table
    from rich.text import Text

    for m in modes:
        mrows = [r for r in rows if r.get("mode") == m]
        if not mrows:
            continue
        refs = {r["name"]: r for r in mrows if r["kind"] != "run"}
        ptb = (refs.get("per-task-best (train)") or {}).get("avg_performance")
        t = Table(title=f"leaderboard: {m} ({sess.dataset.root.name}, {len(sess.dataset.test_rows)} test rows)")
        for c, j in (("", "left"), ("name", "left"), ("id", "left"), ("avg perf", "right"), ("µ$/query", "right"),
                     ("gap closed", "right"), ("best-pick", "right"), ("cold-start", "right")):
            t.add_column(c, justify=j)
        for r in mrows:
            is_run = r["kind"] == "run"
            style = "" if is_run else "dim italic"
            perf = fmt(r.get("avg_performance"))
            if is_run and r.get("avg_performance_sd") is not None:
                perf += f" ±{r['avg_performance_sd']:.3f}"
            flag = ""
            if is_run and ptb is not None and (r.get("avg_performance") or 0) <= ptb:
                flag = "▽"
            t.add_row(Text(flag, style="red"), Text(r["name"], style=style), Text(r.get("id", ""), style=style),
                      Text(perf, style=style), Text(fmt(r.get("avg_cost_micro"), 1), style=style),
                      Text(fmt(r.get("gap_closed"), 3), style=style), Text(fmt(r.get("best_pick_rate"), 3), style=style),
                      Text(fmt(r.get("cold_start_recall"), 3), style=style))
        out_console.print(t)
    out_console.print("[dim]▽ = does not beat the per-task best (train) reference; dim rows are references.[/dim]")

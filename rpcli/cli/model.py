"""rp model add: a new LLM joins a copy of the dataset; existing runs route to it without retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._options import ForceOpt, JsonOpt
from rpcli.cli._output import cli_errors, err_console, print_json
from rpcli.cli._state import session

app = typer.Typer(no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    card: Annotated[Path, typer.Argument(help="The model card (YAML or JSON): name, description, family, size, "
                                              "input_price, output_price, scores {benchmark: 0-100}; optional "
                                              "family_description, task_descriptions, test_scores (a JSON/JSONL "
                                              "file of {query, score} on the test rows).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="New folder for the dataset with the model added.")],
    run: Annotated[Optional[list[str]], typer.Option("--run", "-r", help="A run to route to the new model "
                                                     "without retraining (repeatable).")] = None,
    all_runs: Annotated[bool, typer.Option("--all-runs", help="Route every run recorded on this dataset.")] = False,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a new LLM to a copy of the dataset (-d) and route existing runs to it without retraining.

    The model becomes a routing candidate in every test row (its per-query scores from test_scores, else null:
    routable but unevaluated, a pick of it counts 0) and the held-out model of newllm (no pair names it). For
    each --run the run's graph and profile are rebuilt on the new data (new ids) and its trained router (sim,
    mlp, graph) scores the new candidate set; the new run's metrics say how often the new model is picked.
    Routers that cannot take a new model say why. docs/own-data.md has the details.

    Example: rp -d mydata model add new-llm.yaml --out mydata+new --run run-0123456789
    """
    sess = session(ctx)
    from rpcli.services.data.models import add_model

    with cli_errors():
        s = add_model(sess, card, out, runs=run, all_runs=all_runs, force=force)
    if as_json:
        print_json(s)
    else:
        typer.echo(s["out_dir"])
        for r in s["runs"]:
            if r["status"] == "routed":
                typer.echo(r["new_run"])
    for n, f in s["models"].items():
        state = "evaluated" if f["evaluated"] else f"unevaluated on {f['test_rows'] - f['test_rows_scored']} of " \
                                                   f"{f['test_rows']} test rows"
        err_console.print(f"added {n} ({state}) to {s['out_dir']} (data hash {s['data_hash'][:10]})")
    for r in s["runs"]:
        if r["status"] == "routed":
            seed0 = " of seed " + str(r["seeds"][0]) if len(r["seeds"]) > 1 else ""
            picks = ", ".join(f"{n} picked on {(v['selection_rate'] or 0):.1%} of the test rows"
                              + (f" (mean of {len(r['seeds'])} seeds)" if seed0 else "")
                              + f" ({v['n_selected']} rows{seed0})" for n, v in r["new_models"].items())
            err_console.print(f"run {r['run']} ({r['router']}, {r['mode']}) -> {r['new_run']} without retraining: "
                              f"avg_performance {r['avg_performance']:.4f} (was {r['avg_performance_before']:.4f}); "
                              f"{picks}")
            for note in r.get("notes", []):
                err_console.print(f"[yellow]note:[/yellow] {note}")
        else:
            err_console.print(f"[yellow]run {r['run']}: not routed[/yellow]: {r['reason']}"
                              + (f" ({r['hint']})" if r.get("hint") else ""))

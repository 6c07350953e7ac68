"""rp data check | synth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rpcli.cli._options import JsonOpt
from rpcli.cli._output import cli_errors, err_console, out_console, print_json
from rpcli.cli._state import options, session

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context,
          as_json: JsonOpt = False) -> None:
    """Load and validate the dataset; print what it holds.

    Example: rp -d ../shared/data/routeprofile data check
    """
    sess = session(ctx, quiet=True)
    from rpcli.services.data import dataset_summary

    with cli_errors():
        s = dataset_summary(sess)
    if as_json:
        print_json(s)
        return
    from rich.table import Table

    t = Table(title=f"dataset {s['root']}", show_header=False)
    t.add_row("data hash", s["data_hash"][:16])
    t.add_row("models (graph)", str(s["models"]))
    t.add_row("candidates", f"{len(s['candidates'])}: {', '.join(s['candidates'])}")
    t.add_row("families / tasks / domains", f"{s['families']} / {s['tasks_described']} / {s['domains']}")
    t.add_row("test rows", f"{s['test_rows']} ({len(s['test_tasks'])} tasks)")
    t.add_row("training queries", str(s["train_queries"]))
    for m, info in s["modes"].items():
        t.add_row(f"{m}: pairs", f"{info['pairs_released']} released, {info['pairs_dropped_overlap']} dropped "
                                 f"(query also in test), {info['pairs']} used")
        t.add_row(f"{m}: held-out", ", ".join(info["held_out"]) or "-")
        t.add_row(f"{m}: query nodes", info["task_queries"])
    t.add_row("held-out (newllm)", f"{', '.join(s['held_out']) or '-'} (from {s['held_out_source']})")
    for task, o in s["card_score_overlap"].items():
        if o["carries_test_information"]:
            t.add_row(f"card scores: {task}",
                      f"steps of 100/{o['n_train']} (measured on the {o['n_train']} training queries); "
                      f"{o['train_rows_in_test']} of those rows are also test queries: the {task} model-task "
                      "scores carry test information")
    out_console.print(t)
    for w in s["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")


@app.command("synth")
def synth(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write profile_data/ and route_data/ into.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    models: Annotated[int, typer.Option("--models", help="Number of models (candidates + "
                                        "auxiliaries).")] = 12,
    candidates: Annotated[int, typer.Option("--candidates", help="Routing candidates (at most "
                                            "--models).")] = 6,
    tasks: Annotated[int, typer.Option("--tasks", help="Routing tasks.")] = 8,
    domains: Annotated[int, typer.Option("--domains", help="Domains.")] = 4,
    train_queries_per_task: Annotated[int, typer.Option("--train-queries-per-task", "--queries-per-task")] = 60,
    test_queries_per_task: Annotated[int, typer.Option("--test-queries-per-task")] = 30,
    pairs_per_task: Annotated[int, typer.Option("--pairs-per-task")] = 80,
    noise: Annotated[float, typer.Option(help="Per-(model, query) noise of the item-response model.")] = 0.5,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic dataset in the RouteProfile layout from a latent-skill model.

    Example: rp data synth --out /tmp/big --models 120 --tasks 12 --train-queries-per-task 9000
    """
    from rpcli.services.data import synthesize_dataset

    o = options(ctx)
    with cli_errors():
        summary = synthesize_dataset(out, seed=seed, n_models=models, n_candidates=candidates, n_tasks=tasks,
                                     n_domains=domains, train_queries_per_task=train_queries_per_task,
                                     test_queries_per_task=test_queries_per_task, pairs_per_task=pairs_per_task,
                                     noise=noise)
    if as_json:
        print_json(summary)
    else:
        typer.echo(str(Path(out).resolve()))
        if not o.quiet:
            err_console.print(f"wrote a synthetic dataset to {out}")

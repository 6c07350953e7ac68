"""rp data check | synth | import."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

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
    from rpcli.services.data.check import dataset_summary

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
    if s.get("import"):  # the dataset was made by rp data import (its import.json)
        from rpcli.core.data.importers.record import import_rows

        for label, text in import_rows(s["import"]):
            t.add_row(label, text)
    for task, o in s["card_score_overlap"].items():
        if o["carries_test_information"]:
            t.add_row(f"card scores: {task}",
                      f"steps of 100/{o['n_train']} (measured on the {o['n_train']} training queries); "
                      f"{o['train_rows_in_test']} of those rows are also test queries: the {task} model-task "
                      "scores carry test information")
    for kind, names in s["placeholder_descriptions"].items():
        t.add_row(f"placeholder descriptions ({kind})", ", ".join(names))
    t.add_row("candidates without a price", ", ".join(s["unpriced_candidates"]) or "none")
    t.add_row("names that match nothing", str(len(s["unmatched_names"])) if s["unmatched_names"] else "none")
    for u in s["unmatched_names"]:
        t.add_row(f"  {u['kind']} {u['name']!r}", f"{u['file']}, record {u['record']}"
                  + (f" (+{u['records'] - 1})" if u["records"] > 1 else "")
                  + (f"; did you mean {u['suggestion']!r}?" if u["suggestion"] else ""))
    out_console.print(t)
    for kind, names in s["placeholder_descriptions"].items():
        err_console.print(f"[yellow]warning:[/yellow] {len(names)} {kind} description(s) are only the neutral "
                          f"placeholder ({', '.join(names)}): profiles learn nothing from them; give descriptions "
                          "with rp data import --cards")
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
    query_structure: Annotated[float, typer.Option(
        "--query-structure", help="Within-task structure S (0 to 20): each task's queries come from --subtopics "
        "sub-topics, each with its own vocabulary in the query texts and its own per-model skill offsets of scale S "
        "(logits), so different models win different sub-topics of one task. Writes route_data/synth_truth.json "
        "(the ground truth; the loader does not read it) and route_data/routing_train_data.json. 0 = none (the "
        "files of earlier versions, byte for byte).")] = 0.0,
    subtopics: Annotated[int, typer.Option("--subtopics", help="Sub-topics per routing task (1 to 12; used when "
                                           "--query-structure > 0).")] = 3,
    train_scores: Annotated[bool, typer.Option("--train-scores", help="Also write "
                                               "route_data/routing_train_data.json (every candidate's score per "
                                               "training query, as rp data import writes it) when "
                                               "--query-structure is 0.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic dataset in the RouteProfile layout from a latent-skill model.

    The --json summary's sanity.query_level compares, on the test rows, the per-task best candidate (picked on the
    training queries) with the per-task and per-query oracles and, with --query-structure, the sub-topic oracle
    (each task and sub-topic's best candidate by expected score): the room a query-level router has.

    Example: rp data synth --out /tmp/big --models 120 --tasks 12 --train-queries-per-task 9000

    Example (within-task structure): rp data synth --out /tmp/structured --query-structure 2 --subtopics 3 --json
    """
    from rpcli.services.data.check import synthesize_dataset

    o = options(ctx)
    with cli_errors():
        summary = synthesize_dataset(out, seed=seed, n_models=models, n_candidates=candidates, n_tasks=tasks,
                                     n_domains=domains, train_queries_per_task=train_queries_per_task,
                                     test_queries_per_task=test_queries_per_task, pairs_per_task=pairs_per_task,
                                     noise=noise, query_structure=query_structure, n_subtopics=subtopics,
                                     train_scores=train_scores)
    if as_json:
        print_json(summary)
    else:
        typer.echo(str(Path(out).resolve()))
        if not o.quiet:
            err_console.print(f"wrote a synthetic dataset to {out}")


class ImportFormat(str, Enum):
    scores = "scores"
    wide_csv = "wide-csv"


class DuplicatesPolicy(str, Enum):
    error = "error"
    first = "first"
    mean = "mean"


@app.command("import")
def import_(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="The score file: JSON/JSONL (--format scores) or CSV (wide-csv).",
                                        show_default=False)],
    fmt: Annotated[ImportFormat, typer.Option("--format", "-f", help="scores: records of (query, task, model, "
                                              "score[, prompt_tokens, completion_tokens, cost]) or (query, task, "
                                              "scores: {model: score}); wide-csv: a prompt column, a task column, a "
                                              "score column per model and optional '<model>|cost' columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New folder for profile_data/ and route_data/.")],
    test_fraction: Annotated[float, typer.Option("--test-fraction", help="Share of each task's queries in the "
                                                 "test rows (0 < F < 1).")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the pair sampling (recorded).")] = 0,
    hold_out: Annotated[Optional[str], typer.Option("--hold-out", help="The newllm held-out candidate: its "
                                                    "routing-task scores are null in the newllm cards and no newllm "
                                                    "pair names it.")] = None,
    pairs_per_task: Annotated[int, typer.Option("--pairs-per-task", help="Cap on each task's training pairs "
                                                "(0 = all); docs/pairs-cap.md measures what it costs and "
                                                "loses.")] = 5000,
    cards: Annotated[Optional[Path], typer.Option("--cards", help="YAML or JSON: models {name: {description, "
                                                  "family, size, parameters, input_price, output_price, scores}}, "
                                                  "families, tasks and domains descriptions.")] = None,
    duplicates: Annotated[DuplicatesPolicy, typer.Option(
        "--duplicates", help="A repeated (query, model) result (wide-csv: a repeated (prompt, task) row): error "
        "refuses it, first keeps the first, mean averages the scores (and tokens and costs). Recorded in "
        "import.json.")] = DuplicatesPolicy.error,
    as_json: JsonOpt = False,
) -> None:
    """Import your own per-query scores as a RouteProfile-layout dataset (validated with the normal loader).

    Split: per task, the queries are shuffled with the seed and round(F x n) go to the test rows (at least one;
    at least one stays for training). Pairwise rule: for every training query and every two models that both
    have a score on it, the higher score is the better model (equal scores make no pair); when a task has more
    than --pairs-per-task such pairs, that many are drawn without replacement with the seed (newllm: without the
    --hold-out model). The per-task scores of the model cards are 100 x each model's mean score over the training
    queries only. The summary says how many of the possible pairs were kept, and how many repeated (query, model)
    results were found (--duplicates). Nothing is written unless the whole dataset is valid; the dataset's
    import.json records the source, the options and these counts. docs/own-data.md has the details.

    Example: rp data import scores.jsonl --format scores --cards cards.yaml --out mydata --hold-out my-new-llm
    """
    o = options(ctx)
    if not 0 < test_fraction < 1:
        raise typer.BadParameter(f"must be between 0 and 1, exclusive (got {test_fraction})",
                                 param_hint="--test-fraction")
    if seed < 0:
        raise typer.BadParameter(f"must be at least 0 (got {seed})", param_hint="--seed")
    if pairs_per_task < 0:
        raise typer.BadParameter(f"must be at least 0 (got {pairs_per_task})", param_hint="--pairs-per-task")
    from rpcli.services.data.importer import import_dataset

    with cli_errors():
        s = import_dataset(src, fmt.value, out, test_fraction=test_fraction, seed=seed, hold_out=hold_out,
                           pairs_per_task=pairs_per_task or None, cards=cards, duplicates=duplicates.value)
    if as_json:
        print_json(s)
    else:
        typer.echo(s["out_dir"])
    if not o.quiet:
        for w in s["warnings"]:
            err_console.print(f"[yellow]warning:[/yellow] {w}")
        err_console.print(f"imported {len(s['candidates'])} models, {s['n_test_rows']} test rows, "
                          f"{s['n_train_queries']} training queries, {s['pairs']['standard']['pairs']} standard / "
                          f"{s['pairs']['newllm']['pairs']} newllm pairs into {s['out_dir']} "
                          f"(held-out: {s['hold_out'] or '-'})")
        err_console.print(s["pairs_kept"], highlight=False)

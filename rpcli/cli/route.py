"""rp route sim | mlp | graph | prior | knn | residual | blend (run and record), rp route query | batch (route new
text with a recorded run)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._options import DeviceOpt, ForceOpt, JsonOpt, Mode, ModeOpt, SeedsOpt, parse_seeds
from rpcli.cli._output import cli_errors, err_console, fmt, print_built
from rpcli.cli._state import session

app = typer.Typer(no_args_is_help=True)


class QueryText(str, Enum):
    formatted = "formatted"
    raw = "raw"


ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Profile id or unique prefix.")]
QueryTextOpt = Annotated[QueryText, typer.Option("--query-text", help="formatted: the row's formatted_query when "
                                                 "present, else rp's copy of the per-task prompt (raw query for "
                                                 "tasks without one); raw: always the raw query.")]
ValSplitOpt = Annotated[float, typer.Option("--val-split", min=0.0, max=0.9, help="Share of training queries held "
                                            "out for validation (split by query).")]


def _run(ctx, router: str, profile: str, mode: Mode, query_text: QueryText, opts: dict, seeds: list[int] | None,
         force: bool, as_json: bool, device: str | None = None) -> None:
    from rpcli.cli._state import check_finite

    check_finite(**{k: v for k, v in opts.items() if isinstance(v, float)})
    sess = session(ctx)
    from rpcli.services.base import check_device
    from rpcli.services.routes import run_router_entry

    with cli_errors():
        check_device(device, "--device")
        res = run_router_entry(sess, router, profile, mode.value, opts, seeds=seeds, query_text=query_text.value,
                               force=force, device=device)
    print_built(res, as_json)
    report(res)


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
        sd = ((m.get("seeds") or {}).get("newllm.cold_start_recall.value") or {})
        val = sd.get("mean", c.get("value")) if m.get("seeds") else c.get("value")
        line += f", cold-start recall {fmt(val, 3)}"
        line += f" ± {fmt(sd.get('sd'), 3)}" if m.get("seeds") and sd.get("sd") is not None else ""
        line += f" (seed {m.get('seed', 0)}: {c.get('numerator')}/{c.get('denominator')})"
    cq = m.get("cost_quality")
    if cq:
        seeds = m.get("seeds") or {}
        aiq = (seeds.get("cost_quality.aiq") or {})
        if seeds and aiq.get("mean") is not None:
            line += f", AIQ {fmt(aiq['mean'])} ± {fmt(aiq['sd'])}"
        else:
            line += f", AIQ {fmt(cq.get('aiq'))}"
        line += f" (single models {fmt(cq.get('aiq_single_models'))})"
        ctm = cq.get("cost_to_match_bsm_micro")
        who = f" (seed {m.get('seed', 0)})" if seeds else ""
        line += (f", matches the best single model from {fmt(ctm, 1)} µ$/query{who}" if ctm is not None else
                 f", never matches the best single model{who}")
    err_console.print(line)


@app.command("sim")
def sim(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
        query_text: QueryTextOpt = QueryText.formatted, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """SimRouter: route each test query to the profile with the highest cosine similarity; evaluate; record.

    The cosines are also calibrated on the training queries to trace a cost-quality curve.

    Example: rp route sim --profile profile-0d9e --mode newllm
    """
    _run(ctx, "sim", profile, mode, query_text, {}, None, force, as_json)


@app.command("mlp")
def mlp(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
        query_text: QueryTextOpt = QueryText.formatted,
        epochs: Annotated[int, typer.Option(min=1, help="Training epochs (the original's default is 20).")] = 20,
        lr: Annotated[float, typer.Option(help="AdamW learning rate (cosine schedule down to 0.1 lr).")] = 1e-4,
        hidden: Annotated[int, typer.Option(min=1, help="Hidden width of both towers.")] = 512,
        out_dim: Annotated[int, typer.Option("--out-dim", min=1, help="Output width of both towers.")] = 256,
        layers: Annotated[int, typer.Option(min=1, help="Linear layers per tower.")] = 2,
        dropout: Annotated[float, typer.Option(min=0.0, max=0.99, help="Dropout between layers.")] = 0.1,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Pairs per step.")] = 32,
        patience: Annotated[int, typer.Option(min=0, help="Stop after this many epochs without a better val loss "
                                                          "(0: never).")] = 5,
        val_split: ValSplitOpt = 0.1, device: DeviceOpt = None, seeds: SeedsOpt = "0",
        force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """MLPRouter: two MLP towers (query, profile) trained with a pairwise margin ranking loss on the mode's pairs.

    Validation is split by query, unique queries are encoded once, the towers take different input widths, and
    one self-describing ckpt.pt is written per seed.

    Example: rp route mlp --profile profile-0d9e --mode standard --seeds 0,1,2
    """
    opts = {"epochs": epochs, "lr": lr, "hidden": hidden, "out": out_dim, "layers": layers, "dropout": dropout,
            "batch_size": batch_size, "patience": patience, "val_split": val_split}
    _run(ctx, "mlp", profile, mode, query_text, opts, parse_seeds(seeds), force, as_json, device)


class Labels(str, Enum):
    pairs = "pairs"
    scores = "scores"


@app.command("graph")
def graph(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
          query_text: QueryTextOpt = QueryText.formatted,
          epochs: Annotated[int, typer.Option(min=1, help="Training epochs (the original's default is 100).")] = 100,
          lr: Annotated[float, typer.Option(help="Adam learning rate (cosine schedule down to 0.01 lr).")] = 1e-4,
          hidden: Annotated[int, typer.Option(min=1, help="Hidden width.")] = 256,
          layers: Annotated[int, typer.Option(min=1, help="GATConv layers.")] = 2,
          heads: Annotated[int, typer.Option(min=1, help="Attention heads per layer (averaged).")] = 4,
          dropout: Annotated[float, typer.Option(min=0.0, max=0.99, help="Dropout (attention, layers, edge "
                                                                        "MLP).")] = 0.1,
          batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Training queries per step.")] = 32,
          transductive: Annotated[bool, typer.Option("--transductive", help="Faithful: put the test queries in the "
                                                     "graph during training (default: attach them at inference)."
                                                     )] = False,
          labels: Annotated[Labels, typer.Option(help="pairs: per-query labels derived from the pairwise file; "
                                                      "scores: route_data/routing_train_data.json rows.")]
          = Labels.pairs,
          patience: Annotated[int, typer.Option(min=0, help="Stop after this many epochs without a better val_perf "
                                                            "(0: never, faithful).")] = 0,
          residual: Annotated[bool, typer.Option("--residual", help="Fix: each GAT layer adds a linear map of its "
                                                 "input (PyG GATConv residual=True), so a query keeps its own "
                                                 "features against the models' messages.")] = False,
          member_sample: Annotated[int, typer.Option("--member-sample", min=0, help="Speed: each training step "
                                                     "encodes the graph on this many sampled member queries plus "
                                                     "the batch (0: all of them, faithful).")] = 0,
          val_split: ValSplitOpt = 0.1, device: DeviceOpt = None, seeds: SeedsOpt = "0",
          force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """GraphRouter: a query-model GAT with an edge predictor, trained on per-query multi-hot labels.

    Labels come from the mode's pairwise file (the best models of each query are positives, beaten ones
    negatives, unmentioned ones masked). Test queries are attached at inference unless --transductive. One
    self-describing ckpt.pt is written per seed; the best val_perf checkpoint is kept.

    Example: rp route graph --profile profile-0d9e --mode newllm --seeds 0,1,2
    """
    opts = {"epochs": epochs, "lr": lr, "hidden": hidden, "layers": layers, "heads": heads, "dropout": dropout,
            "batch_size": batch_size, "transductive": transductive, "labels": labels.value, "patience": patience,
            "residual": residual, "member_sample": member_sample, "val_split": val_split}
    _run(ctx, "graph", profile, mode, query_text, opts, parse_seeds(seeds), force, as_json, device)


CardWeightOpt = Annotated[float, typer.Option("--card-weight", min=0.0, max=1.0, help="Weight of the card-based "
                                              "estimate in the per-task prior of models with training pairs "
                                              "(0: win rates alone).")]
RidgeOpt = Annotated[float, typer.Option(min=1e-6, help="Ridge strength of the card imputation (a card score the "
                                         "card does not give, predicted from its other benchmarks).")]
ColdBonusOpt = Annotated[float, typer.Option("--cold-bonus", min=0.0, max=1.0, help="Added to the prior of a "
                                             "model without training pairs (a new model).")]


@app.command("prior")
def prior(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
          query_text: QueryTextOpt = QueryText.formatted, card_weight: CardWeightOpt = 0.0, ridge: RidgeOpt = 1.0,
          cold_bonus: ColdBonusOpt = 0.0, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Per-task prior router: per task, each candidate's win rate from the training pairs, blended with its card
    score; a model without pairs (newllm's new model) is reached through its card alone (missing card scores
    imputed from its other benchmarks). Deterministic. See docs/beyond.md.

    Example: rp route prior --profile profile-0d9e --mode newllm --card-weight 1
    """
    _run(ctx, "prior", profile, mode, query_text, {"card_weight": card_weight, "ridge": ridge,
                                                    "cold_bonus": cold_bonus}, None, force, as_json)


@app.command("knn")
def knn(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
        query_text: QueryTextOpt = QueryText.formatted,
        k: Annotated[int, typer.Option(min=0, help="Neighbours (training queries) per query; 0: the prior alone."
                                       )] = 20,
        temperature: Annotated[float, typer.Option(min=0.0, help="Neighbour weight exp(T x (cos - 1)); 0: equal."
                                                   )] = 0.0,
        prior_weight: Annotated[float, typer.Option("--prior-weight", min=1e-6, help="Pseudo-votes of the per-task "
                                                    "prior.")] = 4.0,
        same_task: Annotated[bool, typer.Option("--same-task/--any-task", help="Neighbours among the training "
                                                "queries of the query's own task.")] = True,
        card_weight: CardWeightOpt = 0.0, ridge: RidgeOpt = 1.0, cold_bonus: ColdBonusOpt = 0.0,
        tune: Annotated[bool, typer.Option("--tune", help="Choose k, temperature, prior weight, card weight (and, "
                                           "with a new model, ridge and cold bonus) by grouped cross-validation "
                                           "on the training queries; the seed deals the folds.")] = False,
        folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds (--tune).")] = 5,
        min_cold_recall: Annotated[float, typer.Option("--min-cold-recall", min=0.0, max=1.0, help="--tune with a "
                                                       "new model: the cold-start CV recall a configuration must "
                                                       "reach to be chosen.")] = 0.5,
        seeds: SeedsOpt = "0", force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """kNN router: the k nearest training queries vote with their pairwise labels, shrunk toward the per-task
    prior (rp route prior). Deterministic. See docs/beyond.md.

    Example: rp route knn --profile profile-0d9e --mode standard --k 10 --prior-weight 8
    """
    opts = {"k": k, "temperature": temperature, "prior_weight": prior_weight, "same_task": same_task,
            "card_weight": card_weight, "ridge": ridge, "cold_bonus": cold_bonus, "tune": tune, "folds": folds,
            "min_cold_recall": min_cold_recall}
    _run(ctx, "knn", profile, mode, query_text, opts, parse_seeds(seeds), force, as_json)


TuneOpt = Annotated[bool, typer.Option("--tune", help="Choose the hyperparameters by grouped cross-validation on "
                                       "the training queries (never the test rows); the seed deals the folds.")]
FoldsOpt = Annotated[int, typer.Option(min=2, help="Cross-validation folds (--tune).")]
MinColdOpt = Annotated[float, typer.Option("--min-cold-recall", min=0.0, max=1.0, help="--tune with a new model: "
                                           "the cold-start CV recall a configuration must reach to be chosen.")]
L2Opt = Annotated[float, typer.Option("--l2", min=1e-9, help="Ridge penalty (per labeled query) of each "
                                      "candidate's query-level residual; large: the prior alone.")]


@app.command("residual")
def residual(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
             query_text: QueryTextOpt = QueryText.formatted, l2: L2Opt = 0.1, card_weight: CardWeightOpt = 0.0,
             ridge: RidgeOpt = 1.0, cold_bonus: ColdBonusOpt = 0.0, tune: TuneOpt = False, folds: FoldsOpt = 5,
             min_cold_recall: MinColdOpt = 0.5, seeds: SeedsOpt = "0", force: ForceOpt = False,
             as_json: JsonOpt = False) -> None:
    """Prior + residual router: the per-task prior (rp route prior) plus, per candidate, a ridge regression of
    (label - prior) on the query embedding. Deterministic. See docs/beyond.md.

    Example: rp route residual --profile profile-0d9e --mode standard --tune --seeds 0,1,2
    """
    opts = {"l2": l2, "card_weight": card_weight, "ridge": ridge, "cold_bonus": cold_bonus, "tune": tune,
            "folds": folds, "min_cold_recall": min_cold_recall}
    _run(ctx, "residual", profile, mode, query_text, opts, parse_seeds(seeds), force, as_json)


@app.command("blend")
def blend(ctx: typer.Context, profile: ProfileOpt, mode: ModeOpt = Mode.standard,
          query_text: QueryTextOpt = QueryText.formatted,
          weight: Annotated[float, typer.Option("--blend", min=0.0, max=1.0, help="Weight of the residual score "
                                                "(0: the knn score alone, 1: the residual score alone).")] = 0.5,
          k: Annotated[int, typer.Option(min=0, help="kNN neighbours.")] = 10,
          temperature: Annotated[float, typer.Option(min=0.0, help="kNN neighbour weight exp(T x (cos - 1)).")] = 0.0,
          prior_weight: Annotated[float, typer.Option("--prior-weight", min=1e-6, help="kNN pseudo-votes of the "
                                                      "prior.")] = 8.0,
          l2: L2Opt = 0.1, card_weight: CardWeightOpt = 0.0, ridge: RidgeOpt = 1.0, cold_bonus: ColdBonusOpt = 0.0,
          tune: TuneOpt = False, folds: FoldsOpt = 5, min_cold_recall: MinColdOpt = 0.5, seeds: SeedsOpt = "0",
          force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Blend router: (1 - blend) x the knn score + blend x the residual score, both shrunk to the same per-task
    prior. Deterministic. See docs/beyond.md.

    Example: rp route blend --profile profile-0d9e --mode standard --tune --seeds 0,1,2
    """
    opts = {"blend": weight, "k": k, "temperature": temperature, "prior_weight": prior_weight, "l2": l2,
            "card_weight": card_weight, "ridge": ridge, "cold_bonus": cold_bonus, "tune": tune, "folds": folds,
            "min_cold_recall": min_cold_recall}
    _run(ctx, "blend", profile, mode, query_text, opts, parse_seeds(seeds), force, as_json)


# ------------------------------------------------------------------------------------------------------------
# route new text with a recorded run
# ------------------------------------------------------------------------------------------------------------
RunOpt = Annotated[str, typer.Option("--run", "-r", help="Run id or unique prefix (rp ls runs).")]
LambdaOpt = Annotated[Optional[float], typer.Option("--lambda", help="Cost-aware choice: argmax of calibrated "
                                                    "quality - LAMBDA x expected cost ($/query), the rule of the "
                                                    "run's cost-quality curve (quality per dollar; 0 = the "
                                                    "router's own choice).")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Which seed's router of a multi-seed run "
                                                "(default: its first).")]


def _load(ctx, run: str, seed: int | None, lam: float | None):
    from rpcli.cli._state import check_finite

    check_finite(**{"lambda": lam})
    if lam is not None and lam < 0:
        raise typer.BadParameter("--lambda must be >= 0")
    sess = session(ctx)
    from rpcli.services.inference import load_run

    with cli_errors():
        return load_run(sess, run, seed=seed)


@app.command("query")
def query(ctx: typer.Context, text: Annotated[str, typer.Argument(help="The query text.")], run: RunOpt,
          explain: Annotated[bool, typer.Option("--explain", help="Every candidate's score and expected cost, and "
                                                "what drove the choice.")] = False,
          lam: LambdaOpt = None, seed: SeedOpt = None, as_json: JsonOpt = False) -> None:
    """Route one query with a recorded run: print the chosen candidate.

    The run's router, profile, encoder and query text are those it was evaluated with (the test rows are scored
    again on load and must reproduce the recorded predictions).

    Example: rp route query "Write a function that reverses a list" --run run-3f2a --explain
    """
    rr = _load(ctx, run, seed, lam)
    with cli_errors():
        if explain:
            doc = rr.explain(text, lam=lam)
        else:
            doc = {"run": rr.id, "text": text, **rr.decide([text], lam=lam)[0].to_dict()}
    if as_json:
        from rpcli.cli._output import print_json

        print_json(doc)
        return
    if not explain:
        typer.echo(doc["model"])
        return
    _print_explain(doc)


def _print_explain(doc: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    from rpcli.cli._output import out_console

    out_console.print(f"[bold]{doc['model']}[/bold]  (run {doc['run']}, {doc['router']} router, seed {doc['seed']})")
    out_console.print(f"why: {escape(doc['why'])}")
    lam = doc.get("lambda")
    t = Table(title=None, show_edge=False)
    for c in ["rank", "candidate", "score", "expected $/query"] + (["quality", "utility"] if lam is not None else []) \
            + (["attention"] if "attention" in doc else []):
        t.add_column(c, justify="left" if c == "candidate" else "right")
    for i, m in enumerate(doc["ranking"], 1):
        row = [str(i), m, fmt(doc["scores"][m], 4), fmt(doc["expected_cost"][m], 8)]
        if lam is not None:
            row += [fmt(doc["expected_quality"][m], 4), fmt(doc["utility"][m], 4)]
        if "attention" in doc:
            row.append(fmt(doc["attention"][m], 3))
        t.add_row(*row)
    out_console.print(t)
    if lam is not None and doc.get("lambda_range_of_the_run"):
        lo, hi = doc["lambda_range_of_the_run"]
        out_console.print(f"lambda {lam:g}; the run's curve sweeps lambda from {lo:.4g} to {hi:.4g} quality per $")
    if doc.get("nearest_training_queries"):
        out_console.print("nearest training queries (cosine, the candidates that won them):")
        for n in doc["nearest_training_queries"]:
            out_console.print(escape(f"  {fmt(n['similarity'], 3)}  [{n['task']}] {', '.join(n['best']) or '-'}  "
                                     f"{n['query'][:90]!r}"))
    if doc.get("nearest_tasks"):
        out_console.print("nearest task descriptions (cosine, card scores):")
        for n in doc["nearest_tasks"]:
            cs = ", ".join(f"{m} {fmt(v, 1)}" for m, v in n["card_scores"].items())
            out_console.print(escape(f"  {fmt(n['similarity'], 3)}  {n['task']}: {cs}"))


@app.command("batch")
def batch(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="JSON lines: {\"query\": ...} (other "
                                                                   "fields, e.g. id, are echoed) or a JSON string; "
                                                                   "a line that is not JSON is taken as plain text.")],
          run: RunOpt, lam: LambdaOpt = None, seed: SeedOpt = None,
          chunk: Annotated[int, typer.Option("--chunk", min=1, help="Lines encoded together.")] = 64) -> None:
    """Route every line of a JSON-lines file with a recorded run; stream one JSON line per input line.

    Each output line holds the input line number, the chosen model, the ranking and the scores; a line that
    cannot be read gets {"line": N, "error": ...} instead, and the command exits 1 after the others.

    Example: rp route batch queries.jsonl --run run-3f2a > routed.jsonl
    """
    import json
    import sys

    from rpcli.services.inference import parse_batch_line

    if not file.is_file():
        with cli_errors():
            from rpcli.errors import DataFileError

            raise DataFileError(file, "no such file")
    rr = _load(ctx, run, seed, lam)
    n_lines = n_err = 0
    pending: list = []

    def flush() -> None:
        ok = [(no, rec) for no, rec in pending if "error" not in rec]
        with cli_errors():
            decisions = rr.decide([rec["query"] for _, rec in ok], lam=lam)
        dec = {no: d for (no, _), d in zip(ok, decisions)}
        for no, rec in pending:
            out = {"line": no, **rec}
            if no in dec:
                out.update(dec[no].to_dict())
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        pending.clear()

    with open(file, encoding="utf-8", errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = parse_batch_line(line)
            n_lines += 1
            n_err += "error" in rec
            pending.append((no, rec))
            if len(pending) >= chunk:
                flush()
    flush()
    if n_err:
        err_console.print(f"{file}: {n_err} of {n_lines} lines failed (see their \"error\" field)", soft_wrap=True)
        raise typer.Exit(1)

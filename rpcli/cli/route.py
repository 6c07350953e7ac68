"""rp route ROUTER (run and record; one command per registered router, its options read off the router's Config),
rp route query | batch (route new text with a recorded run)."""

from __future__ import annotations

import inspect
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

def _run(ctx, router: str, profile: str, mode: Mode, query_text: QueryText, opts: dict, seeds: list[int] | None,
         force: bool, as_json: bool, device: str | None = None) -> None:
    from rpcli.cli._state import check_finite

    check_finite(**{k: v for k, v in opts.items() if isinstance(v, float)})
    sess = session(ctx)
    from rpcli.services.base import check_device
    from rpcli.services.artifacts.routes import run_router_entry

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


# ------------------------------------------------------------------------------------------------------------
# one command per registered router, its options read off the router's Config (rpcli.core.registry)
# ------------------------------------------------------------------------------------------------------------
_PY = {"int": int, "float": float, "bool": bool, "str": str}


def _option_param(plugin, o) -> inspect.Parameter:
    """The Typer parameter of one router option."""
    kw: dict = {"help": o.help or None}
    if o.min is not None and o.type in ("int", "float"):
        kw["min"] = o.min
    if o.max is not None and o.type in ("int", "float"):
        kw["max"] = o.max
    flag = o.cli_flag()
    if o.type == "bool" and "/" not in flag and not o.flag:
        flag = f"--{o.name.replace('_', '-')}/--no-{o.name.replace('_', '-')}"
    default = o.default
    if o.choices:
        py: type = Enum(f"{plugin.name}_{o.name}", {str(c): str(c) for c in o.choices}, type=str)  # type: ignore
        default = None if o.default is None else py(str(o.default))
    elif o.type == "int-list":
        py = str
        default = ",".join(str(v) for v in (o.default or []))
    else:
        py = _PY.get(o.type, str)
    if o.nullable:
        py = Optional[py]  # type: ignore[assignment]
    return inspect.Parameter("o_" + o.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[py, typer.Option(flag, **kw)])


def _option_value(o, v):
    if isinstance(v, Enum):
        return v.value
    if o.type == "int-list" and isinstance(v, str):
        return parse_seeds(v) if v else []
    return v


def _router_command(plugin):
    opts = [o for o in plugin.options() if o.cli]
    K = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("ctx", K, annotation=typer.Context),
              inspect.Parameter("profile", K, annotation=ProfileOpt),
              inspect.Parameter("mode", K, default=Mode.standard, annotation=ModeOpt),
              inspect.Parameter("query_text", K, default=QueryText.formatted, annotation=QueryTextOpt)]
    params += [_option_param(plugin, o) for o in opts]
    if plugin.caps.device:
        params.append(inspect.Parameter("device", K, default=None, annotation=DeviceOpt))
    if plugin.caps.seeded:
        params.append(inspect.Parameter("seeds", K, default="0", annotation=SeedsOpt))
    params += [inspect.Parameter("force", K, default=False, annotation=ForceOpt),
               inspect.Parameter("as_json", K, default=False, annotation=JsonOpt)]

    def command(**kw) -> None:
        values = {o.name: _option_value(o, kw["o_" + o.name]) for o in opts}
        seeds = parse_seeds(kw["seeds"]) if plugin.caps.seeded else None
        _run(kw["ctx"], plugin.name, kw["profile"], kw["mode"], kw["query_text"], values, seeds, kw["force"],
             kw["as_json"], kw.get("device"))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = f"route_{plugin.name.replace('-', '_')}"
    doc = plugin.description or plugin.summary or f"The {plugin.name} router."
    command.__doc__ = doc + (f"\n\nExample: {plugin.example}" if plugin.example else "")
    return command


def _broken_command(name: str, message: str | None = None):
    """`rp route NAME` for a router plugin that cannot be used: any arguments, one clear error naming it."""

    def command(ctx: typer.Context) -> None:
        from rpcli.core.registry import router
        from rpcli.errors import ConfigError

        with cli_errors():
            if message:
                raise ConfigError(message, hint="fix or uninstall that plugin; `rp plugins` lists every plugin")
            router(name)  # raises the registry's message: the plugin, its distribution and its error

    command.__name__ = f"route_broken_{name.replace('-', '_')}"
    return command


_ANY_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _register_commands() -> None:
    from rpcli.core.registry import problems, routers, source_of

    table = routers()
    for name, plugin in table.items():
        try:
            command = _router_command(plugin)
        except Exception as exc:  # noqa: BLE001 - one plugin's odd options must not take `rp route` down
            src = source_of("router", name)
            msg = (f"the router plugin {name!r} ({src['target']}, from {src['source']}) cannot be turned into a "
                   f"command: {type(exc).__name__}: {exc}")
            app.command(name, hidden=True, context_settings=_ANY_ARGS)(_broken_command(name, msg))
            continue
        app.command(name, help=None, short_help=plugin.summary or None)(command)
    for p in problems("router"):
        if p.name not in table and p.name not in ("query", "batch"):
            app.command(p.name, hidden=True, context_settings=_ANY_ARGS)(_broken_command(p.name))


_register_commands()


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
    from rpcli.services.serving.inference import load_run

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
    import itertools
    import json
    import sys

    from rpcli.services.serving.inference import parse_batch_line

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

    from rpcli.core.input_limits import max_query_chars, read_line

    with open(file, encoding="utf-8", errors="replace") as fh:
        for no in itertools.count(1):
            line, too_long = read_line(fh)  # at most RP_MAX_QUERY_CHARS characters held per line
            if too_long:
                rec = {"error": f"the line is longer than the limit of {max_query_chars():,} characters "
                                "(RP_MAX_QUERY_CHARS)"}
            elif not line:
                break
            elif not line.strip():
                continue
            else:
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

"""rp profile METHOD (build; one command per registered profile method, its options read off the method's Config),
rp profile import | show | ls."""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from rpcli.cli._options import ForceOpt, JsonOpt, Mode, ModeOpt, parse_seeds
from rpcli.cli._output import cli_errors, err_console, out_console, print_built, print_json
from rpcli.cli._state import check_finite, session

app = typer.Typer(no_args_is_help=True)

GraphOpt = Annotated[Optional[str], typer.Option("--graph", "-g", help="Parent graph id or prefix (default: build "
                                                                       "or reuse the method's default graph).")]
KeepOpt = Annotated[Optional[str], typer.Option("--keep", help="candidates (default), all, or NAME,NAME,...")]


# ------------------------------------------------------------------------------------------------------------
# one command per registered profile method, its options read off the method's Config (rpcli.core.registry)
# ------------------------------------------------------------------------------------------------------------
_PY = {"int": int, "float": float, "bool": bool, "str": str}


def _option_param(plugin, o) -> inspect.Parameter:
    """The Typer parameter of one option, presented as the method's `cli_hints` say (environment variable, help
    panel, short flag, an existing file)."""
    hint = plugin.cli_hints.get(o.name, {})
    kw: dict = {"help": o.help or None}
    if o.min is not None and o.type in ("int", "float"):
        kw["min"] = o.min
    if o.max is not None and o.type in ("int", "float"):
        kw["max"] = o.max
    if hint.get("envvar"):
        kw["envvar"] = hint["envvar"]
    if hint.get("panel"):
        kw["rich_help_panel"] = hint["panel"]
    flag = o.cli_flag()
    if o.type == "bool" and "/" not in flag and not o.flag:
        flag = f"--{o.name.replace('_', '-')}/--no-{o.name.replace('_', '-')}"
    decls = [flag] + ([hint["short"]] if hint.get("short") else [])
    default = o.default
    py: Any
    if o.choices:
        py = Enum(f"{plugin.name}_{o.name}", {str(c): str(c) for c in o.choices}, type=str)  # type: ignore
        default = None if o.default is None else py(str(o.default))
    elif o.type == "int-list":
        py = str
        default = ",".join(str(v) for v in (o.default or []))
    elif hint.get("file"):
        py = Path
        kw.update(exists=True, dir_okay=False)
    else:
        py = _PY.get(o.type, str)
    if o.nullable:
        py = Optional[py]
    return inspect.Parameter("o_" + o.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[py, typer.Option(*decls, **kw)])


def _option_value(o, v):
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, Path):
        return str(v)
    if o.type == "int-list" and isinstance(v, str):
        return parse_seeds(v) if v else []
    return v


def _method_command(plugin):
    """`rp profile NAME`: --mode, --graph (a method that builds on a graph), the Config's options, --keep (with a
    graph: which of its models get a vector), --force, --json."""
    opts = [o for o in plugin.options() if o.cli]
    on_graph = plugin.default_graph is not None
    K = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("ctx", K, annotation=typer.Context),
              inspect.Parameter("mode", K, default=Mode.standard, annotation=ModeOpt)]
    if on_graph:
        params.append(inspect.Parameter("graph", K, default=None, annotation=GraphOpt))
    params += [_option_param(plugin, o) for o in opts]
    if on_graph:
        params.append(inspect.Parameter("keep", K, default=None, annotation=KeepOpt))
    params += [inspect.Parameter("force", K, default=False, annotation=ForceOpt),
               inspect.Parameter("as_json", K, default=False, annotation=JsonOpt)]

    def command(**kw) -> None:
        values = {o.name: _option_value(o, kw["o_" + o.name]) for o in opts}
        check_finite(**{o.cli_flag().split("/")[0].lstrip("-"): values[o.name] for o in opts
                        if o.type == "float" and values[o.name] is not None})
        sess = session(kw["ctx"])
        from rpcli.services.artifacts.profiles import build_profile_options

        with cli_errors():
            res = build_profile_options(sess, plugin.name, kw["mode"].value, values, graph_ref=kw.get("graph"),
                                        keep=kw.get("keep"), force=kw["force"])
        print_built(res, kw["as_json"])
        info = res.entry.get("info", {})
        if res.built and info.get("prompts"):  # a method that asked an LLM: how many prompts, how many cached
            rate = info.get("throughput_prompts_per_s")
            err_console.print(f"{plugin.label(res.entry['params'])}: {info['prompts']} prompts, "
                              f"{info.get('cache_hits', 0)} cached, {info.get('cache_misses', 0)} generated"
                              + (f" at {rate:.2f} prompts/s" if rate else ""))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = f"profile_{plugin.name.replace('-', '_')}"
    doc = plugin.description or plugin.summary or f"The {plugin.name} profile method."
    command.__doc__ = doc + (f"\n\nExample: {plugin.example}" if plugin.example else "")
    return command


def _register_commands() -> None:
    from rpcli.core.registry import profile_methods

    for name, plugin in profile_methods().items():
        app.command(name, help=None, short_help=plugin.summary or None)(_method_command(plugin))


_register_commands()


@app.command("import")
def import_(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An .npz {model: vector}.")],
            mode: ModeOpt = Mode.standard, as_json: JsonOpt = False) -> None:
    """Register a profile built elsewhere (e.g. by the original code) so it can be routed and compared.

    Example: rp profile import results/model_profile_result/standard/flat.npz --mode standard
    """
    sess = session(ctx)
    from rpcli.services.artifacts.profiles import import_profile_entry

    with cli_errors():
        res = import_profile_entry(sess, file, mode.value)
    print_built(res, as_json)


@app.command("show")
def show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Profile id or unique prefix.")],
         texts: Annotated[bool, typer.Option("--texts", help="Print the model texts saved beside the profile "
                                                             "(text-gnn: the final hop; flat: the composed "
                                                             "texts).")] = False,
         hop: Annotated[Optional[int], typer.Option("--hop", min=0, help="With --texts: the texts after hop N "
                                                                         "(0: the descriptions).")] = None,
         as_json: JsonOpt = False) -> None:
    """Models, dimension, norms and a pairwise-cosine summary of a profile (or, with --texts, its texts).

    Example: rp profile show profile-0d9e --texts --hop 1
    """
    sess = session(ctx)
    from rpcli.services.artifacts.profiles import profile_texts, show_profile

    with cli_errors():
        if texts or hop is not None:
            sel = profile_texts(sess, ref, hop)
        else:
            s = show_profile(sess, ref)
    if texts or hop is not None:
        _print_texts(sel, as_json)
        return
    if as_json:
        print_json(s)
        return
    out_console.print(f"[bold]{s['id']}[/bold]  {s['params']}  parents={s['parents']}")
    out_console.print(f"dim {s['dim']}; pairwise cosine min/mean/max "
                      f"{s['pairwise_cosine']['min']:.4f}/{s['pairwise_cosine']['mean']:.4f}/"
                      f"{s['pairwise_cosine']['max']:.4f}")
    for n, v in s["norms"].items():
        out_console.print(f"  {n:45s} norm {v:.4f}")


def _print_texts(sel: dict, as_json: bool) -> None:
    if as_json:
        print_json(sel)
        return
    for name, text in sel.items():
        out_console.print(f"[bold]{name}[/bold]")
        out_console.print(text, markup=False)
        out_console.print()


@app.command("ls")
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List recorded profiles.

    Example: rp profile ls
    """
    from rpcli.cli.ws import Kind, ls as ls_all

    ls_all(ctx, Kind.profiles, as_json)

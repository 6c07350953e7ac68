"""rp profile index | emb-gnn | import | show | ls."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._output import cli_errors, out_console, print_built, print_json
from rpcli.cli._state import session
from rpcli.cli.graph import Mode

app = typer.Typer(no_args_is_help=True)

GraphOpt = Annotated[Optional[str], typer.Option("--graph", "-g", help="Parent graph id or prefix (default: build "
                                                                       "or reuse the method's default graph).")]
KeepOpt = Annotated[Optional[str], typer.Option("--keep", help="candidates (default), all, or NAME,NAME,...")]
ForceOpt = Annotated[bool, typer.Option(help="Rebuild even if an identical profile is recorded.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")]
ModeOpt = Annotated[Mode, typer.Option("--mode", "-m", help="standard or newllm.")]


def _build(ctx, method, mode, opts, graph=None, keep=None, force=False, as_json=False):
    sess = session(ctx)
    from rpcli.services.profiles import build_profile_entry

    with cli_errors():
        res = build_profile_entry(sess, method, mode.value, opts, graph_ref=graph, keep=keep, force=force)
    print_built(res, as_json)


@app.command("index")
def index(ctx: typer.Context, mode: ModeOpt = Mode.standard,
          seed: Annotated[int, typer.Option(help="torch seed (the original's default is 56).")] = 56,
          force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """The random-vector baseline: one seeded Gaussian vector per candidate (dimension from the encoder).

    Example: rp profile index --mode standard
    """
    _build(ctx, "index", mode, {"seed": seed}, force=force, as_json=as_json)


class Norm(str, Enum):
    sym = "sym"
    right = "right"
    left = "left"
    none = "none"


@app.command("emb-gnn")
def emb_gnn(ctx: typer.Context, mode: ModeOpt = Mode.standard, graph: GraphOpt = None,
            K: Annotated[int, typer.Option("--K", "-K", min=0, help="Propagation steps (0: the descriptions).")] = 2,
            norm: Annotated[Norm, typer.Option(help="Structural edge weight.")] = Norm.sym,
            normalize: Annotated[bool, typer.Option("--normalize", help="L2-normalise the profiles.")] = False,
            self_loops: Annotated[bool, typer.Option("--self-loops", help="Fix (spec §9.2): keep the node's own "
                                                                          "vector in the mean.")] = False,
            per_node_mean: Annotated[bool, typer.Option("--per-node-mean", help="Fix (spec §9.2): average over the "
                                                        "relations a node actually has.")] = False,
            keep: KeepOpt = None, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Training-free K-hop propagation of encoded node texts over a graph.

    Example: rp profile emb-gnn --mode standard --graph graph-3f9c --K 2 --norm sym
    """
    _build(ctx, "emb-gnn", mode, {"K": K, "norm": norm.value, "normalize": normalize, "self_loops": self_loops,
                                  "per_node_mean": per_node_mean}, graph=graph, keep=keep, force=force,
           as_json=as_json)


class FlatContext(str, Enum):
    random = "random"
    neighbours = "neighbours"


@app.command("flat")
def flat(ctx: typer.Context, mode: ModeOpt = Mode.standard, graph: GraphOpt = None,
         top_k: Annotated[int, typer.Option("--top-k", min=0, help="Context nodes per node type (min(top_k, N)).")] = 5,
         seed: Annotated[int, typer.Option(help="Seed of the one random.Random shared across models.")] = 42,
         context: Annotated[FlatContext, typer.Option(help="random: uniform nodes of each type (faithful); "
                                                           "neighbours: the model's actual graph neighbours, with "
                                                           "benchmark scores (spec §9.2 fix).")] = FlatContext.random,
         keep: KeepOpt = None, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Plain-text profile: the model's description plus sampled context lines, encoded and L2-normalised.

    The composed texts are saved as flat_texts.json in the profile directory.

    Example: rp profile flat --mode standard --top-k 5 --context neighbours
    """
    _build(ctx, "flat", mode, {"top_k": top_k, "seed": seed, "context": context.value}, graph=graph, keep=keep,
           force=force, as_json=as_json)


class Select(str, Enum):
    train_loss = "train-loss"
    val = "val"


@app.command("trainable")
def trainable(ctx: typer.Context, mode: ModeOpt = Mode.standard, graph: GraphOpt = None,
              hidden: Annotated[int, typer.Option(min=1, help="Hidden width of the inner HANConv layers.")] = 256,
              heads: Annotated[int, typer.Option(min=1, help="Attention heads of the inner layers (must divide "
                                                             "--hidden; the last layer has 1).")] = 4,
              layers: Annotated[int, typer.Option(min=1, help="Number of HANConv layers.")] = 2,
              epochs: Annotated[int, typer.Option(min=1, help="Full-batch training epochs.")] = 100,
              lr: Annotated[float, typer.Option(help="AdamW learning rate (cosine schedule down to 0.05 lr).")] = 1e-4,
              node_mask_rate: Annotated[float, typer.Option("--node-mask-rate", help="Share of nodes masked per "
                                                                                     "epoch.")] = 0.3,
              edge_mask_rate: Annotated[float, typer.Option("--edge-mask-rate", help="Share of scored edges whose "
                                                                                     "score is regressed per "
                                                                                     "epoch.")] = 0.3,
              edge_loss_w: Annotated[float, typer.Option("--edge-loss-w", help="Weight of the edge-score loss.")] = 1.0,
              out_dim: Annotated[Optional[int], typer.Option("--out-dim", min=1, help="Output width (default: the "
                                                             "encoder's; another width cannot be routed by sim).")]
              = None,
              select: Annotated[Select, typer.Option(help="train-loss: keep the lowest training loss (faithful); "
                                                          "val: keep the lowest loss on a seeded held-out set of "
                                                          "nodes and edges.")] = Select.train_loss,
              seed: Annotated[int, typer.Option(help="Seed for python, numpy and torch.")] = 42,
              keep: KeepOpt = None, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """HANConv encoder trained by masked-node reconstruction plus edge-score regression; saves ckpt.pt.

    Example: rp profile trainable --mode standard --epochs 100 --select val
    """
    _build(ctx, "trainable", mode, {"hidden": hidden, "heads": heads, "layers": layers, "epochs": epochs, "lr": lr,
                                    "node_mask_rate": node_mask_rate, "edge_mask_rate": edge_mask_rate,
                                    "edge_loss_w": edge_loss_w, "out_dim": out_dim, "select": select.value,
                                    "seed": seed}, graph=graph, keep=keep, force=force, as_json=as_json)


@app.command("import")
def import_(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An .npz {model: vector}.")],
            mode: ModeOpt = Mode.standard, as_json: JsonOpt = False) -> None:
    """Register a profile built elsewhere (e.g. by the original code) so it can be routed and compared.

    Example: rp profile import results/model_profile_result/standard/flat.npz --mode standard
    """
    sess = session(ctx)
    from rpcli.services.profiles import import_profile_entry

    with cli_errors():
        res = import_profile_entry(sess, file, mode.value)
    print_built(res, as_json)


@app.command("show")
def show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Profile id or unique prefix.")],
         as_json: JsonOpt = False) -> None:
    """Models, dimension, norms and a pairwise-cosine summary of a profile.

    Example: rp profile show profile-0d9e
    """
    sess = session(ctx)
    from rpcli.services.profiles import load_profile_entry, profile_summary

    with cli_errors():
        entry, names, vecs = load_profile_entry(sess, ref)
    s = {"id": entry["id"], "params": entry["params"], "parents": entry["parents"], **profile_summary(names, vecs)}
    if as_json:
        print_json(s)
        return
    out_console.print(f"[bold]{s['id']}[/bold]  {s['params']}  parents={s['parents']}")
    out_console.print(f"dim {s['dim']}; pairwise cosine min/mean/max "
                      f"{s['pairwise_cosine']['min']:.4f}/{s['pairwise_cosine']['mean']:.4f}/"
                      f"{s['pairwise_cosine']['max']:.4f}")
    for n, v in s["norms"].items():
        out_console.print(f"  {n:45s} norm {v:.4f}")


@app.command("ls")
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List recorded profiles.

    Example: rp profile ls
    """
    from rpcli.cli.ws import Kind, ls as ls_all

    ls_all(ctx, Kind.profiles, as_json)

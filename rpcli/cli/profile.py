"""rp profile index | emb-gnn | flat | trainable | text-gnn | import | show | ls."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._options import ForceOpt, JsonOpt, Mode, ModeOpt
from rpcli.cli._output import cli_errors, err_console, out_console, print_built, print_json
from rpcli.cli._state import SEED_MAX, check_finite, session

app = typer.Typer(no_args_is_help=True)

GraphOpt = Annotated[Optional[str], typer.Option("--graph", "-g", help="Parent graph id or prefix (default: build "
                                                                       "or reuse the method's default graph).")]
KeepOpt = Annotated[Optional[str], typer.Option("--keep", help="candidates (default), all, or NAME,NAME,...")]


def _build(ctx, method, mode, opts, graph=None, keep=None, force=False, as_json=False):
    sess = session(ctx)
    from rpcli.services.profiles import build_profile_entry

    with cli_errors():
        res = build_profile_entry(sess, method, mode.value, opts, graph_ref=graph, keep=keep, force=force)
    print_built(res, as_json)


@app.command("index")
def index(ctx: typer.Context, mode: ModeOpt = Mode.standard,
          seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="torch seed (the original's default is 56).")] = 56,
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
         seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed of the one random.Random shared across "
                                                                  "models.")] = 42,
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
              seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed for python, numpy and torch.")] = 42,
              keep: KeepOpt = None, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """HANConv encoder trained by masked-node reconstruction plus edge-score regression; saves ckpt.pt.

    Example: rp profile trainable --mode standard --epochs 100 --select val
    """
    check_finite(lr=lr, node_mask_rate=node_mask_rate, edge_mask_rate=edge_mask_rate, edge_loss_w=edge_loss_w)
    _build(ctx, "trainable", mode, {"hidden": hidden, "heads": heads, "layers": layers, "epochs": epochs, "lr": lr,
                                    "node_mask_rate": node_mask_rate, "edge_mask_rate": edge_mask_rate,
                                    "edge_loss_w": edge_loss_w, "out_dim": out_dim, "select": select.value,
                                    "seed": seed}, graph=graph, keep=keep, force=force, as_json=as_json)


class Backend(str, Enum):
    vllm = "vllm"
    transformers = "transformers"
    openai = "openai"
    extractive = "extractive"


_LLM = "LLM backend"
_FIX = "Fixes (spec §9.2), off by default"


@app.command("text-gnn")
def text_gnn(
    ctx: typer.Context, mode: ModeOpt = Mode.standard, graph: GraphOpt = None,
    K: Annotated[int, typer.Option("--K", "-K", min=0, help="Hops of LLM aggregation (0: encode the "
                                                            "descriptions; no generator starts).")] = 4,
    backend: Annotated[Optional[Backend], typer.Option(envvar="RP_LLM_BACKEND", rich_help_panel=_LLM,
                                                       help="Text generator. Default: openai with --base-url, "
                                                            "transformers with a local --model directory, else "
                                                            "extractive (said on stderr).")] = None,
    model: Annotated[Optional[str], typer.Option(envvar="RP_LLM_MODEL", rich_help_panel=_LLM,
                                                 help="vllm: hub id or path (default Qwen/Qwen2.5-7B-Instruct); "
                                                      "transformers: a local model directory; openai: the served "
                                                      "model name.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1, rich_help_panel=_LLM, help="New tokens per node text.")] = 500,
    temperature: Annotated[float, typer.Option(min=0.0, rich_help_panel=_LLM, help="0: greedy.")] = 0.0,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, rich_help_panel=_LLM, help="Sampling seed.")] = 0,
    tp: Annotated[int, typer.Option(min=1, rich_help_panel=_LLM, help="vllm: tensor-parallel GPUs.")] = 1,
    gpu_memory_utilization: Annotated[float, typer.Option(rich_help_panel=_LLM, help="vllm: share of GPU memory "
                                                          "the engine may take.")] = 0.9,
    device: Annotated[Optional[str], typer.Option(rich_help_panel=_LLM, help="transformers: torch device "
                                                  "(default: the global --device).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, rich_help_panel=_LLM, help="Prompts per generate "
                                                      "call; the cache is written after each (default: "
                                                      "transformers 8, vllm 256).")] = None,
    chat_template: Annotated[Optional[bool], typer.Option("--chat-template/--no-chat-template",
                                                          rich_help_panel=_LLM, help="Wrap prompts in the "
                                                          "tokenizer's chat template (default: transformers when it "
                                                          "has one; vllm never, as the original).")] = None,
    base_url: Annotated[Optional[str], typer.Option(envvar="RP_LLM_BASE_URL", rich_help_panel=_LLM,
                                                    help="openai: endpoint base, e.g. "
                                                         "http://127.0.0.1:8000/v1.")] = None,
    api_key_env: Annotated[str, typer.Option(rich_help_panel=_LLM, help="openai: environment variable holding "
                                             "the key (absent is fine for local servers).")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(min=1, rich_help_panel=_LLM, help="openai: requests in "
                                             "flight.")] = 4,
    timeout: Annotated[float, typer.Option(min=0.1, rich_help_panel=_LLM, help="openai: seconds per "
                                           "request.")] = 120.0,
    max_retries: Annotated[int, typer.Option(min=0, rich_help_panel=_LLM, help="openai: retries on 429/5xx/"
                                             "timeouts, with exponential backoff.")] = 5,
    prompts: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="YAML prompt templates "
                                                    "overriding the shipped ones (rpcli/core/profiles/prompts/"
                                                    "text_gnn.yaml).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Neighbours kept per neighbour type.")] = 5,
    score_aware: Annotated[bool, typer.Option("--score-aware", rich_help_panel=_FIX, help="Rank a model's "
                                              "benchmarks (and a benchmark's models) by score, not by text "
                                              "similarity.")] = False,
    query_similarity: Annotated[bool, typer.Option("--query-similarity", rich_help_panel=_FIX, help="Encode "
                                                   "query texts so queries are ranked by similarity (the original "
                                                   "takes the first ones).")] = False,
    dedup_domains: Annotated[bool, typer.Option("--dedup-domains", rich_help_panel=_FIX, help="Name each domain "
                                                "once per benchmark (the original lists it twice).")] = False,
    keep: KeepOpt = None, force: ForceOpt = False, as_json: JsonOpt = False,
) -> None:
    """An LLM rewrites every node's text from its neighbours' texts, K times; the final model texts are encoded.

    Saved beside the profile: text_gnn_texts.json (model texts per hop) and prompts.jsonl (all prompts).

    LLM outputs are cached in the workspace: a rerun or a resumed run repeats no call.

    Example: rp profile text-gnn --mode standard --K 2 --backend vllm --model Qwen/Qwen2.5-7B-Instruct
    """
    check_finite(temperature=temperature, gpu_memory_utilization=gpu_memory_utilization, timeout=timeout)
    if not 0 < gpu_memory_utilization <= 1:
        raise typer.BadParameter(f"--gpu-memory-utilization must be in (0, 1], got {gpu_memory_utilization}")
    sess = session(ctx)
    from rpcli.services.base import check_device
    from rpcli.services.profiles import build_text_gnn_entry

    llm = {"model": model, "max_tokens": max_tokens, "temperature": temperature, "seed": seed, "tp": tp,
           "gpu_memory_utilization": gpu_memory_utilization, "device": device, "batch_size": batch_size,
           "chat_template": chat_template, "base_url": base_url, "api_key_env": api_key_env,
           "concurrency": concurrency, "timeout": timeout, "max_retries": max_retries}
    with cli_errors():
        check_device(device, "--device")
        res = build_text_gnn_entry(sess, mode.value, K, backend=backend.value if backend is not None else None,
                                   llm=llm, prompts_file=prompts, top_k=top_k, score_aware=score_aware,
                                   query_similarity=query_similarity, dedup_domains=dedup_domains, graph_ref=graph,
                                   keep=keep, force=force)
    print_built(res, as_json)
    info = res.entry.get("info", {})
    if res.built and info.get("prompts"):
        rate = info.get("throughput_prompts_per_s")
        err_console.print(f"text-gnn K={info['K']}: {info['prompts']} prompts, {info['cache_hits']} cached, "
                          f"{info['cache_misses']} generated" + (f" at {rate:.2f} prompts/s" if rate else ""))


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
    from rpcli.services.profiles import profile_texts, show_profile

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

"""The one place where a sweep meets the single-artifact services.

Everything a sweep needs from `build_graph_entry`, `build_profile_entry` and `run_router_entry` goes through here:
  - `option_catalog()`: which graph kinds, profile methods and routers exist and which options each accepts, with
    the defaults of the single commands (routers: their registry defaults; profile methods: `PROFILE_OPTIONS`,
    whose names and defaults a test checks against `rp profile ...`'s own);
  - `call_entry(sess, cell, parent_id)`: build (or, inside `intercept_builds`, plan or stage) one cell exactly as
    the equivalent `rp graph build` / `rp profile METHOD` / `rp route ROUTER` command would, so a sweep cell and
    the command get the same id.
"""

from __future__ import annotations

from rpcli.core.sweep.spec import Catalog, Option

# The options of `rp profile METHOD`, spelt as they are recorded in params, with the commands' defaults.
# (`keep` is the profile's --keep; index takes none.) A method registered without an entry here takes no options
# unless its registry record carries `defaults` ({option: default}).
_TEXT_GNN_LLM = {
    "backend": Option("str", None, nullable=True),  # choices filled from the LLM backend registry
    "model": Option("str", None, nullable=True),
    "max_tokens": Option("int", 500, minimum=1),
    "temperature": Option("float", 0.0, minimum=0.0),
    "seed": Option("int", 0),
    "tp": Option("int", 1, minimum=1),
    "gpu_memory_utilization": Option("float", 0.9),
    "device": Option("str", None, nullable=True),
    "batch_size": Option("int", None, nullable=True, minimum=1),
    "chat_template": Option("bool", None, nullable=True),
    "base_url": Option("str", None, nullable=True),
    "api_key_env": Option("str", "OPENAI_API_KEY"),
    "concurrency": Option("int", 4, minimum=1),
    "timeout": Option("float", 120.0, minimum=0.1),
    "max_retries": Option("int", 5, minimum=0),
    "prompts": Option("str", None, nullable=True),
}
_KEEP = {"keep": Option("str", None, nullable=True)}


def _profile_options() -> dict:
    from rpcli.core.profiles.emb_gnn import NORMS
    from rpcli.core.profiles.flat import CONTEXTS
    from rpcli.core.profiles.trainable_config import SELECT, TrainConfig

    t = TrainConfig()
    return {
        "index": {"seed": Option("int", 56)},
        "emb-gnn": {"K": Option("int", 2, minimum=0), "norm": Option("str", "sym", choices=NORMS),
                    "normalize": Option("bool", False), "self_loops": Option("bool", False),
                    "per_node_mean": Option("bool", False), **_KEEP},
        "flat": {"top_k": Option("int", 5, minimum=0), "seed": Option("int", 42),
                 "context": Option("str", "random", choices=CONTEXTS), **_KEEP},
        "trainable": {"hidden": Option("int", t.hidden, minimum=1), "heads": Option("int", t.heads, minimum=1),
                      "layers": Option("int", t.layers, minimum=1), "epochs": Option("int", t.epochs, minimum=1),
                      "lr": Option("float", t.lr), "node_mask_rate": Option("float", t.node_mask_rate),
                      "edge_mask_rate": Option("float", t.edge_mask_rate),
                      "edge_loss_w": Option("float", t.edge_loss_w),
                      "out_dim": Option("int", t.out_dim, nullable=True, minimum=1),
                      "select": Option("str", t.select, choices=SELECT), "seed": Option("int", t.seed), **_KEEP},
        "text-gnn": {"K": Option("int", 4, minimum=0), "top_k": Option("int", 5, minimum=1),
                     "score_aware": Option("bool", False), "query_similarity": Option("bool", False),
                     "dedup_domains": Option("bool", False), **_TEXT_GNN_LLM, **_KEEP},
    }


def _router_options(plugin) -> dict:
    """A router's sweep options, read off its Config (rpcli.core.registry): its own, query_text, and seeds /
    device as its capabilities say."""
    from rpcli.core.routers.query_text import QUERY_TEXT_CHOICES

    out = {"query_text": Option("str", "formatted", choices=QUERY_TEXT_CHOICES)}
    if plugin.caps.seeded:
        out["seeds"] = Option("int-list", [0], minimum=0)
    if plugin.caps.device:
        out["device"] = Option("str", None, nullable=True)  # where to train (not part of the recipe)
    for o in plugin.options():
        lo = o.min if o.min is not None else (0 if o.type in ("int", "float") else None)
        out[o.name] = Option(o.type, o.default, choices=o.choices, nullable=o.nullable, minimum=lo)
    return out


def option_catalog() -> Catalog:
    """The catalog a sweep file is validated against, read from the services' registries."""
    from rpcli.core.data.schema import MODES
    from rpcli.core.graph.spec import GRAPH_SPECS
    from rpcli.core.llm import BACKENDS
    from rpcli.core.registry import routers
    from rpcli.services.profiles import METHODS

    table = _profile_options()
    methods = {}
    for name, m in METHODS.items():
        defaults = getattr(m, "defaults", None)
        if name in table:
            opts = dict(table[name])
        elif isinstance(defaults, dict):
            opts = {k: Option(_type_of(v), v, nullable=v is None) for k, v in defaults.items()}
        else:
            opts = {}
        if "backend" in opts:
            opts["backend"] = Option("str", None, nullable=True, choices=tuple(BACKENDS))
        methods[name] = opts
    return Catalog(
        graph_kinds=tuple(GRAPH_SPECS), modes=tuple(MODES),
        graph_options={"max_queries_per_task": Option("int", None, nullable=True, minimum=1)},
        methods=methods, needs_graph={n: m.default_graph is not None for n, m in METHODS.items()},
        default_graph={n: m.default_graph for n, m in METHODS.items()},
        routers={n: _router_options(r) for n, r in routers().items()})


def _type_of(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "str"


# ----------------------------------------------------------------------------------------------------------------
# calling the entry points
# ----------------------------------------------------------------------------------------------------------------


_LLM_SETTINGS = ("model", "max_tokens", "temperature", "seed", "tp", "gpu_memory_utilization", "device",
                 "batch_size", "chat_template", "base_url", "api_key_env", "concurrency", "timeout", "max_retries")


def call_entry(sess, kind: str, what: str, mode: str, options: dict, parent_id: str | None):
    """Build one cell through the service entry point the single command uses. Returns its BuildResult."""
    if kind == "graph":
        from rpcli.services.graphs import build_graph_entry

        return build_graph_entry(sess, what, mode, max_queries_per_task=(options or {}).get("max_queries_per_task"))
    if kind == "profile":
        from pathlib import Path

        from rpcli.services.profiles import build_profile_entry, build_text_gnn_entry

        opts = {k: v for k, v in options.items() if k != "keep"}
        keep = options.get("keep")
        if what == "text-gnn":
            # as `rp profile text-gnn`: the backend by name (none named: extractive unless base_url / a local
            # model directory implies another), its settings, and a prompts file overriding the shipped one
            return build_text_gnn_entry(
                sess, mode, opts["K"], backend=opts.get("backend"), llm={k: opts.get(k) for k in _LLM_SETTINGS},
                prompts_file=Path(opts["prompts"]) if opts.get("prompts") else None, top_k=opts["top_k"],
                score_aware=opts["score_aware"], query_similarity=opts["query_similarity"],
                dedup_domains=opts["dedup_domains"], graph_ref=parent_id, keep=keep)
        return build_profile_entry(sess, what, mode, opts, graph_ref=parent_id, keep=keep)
    if kind == "run":
        from rpcli.services.routes import run_router_entry

        opts = {k: v for k, v in options.items() if k not in ("seeds", "query_text", "device")}
        return run_router_entry(sess, what, parent_id, mode, opts, seeds=options.get("seeds"),
                                query_text=options.get("query_text", "formatted"), device=options.get("device"))
    raise ValueError(f"unknown artifact kind {kind!r}")

"""The one place where a sweep meets the single-artifact services.

Everything a sweep needs from `build_graph_entry`, `build_profile_options` and `run_router_entry` goes through here:
  - `option_catalog()`: which graph kinds, profile methods and routers exist and which options each accepts, with
    the defaults of the single commands: all read off the registry (rpcli.core.registry), the options of a router
    or profile method from its Config, as the `rp route ROUTER` / `rp profile METHOD` commands read them;
  - `cell_recipe(sess, kind, what, mode, options, parent_id)`: the Recipe of one cell, made exactly as
    the equivalent `rp graph build` / `rp profile METHOD` / `rp route ROUTER` command would, so a sweep cell and
    the command get the same id.
"""

from __future__ import annotations

from rpcli.core.sweep.spec import Catalog, Option


def _profile_options(plugin) -> dict:
    """A profile method's sweep options, read off its Config: its own, and `keep` (the profile's --keep) when it
    builds on a graph."""
    out = {o.name: Option(o.type, o.default, choices=o.choices, nullable=o.nullable, minimum=o.min)
           for o in plugin.options()}
    if plugin.default_graph is not None:
        out["keep"] = Option("str", None, nullable=True)
    return out


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
    """The catalog a sweep file is validated against, read from the registries."""
    from rpcli.core.data.schema import MODES
    from rpcli.core.graph.spec import GRAPH_SPECS
    from rpcli.core.registry import profile_methods, routers

    methods = profile_methods()
    return Catalog(
        graph_kinds=tuple(GRAPH_SPECS), modes=tuple(MODES),
        graph_options={"max_queries_per_task": Option("int", None, nullable=True, minimum=1)},
        methods={n: _profile_options(m) for n, m in methods.items()},
        needs_graph={n: m.default_graph is not None for n, m in methods.items()},
        default_graph={n: m.default_graph for n, m in methods.items()},
        routers={n: _router_options(r) for n, r in routers().items()})


# ----------------------------------------------------------------------------------------------------------------
# calling the entry points
# ----------------------------------------------------------------------------------------------------------------


def cell_recipe(sess, kind: str, what: str, mode: str, options: dict, parent_id: str | None):
    """The Recipe of one cell, made by the function the single command uses, so a sweep cell and the command get
    the same id. The sweep plans it (`plan_recipe`), a worker stages it (`build_into_staging`) and the driver
    registers it (`register_staged`)."""
    if kind == "graph":
        from rpcli.services.artifacts.graphs import graph_recipe

        return graph_recipe(sess, what, mode, max_queries_per_task=(options or {}).get("max_queries_per_task"))
    if kind == "profile":
        from rpcli.services.artifacts.profiles import profile_options_recipe

        opts = {k: v for k, v in options.items() if k != "keep"}
        return profile_options_recipe(sess, what, mode, opts, graph_ref=parent_id, keep=options.get("keep"))
    if kind == "run":
        from rpcli.services.artifacts.routes import run_recipe

        if parent_id is None:
            raise ValueError("a run cell needs its profile's id")
        opts = {k: v for k, v in options.items() if k not in ("seeds", "query_text", "device")}
        return run_recipe(sess, what, parent_id, mode, opts, seeds=options.get("seeds"),
                          query_text=options.get("query_text", "formatted"), device=options.get("device"))
    raise ValueError(f"unknown artifact kind {kind!r}")

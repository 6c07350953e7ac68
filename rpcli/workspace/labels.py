"""The labels and the order of the results view: `rp compare` (table, JSON, CSV), `rp report` and the dashboard.

Stdlib only, like the rest of rpcli.workspace: which options a router or profile method has, and their defaults,
are known to the registry in rpcli.core, which this layer may not import. So every function here takes the
defaults as data, ``defaults``, shaped like ``rpcli.core.registry.label_defaults()``::

    {"routers": {router: {option: default}}, "profiles": {method: {option: default}},
     "router_order": [router, ...], "method_order": [method, ...], "router_titles": {router: "Sim", ...}}

The services (compare, report) pass it in; `rp compare` hands it to the dashboard as plain data.

The label rule. A label names every option that differs from its default, so two runs never look alike and a run
at its defaults shows no options: ``prior(card_weight=1.0) / index / -`` is router / profile / graph.

* Options are written ``key=value``, sorted by key: booleans as true/false, lists and dicts as compact JSON,
  none as null; a value equal to its default (1 and 1.0 alike, true and 1 not) is left out, and so is an option
  that a record does not hold (an option added later is absent from older records: it was at its default).
* Keys of a run's params that are not router options (`RUN_NOT_NAMED`, `RUN_IMPLICIT`): ``router`` is the
  label's name; ``mode`` is never named (every view is per mode); ``seeds`` is named in the run's label
  (``seed=3``, ``seeds=0-2``) when it is not the default [0], never in the router's label (the report pools seeds;
  the tables have a seeds column); ``query_text`` is named when it is not "formatted"; ``rerouted_from`` and
  ``new_models`` (`rp model add`) are always named; ``device``, ``train_file_sha256`` (the training file's digest:
  the data hash already tells datasets apart), ``train_signal`` ("scores": the router learned from the dataset's
  per-query training scores; on one dataset the router's capabilities decide it) and ``held_out_scores_hidden``
  (data, not an option) never are.
* Keys of a profile's params that are not options (`PROFILE_NOT_NAMED`, `PROFILE_IMPLICIT`): ``method`` is the
  label's name; ``mode``, ``prompts_sha256``, ``sha256`` (digests) and ``held_out_scores_hidden`` are never named;
  ``keep`` is named when it is not "candidates"; the text generator (``llm``, or an older top-level ``backend``)
  is always named, last, as ``backend=NAME`` and, for an LLM, ``model=ID``: it is what the text was written by.
  (Two text-gnn profiles that differ only in their prompt templates share a label: the recipe holds the
  templates' digest, whose default only the engine knows.)
* A key the defaults do not list for a router or method they know (an option of another version) is named.
* Without defaults for a router or method (an old caller, a plugin no longer installed), every recorded option
  is named except those that are off (false or null), which are taken to be at their defaults.
* Order: routers and methods in the registry's order (``router_order``, ``method_order``: the study's first);
  without it, the paper's Table 1 order (rpcli.workspace.paper), then the rest by name.
"""

from __future__ import annotations

import re

import json
from collections.abc import Iterable, Mapping

from rpcli.workspace import paper

# Params that are not options and that `_non_default` never names: the label's own name, the mode, the seeds (named
# apart, in the run's label), digests, where a run ran, data, and the text generator (named apart, last).
RUN_NOT_NAMED = frozenset({"router", "mode", "seeds", "device", "train_file_sha256", "held_out_scores_hidden",
                           "train_signal"})
PROFILE_NOT_NAMED = frozenset({"method", "mode", "llm", "backend", "prompts_sha256", "sha256",
                               "held_out_scores_hidden"})
# Params that are not options but are named when they differ from these values (the registry's label data also
# lists query_text among every router's defaults).
RUN_IMPLICIT = {"query_text": "formatted"}
PROFILE_IMPLICIT = {"keep": "candidates"}
# text-gnn backends that write no LLM text (extractive composes sentences of the graph's own texts)
NON_LLM_BACKENDS = frozenset({"extractive"})

# The study's routers and methods: the columns and rows of the paper's Table 1 (its order is the fallback order).
STUDY_ROUTERS = tuple(paper.ROUTERS.values())
STUDY_METHODS = tuple(dict.fromkeys(method for method, _ in paper.TABLE1))


# ---------------------------------------------------------------------------------------------------------------
# Option text
# ---------------------------------------------------------------------------------------------------------------


def value_text(v) -> str:
    """An option value as a label writes it: true/false, null, compact JSON for lists and dicts, else str()."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None or isinstance(v, (list, tuple, dict)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return str(v)


def options_text(opts: Mapping) -> str:
    """``k=v, k2=v2`` in the order given."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in opts.items())


def call_text(name: str, opts: Mapping) -> str:
    """``name(k=v, ...)``, or the bare name without options."""
    return name + (f"({options_text(opts)})" if opts else "")


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return value_text(a) == value_text(b)


def _non_default(params: Mapping, known: Mapping | None, never: frozenset, implicit: Mapping) -> dict:
    """The options of ``params`` a label names, sorted by key (the rule of the module docstring)."""
    out = {}
    for k in sorted(params):
        if k in never:
            continue
        v = params[k]
        if known is not None and k in known:
            if not _same(v, known[k]):
                out[k] = v
        elif k in implicit:
            if not _same(v, implicit[k]):
                out[k] = v
        elif v is not None and (known is not None or v is not False):
            out[k] = v  # unknown to the defaults: named; without defaults, only when it is on
    return out


def _section(defaults: Mapping | None, key: str, name) -> Mapping | None:
    table = (defaults or {}).get(key)
    return table.get(name) if isinstance(table, Mapping) else None


# ---------------------------------------------------------------------------------------------------------------
# Routers and runs
# ---------------------------------------------------------------------------------------------------------------


def router_options(params: Mapping | None, defaults: Mapping | None = None) -> dict:
    """The options of a run's params that its label names: every router option away from its default, plus
    ``query_text`` when not "formatted" and ``rerouted_from`` / ``new_models``; never the seeds."""
    p = params or {}
    return _non_default(p, _section(defaults, "routers", p.get("router")), RUN_NOT_NAMED, RUN_IMPLICIT)


def router_label(params: Mapping | None, defaults: Mapping | None = None) -> str:
    """``router(option=value, ...)`` naming the options of `router_options`; the bare name at the defaults."""
    return call_text(str((params or {}).get("router") or "?"), router_options(params, defaults))


def seeds_options(seeds: Iterable[int] | None) -> dict:
    """{} for the default seed [0]; {"seed": n} for one other seed; {"seeds": "0-2"} (runs of consecutive seeds
    as a-b, comma separated) for several."""
    s = [int(x) for x in (seeds or [0])]
    if s == [0]:
        return {}
    if len(s) == 1:
        return {"seed": s[0]}
    parts, start = [], 0
    for i in range(1, len(s) + 1):
        if i == len(s) or s[i] != s[i - 1] + 1:
            parts.append(str(s[start]) if i - 1 == start else f"{s[start]}-{s[i - 1]}")
            start = i
    return {"seeds": ",".join(parts)}


# the default text encoder's id (all-MiniLM-L6-v2 on torch, rpcli.core.encoder): runs built with it name no encoder
DEFAULT_ENCODER_ID = re.compile(r"all-MiniLM-L6-v2-[0-9a-f]{10}")


def encoder_options(*entries: Mapping | None) -> dict:
    """{"encoder": ID} naming the text encoder of the first of `entries` (a run, then its profile and graph) that
    was built with one other than the default; {} when every one used the default or none used an encoder. Two runs
    that differ only in their encoder then never look alike."""
    for e in entries:
        eid = ((e or {}).get("encoder") or {}).get("id")
        if eid and not DEFAULT_ENCODER_ID.fullmatch(str(eid)):
            return {"encoder": str(eid)}
    return {}


def run_label(params: Mapping | None, profile: Mapping | None, graph: Mapping | None,
              defaults: Mapping | None = None, extra: Mapping | None = None) -> str:
    """The label of a run: ``router(options, seeds) / profile label / graph label``; `extra`: more options to name
    (e.g. `encoder_options`)."""
    p = params or {}
    router = call_text(str(p.get("router") or "?"), {**router_options(p, defaults), **(extra or {}),
                                                     **seeds_options(p.get("seeds"))})
    return f"{router} / {profile_label(profile, defaults)} / {graph_label(graph)}"


# ---------------------------------------------------------------------------------------------------------------
# Profiles and graphs
# ---------------------------------------------------------------------------------------------------------------


def profile_backend(entry: Mapping | None) -> tuple[str | None, str | None]:
    """(backend, model) of a profile's text generator: text-gnn keeps it in ``params.llm`` {backend, model,
    sampling}; older records may carry a top-level ``backend``. The model only for an LLM backend (an extractive
    "model" is an encoder). (None, None) without a generator (other methods, text-gnn K = 0)."""
    p = (entry or {}).get("params", {})
    llm = p.get("llm") or {}
    name = llm.get("backend") or p.get("backend")
    return name, llm.get("model") if name is not None and name not in NON_LLM_BACKENDS else None


def profile_options(entry: Mapping | None, defaults: Mapping | None = None) -> dict:
    """The options of a profile that its label names (its generator aside), sorted by key."""
    p = (entry or {}).get("params", {})
    return _non_default(p, _section(defaults, "profiles", p.get("method")), PROFILE_NOT_NAMED, PROFILE_IMPLICIT)


def profile_label(entry: Mapping | None, defaults: Mapping | None = None) -> str:
    """``method(option=value, ..., backend=NAME, model=ID)``: the options of `profile_options`, then the text
    generator; the bare method at the defaults; "?" for a missing profile."""
    if entry is None:
        return "?"
    backend, model = profile_backend(entry)
    opts = profile_options(entry, defaults)
    if backend is not None:
        opts["backend"] = backend
    if model is not None:
        opts["model"] = model
    return call_text(str(entry.get("params", {}).get("method", "?")), opts)


def graph_label(entry: Mapping | None) -> str:
    """The graph's kind; "-" for a profile without a graph."""
    if entry is None:
        return "-"
    return entry.get("params", {}).get("kind", "?")


# ---------------------------------------------------------------------------------------------------------------
# Order and titles
# ---------------------------------------------------------------------------------------------------------------


def router_order(defaults: Mapping | None = None) -> tuple[str, ...]:
    """The routers in display order: the registry's, else the paper's (sim, mlp, graph)."""
    return tuple((defaults or {}).get("router_order") or STUDY_ROUTERS)


def method_order(defaults: Mapping | None = None) -> tuple[str, ...]:
    """The profile methods in display order: the registry's, else the paper's Table 1 rows."""
    return tuple((defaults or {}).get("method_order") or STUDY_METHODS)


def order_key(value, order: tuple) -> tuple:
    """Sort key: the position in ``order``, then anything else by name."""
    return (order.index(value), "") if value in order else (len(order), str(value))


def router_title(name: str, defaults: Mapping | None = None) -> str:
    """A router's short column title ("Sim"), the name without one."""
    return ((defaults or {}).get("router_titles") or {}).get(name) or name

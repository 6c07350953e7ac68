"""rp profile: build (every method in the registry, rpcli.core.registry.profile_methods), import, show.

A method is a plugin object (rpcli.core.plugin.ProfileMethod; rp's own in rpcli.core.plugins.profiles): its Config
says which options it takes, `prepare` turns them into the recipe (they enter the id) and the runtime objects (a
text-gnn LLM backend and its prompt templates: they do not), and `build(sess, graph | None, names, recipe, out_dir,
runtime) -> (vectors [len(names), D], info)` computes it. The coordinating code here resolves the parent graph,
picks the models to keep, hides the held-out model's scores from the methods that learn from them, and registers
the .npz; the numerics live in rpcli.core.profiles.
"""

from __future__ import annotations

from pathlib import Path

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError
from rpcli.services.base import BuildResult, Recipe, Session, artifact_dir, build_artifact, build_recipe, \
    check_device, check_modes, check_same_data, resolve


def build_profile_options(sess: Session, method: str, mode: str, options: dict | None = None, *,
                          graph_ref: str | None = None, keep: str | None = None, force: bool = False) -> BuildResult:
    """Build (or reuse) a profile from the method's options, as `rp profile METHOD` and a sweep cell do: `options`
    are the method's Config options (any subset; None and absent ones take their defaults), checked, then turned
    into the recipe and the runtime objects by the method's `prepare`."""
    return build_recipe(sess, profile_options_recipe(sess, method, mode, options, graph_ref=graph_ref, keep=keep),
                        force=force)


def profile_options_recipe(sess: Session, method: str, mode: str, options: dict | None = None, *,
                           graph_ref: str | None = None, keep: str | None = None) -> Recipe:
    """The recipe of `build_profile_options` (checked, runtime objects prepared; nothing built)."""
    from rpcli.core.registry import profile_method

    m = profile_method(method)
    opts = m.resolve(options)
    for name, hint in m.cli_hints.items():
        if hint.get("device"):
            check_device(opts.get(name), "--" + name.replace("_", "-"))
    recipe, runtime = m.prepare(sess, opts)
    return profile_recipe(sess, method, mode, recipe, graph_ref=graph_ref, keep=keep, runtime=runtime)


def build_profile_entry(sess: Session, method: str, mode: str, opts: dict, *, graph_ref: str | None = None,
                        keep: str | None = None, force: bool = False, backend=None, prompts: dict | None = None,
                        runtime: dict | None = None) -> BuildResult:
    """Build (or reuse) a profile from its recipe: `opts` enter the params as they are (the method's resolved
    options, or what its `prepare` made of them; `build_profile_options` starts from the options). `runtime`
    holds the objects that are not part of the recipe; `backend` and `prompts` are shorthands for text-gnn's (an
    LLMBackend, the prompt templates)."""
    return build_recipe(sess, profile_recipe(sess, method, mode, opts, graph_ref=graph_ref, keep=keep,
                                             backend=backend, prompts=prompts, runtime=runtime), force=force)


def profile_recipe(sess: Session, method: str, mode: str, opts: dict, *, graph_ref: str | None = None,
                   keep: str | None = None, backend=None, prompts: dict | None = None,
                   runtime: dict | None = None) -> Recipe:
    """The recipe of `build_profile_entry` (its graph resolved, or built when none is named; nothing else built)."""
    from rpcli.core.profiles.store import PROFILE_FILE, save_profile, select_keep
    from rpcli.core.registry import profile_method
    from rpcli.services.artifacts.graphs import build_graph_entry, load_graph_entry

    m = profile_method(method)
    runtime_keys = sorted(k for k in opts if k.startswith("_"))
    if runtime_keys:
        raise ConfigError(f"profile options {runtime_keys} are not recipe options",
                          hint="pass runtime objects as build_profile_entry(..., runtime={...}) (text-gnn: "
                               "backend=..., prompts=...)")
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose standard or newllm")
    ds = sess.dataset
    parents: list[str] = []
    graph = None
    if m.default_graph is not None:
        if graph_ref is None:
            gentry = build_graph_entry(sess, m.default_graph, mode).entry
        else:
            gentry = resolve(sess, graph_ref, "graph")
        check_modes(gentry, mode, "graph")
        check_same_data(sess, gentry)
        gentry, graph = load_graph_entry(sess, gentry["id"])
        if graph.dim != sess.encoder.dim and m.uses_encoder:
            raise ConfigError(f"graph {gentry['id']} has {graph.dim}-d features but the encoder "
                              f"{sess.encoder.id} gives {sess.encoder.dim}-d vectors",
                              hint="pass the --encoder the graph was built with")
        parents = [gentry["id"]]
        names = select_keep(graph.names["model"], ds.candidates, keep)
    else:
        names = list(ds.candidates)
    params = {"method": method, "mode": mode, "keep": keep or "candidates", **opts}
    runtime = {**(runtime or {})}
    runtime.update({k: v for k, v in (("backend", backend), ("prompts", prompts)) if v is not None})
    if graph is not None and m.learns_from_scores(opts):
        # newllm: the held-out model's routing-task scores are never learned from (core/data/held_out.py). The
        # recipe records how many score edges that hides, only where there are some (other recipes keep their id).
        from rpcli.core.data.held_out import count_hidden_scores, hidden_score_pairs

        hidden = hidden_score_pairs(ds.mode(mode).held_out, ds.test_tasks)
        n_hidden = count_hidden_scores(graph, hidden)
        if n_hidden:
            runtime["hidden"] = hidden
            params["held_out_scores_hidden"] = n_hidden

    def builder(out_dir: Path) -> dict:
        vecs, info = m.build(sess, graph, names, opts, out_dir, runtime)
        dim = save_profile(out_dir / PROFILE_FILE, names, vecs)
        return {"info": {"models": names, "dim": dim, **(info or {})}}

    return Recipe("profile", params, parents, builder, uses_encoder=m.uses_encoder)


def build_text_gnn_entry(sess: Session, mode: str, K: int, *, backend: str | None = None, llm: dict | None = None,
                         prompts_file: Path | None = None, top_k: int = 5, score_aware: bool = False,
                         query_similarity: bool = False, dedup_domains: bool = False, graph_ref: str | None = None,
                         keep: str | None = None, force: bool = False) -> BuildResult:
    """A text-gnn profile from front-end settings (the Python API's spelling): the backend by name, `llm` its
    settings (text-gnn's LLM options), `prompts_file` overriding the shipped templates."""
    options = {**(llm or {}), "K": K, "backend": backend, "prompts": str(prompts_file) if prompts_file else None,
               "top_k": top_k, "score_aware": score_aware, "query_similarity": query_similarity,
               "dedup_domains": dedup_domains}
    return build_profile_options(sess, "text-gnn", mode, options, graph_ref=graph_ref, keep=keep, force=force)


def import_profile_entry(sess: Session, file: Path, mode: str, force: bool = False) -> BuildResult:
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile, save_profile
    from rpcli.workspace.hashing import sha256_file

    file = Path(file)
    names, vecs = load_profile(file)
    model_names = [mm.name for mm in sess.dataset.mode(mode).models]
    unknown = [n for n in names if n not in model_names]
    if unknown:
        raise ConfigError(f"{file}: model {unknown[0]!r} is not in the dataset's model file")
    params = {"method": "imported", "mode": mode, "imported_from": file.name, "sha256": sha256_file(file)}

    def builder(out_dir: Path) -> dict:
        save_profile(out_dir / PROFILE_FILE, names, vecs)
        return {"info": {"models": names, "dim": int(vecs.shape[1])}}

    return build_artifact(sess, "profile", params, [], builder, force=force, uses_encoder=False)


def load_profile_entry(sess: Session, ref: str):
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile

    entry = resolve(sess, ref, "profile")
    names, vecs = load_profile(artifact_dir(sess, entry) / PROFILE_FILE)
    return entry, names, vecs


def show_profile(sess: Session, ref: str) -> dict:
    """The record `rp profile show` prints: id, params, parents, models, dim, norms, pairwise cosines."""
    from rpcli.core.profiles.store import profile_summary

    entry, names, vecs = load_profile_entry(sess, ref)
    return {"id": entry["id"], "params": entry["params"], "parents": entry["parents"], **profile_summary(names, vecs)}


def profile_texts(sess: Session, ref: str, hop: int | None = None) -> dict:
    """{model: text} saved beside a profile: text-gnn's final texts (or those after `hop`), flat's composed
    texts (hop 0 or None)."""
    import json

    from rpcli.core.profiles import flat, text_gnn

    entry = resolve(sess, ref, "profile")
    d = artifact_dir(sess, entry)
    if (d / text_gnn.TEXTS_FILE).is_file():
        doc = json.loads((d / text_gnn.TEXTS_FILE).read_text(encoding="utf-8"))
        if hop is None:
            return doc["final_texts"]
        if str(hop) in doc["hop_texts"]:
            return doc["hop_texts"][str(hop)]
        raise ConfigError(f"{entry['id']} has no hop {hop}; its hops are {', '.join(doc['hop_texts'])}")
    if (d / flat.TEXTS_FILE).is_file() and hop in (None, 0):
        return json.loads((d / flat.TEXTS_FILE).read_text(encoding="utf-8"))
    raise ConfigError(f"{entry['id']} has no saved texts" + (f" for hop {hop}" if hop else ""),
                      hint="text-gnn profiles save their texts per hop; flat profiles save their composed texts")

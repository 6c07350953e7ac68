"""rp profile: build (index, emb-gnn, ... registered below), import, show.

Each method is a function (sess, graph | None, names, opts, out_dir, runtime) -> (vectors [len(names), D], info);
`opts` are its recipe (they enter the id), `runtime` the objects that do not (a text-gnn LLM backend and its
prompt templates). The coordinating code here resolves the parent graph, picks the models to keep and registers
the .npz; the methods themselves live in rpcli.core.profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError
from rpcli.services.base import BuildResult, Session, artifact_dir, build_artifact, check_modes, check_same_data, \
    resolve


@dataclass(frozen=True)
class ProfileMethod:
    name: str
    default_graph: str | None  # graph kind built on demand when --graph is not given; None: needs no graph
    build: Callable[[Session, Any, list, dict, Path, dict], tuple[Any, dict]]  # (sess, graph, names, opts, out_dir,
    # runtime) -> (vectors [len(names), D], info)
    uses_encoder: bool = True


METHODS: dict[str, ProfileMethod] = {}


def register_method(method: ProfileMethod) -> None:
    METHODS[method.name] = method


def _index(sess, graph, names, opts, out_dir, runtime):
    from rpcli.core.profiles.index import index_profile

    return index_profile(names, sess.encoder.dim, seed=opts["seed"]), {}


def _emb_gnn(sess, graph, names, opts, out_dir, runtime):
    from rpcli.core.profiles.emb_gnn import emb_gnn_profile

    vecs = emb_gnn_profile(graph, names, K=opts["K"], norm=opts["norm"], normalize=opts["normalize"],
                           self_loops=opts["self_loops"], per_node_mean=opts["per_node_mean"])
    return vecs, {}


def _flat(sess, graph, names, opts, out_dir, runtime):
    from rpcli.core.profiles.flat import flat_profile, save_texts

    vecs, texts = flat_profile(graph, names, sess.encoder, top_k=opts["top_k"], seed=opts["seed"],
                               context=opts["context"], progress=sess.progress)
    return vecs, {"texts_file": save_texts(out_dir, names, texts), "context": opts["context"]}


def _trainable(sess, graph, names, opts, out_dir, runtime):
    from rpcli.core.profiles.trainable import TrainConfig, save_checkpoint, train_trainable

    vecs, ckpt, info = train_trainable(graph, names, TrainConfig(**opts), device=sess.device, progress=sess.progress,
                                       hidden=runtime.get("hidden", frozenset()))
    return vecs, {**info, "checkpoint": save_checkpoint(ckpt, out_dir)}


def _text_gnn(sess, graph, names, opts, out_dir, runtime):
    """opts: the recipe (K, top_k, fixes, prompts_sha256, llm identity; see text_gnn.recipe_opts); runtime: the
    `backend` (an LLMBackend; the extractive one is built here when the recipe names it) and the `prompts`."""
    from rpcli.core.llm import LLMCache, make_backend
    from rpcli.core.profiles.text_gnn import PROMPTS_FILE, TEXTS_FILE, load_prompts, text_gnn_profile

    backend = runtime.get("backend")
    if backend is None and opts["K"] > 0 and (opts.get("llm") or {}).get("backend") == "extractive":
        backend = make_backend("extractive", encoder=sess.encoder)
    vecs, info = text_gnn_profile(graph, names, K=opts["K"], encoder=sess.encoder, backend=backend,
                                  cache=LLMCache(sess.workspace.llm_cache_dir), top_k=opts["top_k"],
                                  score_aware=opts["score_aware"], query_similarity=opts["query_similarity"],
                                  dedup_domains=opts["dedup_domains"], prompts=runtime.get("prompts") or load_prompts(),
                                  progress=sess.progress, out_dir=out_dir, hidden=runtime.get("hidden", frozenset()))
    return vecs, {**info, "texts_file": TEXTS_FILE, "prompts_file": PROMPTS_FILE}


register_method(ProfileMethod("index", None, _index))
register_method(ProfileMethod("emb-gnn", "task", _emb_gnn))
register_method(ProfileMethod("flat", "task", _flat))
register_method(ProfileMethod("trainable", "task", _trainable))
register_method(ProfileMethod("text-gnn", "query-task-domain", _text_gnn))
SCORE_LEARNERS = ("trainable", "text-gnn")  # methods that learn from edge scores: they never see held-out scores


def build_profile_entry(sess: Session, method: str, mode: str, opts: dict, *, graph_ref: str | None = None,
                        keep: str | None = None, force: bool = False, backend=None,
                        prompts: dict | None = None) -> BuildResult:
    """Build (or reuse) a profile. `opts` are the method's own options; they enter the recipe as params.
    `backend` and `prompts` are runtime objects of text-gnn (an LLMBackend, the prompt templates)."""
    from rpcli.core.profiles.store import PROFILE_FILE, save_profile, select_keep
    from rpcli.services.graphs import build_graph_entry, load_graph_entry

    if method not in METHODS:
        raise ConfigError(f"unknown profile method {method!r}; choose one of {', '.join(METHODS)}")
    runtime_keys = sorted(k for k in opts if k.startswith("_"))
    if runtime_keys:
        raise ConfigError(f"profile options {runtime_keys} are not recipe options",
                          hint="pass runtime objects as build_profile_entry(..., backend=..., prompts=...)")
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose standard or newllm")
    m = METHODS[method]
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
    runtime = {"backend": backend, "prompts": prompts}
    if method in SCORE_LEARNERS and graph is not None:
        # newllm: the held-out model's routing-task scores are never learned from (core/data/held_out.py). The
        # recipe records how many score edges that hides, only where there are some (other recipes keep their id).
        from rpcli.core.data.held_out import count_hidden_scores, hidden_score_pairs

        hidden = hidden_score_pairs(ds.mode(mode).held_out, ds.test_tasks)
        n_hidden = count_hidden_scores(graph, hidden)
        if n_hidden and (method != "text-gnn" or opts.get("K", 0) > 0):
            runtime["hidden"] = hidden
            params["held_out_scores_hidden"] = n_hidden

    def builder(out_dir: Path) -> dict:
        vecs, info = m.build(sess, graph, names, opts, out_dir, runtime)
        dim = save_profile(out_dir / PROFILE_FILE, names, vecs)
        return {"info": {"models": names, "dim": dim, **(info or {})}}

    return build_artifact(sess, "profile", params, parents, builder, force=force, uses_encoder=m.uses_encoder)


def text_gnn_backend(sess: Session, name: str | None, **settings):
    """The LLM backend of a text-gnn build: `name`, or when None the one the settings imply (openai with a
    base_url, transformers with a local model directory, else extractive); settings a backend does not take
    are ignored (rpcli.core.llm.make_backend)."""
    from rpcli.core.llm import make_backend

    if name is None:
        model = settings.get("model")
        if settings.get("base_url"):
            name = "openai"
            sess.progress.note("no --backend given: using openai (because --base-url is set)")
        elif model and Path(model).expanduser().is_dir():
            name = "transformers"
            sess.progress.note("no --backend given: using transformers (--model is a local directory)")
        else:
            name = "extractive"
            sess.progress.note("no LLM backend configured (--backend or RP_LLM_BACKEND): using the "
                               "extractive backend, which composes texts without a generator")
    settings.setdefault("device", None)
    settings["device"] = settings["device"] or sess.device
    return make_backend(name, encoder=sess.encoder, **settings)


def build_text_gnn_entry(sess: Session, mode: str, K: int, *, backend: str | None = None, llm: dict | None = None,
                         prompts_file: Path | None = None, top_k: int = 5, score_aware: bool = False,
                         query_similarity: bool = False, dedup_domains: bool = False, graph_ref: str | None = None,
                         keep: str | None = None, force: bool = False) -> BuildResult:
    """A text-gnn profile from front-end settings: the backend (`backend` by name, `llm` its settings; none
    when K = 0) and the prompt templates (`prompts_file` overrides the shipped ones) are built here."""
    from rpcli.core.profiles.text_gnn import load_prompts, recipe_opts

    b = text_gnn_backend(sess, backend, **(llm or {})) if K > 0 else None
    prompts = load_prompts(prompts_file)
    opts = recipe_opts(K, backend=b, prompts=prompts, top_k=top_k, score_aware=score_aware,
                       query_similarity=query_similarity, dedup_domains=dedup_domains)
    return build_profile_entry(sess, "text-gnn", mode, opts, graph_ref=graph_ref, keep=keep, force=force, backend=b,
                               prompts=prompts)


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

"""rp profile: build (index, emb-gnn, ... registered below), import, show.

Each method is a function (sess, graph | None, names, opts, out_dir) -> (vectors [len(names), D], info); the
coordinating code here resolves the parent graph, picks the models to keep and registers the .npz.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError
from rpcli.services.base import BuildResult, Session, artifact_dir, build_artifact, check_modes, check_same_data, \
    resolve


@dataclass(frozen=True)
class ProfileMethod:
    name: str
    default_graph: str | None  # graph kind built on demand when --graph is not given; None: needs no graph
    build: Callable  # (sess, graph, names, opts, out_dir) -> (vectors, info)
    uses_encoder: bool = True


METHODS: dict[str, ProfileMethod] = {}


def register_method(method: ProfileMethod) -> None:
    METHODS[method.name] = method


def _index(sess, graph, names, opts, out_dir):
    from rpcli.core.profiles.index import index_profile

    return index_profile(names, sess.encoder.dim, seed=opts["seed"]), {}


def _emb_gnn(sess, graph, names, opts, out_dir):
    from rpcli.core.profiles.emb_gnn import emb_gnn_profile

    vecs = emb_gnn_profile(graph, names, K=opts["K"], norm=opts["norm"], normalize=opts["normalize"],
                           self_loops=opts["self_loops"], per_node_mean=opts["per_node_mean"])
    return vecs, {}


register_method(ProfileMethod("index", None, _index))
register_method(ProfileMethod("emb-gnn", "task", _emb_gnn))


def _flat(sess, graph, names, opts, out_dir):
    import json

    from rpcli.core.profiles.flat import flat_profile

    vecs, texts = flat_profile(graph, names, sess.encoder, top_k=opts["top_k"], seed=opts["seed"],
                               context=opts["context"], progress=sess.progress)
    (out_dir / "flat_texts.json").write_text(json.dumps(dict(zip(names, texts)), indent=2, ensure_ascii=False)
                                             + "\n", encoding="utf-8")
    return vecs, {"texts_file": "flat_texts.json", "context": opts["context"]}


def _trainable(sess, graph, names, opts, out_dir):
    import torch

    from rpcli.core.profiles.trainable import TrainConfig, train_trainable

    cfg = TrainConfig(**{k: v for k, v in opts.items() if not k.startswith("_")})
    vecs, ckpt, info = train_trainable(graph, names, cfg, device=sess.device, progress=sess.progress,
                                       hidden=opts.get("_hidden", frozenset()))
    torch.save(ckpt, out_dir / "ckpt.pt")
    return vecs, {**info, "checkpoint": "ckpt.pt"}


register_method(ProfileMethod("flat", "task", _flat))
register_method(ProfileMethod("trainable", "task", _trainable))


def _text_gnn(sess, graph, names, opts, out_dir):
    """opts: the recipe (K, top_k, fixes, prompts_sha256, llm identity) plus runtime-only `_backend` (an
    LLMBackend, built by the caller) and `_prompts` (the templates); see text_gnn.recipe_opts."""
    from rpcli.core.llm import LLMCache, make_backend
    from rpcli.core.profiles.text_gnn import PROMPTS_FILE, TEXTS_FILE, load_prompts, text_gnn_profile

    backend = opts.get("_backend")
    if backend is None and opts["K"] > 0 and (opts.get("llm") or {}).get("backend") == "extractive":
        backend = make_backend("extractive", encoder=sess.encoder)
    vecs, info = text_gnn_profile(graph, names, K=opts["K"], encoder=sess.encoder, backend=backend,
                                  cache=LLMCache(sess.workspace.llm_cache_dir), top_k=opts["top_k"],
                                  score_aware=opts["score_aware"], query_similarity=opts["query_similarity"],
                                  dedup_domains=opts["dedup_domains"], prompts=opts.get("_prompts") or load_prompts(),
                                  progress=sess.progress, out_dir=out_dir, hidden=opts.get("_hidden", frozenset()))
    return vecs, {**info, "texts_file": TEXTS_FILE, "prompts_file": PROMPTS_FILE}


register_method(ProfileMethod("text-gnn", "query-task-domain", _text_gnn))
SCORE_LEARNERS = ("trainable", "text-gnn")  # methods that learn from edge scores: they never see held-out scores


def build_profile_entry(sess: Session, method: str, mode: str, opts: dict, *, graph_ref: str | None = None,
                        keep: str | None = None, force: bool = False) -> BuildResult:
    """Build (or reuse) a profile. `opts` are the method's own options; they enter the recipe as params."""
    from rpcli.core.profiles.store import PROFILE_FILE, save_profile, select_keep
    from rpcli.services.graphs import build_graph_entry, load_graph_entry

    if method not in METHODS:
        raise ConfigError(f"unknown profile method {method!r}; choose one of {', '.join(METHODS)}")
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
    # keys starting with "_" are runtime settings (a backend object, a concurrency limit): not part of the recipe
    params = {"method": method, "mode": mode, "keep": keep or "candidates",
              **{k: v for k, v in opts.items() if not k.startswith("_")}}
    if method in SCORE_LEARNERS and graph is not None:
        # newllm: the held-out model's routing-task scores are never learned from (core/data/held_out.py). The
        # recipe records how many score edges that hides, only where there are some (other recipes keep their id).
        from rpcli.core.data.held_out import count_hidden_scores, hidden_score_pairs

        hidden = hidden_score_pairs(ds.mode(mode).held_out, ds.test_tasks)
        n_hidden = count_hidden_scores(graph, hidden)
        if n_hidden and (method != "text-gnn" or opts.get("K", 0) > 0):
            opts = {**opts, "_hidden": hidden}
            params["held_out_scores_hidden"] = n_hidden

    def builder(out_dir: Path) -> dict:
        vecs, info = m.build(sess, graph, names, opts, out_dir)
        save_profile(out_dir / PROFILE_FILE, names, vecs)
        return {"info": {"models": names, "dim": int(np.asarray(vecs).shape[1]), **(info or {})}}

    return build_artifact(sess, "profile", params, parents, builder, force=force, uses_encoder=m.uses_encoder)


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


def profile_summary(names: list[str], vecs: np.ndarray) -> dict:
    norms = np.linalg.norm(vecs, axis=1)
    unit = vecs / np.clip(norms[:, None], 1e-12, None)
    cos = unit @ unit.T
    off = cos[~np.eye(len(names), dtype=bool)] if len(names) > 1 else np.array([1.0])
    return {"models": names, "dim": int(vecs.shape[1]),
            "norms": {n: round(float(v), 6) for n, v in zip(names, norms)},
            "pairwise_cosine": {"min": round(float(off.min()), 6), "mean": round(float(off.mean()), 6),
                                "max": round(float(off.max()), 6)}}

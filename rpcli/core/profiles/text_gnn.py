"""text-gnn: a language model as the aggregation function of a K-hop propagation over node texts (spec §4.4).

Each hop:
  1. encode (with the session's cached encoder) and L2-normalise every non-query node text: the similarity cache.
     Query texts are not encoded (faithful), so any similarity with a query is 0; `query_similarity` encodes them;
  2. freeze a snapshot of every node's text;
  3. for dataset, domain, architecture and model nodes, in that order, select neighbours from the snapshot,
     render one prompt per node and generate its new text (one batch per type, through the LLM cache);
  4. replace the four types' texts at once. Query texts never change.
After K hops the kept models' texts are encoded with the session's encoder (not normalised); K = 0 encodes the
descriptions and starts no generator.

Neighbour selection for a pivot (from the snapshot):
  * every edge type in which the pivot's type is the destination (else the source) gives candidates, in edge
    order, with the edge's score when it has one; candidates are grouped by neighbour type and deduplicated by text
    (first occurrence kept);
  * a group larger than `top_k` keeps the `top_k` most cosine-similar to the pivot's text (a stable sort: ties,
    e.g. all queries, keep edge order);
  * model pivots rank query candidates against the normalised mean of their datasets' embeddings, and annotate
    each chosen dataset with its domains' current texts. As in the original, a dataset's domain list is gathered
    from both stored directions of the domain relation, so each domain appears twice (`dedup_domains` fixes it).

Fixes of spec §9.2 item 3, all off by default:
  | option           | effect                                                                              |
  |------------------|-------------------------------------------------------------------------------------|
  | score_aware      | a model's datasets (and a dataset's models) are ranked by score, highest first      |
  | query_similarity | query texts enter the similarity cache, so queries are ranked by similarity         |
  | dedup_domains    | each domain is named once per dataset                                               |

Prompts are templates in prompts/text_gnn.yaml (overridable); generation goes through `generate_cached`, so every
output is cached in the workspace and reruns reproduce texts exactly.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

import numpy as np

from rpcli.core.progress import NullProgress
from rpcli.errors import ConfigError

UPDATE_ORDER = ("dataset", "domain", "architecture", "model")
TEXTS_FILE = "text_gnn_texts.json"
PROMPTS_FILE = "prompts.jsonl"
PROMPT_TYPES = ("model", "dataset", "domain", "architecture", "fallback")
_FIELDS = {"model": {"self_text", "context"}, "dataset": {"self_text", "context"},
           "domain": {"self_text", "context"}, "architecture": {"self_text", "context"},
           "fallback": {"self_text", "context", "node_type"}}


# ---------------------------------------------------------------------------------------------------- prompts
def default_prompts() -> dict:
    import yaml

    text = resources.files("rpcli.core.profiles").joinpath("prompts/text_gnn.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_prompts(path: str | Path | None = None) -> dict:
    """The shipped templates, overridden key by key (and field by field) by the YAML file at `path`."""
    import yaml

    prompts = default_prompts()
    if path is None:
        return prompts
    path = Path(path)
    try:
        from rpcli.core import bounded_yaml

        user = bounded_yaml.safe_load(bounded_yaml.read_text(path))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the prompt templates: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the prompt templates: not UTF-8 text (byte "
                          f"0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: cannot read the prompt templates: nested too deeply") from None
    if not isinstance(user, dict):
        raise ConfigError(f"{path}: expected a mapping of node type -> template, found {type(user).__name__}")
    for key, val in user.items():
        if key not in PROMPT_TYPES:
            raise ConfigError(f"{path}: unknown template {key!r}; the keys are {', '.join(PROMPT_TYPES)}")
        if isinstance(val, str):
            val = {"template": val}
        if not isinstance(val, dict):
            raise ConfigError(f"{path}: {key}: expected a string or a mapping with 'template'")
        merged = {**prompts[key], **val}
        merged["sections"] = {**prompts[key].get("sections", {}), **(val.get("sections") or {})}
        prompts[key] = merged
    _validate(prompts, path)
    return prompts


def _validate(prompts: dict, where) -> None:
    import string

    for key in PROMPT_TYPES:
        tpl = prompts[key].get("template")
        if not isinstance(tpl, str):
            raise ConfigError(f"{where}: {key}.template must be a string")
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(tpl) if f is not None}
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}.template is not a valid format string: {exc}",
                              hint="write a literal brace as {{ or }}") from None
        bad = sorted(n for n in names if n not in _FIELDS[key])
        if bad:
            raise ConfigError(f"{where}: {key}.template uses unknown placeholder(s) {bad}",
                              hint=f"allowed: {', '.join(sorted(_FIELDS[key]))}")


def prompts_digest(prompts: dict) -> str:
    from rpcli.workspace.hashing import canonical_json, sha256_text

    return sha256_text(canonical_json(prompts))


def _score_tag(score) -> str:
    return f" (score: {score:.2f})" if score is not None else ""


def _join(sections: list[str], empty: str) -> str:
    return "\n\n".join(sections) if sections else empty


def render_prompt(ctx: dict, prompts: dict) -> str:
    """Render the prompt of one node context {type, text, neighbours: [{type, text, score, domains}]}."""
    ntype, nbs = ctx["type"], ctx["neighbours"]
    if ntype == "model":
        t = prompts["model"]
        sec = t["sections"]
        arch = [n for n in nbs if n["type"] == "architecture"]
        datasets = [n for n in nbs if n["type"] == "dataset"]
        queries = [n for n in nbs if n["type"] == "query"]
        other = [n for n in nbs if n["type"] not in ("architecture", "dataset", "query", "domain")]
        parts = []
        if arch:
            parts.append(sec["architecture"] + "\n" + "\n".join(f"  [ARCHITECTURE] {n['text']}" for n in arch))
        if datasets:
            buckets: dict[str, list] = {}
            loose = []
            for n in datasets:
                if n.get("domains"):
                    for d in n["domains"]:
                        buckets.setdefault(d, []).append(n)
                else:
                    loose.append(n)

            def line(n, indent):
                doms = n.get("domains") or []
                dom_tag = f" [domain: {', '.join(d[:60] for d in doms)}]" if doms else ""
                return f"{indent}[DATASET{_score_tag(n.get('score'))}{dom_tag}] {n['text']}"

            lines = []
            for d, members in buckets.items():
                lines.append(f"  [Domain] {d[:120]}")
                lines.extend(line(n, "    ") for n in members)
            lines.extend(line(n, "  ") for n in loose)
            parts.append(sec["datasets"] + "\n" + "\n".join(lines))
        if queries:
            parts.append(sec["queries"] + "\n" + "\n".join(f"  [QUERY] {n['text']}" for n in queries))
        if other:
            parts.append(sec["other"] + "\n" + "\n".join(f"  [{n['type'].upper()}] {n['text']}" for n in other))
        return t["template"].format(self_text=ctx["text"], context=_join(parts, t["empty"]))
    if ntype in ("dataset", "domain", "architecture"):
        t = prompts[ntype]
        sec = t["sections"]
        if ntype == "dataset":
            groups = [("domains", "domain", lambda n: f"  - [DOMAIN] {n['text']}"),
                      ("models", "model", lambda n: f"  - [MODEL{_score_tag(n.get('score'))}] {n['text']}"),
                      ("queries", "query", lambda n: f"  - [QUERY] {n['text']}")]
        elif ntype == "domain":
            groups = [("datasets", "dataset", lambda n: f"  - [DATASET] {n['text']}")]
        else:
            groups = [("models", "model", lambda n: f"  - [MODEL] {n['text']}")]
        parts = []
        for key, nt, fmt in groups:
            lines = [fmt(n) for n in nbs if n["type"] == nt]
            if lines:
                parts.append(sec[key] + "\n" + "\n".join(lines))
        return t["template"].format(self_text=ctx["text"], context=_join(parts, t["empty"]))
    t = prompts["fallback"]
    lines = "\n".join(f"  - [{n['type'].upper()}] {n['text']}" for n in nbs)
    return t["template"].format(self_text=ctx["text"], context=lines or t["empty"], node_type=ntype)


# ------------------------------------------------------------------------------------------ neighbour selection
class Topology:
    """The graph's structure as text-gnn reads it: per-pivot candidate lists and the dataset-domain pairs.

    `adj[type][i]` is [(neighbour type, neighbour index, score | None), ...] in the original's scan order: for each
    edge type in graph order, a pivot of the destination type collects the sources, otherwise a pivot of the source
    type collects the destinations; within an edge type, edge order. `domain_pairs` lists (dataset, domain) index
    pairs per dataset<->domain edge type, in graph and edge order (both stored directions, as the original reads).
    """

    def __init__(self, graph, hidden=frozenset()) -> None:
        from rpcli.core.data.held_out import hidden_edges

        self.names = {nt: graph.names.get(nt) for nt in graph.node_types}
        self.n_hidden = 0
        self.adj = {nt: [[] for _ in range(graph.num_nodes(nt))] for nt in graph.node_types}
        self.domain_pairs: list[list[tuple[int, int]]] = []
        for et, ei in graph.edge_index.items():
            s, _, d = et
            src, dst = ei[0].tolist(), ei[1].tolist()
            attr = graph.edge_attr.get(et)
            scores = [float(v) for v in attr.reshape(-1).tolist()] if attr is not None else [None] * len(src)
            if attr is not None and hidden:  # a held-out model's routing-task score is never a score line
                mask = hidden_edges(graph, et, hidden)
                self.n_hidden += sum(mask)
                scores = [None if h else sc for sc, h in zip(scores, mask)]
            for a, b, sc in zip(src, dst, scores):
                self.adj[d][b].append((s, a, sc))
            if s != d:
                for a, b, sc in zip(src, dst, scores):
                    self.adj[s][a].append((d, b, sc))
            if (s, d) == ("dataset", "domain"):
                self.domain_pairs.append(list(zip(src, dst)))
            elif (s, d) == ("domain", "dataset"):
                self.domain_pairs.append(list(zip(dst, src)))


def _normed(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.where(n < 1e-8, 1.0, n)).astype(np.float32)


def similarity_cache(texts: dict, encoder, query_similarity: bool = False, progress=None) -> dict:
    """{text: L2-normalised embedding} of every non-query node text (and every query text when asked)."""
    need: list[str] = []
    for nt, lst in texts.items():
        if nt != "query" or query_similarity:
            need.extend(lst)
    need = list(dict.fromkeys(need))
    if not need:
        return {}
    vecs = _normed(np.asarray(encoder.encode(need, progress=progress), dtype=np.float32).reshape(len(need), -1))
    return dict(zip(need, vecs))


def _dedup(cands: list) -> list:
    seen: set = set()
    return [c for c in cands if not (c["text"] in seen or seen.add(c["text"]))]


def select_neighbours(ntype: str, i: int, snap: dict, topo: Topology, emb: dict, *, top_k: int = 5,
                      score_aware: bool = False, dedup_domains: bool = False) -> list[dict]:
    """The selected neighbours of node `i` of type `ntype`, [{type, name, text, score(, domains)}], grouped by
    neighbour type in order of first appearance (spec §4.4)."""
    edges = topo.adj[ntype][i]
    self_emb = emb.get(snap[ntype][i])
    anchor_q = self_emb
    ds_of_model: list[int] = []
    if ntype == "model":
        ds_of_model = list(dict.fromkeys(j for t, j, _ in edges if t == "dataset"))
        ds_embs = [emb[snap["dataset"][j]] for j in ds_of_model if snap["dataset"][j] in emb]
        if ds_embs:
            anchor_q = _normed(np.mean(np.stack(ds_embs), axis=0))
    groups: dict[str, list] = {}
    for t, j, sc in edges:
        text = snap[t][j]
        anchor = anchor_q if t == "query" else self_emb
        e = emb.get(text)
        sim = float(np.dot(anchor, e)) if anchor is not None and e is not None else 0.0
        nm = topo.names.get(t)
        groups.setdefault(t, []).append({"type": t, "name": nm[j] if nm else None, "text": text, "score": sc,
                                         "_sim": sim})
    out: list[dict] = []
    for t, cands in groups.items():
        uniq = _dedup(cands)
        if score_aware and {ntype, t} == {"model", "dataset"}:
            uniq = sorted(uniq, key=lambda c: -np.inf if c["score"] is None else c["score"], reverse=True)[:top_k]
        elif len(uniq) > top_k:
            uniq = sorted(uniq, key=lambda c: c["_sim"], reverse=True)[:top_k]  # stable: ties keep edge order
        out.extend(uniq)
    if ntype == "model" and any(c["type"] == "dataset" for c in out):
        mine = set(ds_of_model)
        dom_to_ds: dict[str, list] = {}
        for pairs in topo.domain_pairs:
            for ds_j, dom_j in pairs:
                if ds_j in mine:
                    dom_to_ds.setdefault(snap["domain"][dom_j], []).append(snap["dataset"][ds_j])
        ds_to_dom: dict[str, list] = {}
        for dom_text, ds_texts in dom_to_ds.items():
            for t in ds_texts:
                ds_to_dom.setdefault(t, []).append(dom_text)
        for c in out:
            if c["type"] == "dataset":
                doms = ds_to_dom.get(c["text"], [])
                c["domains"] = list(dict.fromkeys(doms)) if dedup_domains else list(doms)
    for c in out:
        c.pop("_sim", None)
    return out


# ------------------------------------------------------------------------------------------------- the method
def text_gnn_profile(graph, names: list[str], *, K: int, encoder, backend=None, cache=None, top_k: int = 5,
                     score_aware: bool = False, query_similarity: bool = False, dedup_domains: bool = False,
                     prompts: dict | None = None, progress=None, out_dir: str | Path | None = None,
                     hidden=frozenset()):
    """Run K hops of LLM aggregation over `graph` and encode the kept models' final texts.

    Args:
        graph: a GraphData with a `model` node type (names) and texts for every type.
        names: the models to return, a subset of graph.names["model"] (rows in this order).
        K: hops (0: encode the descriptions; no backend is used).
        encoder: a (cached) text encoder; it builds the similarity cache and the final [len(names), dim] vectors.
        backend: an LLMBackend (rpcli.core.llm); required when K > 0.
        cache: an LLMCache (None: no caching).
        top_k: neighbours kept per neighbour type (5, as in the original).
        score_aware / query_similarity / dedup_domains: the fixes in the module docstring.
        prompts: templates (default: the shipped prompts/text_gnn.yaml).
        out_dir: when given, text_gnn_texts.json (original format, kept models) and prompts.jsonl are written here.
        hidden: (model, task) pairs whose edge score is shown without its score (newllm's held-out model on the
            routing tasks, rpcli.core.data.held_out); the edge itself stays a neighbour.

    Returns:
        (vectors float32 [len(names), encoder.dim], not normalised; info dict for the manifest).
    """
    from rpcli.core.llm.base import LLMCache, generate_cached, identity

    progress = progress or NullProgress()
    if K < 0:
        raise ConfigError(f"K must be >= 0 for text-gnn (got {K})")
    if "model" not in graph.node_types or not graph.names.get("model"):
        raise ConfigError("text-gnn needs a graph with named model nodes")
    if K > 0 and backend is None:
        raise ConfigError("text-gnn with K > 0 needs an LLM backend")
    prompts = prompts or default_prompts()
    cache = cache if cache is not None else LLMCache(None)
    model_names = list(graph.names["model"])
    pos = {n: i for i, n in enumerate(model_names)}
    texts = {nt: list(graph.texts[nt]) for nt in graph.node_types}
    hop_texts = {0: {n: texts["model"][pos[n]] for n in names}}
    out_dir = Path(out_dir) if out_dir is not None else None
    plog = open(out_dir / PROMPTS_FILE, "w", encoding="utf-8") if out_dir is not None else None
    topo = Topology(graph, hidden) if K > 0 else None
    hops_info: list[dict] = []
    totals = {"hits": 0, "misses": 0, "seconds": 0.0, "chars": 0}
    t_encode = 0.0
    try:
        for hop in range(1, K + 1):
            t0 = time.perf_counter()
            emb = similarity_cache(texts, encoder, query_similarity, progress=progress)
            t_encode += time.perf_counter() - t0
            snap = {nt: list(v) for nt, v in texts.items()}
            types = [nt for nt in UPDATE_ORDER if nt in snap and snap[nt]]
            total = sum(len(snap[nt]) for nt in types)
            stats = {"hits": 0, "misses": 0, "seconds": 0.0, "chars": 0}
            updates: dict[str, list[str]] = {}
            with progress.task(f"text-gnn hop {hop}/{K}: {total} prompts ({backend.id})", total=total):
                for nt in types:
                    ctxs = []
                    for i in range(len(snap[nt])):
                        nbs = select_neighbours(nt, i, snap, topo, emb, top_k=top_k, score_aware=score_aware,
                                                dedup_domains=dedup_domains)
                        nm = topo.names.get(nt)
                        ctxs.append({"type": nt, "name": nm[i] if nm else None, "text": snap[nt][i],
                                     "neighbours": nbs})
                    rendered = [render_prompt(c, prompts) for c in ctxs]
                    outs = generate_cached(backend, rendered, cache, contexts=ctxs, progress=progress, stats=stats)
                    updates[nt] = outs
                    if plog is not None:
                        for c, p, o in zip(ctxs, rendered, outs):
                            plog.write(json.dumps({"hop": hop, "type": nt, "node": c["name"], "prompt": p,
                                                   "output": o}, ensure_ascii=False) + "\n")
                        plog.flush()
            texts.update(updates)
            hop_texts[hop] = {n: texts["model"][pos[n]] for n in names}
            rate = stats["misses"] / stats["seconds"] if stats["seconds"] > 0 else None
            hops_info.append({"hop": hop, "prompts": total, "cache_hits": stats["hits"],
                              "cache_misses": stats["misses"], "llm_seconds": round(stats["seconds"], 3),
                              "prompts_per_s": round(rate, 3) if rate else None,
                              "seconds": round(time.perf_counter() - t0, 3)})
            for k in totals:
                totals[k] += stats[k]
            progress.note(f"hop {hop}/{K}: {total} prompts, {stats['hits']} cached, {stats['misses']} generated"
                          + (f" at {rate:.2f} prompts/s" if rate else ""))
    finally:
        if plog is not None:
            plog.close()
    final = [texts["model"][pos[n]] for n in names]
    t0 = time.perf_counter()
    vecs = np.asarray(encoder.encode(final, progress=progress), dtype=np.float32).reshape(len(names), -1)
    t_encode += time.perf_counter() - t0
    if out_dir is not None:
        doc = {"hop_texts": {str(h): v for h, v in hop_texts.items()}, "final_texts": dict(zip(names, final))}
        (out_dir / TEXTS_FILE).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    n_prompts = sum(h["prompts"] for h in hops_info)
    info = {"K": K, "top_k": top_k, "prompts": n_prompts, "cache_hits": totals["hits"],
            "cache_misses": totals["misses"], "llm_seconds": round(totals["seconds"], 3),
            "throughput_prompts_per_s": (round(totals["misses"] / totals["seconds"], 3)
                                         if totals["seconds"] > 0 else None),
            "generated_chars": totals["chars"], "encode_seconds": round(t_encode, 3), "hops": hops_info,
            "mean_model_text_chars": {str(h): round(float(np.mean([len(t) for t in v.values()])), 1) if v else 0
                                      for h, v in hop_texts.items()},
            "prompts_sha256": prompts_digest(prompts)}
    if backend is not None and K > 0:
        info["backend"] = identity(backend)
    if topo is not None and topo.n_hidden:
        info["held_out_score_lines_hidden"] = topo.n_hidden
    return vecs, info


def recipe_opts(K: int, *, backend=None, prompts: dict | None = None, top_k: int = 5, score_aware: bool = False,
                query_similarity: bool = False, dedup_domains: bool = False) -> dict:
    """The options of a text-gnn profile: what enters its recipe (and id). The backend and the prompts themselves
    are runtime objects, passed to `build_profile_entry(..., backend=, prompts=)`; the recipe holds the backend's
    identity and the prompts' digest. With K = 0 nothing but K matters (no generator runs), so every K = 0 request
    shares one id."""
    if K < 0:
        raise ConfigError(f"K must be >= 0 for text-gnn (got {K})")
    if top_k < 1:
        raise ConfigError(f"top_k must be at least 1 (got {top_k})")
    if K == 0:
        return {"K": 0, "top_k": 5, "score_aware": False, "query_similarity": False, "dedup_domains": False,
                "prompts_sha256": None, "llm": None}
    if backend is None:
        raise ConfigError("text-gnn with K > 0 needs an LLM backend")
    from rpcli.core.llm.base import identity

    prompts = prompts or default_prompts()
    llm = identity(backend)
    if getattr(backend, "base_url", None):
        llm["base_url"] = backend.base_url
    return {"K": K, "top_k": top_k, "score_aware": score_aware, "query_similarity": query_similarity,
            "dedup_domains": dedup_domains, "prompts_sha256": prompts_digest(prompts), "llm": llm}

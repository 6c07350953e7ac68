"""text-gnn (spec §4.4): a language model rewrites every node's text from its neighbours' texts, K times.

Its options are of two kinds. K, top_k and the three fixes say what to build and enter the recipe as they are; the
LLM backend settings (backend, model, sampling, where and how to run it) and the prompt templates say how, and
`prepare` turns them into runtime objects (the backend, the templates) whose identity and digest enter the recipe
instead (rpcli.core.profiles.text_gnn.recipe_opts): so a backend's batch size or endpoint timeout never changes an
id, and every K = 0 request shares one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rpcli.core.plugin import ProfileMethod, option
from rpcli.core.plugins.profiles import SEED_MAX
from rpcli.errors import ConfigError

_LLM = "LLM backend"
_FIX = "Fixes (spec §9.2), off by default"


@dataclass
class TextGNNOptions:
    K: int = option(4, "Hops of LLM aggregation (0: encode the descriptions; no generator starts).", min=0)
    backend: str | None = option(None, "Text generator. Default: openai with --base-url, transformers with a local "
                                 "--model directory, else extractive (said on stderr).")  # choices: see options()
    model: str | None = option(None, "vllm: hub id or path (default Qwen/Qwen2.5-7B-Instruct); transformers: a "
                               "local model directory; openai: the served model name.")
    max_tokens: int = option(500, "New tokens per node text.", min=1)
    temperature: float = option(0.0, "0: greedy.", min=0.0)
    seed: int = option(0, "Sampling seed.", min=0, max=SEED_MAX)
    tp: int = option(1, "vllm: tensor-parallel GPUs.", min=1)
    gpu_memory_utilization: float = option(0.9, "vllm: share of GPU memory the engine may take (0 < share <= 1).",
                                           min=0.0, max=1.0)
    device: str | None = option(None, "transformers: torch device (default: the global --device).")
    batch_size: int | None = option(None, "Prompts per generate call; the cache is written after each (default: "
                                    "transformers 8, vllm 256).", min=1)
    chat_template: bool | None = option(None, "Wrap prompts in the tokenizer's chat template (default: transformers "
                                        "when it has one; vllm never, as the original).",
                                        flag="--chat-template/--no-chat-template")
    base_url: str | None = option(None, "openai: endpoint base, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str = option("OPENAI_API_KEY", "openai: environment variable holding the key (absent is fine for "
                              "local servers).")
    concurrency: int = option(4, "openai: requests in flight.", min=1)
    timeout: float = option(120.0, "openai: seconds per request.", min=0.1)
    max_retries: int = option(5, "openai: retries on 429/5xx/timeouts, with exponential backoff.", min=0)
    prompts: str | None = option(None, "YAML prompt templates overriding the shipped ones "
                                 "(rpcli/core/profiles/prompts/text_gnn.yaml).")
    top_k: int = option(5, "Neighbours kept per neighbour type.", flag="--top-k", min=1)
    score_aware: bool = option(False, "Rank a model's benchmarks (and a benchmark's models) by score, not by text "
                               "similarity.", flag="--score-aware")
    query_similarity: bool = option(False, "Encode query texts so queries are ranked by similarity (the original "
                                    "takes the first ones).", flag="--query-similarity")
    dedup_domains: bool = option(False, "Name each domain once per benchmark (the original lists it twice).",
                                 flag="--dedup-domains")


# The options that configure the backend, handed to rpcli.core.llm.make_backend (each backend takes those it knows).
LLM_SETTINGS = ("model", "max_tokens", "temperature", "seed", "tp", "gpu_memory_utilization", "device", "batch_size",
                "chat_template", "base_url", "api_key_env", "concurrency", "timeout", "max_retries")


def _hints(*tables: dict) -> dict:
    out: dict = {}
    for t in tables:
        for k, v in t.items():
            out[k] = {**out.get(k, {}), **v}
    return out


def make_llm_backend(env, name: str | None, settings: dict):
    """The LLM backend of a build: `name`, or when None the one the settings imply (openai with a base_url,
    transformers with a local model directory, else extractive; said through env.progress). A backend ignores the
    settings it does not take; its device defaults to the session's."""
    from rpcli.core.llm import make_backend

    if name is None:
        model = settings.get("model")
        if settings.get("base_url"):
            name = "openai"
            env.progress.note("no --backend given: using openai (because --base-url is set)")
        elif model and Path(model).expanduser().is_dir():
            name = "transformers"
            env.progress.note("no --backend given: using transformers (--model is a local directory)")
        else:
            name = "extractive"
            env.progress.note("no LLM backend configured (--backend or RP_LLM_BACKEND): using the "
                              "extractive backend, which composes texts without a generator")
    settings = {**settings, "device": settings.get("device") or env.device}
    return make_backend(name, encoder=env.encoder, **settings)


class TextGNN(ProfileMethod):
    name = "text-gnn"
    Config = TextGNNOptions
    default_graph = "query-task-domain"
    learns_scores = True
    order = 30
    cli_hints = _hints({"K": {"short": "-K"}, "backend": {"envvar": "RP_LLM_BACKEND"},
                        "model": {"envvar": "RP_LLM_MODEL"}, "base_url": {"envvar": "RP_LLM_BASE_URL"},
                        "device": {"device": True}, "prompts": {"file": True}},
                       {k: {"panel": _LLM} for k in ("backend", *LLM_SETTINGS)},
                       {k: {"panel": _FIX} for k in ("score_aware", "query_similarity", "dedup_domains")})
    summary = ("An LLM rewrites every node's text from its neighbours' texts, K times; the final model texts are "
               "encoded.")
    description = (summary + "\n\nSaved beside the profile: text_gnn_texts.json (model texts per hop) and "
                   "prompts.jsonl (all prompts).\n\nLLM outputs are cached in the workspace: a rerun or a resumed "
                   "run repeats no call.")
    example = "rp profile text-gnn --mode standard --K 2 --backend vllm --model Qwen/Qwen2.5-7B-Instruct"

    def options(self) -> list:
        """The Config's options, --backend choosing among the LLM backends registered when asked
        (rpcli.core.llm.BACKENDS: the built-in ones and any a plugin or a test adds)."""
        from rpcli.core.llm import BACKENDS

        return [replace(o, choices=tuple(BACKENDS)) if o.name == "backend" else o for o in super().options()]

    def prepare(self, env, opts):
        """The recipe (K, top_k, the fixes, the backend's identity, the prompts' digest) and the runtime objects
        (`backend`: none when K = 0; `prompts`: the shipped templates, overridden by the `prompts` file)."""
        from rpcli.core.profiles.text_gnn import load_prompts, recipe_opts

        g = opts["gpu_memory_utilization"]
        if not 0 < g <= 1:
            raise ConfigError(f"--gpu-memory-utilization must be in (0, 1], got {g}")
        backend = (make_llm_backend(env, opts["backend"], {k: opts[k] for k in LLM_SETTINGS})
                   if opts["K"] > 0 else None)
        prompts = load_prompts(Path(opts["prompts"]) if opts["prompts"] else None)
        recipe = recipe_opts(opts["K"], backend=backend, prompts=prompts, top_k=opts["top_k"],
                             score_aware=opts["score_aware"], query_similarity=opts["query_similarity"],
                             dedup_domains=opts["dedup_domains"])
        return recipe, {"backend": backend, "prompts": prompts}

    def learns_from_scores(self, recipe):
        return recipe.get("K", 0) > 0  # K = 0 encodes the descriptions: no text is written from scores

    def build(self, env, graph, names, opts, out_dir, runtime):
        """opts: the recipe (see recipe_opts); runtime: the `backend` and the `prompts`. Without them (a recipe
        rebuilt unattended, as `rp model add` does) only the extractive backend and the shipped prompts are at
        hand: a recipe naming another backend, or its own prompts, is refused rather than built otherwise."""
        from rpcli.core.llm import LLMCache, make_backend
        from rpcli.core.profiles.text_gnn import (PROMPTS_FILE, TEXTS_FILE, default_prompts, prompts_digest,
                                                  text_gnn_profile)

        backend, prompts = runtime.get("backend"), runtime.get("prompts")
        if opts["K"] > 0:
            if backend is None:
                llm = (opts.get("llm") or {}).get("backend")
                if llm != "extractive":
                    raise ConfigError(f"this text-gnn recipe was written by the {llm!r} LLM backend: rp cannot "
                                      "rebuild it unattended",
                                      hint="build it by hand with rp profile text-gnn --backend ..., then route it")
                backend = make_backend("extractive", encoder=env.encoder)
            if prompts is None:
                prompts = default_prompts()
                if opts.get("prompts_sha256") not in (None, prompts_digest(prompts)):
                    raise ConfigError("this text-gnn recipe used its own prompt templates: rebuild it by hand",
                                      hint="rp profile text-gnn --prompts FILE ...")
        vecs, info = text_gnn_profile(graph, names, K=opts["K"], encoder=env.encoder, backend=backend,
                                      cache=LLMCache(env.workspace.llm_cache_dir), top_k=opts["top_k"],
                                      score_aware=opts["score_aware"], query_similarity=opts["query_similarity"],
                                      dedup_domains=opts["dedup_domains"], prompts=prompts or default_prompts(),
                                      progress=env.progress, out_dir=out_dir,
                                      hidden=runtime.get("hidden", frozenset()))
        return vecs, {**info, "texts_file": TEXTS_FILE, "prompts_file": PROMPTS_FILE}


METHOD = TextGNN()

"""The one interface every text generator implements, and the disk cache in front of all of them.

    class LLMBackend(Protocol):
        id: str                                        # "vllm", "transformers", "openai", "extractive", ...
        def generate(self, prompts: list[str]) -> list[str]

A backend also carries `model` (what generates: a hub id, a directory digest, an endpoint's model name) and
`sampling` (a JSON dict of everything else that changes the output: max_tokens, temperature, seed, chat template).
Those three and the prompt are the cache key, so a rerun reproduces texts exactly and an interrupted run resumes
without repeating calls. Optional: `batch_size` (prompts per call; the cache is written after each call) and
`compose(contexts)`, used instead of `generate` by backends that work from the structured neighbourhood rather
than from the prompt text (the extractive one).

Backends load their weights lazily, on the first call that misses the cache, so a fully cached run never starts
a model and text encoders always finish before a generator takes the GPU.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Protocol, runtime_checkable

from rpcli.core.progress import NullProgress
from rpcli.errors import RpError
from rpcli.workspace.hashing import canonical_json, sha256_text


class BackendError(RpError):
    """A generator failed in a way the user must act on (a server refusing requests, a missing package)."""

    title = "LLM backend"


def local_model_id(path: str | Path) -> str:
    """A stable name for a local model directory: its name plus a digest of config.json and the files' sizes
    (the same scheme as the encoder ids), so moving a model does not change cache keys but replacing it does."""
    import hashlib
    import re

    p = Path(path).expanduser().resolve()
    h = hashlib.sha256()
    cfg = p / "config.json"
    if cfg.is_file():
        h.update(cfg.read_bytes())
    for f in sorted(p.iterdir()):
        if f.is_file():
            h.update(f"{f.name}:{f.stat().st_size}".encode())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", p.name)
    return f"{name}-{h.hexdigest()[:10]}"


@runtime_checkable
class LLMBackend(Protocol):
    id: str

    def generate(self, prompts: list[str]) -> list[str]: ...


def identity(backend) -> dict:
    """What the cache key needs to know about a backend, besides the prompt."""
    return {"backend": backend.id, "model": getattr(backend, "model", None),
            "sampling": getattr(backend, "sampling", {}) or {}}


def cache_key(backend_identity: dict, prompt: str, context=None) -> str:
    """sha256 of canonical JSON {backend, model, sampling, prompt} (+ the structured context when one is used)."""
    rec = {**backend_identity, "prompt": prompt}
    if context is not None:
        rec["context"] = context
    return sha256_text(canonical_json(rec))


class LLMCache:
    """One small JSON file per prompt: <dir>/<key[:2]>/<key>.json, written atomically (temp name + rename).

    `root=None` disables caching (every call reaches the backend).
    """

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root) if root else None

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        if self.root is None:
            return None
        p = self._path(key)
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent, or damaged by a crash mid-write elsewhere: simply regenerated
        out = rec.get("output") if isinstance(rec, dict) else None
        return out if isinstance(out, str) else None

    def put(self, key: str, output: str, meta: dict | None = None) -> None:
        if self.root is None:
            return
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"output": output, **(meta or {})}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, p)


def generate_cached(backend, prompts: list[str], cache: LLMCache, *, contexts: list | None = None,
                    progress=None, stats: dict | None = None) -> list[str]:
    """Outputs for `prompts`, reading the cache first and calling the backend only for misses.

    Identical prompts are generated once. Misses go to the backend in chunks of `backend.batch_size` (default:
    all at once) and each chunk is written to the cache as soon as it returns, so an interruption loses at most
    one chunk. `progress.advance` is called per prompt done (hits at once); `stats` (if given) accumulates
    hits (prompts answered from the cache, or repeats of one generated in this call), misses (distinct prompts
    sent to the backend), generated characters and seconds spent in the backend.
    """
    progress = progress or NullProgress()
    stats = stats if stats is not None else {}
    for k in ("hits", "misses", "seconds", "chars"):
        stats.setdefault(k, 0)
    use_compose = contexts is not None and hasattr(backend, "compose")
    ident = identity(backend)
    keys = [cache_key(ident, p, contexts[i] if use_compose else None) for i, p in enumerate(prompts)]
    out: dict[str, str] = {}
    todo: list[int] = []  # first index of each distinct missing key
    seen: set = set()
    for i, k in enumerate(keys):
        if k in seen:
            continue
        seen.add(k)
        v = cache.get(k)
        if v is None:
            todo.append(i)
        else:
            out[k] = v
    counts = Counter(keys)
    n_hit = sum(1 for k in keys if k in out)
    stats["hits"] += n_hit
    if n_hit:
        progress.advance(n_hit)
    bs = int(getattr(backend, "batch_size", 0) or 0) or max(1, len(todo))
    last_note = time.monotonic()
    for s in range(0, len(todo), bs):
        idx = todo[s:s + bs]
        t0 = time.perf_counter()
        if use_compose:
            res = backend.compose([contexts[i] for i in idx])
        else:
            res = backend.generate([prompts[i] for i in idx])
        dt = time.perf_counter() - t0
        res = list(res)
        if len(res) != len(idx):
            raise RuntimeError(f"backend {backend.id} returned {len(res)} outputs for {len(idx)} prompts")
        for i, text in zip(idx, res):
            text = str(text).strip()
            out[keys[i]] = text
            cache.put(keys[i], text, {"backend": ident["backend"], "model": ident["model"]})
            stats["chars"] += len(text)
        stats["seconds"] += dt
        n_done = sum(counts[keys[i]] for i in idx)
        stats["misses"] += len(idx)
        stats["hits"] += n_done - len(idx)  # repeats of a prompt generated just now
        progress.advance(n_done)
        now = time.monotonic()
        if stats["seconds"] > 0 and now - last_note >= 2.0:  # a throughput note at most every 2 s
            last_note = now
            progress.note(f"{backend.id}: {stats['misses'] / stats['seconds']:.2f} prompts/s")
    return [out[k] for k in keys]

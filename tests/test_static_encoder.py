"""The static encoder (minilm-static, static:PATH): token vectors distilled from a tiny random BERT written here."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rpcli.core.encoder import HFEncoder, resolve_encoder
from rpcli.core.progress import RecordingProgress
from rpcli.core.static_encoder import StaticEncoder
from rpcli.errors import ConfigError

WORDS = ["the", "a", "model", "is", "good", "at", "math", "and", "code", "hello", "world", "route", "query", "##s",
         "##ing", "##ed", "un", "##known", "x", "y", "1", "2", ",", ".", "!", "?", "-", "_", "[", "]", "(", ")", "'",
         "é"]


def tiny_bert(path: Path, seed: int = 0) -> Path:
    """A random 2-layer BERT (hidden 32) with an uncased WordPiece tokenizer over WORDS."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True)
    vocab = path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n")
    tok = BertTokenizerFast.from_pretrained(str(path), do_lower_case=True)  # reads vocab.txt
    tok.save_pretrained(path)
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64)
    BertModel(cfg).eval().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def bert(tmp_path_factory) -> Path:
    return tiny_bert(tmp_path_factory.mktemp("bert") / "tiny-bert")


@pytest.fixture(autouse=True)
def _user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_builds_are_byte_identical_and_stored_with_their_settings(bert, tmp_path):
    progress = RecordingProgress()
    a = StaticEncoder(bert, root=tmp_path / "a")
    a.encode(["hello"], progress=progress)
    assert [m for k, m in progress.events if k == "note" and "building static embeddings" in m]
    b = StaticEncoder(bert, root=tmp_path / "b")
    b.build()
    assert a.id == b.id and a.path.name == a.id
    assert sorted(p.name for p in a.path.iterdir()) == ["static.json", "tokenizer.json", "vectors.npy"]
    assert (a.path / "vectors.npy").read_bytes() == (b.path / "vectors.npy").read_bytes()
    vecs = np.load(a.path / "vectors.npy")
    assert vecs.dtype == np.float32 and vecs.shape == (5 + len(WORDS), a.dim)
    assert a.dim == 32  # pca_dims 256 capped at the hidden size
    assert not vecs[:5].any() and (np.abs(vecs[5:]).sum(1) > 0).all()  # special tokens: no vector
    meta = json.loads((a.path / "static.json").read_text())
    assert meta["settings"] == a.settings and meta["dropped_ids"] == [0, 1, 2, 3, 4]
    again = RecordingProgress()
    a.encode(["hello"], progress=again)  # built once: no second note
    assert not [e for e in again.events if e[0] == "note"]
    small = StaticEncoder(bert, root=tmp_path / "a", settings={"pca_dims": 8})
    assert small.dim == 8 and small.encode(["hello world"]).shape == (1, 8)


def test_ids_cover_settings_weights_and_differ_from_the_transformer(bert, tmp_path):
    base = StaticEncoder(bert, root=tmp_path)
    assert base.id.startswith("tiny-bert-static-") and base.id != HFEncoder(bert).id
    assert StaticEncoder(bert, root=tmp_path).id == base.id
    for change in ({"sif_a": 1e-3}, {"pca_dims": 16}, {"weighting": "none"}, {"pooling": "mean"}):
        assert StaticEncoder(bert, root=tmp_path, settings=change).id != base.id, change
    other = tiny_bert(tmp_path / "other" / "tiny-bert", seed=1)
    assert StaticEncoder(other, root=tmp_path).id != base.id
    d = base.describe
    assert d["kind"] == "static" and d["dim"] == base.dim and d["settings"]["pca_dims"] == 256
    assert d["source"] == str(bert.resolve())
    with pytest.raises(ConfigError, match="unknown static encoder setting"):
        StaticEncoder(bert, settings={"pca": 3})


TEXTS = ["Hello world, the model is good at math!", "route_query (unknown)", "HELLO   World", "",
         "a " * 600 + "code", "héllo wörld", "hello [MASK] world", "tab\tand\x0bcontrol\x00x", "zzzz qqqq"]


def test_single_and_batch_encodes_are_identical(bert, tmp_path):
    enc = StaticEncoder(bert, root=tmp_path)
    batch = enc.encode(TEXTS)
    assert batch.dtype == np.float32 and batch.shape == (len(TEXTS), enc.dim)
    single = np.stack([enc.encode([t])[0] for t in TEXTS])
    assert single.tobytes() == batch.tobytes()
    assert enc.encode([]).shape == (0, enc.dim)


def test_the_ascii_fast_split_gives_the_tokenizers_ids(bert, tmp_path):
    enc = StaticEncoder(bert, root=tmp_path)
    enc.load()
    assert enc._fast is not None  # a BERT tokenizer: the fast path is in use
    rng = random.Random(0)
    alphabet = [chr(i) for i in range(128)] + WORDS + ["[MASK]", "[unk]", "Hello", " ", "a" * 120, "é", "中"]
    texts = TEXTS + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    got = enc.token_ids(texts)
    want = [e.ids for e in enc._tok.encode_batch(texts, add_special_tokens=False)]
    assert got == want


def test_texts_are_means_of_known_tokens(bert, tmp_path):
    enc = StaticEncoder(bert, root=tmp_path)
    v = dict(zip(["hello", "HELLO", "hello hello", "hello zzzz", "hello world", "world", "zzzz", "", "[CLS] hello"],
                 enc.encode(["hello", "HELLO", "hello hello", "hello zzzz", "hello world", "world", "zzzz", "",
                             "[CLS] hello"])))
    np.testing.assert_array_equal(v["HELLO"], v["hello"])  # the tokenizer's own lower-casing
    np.testing.assert_array_equal(v["hello hello"], v["hello"])  # a mean, not a sum
    np.testing.assert_array_equal(v["hello zzzz"], v["hello"])  # [UNK] is not part of the mean
    np.testing.assert_array_equal(v["[CLS] hello"], v["hello"])  # nor a special token in the text
    np.testing.assert_allclose(v["hello world"], (v["hello"] + v["world"]) / 2, rtol=1e-6, atol=1e-7)
    assert not v["zzzz"].any() and not v[""].any()  # no known token: a zero vector
    assert np.abs(v["hello"]).sum() > 0


def test_encoding_imports_neither_torch_nor_transformers(bert, tmp_path):
    cache = tmp_path / "ws" / "cache" / "emb"
    built = resolve_encoder(f"static:{bert}", cache)
    built.inner.build()
    assert built.inner.path.parent == tmp_path / "xdg" / "rp" / "static"  # the user's cache, not the workspace
    code = (f"import sys; from rpcli.core.encoder import resolve_encoder; "
            f"e = resolve_encoder({'static:' + str(bert)!r}, {str(cache)!r}); v = e.encode(['hello world']); "
            f"print(e.id, v.shape[1], 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [built.id, str(built.dim), "False", "False"]


def test_user_cache_without_a_workspace_and_the_default_spec(bert, tmp_path):
    enc = resolve_encoder(f"static:{bert}", None)
    assert enc.inner.root == tmp_path / "xdg" / "rp" / "static"
    m = resolve_encoder("minilm-static", tmp_path / "emb")
    assert m.id.startswith("all-MiniLM-L6-v2-static-") and m.dim == 256 and not m.inner.is_built()
    assert m.id != resolve_encoder("minilm-torch", tmp_path / "emb").id


def test_two_builders_racing_end_with_one_copy(bert, tmp_path, monkeypatch):
    root = tmp_path / "static"
    first = StaticEncoder(bert, root=root)
    first.build()
    kept = (first.path / "vectors.npy").read_bytes()
    late = StaticEncoder(bert, root=root)
    calls = {"n": 0}
    real = StaticEncoder.is_built

    def stale(self):  # the late builder saw no copy when it started, then loses the rename
        calls["n"] += 1
        return False if calls["n"] == 1 else real(self)

    monkeypatch.setattr(StaticEncoder, "is_built", stale)
    assert late.build() == first.path
    assert (first.path / "vectors.npy").read_bytes() == kept
    assert [p.name for p in root.iterdir() if p.is_dir()] == [first.id]  # no temporary folder left


def test_bad_specs_name_the_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=str(missing)):
        resolve_encoder(f"static:{missing}", None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"empty.*config\.json"):
        resolve_encoder(f"static:{tmp_path / 'empty'}", None)
    with pytest.raises(ConfigError, match="static:DIR"):
        resolve_encoder("minilm-statik", None)


def test_the_weights_hash_is_remembered_until_the_weights_change(bert, tmp_path, monkeypatch):
    import shutil

    import rpcli.core.static_encoder as SE

    model = tmp_path / "tiny-copy"
    shutil.copytree(bert, model)
    first = StaticEncoder(model).id
    with monkeypatch.context() as m:
        m.setattr(SE, "weights_sha256", lambda d: (_ for _ in ()).throw(AssertionError("hashed again")))
        assert StaticEncoder(model).id == first  # from the memo: MiniLM's 90 MB are not read per process
    weights = next(f for f in model.iterdir() if f.suffix in (".safetensors", ".bin"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))  # new content (and stamp): hashed again, a new id
    assert StaticEncoder(model).id != first

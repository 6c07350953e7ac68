"""text-gnn (spec §4.4) and its LLM backends: the algorithm's faithful details, the cache (rerun, resume), the
transformers backend on a tiny random LM built here, the openai backend against a local HTTP server, the CLI.

Tiny query-task-domain graph (standard): datasets t_math, t_code, t_qa, lb; domains d_reason (t_math, t_code),
d_know (t_qa, lb); families FamA, FamB; models m1, m2, m3, aux1; queries: t_math 2 (one is a test query and
dropped), t_code 3, t_qa 3. So one hop is 4 + 2 + 2 + 4 = 12 prompts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from rpcli.core.llm import LLMCache, make_backend
from rpcli.core.llm.base import BackendError, generate_cached
from rpcli.core.profiles.text_gnn import (PROMPTS_FILE, TEXTS_FILE, Topology, load_prompts, recipe_opts,
                                          render_prompt, select_neighbours, similarity_cache)
from rpcli.errors import ConfigError
from rpcli.services.base import artifact_dir

PER_HOP = 12


class FakeBackend:
    """Deterministic generator counting its calls; `fail_after` prompts it raises (a simulated interruption)."""

    id = "fake"
    model = "fake-1"
    sampling = {"max_tokens": 8}

    def __init__(self, fail_after: int | None = None, batch_size: int = 1) -> None:
        self.fail_after = fail_after
        self.batch_size = batch_size
        self.prompts: list[str] = []

    def generate(self, prompts):
        out = []
        for p in prompts:
            if self.fail_after is not None and len(self.prompts) >= self.fail_after:
                raise KeyboardInterrupt("simulated interruption")
            self.prompts.append(p)
            out.append(f"summary {hashlib.sha256(p.encode()).hexdigest()[:8]} of {p.splitlines()[3][:40]}")
        return out


def build(sess, K, backend=None, force=False, **kw):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "text-gnn", "standard", recipe_opts(K, backend=backend, **kw), force=force,
                               backend=backend, prompts=kw.get("prompts"))


def test_runtime_objects_are_arguments_not_recipe_options(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry

    opts = recipe_opts(1, backend=FakeBackend())
    assert not any(k.startswith("_") for k in opts)  # the recipe holds the backend's identity, not the object
    with pytest.raises(ConfigError, match="not recipe options"):
        build_profile_entry(sess, "text-gnn", "standard", {**opts, "_backend": FakeBackend()})


def texts_of(sess, entry):
    return json.loads((artifact_dir(sess, entry) / TEXTS_FILE).read_text())


def prompts_of(sess, entry):
    return [json.loads(line) for line in (artifact_dir(sess, entry) / PROMPTS_FILE).read_text().splitlines()]


def tiny_graph(sess):
    from rpcli.services.artifacts.graphs import build_graph_entry, load_graph_entry

    e = build_graph_entry(sess, "query-task-domain", "standard").entry
    return load_graph_entry(sess, e["id"])[1]


# ------------------------------------------------------------------------------------------- the algorithm
def test_k0_encodes_descriptions_and_shares_one_id(sess):
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile

    r = build(sess, 0)
    names, vecs = load_profile(artifact_dir(sess, r.entry) / PROFILE_FILE)
    assert names == ["m1", "m2", "m3"]
    descr = [f"{n} is a model of {'FamB' if n == 'm2' else 'FamA'} with its own strengths." for n in names]
    np.testing.assert_allclose(vecs, sess.encoder.encode(descr), rtol=0, atol=0)  # not normalised
    doc = texts_of(sess, r.entry)
    assert list(doc["hop_texts"]) == ["0"] and doc["final_texts"] == dict(zip(names, descr))
    assert prompts_of(sess, r.entry) == [] and r.entry["info"]["prompts"] == 0
    # K = 0 never starts a generator: the backend and the fixes do not change what is built
    again = build(sess, 0, backend=FakeBackend(), score_aware=True, top_k=3)
    assert again.entry["id"] == r.entry["id"] and again.built is False


def test_neighbour_selection_is_faithful(sess):
    g = tiny_graph(sess)
    topo = Topology(g)
    snap = {nt: list(g.texts[nt]) for nt in g.node_types}
    emb = similarity_cache(snap, sess.encoder)
    assert not any(q in emb for q in snap["query"])  # queries are never encoded by default
    m1 = g.names["model"].index("m1")
    nbs = select_neighbours("model", m1, snap, topo, emb)
    assert [n["type"] for n in nbs] == ["architecture"] + ["dataset"] * 4  # arch edges come first in the graph
    ds = {n["name"]: n for n in nbs if n["type"] == "dataset"}
    assert ds["t_math"]["score"] == 80.0 and ds["t_code"]["score"] == 20.0
    reason, know = g.texts["domain"]
    # the original gathers domains through both stored directions: each domain is named twice
    assert ds["t_math"]["domains"] == [reason, reason] and ds["lb"]["domains"] == [know, know]
    fixed = select_neighbours("model", m1, snap, topo, emb, dedup_domains=True)
    assert [n for n in fixed if n["name"] == "t_math"][0]["domains"] == [reason]
    # top-k on queries: similarity 0 everywhere, so the first ones in edge order are kept
    code = g.names["dataset"].index("t_code")
    q = [n["text"] for n in select_neighbours("dataset", code, snap, topo, emb, top_k=2) if n["type"] == "query"]
    assert q == ["write a python function to sort a dict", "implement a stack class"]
    # score-aware: a model's datasets by score, highest first, cut to top_k
    top = select_neighbours("model", m1, snap, topo, emb, top_k=2, score_aware=True)
    assert [n["name"] for n in top if n["type"] == "dataset"] == ["t_math", "lb"]
    # query similarity: queries now have embeddings, and ranking by them can reorder
    emb_q = similarity_cache(snap, sess.encoder, query_similarity=True)
    assert all(q in emb_q for q in snap["query"])


def test_prompts_follow_the_spec_layout(sess):
    g = tiny_graph(sess)
    topo = Topology(g)
    snap = {nt: list(g.texts[nt]) for nt in g.node_types}
    emb = similarity_cache(snap, sess.encoder)
    prompts = load_prompts()
    m1 = g.names["model"].index("m1")
    ctx = {"type": "model", "text": snap["model"][m1], "neighbours": select_neighbours("model", m1, snap, topo, emb)}
    p = render_prompt(ctx, prompts)
    assert snap["model"][m1] in p
    assert "  [ARCHITECTURE] Family A" in p
    assert "  [Domain] Reasoning and problem solving." in p
    assert "    [DATASET (score: 80.00) [domain: Reasoning and problem solving., Reasoning and problem solving.]]" in p
    assert "[QUERY]" not in p  # no query section in query-task-domain
    assert "no headings, no bullet points, no preamble" in p
    d = render_prompt({"type": "dataset", "text": "T", "neighbours": [
        {"type": "model", "text": "M", "score": 71.2}, {"type": "query", "text": "Q", "score": None}]}, prompts)
    assert "  - [MODEL (score: 71.20)] M" in d and "  - [QUERY] Q" in d
    f = render_prompt({"type": "widget", "text": "W", "neighbours": [{"type": "gear", "text": "G"}]}, prompts)
    assert "widget" in f and "  - [GEAR] G" in f


def test_prompt_override_file(sess, tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("model: |-\n  PROFILE {self_text} WITH {context}\n")
    prompts = load_prompts(f)
    assert prompts["model"]["template"].startswith("PROFILE")
    assert prompts["dataset"] == load_prompts()["dataset"]  # the rest keeps the shipped templates
    r = build(sess, 1, backend=FakeBackend(batch_size=0), prompts=prompts)
    model_prompts = [p for p in prompts_of(sess, r.entry) if p["type"] == "model"]
    assert len(model_prompts) == 4 and all(p["prompt"].startswith("PROFILE") for p in model_prompts)
    assert r.entry["params"]["prompts_sha256"] != build(sess, 1, backend=FakeBackend()).entry["params"][
        "prompts_sha256"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: 'about {benchmark}'\n")
    with pytest.raises(ConfigError, match="unknown placeholder"):
        load_prompts(bad)
    bad.write_text("model_typo: 'x'\n")
    with pytest.raises(ConfigError, match="unknown template"):
        load_prompts(bad)


# ------------------------------------------------------------------------------------ extractive, cache, resume
@pytest.mark.parametrize("K", [0, 1, 2])
def test_extractive_end_to_end(sess, K):
    backend = make_backend("extractive", encoder=sess.encoder)
    r = build(sess, K, backend=backend if K else None)
    info = r.entry["info"]
    assert info["prompts"] == K * PER_HOP and info["cache_misses"] == K * PER_HOP and info["cache_hits"] == 0
    doc = texts_of(sess, r.entry)
    assert list(doc["hop_texts"]) == [str(h) for h in range(K + 1)]
    assert set(doc["final_texts"]) == {"m1", "m2", "m3"}  # filtered to the kept models (aux1 dropped)
    assert doc["final_texts"] == doc["hop_texts"][str(K)]
    rows = prompts_of(sess, r.entry)
    assert len(rows) == K * PER_HOP
    if K:
        assert [x["type"] for x in rows[:PER_HOP]] == ["dataset"] * 4 + ["domain"] * 2 + ["architecture"] * 2 + \
            ["model"] * 4
        assert "Scores: t_math 80.00" in doc["final_texts"]["m1"]  # scores written in
        assert doc["final_texts"]["m1"].startswith("m1 is a model of FamA")
        assert len(info["hops"]) == K and info["throughput_prompts_per_s"] > 0
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile

    names, vecs = load_profile(artifact_dir(sess, r.entry) / PROFILE_FILE)
    np.testing.assert_allclose(vecs, sess.encoder.encode([doc["final_texts"][n] for n in names]))


def test_rerun_is_served_from_the_cache(sess):
    first = make_backend("extractive", encoder=sess.encoder)
    a = build(sess, 2, backend=first)
    assert first.calls > 0
    again = make_backend("extractive", encoder=sess.encoder)
    b = build(sess, 2, backend=again, force=True)
    assert again.calls == 0  # zero backend calls
    assert b.entry["info"]["cache_hits"] == 2 * PER_HOP and b.entry["info"]["cache_misses"] == 0
    assert texts_of(sess, a.entry) == texts_of(sess, b.entry)
    assert prompts_of(sess, a.entry) == prompts_of(sess, b.entry)
    assert len(list(sess.workspace.llm_cache_dir.rglob("*.json"))) == 2 * PER_HOP


def test_resume_after_interruption(sess):
    from rpcli.workspace.manifest import load_manifest

    n = 17  # hop 1 (12) and part of hop 2
    with pytest.raises(KeyboardInterrupt):
        build(sess, 2, backend=FakeBackend(fail_after=n))
    assert not [e for e in load_manifest(sess.workspace)["entries"].values() if e["kind"] == "profile"]
    assert len(list(sess.workspace.llm_cache_dir.rglob("*.json"))) == n  # every finished prompt was kept
    fresh = FakeBackend()
    r = build(sess, 2, backend=fresh)
    assert r.built and r.entry["info"]["cache_hits"] == n and len(fresh.prompts) == 2 * PER_HOP - n
    full = FakeBackend()
    ref = build(sess, 2, backend=full, force=True)  # everything cached now: identical texts, no calls
    assert full.prompts == [] and texts_of(sess, ref.entry) == texts_of(sess, r.entry)


def test_progress_reports_prompts_per_hop(sess):
    from rpcli.core.progress import RecordingProgress

    sess.progress = RecordingProgress()
    build(sess, 2, backend=FakeBackend(batch_size=5))
    tasks = [e[1] for e in sess.progress.events if e[0] == "task"]
    assert "text-gnn hop 1/2: 12 prompts (fake)" in tasks and "text-gnn hop 2/2: 12 prompts (fake)" in tasks
    assert sum(e[1] for e in sess.progress.events if e[0] == "advance") == 2 * PER_HOP
    notes = [e[1] for e in sess.progress.events if e[0] == "note"]
    assert any(n.startswith("hop 2/2: 12 prompts, 0 cached, 12 generated at") for n in notes)


def test_cache_dedupes_and_keys_on_sampling(tmp_path):
    cache = LLMCache(tmp_path)
    b = FakeBackend(batch_size=0)
    stats: dict = {}
    ps = ["a\nb\nc\nd", "a\nb\nc\nd", "x\ny\nz\nw"]
    out = generate_cached(b, ps, cache, stats=stats)
    assert out[0] == out[1] and len(b.prompts) == 2 and stats["hits"] == 1 and stats["misses"] == 2
    other = FakeBackend()
    other.sampling = {"max_tokens": 9}
    generate_cached(other, ps[:1], cache)
    assert len(other.prompts) == 1  # different sampling params: a different key


# ------------------------------------------------------------------------------------------- transformers
def tiny_causal_lm(path, chat_template: str | None = None):
    """A 2-layer GPT-2 with random weights and a word-level tokenizer trained on a few strings; nothing is
    downloaded."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = ["the model is good at math and code", "benchmark scores for reasoning and knowledge",
              "family of dense decoder transformers", "profile of a large language model"]
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(path)
    import torch

    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(fast), n_positions=1024, n_embd=16, n_layer=2, n_head=2,
                     bos_token_id=fast.eos_token_id, eos_token_id=fast.eos_token_id,
                     pad_token_id=fast.pad_token_id)
    GPT2LMHeadModel(cfg).save_pretrained(path)
    return path


def test_transformers_backend_end_to_end(sess, tmp_path):
    model_dir = tiny_causal_lm(tmp_path / "lm")
    backend = make_backend("transformers", model=str(model_dir), max_tokens=8, batch_size=5, device="cpu")
    assert backend.sampling["chat_template"] is False and backend.model.startswith("lm-")
    r = build(sess, 1, backend=backend)
    info = r.entry["info"]
    assert info["prompts"] == PER_HOP and info["cache_misses"] == PER_HOP
    assert backend.generated_tokens > 0
    doc = texts_of(sess, r.entry)
    assert set(doc["hop_texts"]["1"]) == {"m1", "m2", "m3"}
    assert all(isinstance(t, str) for t in doc["final_texts"].values())
    assert r.entry["params"]["llm"]["model"] == backend.model
    # greedy decoding is deterministic: a fresh backend (no cache) gives the same outputs
    fresh = make_backend("transformers", model=str(model_dir), max_tokens=8, batch_size=12)
    prompts = [x["prompt"] for x in prompts_of(sess, r.entry)]
    assert fresh.generate(prompts[:3]) == [x["output"] for x in prompts_of(sess, r.entry)[:3]]


def test_transformers_chat_template_is_detected(tmp_path):
    model_dir = tiny_causal_lm(tmp_path / "lm", chat_template="{% for m in messages %}{{ m['content'] }}"
                                                              "{% endfor %} [EOS]")
    b = make_backend("transformers", model=str(model_dir), max_tokens=3)
    assert b.sampling["chat_template"] is True
    assert len(b.generate(["the model is good at math"])) == 1
    with pytest.raises(ConfigError, match="not a local transformers model"):
        make_backend("transformers", model=str(tmp_path))


# ------------------------------------------------------------------------------------------------ openai
class _Server:
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1 (real HTTP, a thread); `fail` lists the status codes
    to answer to the first requests, in order."""

    def __init__(self, fail=(), delays=()):
        self.fail = list(fail)
        self.delays = list(delays)  # seconds to stall the first requests (a timeout on the client side)
        self.seen: list[dict] = []
        self.auth: list[str | None] = []
        lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    delay = outer.delays.pop(0) if outer.delays else 0.0
                if delay:
                    time.sleep(delay)
                    return  # the client has given up; answer nothing
                with lock:
                    outer.auth.append(self.headers.get("Authorization"))
                    code = outer.fail.pop(0) if outer.fail else 200
                    if code == 200:
                        outer.seen.append(body)
                if self.path != "/v1/chat/completions":
                    code = 404
                if code == 200:
                    text = body["messages"][0]["content"]
                    payload = {"choices": [{"message": {"role": "assistant",
                                                        "content": f" profile {len(text)} chars "}}]}
                else:
                    payload = {"error": {"message": f"injected {code}"}}
                data = json.dumps(payload).encode()
                self.send_response(code)
                if code != 200:
                    self.send_header("retry-after-ms", "10")  # the openai client honours it: a fast retry
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def test_openai_backend_end_to_end_with_a_retry(sess, monkeypatch):
    monkeypatch.setenv("RP_TEST_KEY", "sk-test")
    with _Server(fail=[500]) as srv:
        backend = make_backend("openai", base_url=srv.url, model="tiny-chat", api_key_env="RP_TEST_KEY",
                               max_tokens=16, concurrency=3, timeout=5, max_retries=3)
        r = build(sess, 1, backend=backend)
    assert backend.retries == 1 and backend.requests == PER_HOP + 1
    assert len(srv.seen) == PER_HOP and all(a == "Bearer sk-test" for a in srv.auth)
    req = srv.seen[0]
    assert req["model"] == "tiny-chat" and req["max_tokens"] == 16 and req["temperature"] == 0.0
    assert req["messages"][0]["role"] == "user"
    doc = texts_of(sess, r.entry)
    assert all(t.startswith("profile ") and t.endswith("chars") for t in doc["final_texts"].values())
    assert r.entry["params"]["llm"]["base_url"] == srv.url


def test_openai_backend_errors(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with _Server(fail=[400]) as srv:
        b = make_backend("openai", base_url=srv.url, model="m")
        with pytest.raises(BackendError, match="HTTP 400: injected 400"):
            b.generate(["hi"])
        assert b.requests == 1 and srv.auth == [None]  # not retried; no key, no header
    with _Server(fail=[503, 429, 502]) as srv:
        b = make_backend("openai", base_url=srv.url, model="m", max_retries=2)
        with pytest.raises(BackendError, match="after 3 attempts; last error: HTTP 502: injected 502"):
            b.generate(["hi"])
        assert b.requests == 3 and b.retries == 2  # the openai client's retries, honouring retry-after-ms
    with _Server(delays=[1.0]) as srv:  # the first request times out, the retry succeeds
        b = make_backend("openai", base_url=srv.url, model="m", timeout=0.3)
        assert b.generate(["hello"]) == ["profile 5 chars"] and b.retries == 1
    with pytest.raises(ConfigError, match="--base-url"):
        make_backend("openai", model="m")


# ------------------------------------------------------------------------------------------------- vllm
STUB_VLLM = """
CALLS = []


class SamplingParams:
    def __init__(self, **kw):
        self.kw = kw


class _Completion:
    def __init__(self, text):
        self.text = text


class _Request:
    def __init__(self, text):
        self.outputs = [_Completion(text)]


class LLM:
    def __init__(self, **kw):
        CALLS.append(("init", kw))

    def generate(self, prompts, params, use_tqdm=True):
        CALLS.append(("generate", len(prompts), params.kw))
        return [_Request("  raw " + str(len(p)) + "  ") for p in prompts]

    def chat(self, conversations, params, use_tqdm=True):
        CALLS.append(("chat", len(conversations), params.kw))
        return [_Request("chat " + c[0]["role"]) for c in conversations]
"""


def test_vllm_backend_wiring_with_a_stub_engine(sess, tmp_path, monkeypatch):
    """The vllm backend's calls, against a stand-in `vllm` module (the real one needs a GPU)."""
    (tmp_path / "stub" / "vllm").mkdir(parents=True)
    (tmp_path / "stub" / "vllm" / "__init__.py").write_text(STUB_VLLM)
    monkeypatch.syspath_prepend(str(tmp_path / "stub"))
    import sys

    monkeypatch.delitem(sys.modules, "vllm", raising=False)
    import vllm

    sys.modules.pop("vllm")
    monkeypatch.setitem(sys.modules, "vllm", vllm)  # forgotten again after the test

    b = make_backend("vllm", tp=2, gpu_memory_utilization=0.5, max_tokens=7, seed=3)
    assert b.model == "Qwen/Qwen2.5-7B-Instruct" and b.sampling["chat_template"] is False and b._llm is None
    r = build(sess, 1, backend=b)
    init = vllm.CALLS[0]
    assert init[0] == "init" and init[1]["model"] == "Qwen/Qwen2.5-7B-Instruct" and init[1]["tensor_parallel_size"] == 2
    assert init[1]["gpu_memory_utilization"] == 0.5 and init[1]["seed"] == 3 and init[1]["trust_remote_code"]
    gens = [c for c in vllm.CALLS if c[0] == "generate"]
    assert [c[1] for c in gens] == [4, 2, 2, 4]  # one batch per node type, in update order
    assert gens[0][2] == {"temperature": 0.0, "max_tokens": 7, "seed": 3}
    assert all(t.startswith("raw ") for t in texts_of(sess, r.entry)["final_texts"].values())  # stripped
    chat = make_backend("vllm", chat_template=True)
    assert chat.generate(["x"]) == ["chat user"] and vllm.CALLS[-1][0] == "chat"
    with pytest.raises(ConfigError, match="--tp"):
        make_backend("vllm", tp=0)


# ---------------------------------------------------------------------------------------------------- CLI
def test_cli_defaults_to_extractive_and_shows_texts(tiny_data, tmp_path):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    runner = CliRunner()
    base = ["-w", str(tmp_path / "ws"), "-d", str(tiny_data), "--encoder", "hash:32"]
    r = runner.invoke(app, [*base, "profile", "text-gnn", "--K", "1"], env={"RP_LLM_BACKEND": ""})
    assert r.exit_code == 0, r.output
    pid = r.stdout.strip()
    assert pid.startswith("profile-") and "extractive" in r.stderr and "12 prompts" in r.stderr
    s = runner.invoke(app, [*base, "profile", "show", pid, "--texts", "--hop", "1", "--json"])
    assert s.exit_code == 0, s.output
    assert set(json.loads(s.stdout)) == {"m1", "m2", "m3"}
    s0 = runner.invoke(app, [*base, "profile", "show", pid[:12], "--texts", "--hop", "0"])
    assert "m1 is a model of FamA with its own strengths." in s0.stdout
    bad = runner.invoke(app, [*base, "profile", "show", pid, "--texts", "--hop", "3"])
    assert bad.exit_code == 1 and "no hop 3" in bad.stderr
    again = runner.invoke(app, [*base, "profile", "text-gnn", "--K", "1", "--backend", "extractive"])
    assert again.stdout.strip() == pid  # same recipe: reused
    v = runner.invoke(app, [*base, "profile", "text-gnn", "--K", "1", "--backend", "vllm"])
    if importlib.util.find_spec("vllm") is None:
        assert v.exit_code == 1 and "pip install" in v.stderr and "Traceback" not in v.output


# ---------------------------------------------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_vllm_backend_on_gpu(sess, tmp_path):
    import os

    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or importlib.util.find_spec("vllm") is None:
        pytest.skip("needs CUDA and vllm")
    model = os.environ.get("RP_TEST_VLLM_MODEL")  # a local model directory; default: a tiny random Llama
    if not model:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
        from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

        tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.train_from_iterator(["the model is good at math and code"],
                                trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]", "[BOS]"]))
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                       eos_token="[EOS]", bos_token="[BOS]")
        model = str(tmp_path / "llama")
        fast.save_pretrained(model)
        cfg = LlamaConfig(vocab_size=len(fast), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
                          bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                          pad_token_id=fast.pad_token_id)
        LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(model)
    backend = make_backend("vllm", model=model, max_tokens=8, gpu_memory_utilization=0.3, seed=0)
    r = build(sess, 1, backend=backend)
    assert r.entry["info"]["cache_misses"] == PER_HOP
    again = make_backend("vllm", model=model, max_tokens=8, gpu_memory_utilization=0.3, seed=0)
    b = build(sess, 1, backend=again, force=True)
    assert again._llm is None and texts_of(sess, b.entry) == texts_of(sess, r.entry)  # cached: never started

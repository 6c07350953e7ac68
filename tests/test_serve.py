"""rp serve driven by the real `openai` client against upstream test servers on 127.0.0.1: routing, the upstream
answer returned unchanged, streaming, an upstream failure and a timeout (next-best candidate, then 502), bad
requests (400, not 422), 50 concurrent requests with none lost, /v1/models, /health, /metrics; the endpoints file.
Batching and the Prometheus view of /metrics: tests/test_serve_batch.py."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

openai = pytest.importorskip("openai")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")


class Upstream:
    """An OpenAI-compatible /v1/chat/completions (JSON and SSE) on 127.0.0.1. `mode`: ok, fail (HTTP 500),
    slow (answers after `delay` s), bad (HTTP 400), echo (HTTP 401 whose message repeats the Authorization header
    it got, as some servers echo the key they refused), echo-ok (HTTP 200 whose answer repeats it).

    Broken upstreams (tests/test_serve_failures.py), each holding its connection open until the peer closes it (at
    most `hold` s; `closed` gets the time.monotonic() it saw the close): hang (reads the request, never answers),
    stall-body (the head of a JSON answer and half its body), stall-stream (the head of an SSE answer and two
    chunks); cut-body (a head whose Content-Length is twice the body sent, then closes), cut-stream (two chunks,
    then closes without the terminating chunk or `data: [DONE]`); drip (an SSE answer of `chunks` chunks, one
    every `delay` s, stopping when the peer closes). `peers`: the client port of each request (one per connection
    rp opened or reused)."""

    def __init__(self, name: str):
        self.name, self.mode, self.delay = name, "ok", 2.0
        self.hold, self.chunks = 10.0, 50
        self.seen: list = []
        self.auth: list = []
        self.sent: list = []  # the exact bytes of each JSON answer
        self.peers: list = []
        self.closed: list = []
        lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.seen.append(body)
                    outer.auth.append(self.headers.get("Authorization"))
                    outer.peers.append(self.client_address[1])
                if outer.mode in ("hang", "stall-body", "stall-stream", "cut-body", "cut-stream", "drip"):
                    return self._broken(body)
                if outer.mode == "slow":
                    time.sleep(outer.delay)
                if outer.mode in ("fail", "bad", "echo"):
                    code = {"fail": 500, "bad": 400, "echo": 401}[outer.mode]
                    message = f"{outer.name} says {code}" + (
                        f": Incorrect API key provided: {self.headers.get('Authorization')}"
                        if outer.mode == "echo" else "")
                    data = json.dumps({"error": {"message": message}}).encode()
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                text = f"answer from {body['model']}"
                if outer.mode == "echo-ok":
                    text += f" (you sent {self.headers.get('Authorization')})"
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i, word in enumerate(text.split(" ")):
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                                 "choices": [{"index": 0, "delta": {"content": (" " if i else "") + word},
                                              "finish_reason": None}]}
                        self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                    return
                data = json.dumps({"id": f"cmpl-{outer.name}-{len(outer.seen)}", "object": "chat.completion",
                                   "created": 1, "model": body["model"],
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": text}}],
                                   "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}}).encode()
                with lock:
                    outer.sent.append(data)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, b: bytes):
                self.wfile.write(f"{len(b):x}\r\n".encode() + b + b"\r\n")
                self.wfile.flush()

            def _event(self, model: str, i: int):
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
                         "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]}
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())

            def _peer_closed(self, seconds: float) -> bool:
                """Wait up to `seconds` for the peer to close the connection; True (and the time noted) if it did."""
                end = time.monotonic() + seconds
                while (left := end - time.monotonic()) > 0:
                    if select.select([self.connection], [], [], min(left, 0.05))[0]:
                        try:
                            data = self.connection.recv(65536)
                        except OSError:
                            data = b""
                        if not data:
                            with lock:
                                outer.closed.append(time.monotonic())
                            return True
                return False

            def _broken(self, body: dict):
                self.close_connection = True
                mode = outer.mode
                try:
                    if mode == "hang":
                        self._peer_closed(outer.hold)
                    elif mode in ("stall-body", "cut-body"):
                        data = json.dumps({"id": "cmpl-broken", "object": "chat.completion", "created": 1,
                                           "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": "never whole"}}]}).encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(2 * len(data) if mode == "cut-body" else len(data)))
                        self.end_headers()
                        self.wfile.write(data if mode == "cut-body" else data[:len(data) // 2])
                        self.wfile.flush()
                        if mode == "stall-body":
                            self._peer_closed(outer.hold)
                    else:
                        self.send_response(200)
                        self.send_header("Content-Type", "text/event-stream")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        n = outer.chunks if mode == "drip" else 2
                        for i in range(n):
                            self._event(body["model"], i)
                            if mode == "drip" and self._peer_closed(outer.delay):
                                return
                        if mode == "stall-stream":
                            self._peer_closed(outer.hold)
                        elif mode == "drip":
                            self._chunk(b"data: [DONE]\n\n")
                            self._chunk(b"")
                except OSError:  # the peer went away while written to
                    with lock:
                        outer.closed.append(time.monotonic())

        class S(ThreadingHTTPServer):
            request_queue_size = 128  # 50 concurrent connections must not overflow the listen backlog
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A client that gives up (the timeout test) breaks the pipe of a slow reply; socketserver would print
                # that traceback to sys.stderr, which a CliRunner in a later test may be capturing at that moment.
                pass

        self.httpd = S(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Server:
    """The rp app on uvicorn in a thread, on a loopback socket."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        t0 = time.time()
        while not self.server.started:
            assert time.time() - t0 < 20, "the server did not start"
            time.sleep(0.02)

    def close(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A recorded mlp run on the tiny data, three upstreams (m1, m2, m3 served as served-m*) and rp serve."""
    import torch
    from tiny import write_tiny

    from rpcli.services.base import Session
    from rpcli.services.serving.inference import load_run
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.services.serving.serve import create_app, read_endpoints
    from rpcli.workspace.layout import Workspace

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("serve")
    sess = Session(workspace=Workspace(root / "ws"), data_root=write_tiny(root / "tiny"), encoder_spec="hash:32")
    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    run = run_router_entry(sess, "mlp", pid, "standard", {"epochs": 3, "lr": 1e-2, "hidden": 16, "out": 8}).entry
    rr = load_run(sess, run["id"])
    ups = {m: Upstream(m) for m in rr.models}
    eps_file = root / "endpoints.yaml"
    eps_file.write_text("models:\n" + "".join(
        f"  {m}:\n    base_url: {u.url}\n    model: served-{m}\n    timeout: 1.0\n"
        + ("    api_key_env: RP_TEST_UPSTREAM_KEY\n" if m == "m2" else "") for m, u in ups.items()))
    eps = read_endpoints(eps_file, rr.models)
    mp = pytest.MonkeyPatch()
    mp.setenv("RP_TEST_UPSTREAM_KEY", "sk-upstream")  # read once, when the server starts
    logs: list = []
    srv = Server(create_app(rr, eps, retries=1, log=logs.append))
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=10)
    yield {"rr": rr, "ups": ups, "srv": srv, "client": client, "logs": logs, "eps_file": eps_file}
    srv.close()
    mp.undo()
    for u in ups.values():
        u.close()


@pytest.fixture
def st(stack):
    for u in stack["ups"].values():
        u.mode = "ok"
        u.seen.clear()
        u.sent.clear()
        u.auth.clear()
    return stack


def _ranking(st, text):
    return st["rr"].decide([text])[0].ranking


def test_routes_and_returns_the_upstream_answer_unchanged(st):
    text = "compute 17 times 3"
    first = _ranking(st, text)[0]
    raw = st["client"].chat.completions.with_raw_response.create(
        model="rp", messages=[{"role": "user", "content": text}], temperature=0.3, max_tokens=7, seed=5)
    assert raw.headers["x-rp-model"] == first and raw.headers["x-rp-run"] == st["rr"].id
    c = raw.parse()
    assert c.choices[0].message.content == f"answer from served-{first}"
    up = st["ups"][first]
    assert len(up.seen) == 1 and sum(len(u.seen) for u in st["ups"].values()) == 1
    sent = up.seen[0]
    assert sent["model"] == f"served-{first}" and sent["messages"] == [{"role": "user", "content": text}]
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.3, 7, 5)  # forwarded as given
    assert raw.http_response.content == up.sent[0]  # byte for byte
    # every candidate reachable by name, without routing
    for m in st["rr"].models:
        r = st["client"].chat.completions.with_raw_response.create(model=m, messages=[{"role": "user",
                                                                                       "content": "hi"}])
        assert r.headers["x-rp-model"] == m and r.parse().choices[0].message.content == f"answer from served-{m}"
    # a system prompt is routed with the user message (the run embeds formatted queries): the same decision as
    # routing "system\n\nuser" directly
    msgs = [{"role": "system", "content": "Answer with python code."}, {"role": "user", "content": text}]
    r = st["client"].chat.completions.with_raw_response.create(model="rp", messages=msgs)
    assert r.headers["x-rp-model"] == _ranking(st, "Answer with python code.\n\n" + text)[0]


def test_keys_are_sent_only_where_configured(st):
    for m in ("m1", "m2"):
        st["client"].chat.completions.create(model=m, messages=[{"role": "user", "content": "hi"}])
    assert st["ups"]["m2"].auth == ["Bearer sk-upstream"] and st["ups"]["m1"].auth == [None]
    assert not any("sk-upstream" in line for line in st["logs"])


def test_streaming_is_relayed(st):
    text = "write a python function that reverses a list"
    first = _ranking(st, text)[0]
    with st["client"].chat.completions.with_streaming_response.create(
            model="rp", messages=[{"role": "user", "content": text}], stream=True) as resp:
        assert resp.headers["x-rp-model"] == first
        assert resp.headers["content-type"].startswith("text/event-stream")
        pieces = [ch.choices[0].delta.content for ch in resp.parse() if ch.choices]
    assert "".join(pieces) == f"answer from served-{first}" and len(pieces) == 3


@pytest.mark.parametrize("failure", ["fail", "slow"])
def test_an_upstream_failure_or_timeout_goes_to_the_next_best(st, failure):
    text = "who wrote the novel war and peace"
    first, second, third = _ranking(st, text)
    st["ups"][first].mode = failure
    st["ups"][first].delay = 3.0  # the endpoint timeout is 1 s
    t0 = time.time()
    r = st["client"].chat.completions.with_raw_response.create(model="rp",
                                                               messages=[{"role": "user", "content": text}])
    assert r.headers["x-rp-model"] == second
    assert r.parse().choices[0].message.content == f"answer from served-{second}"
    assert time.time() - t0 < 3.0
    m = httpx.get(st["srv"].url + "/metrics").json()
    assert m["models"][first]["errors"] >= 1
    assert any(first in line and "next candidate" in line for line in st["logs"])
    # retries=1: the first two candidates failing gives a clear 502, the third is never tried
    st["ups"][second].mode = "fail"
    with pytest.raises(openai.InternalServerError) as ei:
        st["client"].chat.completions.create(model="rp", messages=[{"role": "user", "content": text}])
    err = ei.value
    assert err.status_code == 502 and err.body["code"] == "upstream_failed"
    assert first in err.body["message"] and second in err.body["message"]
    assert not st["ups"][third].seen
    # an upstream 400 is the request's fault: returned as it is, no fallback
    st["ups"][first].mode = "bad"
    with pytest.raises(openai.BadRequestError, match=f"{first} says 400"):
        st["client"].chat.completions.create(model="rp", messages=[{"role": "user", "content": text}])


def test_bad_requests_get_400_with_the_reason(st):
    url = st["srv"].url + "/v1/chat/completions"
    cases = [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"),
             (json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(), "`model` is required"),
             (json.dumps({"model": "rp"}).encode(), "`messages` must be"),
             (json.dumps({"model": "rp", "messages": ["hi"]}).encode(), "messages[0]"),
             (json.dumps({"model": "rp", "messages": [{"role": "system", "content": "x"}]}).encode(), "no user"),
             (json.dumps({"model": "rp", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}).encode(),
              "`stream`")]
    for body, reason in cases:
        r = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, (body, r.status_code)
        assert reason in r.json()["error"]["message"], (body, r.json())
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        st["client"].chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="`messages`"):
        st["client"].chat.completions.create(model="rp", messages=[])
    assert httpx.get(url).status_code == 405
    assert httpx.get(st["srv"].url + "/nope").status_code == 404
    assert sum(len(u.seen) for u in st["ups"].values()) == 0


def test_fifty_concurrent_requests_none_lost(st):
    before = httpx.get(st["srv"].url + "/metrics").json()
    texts = [f"request {i}: " + ["compute 17 times 3", "implement binary search in python",
                                 "what is the capital of australia"][i % 3] for i in range(50)]

    def ask(t):
        r = st["client"].chat.completions.with_raw_response.create(model="rp",
                                                                   messages=[{"role": "user", "content": t}])
        return r.headers["x-rp-model"], r.parse().choices[0].message.content

    with ThreadPoolExecutor(max_workers=50) as pool:
        got = list(pool.map(ask, texts))
    assert len(got) == 50
    assert all(content == f"answer from served-{m}" for m, content in got)
    assert [m for m, _ in got] == [_ranking(st, t)[0] for t in texts]
    assert sum(len(u.seen) for u in st["ups"].values()) == 50
    seen = sorted(b["messages"][0]["content"] for u in st["ups"].values() for b in u.seen)
    assert seen == sorted(texts)
    after = httpx.get(st["srv"].url + "/metrics").json()
    assert after["requests"] - before["requests"] == 50
    assert after["routing_decision"]["n"] - before["routing_decision"]["n"] == 50
    assert sum(after["models"][m]["chosen"] - before["models"][m]["chosen"] for m in after["models"]) == 50
    rd = after["routing_decision"]
    assert 0 < rd["p50_ms"] <= rd["p99_ms"] <= rd["max_ms"]

    def routed(m):  # texts decided by the router's batches so far
        return sum(int(size) * n for size, n in m["routing_batches"]["sizes"].items())

    assert routed(after) - routed(before) == 50  # each text once, in batches (tests/test_serve_batch.py)


def test_models_health_metrics(st):
    ids = [m.id for m in st["client"].models.list().data]
    assert ids == ["rp", *st["rr"].models]
    h = httpx.get(st["srv"].url + "/health").json()
    assert h["status"] == "ok" and h["run"] == st["rr"].id and h["router"] == "mlp"
    st["client"].chat.completions.create(model="m1", messages=[{"role": "user", "content": "hi"}])
    m = httpx.get(st["srv"].url + "/metrics").json()
    assert m["models"]["m1"]["requests"] >= 1 and m["models"]["m1"]["latency"]["n"] >= 1
    assert set(m["routing_overhead"]) == {"n", "p50_ms", "p99_ms", "mean_ms", "max_ms"}


def test_endpoints_file_errors(st, tmp_path):
    from rpcli.errors import DataFileError
    from rpcli.services.serving.serve import read_endpoints

    models = st["rr"].models
    cases = {"models: []\n": "models", "models:\n  gpt9: {base_url: http://127.0.0.1:1/v1, model: x}\n":
             "not a candidate", "models:\n  m1: {model: x}\n": "base_url",
             "models:\n  m1: {base_url: ftp://x, model: x}\n": "http://",
             "models:\n  m1: {base_url: http://127.0.0.1:1/v1, model: x, timeout: -1}\n": "timeout",
             "models:\n  m1: {base_url: http://127.0.0.1:1/v1, model: x, key: sk-1}\n": "unknown field",
             "models: [\n": "not valid YAML"}
    for text, what in cases.items():
        f = tmp_path / "e.yaml"
        f.write_text(text)
        with pytest.raises(DataFileError, match=what):
            read_endpoints(f, models)


def test_cli_serve_refuses_bad_input_before_binding(st, tmp_path):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    bad = tmp_path / "e.yaml"
    bad.write_text("models:\n  nope: {base_url: http://127.0.0.1:1/v1, model: x}\n")
    ws = str(st["rr"].sess.workspace.root)
    r = CliRunner().invoke(app, ["-w", ws, "serve", "--run", st["rr"].id, "--endpoints", str(bad)])
    assert r.exit_code == 1 and "not a candidate" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["-w", ws, "serve", "--run", st["rr"].id, "--endpoints", str(st["eps_file"]),
                                 "--lambda", "-1"])
    assert r.exit_code == 2


def test_lambda_routes_by_cost(st):
    """--lambda: a huge cost weight sends every request to the cheapest candidate (m1 on the tiny data); lambda 0
    keeps the router's own choice."""
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import create_app, read_endpoints

    eps = read_endpoints(st["eps_file"], st["rr"].models)
    texts = ["implement binary search in python", "what is the capital of australia", "compute 17 times 3"]
    for lam, want in ((1e9, lambda t: "m1"), (0.0, lambda t: _ranking(st, t)[0])):
        with TestClient(create_app(st["rr"], eps, lam=lam)) as c:
            for t in texts:
                r = c.post("/v1/chat/completions", json={"model": "rp", "messages": [{"role": "user", "content": t}]})
                assert r.status_code == 200 and r.headers["x-rp-model"] == want(t)
            assert c.get("/health").json()["lambda"] == lam

"""rp serve's batching and metrics: requests that arrive together are routed as one batch by one worker, each exactly
as it would be alone; /metrics in JSON and in the Prometheus text format (a registry per app, no key anywhere); the
upstream client's keep-alive pool (a connection the upstream closed is replaced, a chunked answer is read whole, a
refused connection falls back to the next candidate)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
prom_parser = pytest.importorskip("prometheus_client.parser")

from test_serve import Server, Upstream  # noqa: E402  (the same upstream test servers)


@pytest.fixture(scope="module")
def rr(tmp_path_factory):
    """A recorded mlp run on the tiny data (hash:32 encoder), loaded to route."""
    from serve_run import recorded_mlp_run

    return recorded_mlp_run(tmp_path_factory.mktemp("serve-batch"))


@pytest.fixture(scope="module")
def ups(rr):
    u = {m: Upstream(m) for m in rr.models}
    yield u
    for x in u.values():
        x.close()


def _endpoints(ups, **extra):
    from rpcli.services.serving.serve import Endpoint

    return {m: Endpoint(m, u.url, f"served-{m}", timeout=5.0, **extra.get(m, {})) for m, u in ups.items()}


class SlowRouter:
    """The run's router, each decision call made `delay` s slower (so requests pile up behind it) and recorded."""

    def __init__(self, rr, delay: float = 0.15):
        self.rr, self.delay = rr, delay
        self.calls: list = []

    def __getattr__(self, name):
        return getattr(self.rr, name)

    def decide(self, texts, **kw):
        time.sleep(self.delay)
        out = self.rr.decide(texts, **kw)
        self.calls.append(out)
        return out


def test_concurrent_requests_are_batched_and_each_routed_as_alone(rr, ups):
    from rpcli.services.serving.serve import create_app

    for u in ups.values():
        u.mode = "ok"
        u.seen.clear()
    slow = SlowRouter(rr)
    srv = Server(create_app(slow, _endpoints(ups), max_batch=16))
    words = ["compute", "python", "capital", "binary", "search", "sum", "list", "war", "peace", "reverse"]
    texts = [f"{i}: " + " ".join(words[(i * k) % len(words)] for k in range(1, 2 + i % 5)) for i in range(64)]
    try:
        async def fire():
            async with httpx.AsyncClient(base_url=srv.url, timeout=60,
                                         limits=httpx.Limits(max_connections=64)) as c:
                return await asyncio.gather(*[
                    c.post("/v1/chat/completions", json={"model": "rp", "messages": [{"role": "user", "content": t}]})
                    for t in texts])

        got = asyncio.run(fire())
        m = httpx.get(srv.url + "/metrics").json()
    finally:
        srv.close()
    assert [r.status_code for r in got] == [200] * 64
    alone = {t: rr.decide([t])[0] for t in texts}
    assert [r.headers["x-rp-model"] for r in got] == [alone[t].model for t in texts]
    assert all(r.json()["choices"][0]["message"]["content"] == f"answer from served-{alone[t].model}"
               for r, t in zip(got, texts))
    # nothing lost, nothing twice: every text went to the candidate chosen for it
    seen = sorted((u.name, b["messages"][0]["content"]) for u in ups.values() for b in u.seen)
    assert seen == sorted((alone[t].model, t) for t in texts)
    # the decisions the batches made are the ones each text gets alone: ranking, scores, expected costs
    batched = {d.text: d for call in slow.calls[1:] for d in call}  # calls[0]: the warm-up at start
    assert set(batched) == set(texts)
    for t in texts:
        assert batched[t].ranking == alone[t].ranking
        assert batched[t].scores == pytest.approx(alone[t].scores, abs=1e-5)
        assert batched[t].cost == alone[t].cost
    sizes = [len(call) for call in slow.calls[1:]]
    assert sum(sizes) == 64 and max(sizes) > 1 and max(sizes) <= 16  # batched, never above --max-batch
    assert len(sizes) < 64
    b = m["routing_batches"]
    assert b["n"] == len(sizes) and b["size_max"] == max(sizes)
    assert sum(int(s) * c for s, c in b["sizes"].items()) == 64
    assert m["routing_decision"]["n"] == 64 and m["routing_decision"]["p50_ms"] >= 150  # its batch's time
    assert b["seconds"]["n"] == len(sizes)


def test_the_batcher_resolves_each_waiter_and_bounds_batches():
    from rpcli.services.serving.serve import Batcher

    class Echo:
        def __init__(self):
            self.sizes = []

        def decide(self, texts, lam=None, cache=True):
            assert cache is False
            self.sizes.append(len(texts))
            if "boom" in texts:
                raise ValueError("router broke")
            return [f"decided {t}" for t in texts]

    echo = Echo()
    seen = []
    b = Batcher(echo, max_batch=5, on_batch=lambda n, s: seen.append(n))

    async def run(texts):
        return await asyncio.gather(*[b.decide(t) for t in texts], return_exceptions=True)

    out = asyncio.run(run([f"t{i}" for i in range(12)]))  # queued in one turn of the loop: handed over together
    assert [d for d, _ in out] == [f"decided t{i}" for i in range(12)]
    assert echo.sizes == [5, 5, 2] and seen == [5, 5, 2]
    out = asyncio.run(run(["a", "boom", "c"]))  # every request of a failed batch gets the error
    assert all(isinstance(x, ValueError) for x in out)
    b.close()
    with pytest.raises(RuntimeError, match="stopped"):
        asyncio.run(b.decide("late"))
    b.start()  # a new lifespan starts it again
    assert asyncio.run(b.decide("again"))[0] == "decided again"
    b.close()
    with pytest.raises(Exception, match="at least 1"):
        Batcher(echo, max_batch=0)


def test_metrics_in_json_and_prometheus_text_with_no_key(rr, ups, monkeypatch):
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import create_app

    for u in ups.values():
        u.mode = "ok"
    monkeypatch.setenv("RP_TEST_BATCH_KEY", "sk-secret-123")
    eps = _endpoints(ups, m2={"api_key_env": "RP_TEST_BATCH_KEY"})
    app = create_app(rr, eps)
    other = create_app(rr, eps)  # a registry per app: a second app in the process neither fails nor shares counts
    with TestClient(app) as c, TestClient(other) as c2:
        for t in ("compute 17 times 3", "implement binary search in python"):
            assert c.post("/v1/chat/completions",
                          json={"model": "rp", "messages": [{"role": "user", "content": t}]}).status_code == 200
        assert c.post("/v1/chat/completions", json={"model": "m2", "messages": [
            {"role": "user", "content": "hi"}]}).status_code == 200
        assert c.post("/v1/chat/completions", content=b"{nope").status_code == 400
        assert ups["m2"].auth[-1] == "Bearer sk-secret-123"
        j = c.get("/metrics").json()  # JSON unless asked otherwise
        assert j["requests"] == 4 and j["bad_requests"] == 1 and j["routing_decision"]["n"] == 2
        assert c2.get("/metrics").json()["requests"] == 0
        scrape = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        om = c.get("/metrics", headers={"Accept": scrape})
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert om.text.rstrip().endswith("# EOF")
        for resp in (c.get("/metrics", headers={"Accept": "text/plain"}), c.get("/metrics?format=prometheus")):
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
            text = resp.text
            fams = {f.name: f for f in prom_parser.text_string_to_metric_families(text)}
            val = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in fams.values() for s in f.samples}
            assert val[("rp_requests_total", ())] == 4 and val[("rp_bad_requests_total", ())] == 1
            assert val[("rp_failed_requests_total", ())] == 0
            assert val[("rp_routing_decision_seconds_count", ())] == 2
            assert val[("rp_routing_overhead_seconds_count", ())] == 3
            assert val[("rp_routing_batch_size_count", ())] >= 1
            assert val[("rp_routing_batch_size_sum", ())] == 2
            assert val[("rp_upstream_requests_total", (("candidate", "m2"),))] >= 1
            assert sum(v for (n, _), v in val.items() if n == "rp_candidate_chosen_total") == 3
            assert sum(v for (n, _), v in val.items() if n == "rp_upstream_latency_seconds_count") == 3
            info = next(k for k in val if k[0] == "rp_server_info")
            assert dict(info[1])["run"] == rr.id and dict(info[1])["router"] == "mlp" and val[info] == 1
            assert "sk-secret" not in text and "RP_TEST_BATCH_KEY" not in text
        assert c.get("/metrics?format=json", headers={"Accept": "text/plain"}).json()["requests"] == 4
        assert "sk-secret" not in json.dumps(c.get("/metrics").json())


class RawUpstream:
    """A bare HTTP/1.1 upstream on 127.0.0.1 for the client's edge cases. `close_after`: close every connection
    after one answer without saying so (a keep-alive connection the peer dropped); `chunked`: send the JSON
    answer in chunks."""

    def __init__(self, close_after: bool = False, chunked: bool = False):
        self.close_after, self.chunked = close_after, chunked
        self.requests = 0
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                n = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                             if line.lower().startswith(b"content-length")))
                while len(buf) < n:
                    buf += conn.recv(65536)
                body, buf = json.loads(buf[:n]), buf[n:]
                self.requests += 1
                answer = json.dumps({"id": "raw", "object": "chat.completion", "model": body["model"],
                                     "choices": [{"index": 0, "message": {"role": "assistant",
                                                                          "content": f"raw {self.requests}"}}]})
                if self.chunked:
                    parts = [answer[:10], answer[10:25], answer[25:]]
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
                                 b"\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(p), p.encode()) for p in parts)
                                 + b"0\r\n\r\n")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(answer), answer.encode()))
                if self.close_after:
                    time.sleep(0.05)
                    return

    def close(self):
        self.sock.close()


def test_the_upstream_pool_replaces_dropped_connections_and_reads_chunked_answers(rr, ups):
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import Endpoint, create_app

    dropping, chunked = RawUpstream(close_after=True), RawUpstream(chunked=True)
    m1, m2, m3 = rr.models
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # nothing listens there once closed
    eps = {m1: Endpoint(m1, dropping.url, "served-drop", timeout=5.0),
           m2: Endpoint(m2, chunked.url, "served-chunk", timeout=5.0),
           m3: Endpoint(m3, refused, "served-none", timeout=5.0)}
    logs = []
    try:
        with TestClient(create_app(rr, eps, retries=1, log=logs.append)) as c:
            # each reuse finds the pooled connection closed by the peer (at once, or while the request is on its
            # way: a reset before any answer) and opens another
            for i in range(4):
                if i % 2:
                    time.sleep(0.1)
                r = c.post("/v1/chat/completions", json={"model": m1, "messages": [{"role": "user",
                                                                                    "content": "hi"}]})
                assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == f"raw {i + 1}"
            assert dropping.requests == 4 and dropping.connections >= 4
            for i in range(3):  # a chunked JSON answer is returned whole; its connection is kept
                r = c.post("/v1/chat/completions", json={"model": m2, "messages": [{"role": "user",
                                                                                    "content": "hi"}]})
                assert r.status_code == 200 and r.json()["model"] == "served-chunk"
                assert r.headers["x-rp-model"] == m2
            assert chunked.requests == 3 and chunked.connections == 1
            r = c.post("/v1/chat/completions", json={"model": m3, "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 502 and "cannot connect" in r.json()["error"]["message"]
            m = c.get("/metrics").json()
            assert m["models"][m3]["errors"] == 1 and m["failed"] == 1
    finally:
        dropping.close()
        chunked.close()
    assert any(m3 in line and "cannot connect" in line for line in logs)

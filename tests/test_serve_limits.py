"""rp serve's limits and client authentication (issue 23): the body size (413, checked on Content-Length before
reading and while a chunked body is read), the messages and the routed text (400), the requests in flight (429 with
Retry-After, in all and per client address), malformed bodies (400, no traceback), the client key (401 with
WWW-Authenticate on every route but /health), the refusal to bind beyond loopback without a key, keys that never
reach a client, a log line or /metrics, and one client flooding the server while another is still served.

The limits are made small so that each test runs in a few seconds; the upstreams are tests/test_serve.py's."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
prom_parser = pytest.importorskip("prometheus_client.parser")

from test_serve import Server  # noqa: E402  (the same upstream test servers: serve_run.running_upstreams)

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def rr(tmp_path_factory):
    """A recorded mlp run on the tiny data (hash:32 encoder), loaded to route."""
    from serve_run import recorded_mlp_run

    return recorded_mlp_run(tmp_path_factory.mktemp("serve-limits"))


@pytest.fixture(scope="module")
def upstreams(rr):
    from serve_run import running_upstreams

    with running_upstreams(rr.models) as u:
        yield u


@pytest.fixture
def ups(upstreams):
    for u in upstreams.values():
        u.mode, u.delay = "ok", 2.0
        u.seen.clear()
        u.sent.clear()
        u.auth.clear()
    return upstreams


def _eps(ups, timeout: float = 5.0, key_env: str | None = None) -> dict:
    from rpcli.services.serving.serve import Endpoint

    return {m: Endpoint(m, u.url, f"served-{m}", key_env, timeout) for m, u in ups.items()}


def _chat(model: str, content: str, **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


@contextmanager
def _server(rr, eps, **kw):
    from rpcli.services.serving.serve import create_app

    srv = Server(create_app(rr, eps, **kw))
    try:
        yield srv
    finally:
        srv.close()


def _prom(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in prom_parser.text_string_to_metric_families(text) for s in f.samples}


def _routed_elsewhere(rr, avoid: str) -> tuple[str, str]:
    """A text the run does not send to `avoid` first, and the candidate it does send it to."""
    for text in ("what is the capital of australia", "compute 17 times 3", "implement binary search in python",
                 "who wrote the novel war and peace", "translate good morning into french"):
        first = rr.decide([text])[0].ranking[0]
        if first != avoid:
            return text, first
    pytest.skip(f"every probe text is routed to {avoid}")


# ------------------------------------------------------------------------------------------------ body size
def test_the_body_limit_is_checked_before_and_while_reading(rr, ups):
    with _server(rr, _eps(ups), max_body_bytes=2000) as srv:
        url = srv.url + CHAT
        ok = json.dumps(_chat("m1", "x" * 1900)).encode()
        assert 1950 < len(ok) <= 2000
        r = httpx.post(url, content=ok, headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "answer from served-m1"
        big = json.dumps(_chat("m1", "x" * 2100)).encode()
        r = httpx.post(url, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["code"] == "too_large" and err["type"] == "invalid_request_error"
        assert f"({len(big)} bytes)" in err["message"] and "2000 bytes" in err["message"]
        assert "--max-body-bytes" in err["message"]

        def chunks():  # no Content-Length: counted while read
            yield big[:1000]
            yield big[1000:2000]
            yield big[2000:]

        r = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and "larger than the limit of 2000 bytes" in r.json()["error"]["message"]
        # a head announcing 10 MB is answered at once, before any of the body is sent
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 10000000\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):  # the server closes the connection after its answer
                data += chunk
        assert data.startswith(b"HTTP/1.1 413") and b'"too_large"' in data
        assert len(ups["m1"].seen) == 1  # only the request within the limit was forwarded
        m = httpx.get(srv.url + "/metrics").json()
        assert m["rejected"]["too_large"] == 3 and m["bad_requests"] == 0 and m["requests"] == 4
        assert m["limits"]["max_body_bytes"] == 2000
        val = _prom(httpx.get(srv.url + "/metrics?format=prometheus").text)
        assert val[("rp_rejected_requests_total", (("reason", "too_large"),))] == 3
        assert val[("rp_rejected_requests_total", (("reason", "overloaded"),))] == 0


def test_the_body_reader_holds_no_more_than_the_limit():
    from rpcli.services.serving.limits import BadRequest, Limits

    calls = []

    async def endless():  # a chunked body that never ends
        calls.append(1)
        return {"type": "http.request", "body": b"a" * 1000, "more_body": True}

    with pytest.raises(BadRequest) as ei:
        asyncio.run(Limits(max_body_bytes=2500).read_body(endless))
    assert ei.value.status == 413 and ei.value.reason == "too_large" and len(calls) == 3  # stopped at the crossing

    parts = iter([b"a" * 1000, b"a" * 1000, b"a" * 500])

    async def exact():
        chunk = next(parts)
        return {"type": "http.request", "body": chunk, "more_body": len(chunk) == 1000}

    assert asyncio.run(Limits(max_body_bytes=2500).read_body(exact)) == b"a" * 2500


# ------------------------------------------------------------------------------------- messages and text
class RecordingRouter:
    """The run's router, every text it is asked to decide recorded."""

    def __init__(self, rr):
        self.rr, self.texts = rr, []

    def __getattr__(self, name):
        return getattr(self.rr, name)

    def decide(self, texts, **kw):
        self.texts.extend(texts)
        return self.rr.decide(texts, **kw)


def test_too_many_messages_and_too_long_a_text_are_refused(rr, ups):
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import create_app

    rec = RecordingRouter(rr)
    with TestClient(create_app(rec, _eps(ups), max_messages=3, max_chars=60)) as c:
        four = [{"role": "user", "content": "hi"}] * 4
        for model in ("rp", "m1"):
            r = c.post(CHAT, json={"model": model, "messages": four})
            assert r.status_code == 400, r.text
            err = r.json()["error"]
            assert err["code"] == "too_many_messages" and err["param"] == "messages"
            assert "4 messages" in err["message"] and "limit of 3" in err["message"]
            assert "--max-messages" in err["message"]
        assert c.post(CHAT, json={"model": "rp", "messages": four[:3]}).status_code == 200
        r = c.post(CHAT, json=_chat("rp", "y" * 61))
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == "text_too_long" and "61 characters" in err["message"]
        assert "limit of 60" in err["message"] and "--max-chars" in err["message"]
        assert c.post(CHAT, json=_chat("rp", "y" * 60)).status_code == 200
        # a candidate named directly is not routed: its text is not encoded, so not bounded by --max-chars
        assert c.post(CHAT, json=_chat("m1", "y" * 500)).status_code == 200
        long_text_refusals = 1
        if rr.params.get("query_text", "formatted") != "raw":  # the system prompt is part of the routed text
            r = c.post(CHAT, json={"model": "rp", "messages": [{"role": "system", "content": "s" * 40},
                                                                {"role": "user", "content": "u" * 30}]})
            assert r.status_code == 400 and r.json()["error"]["code"] == "text_too_long"
            long_text_refusals += 1
        m = c.get("/metrics").json()
        assert m["rejected"]["too_many_messages"] == 2 and m["rejected"]["text_too_long"] == long_text_refusals
    assert rec.texts and max(len(t) for t in rec.texts) <= 60  # the router never saw a longer text


def test_malformed_bodies_get_400_and_no_traceback(rr, ups):
    """The TestClient re-raises any exception the app lets escape, so a 400 here is the app's own answer."""
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import create_app

    logs = []
    cases = [
        (b"\xff\xfe{garbage", "not UTF-8 text (byte 0xff at offset 0)"),
        ('{"model": "rp", "messages": [{"role": "user", "content": "caf\xe9"}]}'.encode("latin-1"),
         "not UTF-8 text (byte 0xe9"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"model": "rp", "n": ' + b"7" * 5000 + b", \"messages\": []}", "not valid JSON"),
        (b"", "not valid JSON"),
        (json.dumps({"model": "rp", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]})
         .encode(), "messages[0].content[0]"),
        (json.dumps({"model": "rp", "messages": [{"role": "user", "content": ["hi"]}]}).encode(),
         "messages[0].content[0]"),
    ]
    with TestClient(create_app(rr, _eps(ups), log=logs.append)) as c:
        for body, reason in cases:
            r = c.post(CHAT, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, (body[:40], r.status_code, r.text[:200])
            err = r.json()["error"]
            assert reason in err["message"], (body[:40], err)
            assert "garbage" not in err["message"] and "Traceback" not in r.text
        ok = c.post(CHAT, json=_chat("rp", "compute 17 times 3"))
        assert ok.status_code == 200
        assert c.get("/metrics").json()["bad_requests"] == len(cases)
    assert not any("Traceback" in line for line in logs)
    assert sum(len(u.seen) for u in ups.values()) == 1


# ----------------------------------------------------------------------------------------- in flight
def test_requests_beyond_the_in_flight_limit_get_429_with_retry_after(rr, ups):
    ups["m1"].mode, ups["m1"].delay = "slow", 1.5
    with _server(rr, _eps(ups), max_in_flight=3, max_in_flight_per_client=3, retry_after=7) as srv:
        url = srv.url + CHAT

        def post(i):
            t0 = time.perf_counter()
            r = httpx.post(url, json=_chat("m1", f"hi {i}"), timeout=10)
            return r, time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(post, range(6)))
        ok = [(r, dt) for r, dt in results if r.status_code == 200]
        busy = [(r, dt) for r, dt in results if r.status_code == 429]
        assert len(ok) == 3 and len(busy) == 3, [r.status_code for r, _ in results]
        assert all(dt >= 1.4 for _, dt in ok)
        for r, dt in busy:
            assert dt < 1.2  # answered at once, not after the slow upstream (1.5 s)
            assert r.headers["retry-after"] == "7"
            err = r.json()["error"]
            assert err["code"] == "overloaded" and err["type"] == "overloaded_error"
            assert "--max-in-flight 3" in err["message"] and "retry after 7 s" in err["message"]
        assert len(ups["m1"].seen) == 3
        m = httpx.get(srv.url + "/metrics").json()
        assert m["rejected"]["overloaded"] == 3 and m["in_flight"] == 0 and m["requests"] == 6
        val = _prom(httpx.get(srv.url + "/metrics", headers={"Accept": "text/plain"}).text)
        assert val[("rp_rejected_requests_total", (("reason", "overloaded"),))] == 3
        assert val[("rp_in_flight_requests", ())] == 0
        # slots are given back whatever the outcome: failures, timeouts and refusals leave none taken
        ups["m1"].mode = "fail"
        for _ in range(4):
            assert httpx.post(url, json=_chat("m1", "hi"), timeout=10).status_code == 502
        assert httpx.post(url, content=b"{nope", timeout=10).status_code == 400
        ups["m1"].mode = "ok"
        with ThreadPoolExecutor(max_workers=3) as pool:
            assert [r.status_code for r in pool.map(
                lambda i: httpx.post(url, json=_chat("m1", f"again {i}"), timeout=10), range(3))] == [200] * 3
        assert httpx.get(srv.url + "/metrics").json()["in_flight"] == 0
        # the openai client reads the 429 as a rate limit
        ups["m1"].mode, ups["m1"].delay = "slow", 1.0
        with ThreadPoolExecutor(max_workers=3) as pool:
            held = [pool.submit(httpx.post, url, json=_chat("m1", f"hold {i}"), timeout=10) for i in range(3)]
            _wait(lambda: httpx.get(srv.url + "/metrics").json()["in_flight"] == 3)
            client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=10)
            with pytest.raises(openai.RateLimitError) as ei:
                client.chat.completions.create(model="m2", messages=[{"role": "user", "content": "hi"}])
            assert ei.value.response.headers["retry-after"] == "7"
            assert [f.result().status_code for f in held] == [200] * 3


def _wait(cond, seconds: float = 5.0) -> None:
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < seconds, "timed out waiting"
        time.sleep(0.02)


def _second_address_client(url: str, **kw):
    """An openai client whose connections come from 127.0.0.2: another client address than the tests' 127.0.0.1."""
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not usable here")
    http = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10)
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, http_client=http, **kw)


def _flood(url: str, n: int, oversized: bool = False) -> list:
    """One client (127.0.0.1) sending `n` requests at once: to the slow candidate m1, or (`oversized`) bodies of
    100 KB, half with Content-Length, half chunked. The futures of their status codes."""
    big = json.dumps(_chat("m1", "z" * 100_000)).encode()

    def chunks():
        for k in range(0, len(big), 8192):
            yield big[k:k + 8192]

    def send(i):
        if oversized:
            return httpx.post(url, content=chunks() if i % 2 else big, timeout=20).status_code
        return httpx.post(url, json=_chat("m1", f"flood {i}"), timeout=20).status_code

    pool = ThreadPoolExecutor(max_workers=n)
    futures = [pool.submit(send, i) for i in range(n)]
    pool.shutdown(wait=False)
    return futures


def test_one_client_flooding_the_server_does_not_stop_another(rr, ups):
    """One address floods: 12 requests behind a slow upstream (2 s), of which it may have 4 in flight
    (--max-in-flight-per-client 4 of --max-in-flight 8), then 8 oversized bodies; a request from another address
    is routed and answered meanwhile, in well under the slow upstream's 2 s. Without the per-client limit the same
    flood leaves the other client a 429 (checked last), so the limit is what protects it."""
    ups["m1"].mode, ups["m1"].delay = "slow", 2.0
    text, first = _routed_elsewhere(rr, avoid="m1")
    with _server(rr, _eps(ups), max_in_flight=8, max_in_flight_per_client=4, max_body_bytes=4096) as srv:
        url = srv.url + CHAT

        def metrics():
            return httpx.get(srv.url + "/metrics").json()

        slow = _flood(url, 12)
        _wait(lambda: metrics()["rejected"]["overloaded"] == 8)
        assert metrics()["in_flight"] == 4
        big = _flood(url, 8, oversized=True)
        other = _second_address_client(srv.url)
        t0 = time.perf_counter()
        r = other.chat.completions.with_raw_response.create(model="rp", messages=[{"role": "user", "content": text}])
        answered_in = time.perf_counter() - t0
        assert r.headers["x-rp-model"] == first
        assert r.parse().choices[0].message.content == f"answer from served-{first}"
        c = other.chat.completions.create(model="m3", messages=[{"role": "user", "content": "hi"}])
        assert c.choices[0].message.content == "answer from served-m3"
        assert answered_in < 1.5, answered_in  # the flood's slow requests take 2 s
        big_codes = [f.result() for f in big]
        # Content-Length over the limit: 413 before reading; a chunked body needs a slot to be read, and this
        # address has none left: 429
        assert big_codes == [413, 429] * 4, big_codes
        assert metrics()["in_flight"] == 4  # the flood was still in flight while the other client was served
        assert sorted(f.result() for f in slow) == [200] * 4 + [429] * 8
        m = metrics()
        assert m["rejected"]["too_large"] == 4 and m["rejected"]["overloaded"] == 12 and m["in_flight"] == 0
        assert len(ups["m1"].seen) == 4
        # once the flood is over, a chunked oversized body gets its 413
        assert [f.result() for f in _flood(url, 2, oversized=True)] == [413, 413]

    # the same flood with no per-client limit takes every slot: the other client is turned away
    with _server(rr, _eps(ups), max_in_flight=8, max_in_flight_per_client=8) as srv:
        slow = _flood(srv.url + CHAT, 12)
        _wait(lambda: httpx.get(srv.url + "/metrics").json()["in_flight"] == 8)
        with pytest.raises(openai.RateLimitError):
            _second_address_client(srv.url).chat.completions.create(
                model="rp", messages=[{"role": "user", "content": text}])
        assert sorted(f.result() for f in slow) == [200] * 8 + [429] * 4


# ------------------------------------------------------------------------------------------ the client key
CLIENT_KEY = "ck-rp-client-LEAKCHECK-2d8e6b4f0a91"
UPSTREAM_KEY = "sk-rp-upstream-LEAKCHECK-7f3c9a1e5b22"


def test_the_client_key_guards_every_route_but_health(rr, ups, monkeypatch):
    import hmac

    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append(1) or real(a, b))
    with _server(rr, _eps(ups), client_key=CLIENT_KEY) as srv:
        wrong = [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {CLIENT_KEY}x"},
                 {"Authorization": f"Bearer {CLIENT_KEY[:-1]}"}, {"Authorization": f"Basic {CLIENT_KEY}"},
                 {"Authorization": CLIENT_KEY}]
        for headers in wrong:
            for method, path in (("POST", CHAT), ("GET", "/v1/models"), ("GET", "/metrics"), ("GET", "/nope"),
                                 ("GET", "/metrics?format=prometheus")):
                r = httpx.request(method, srv.url + path, headers=headers, json=_chat("m1", "hi"))
                assert r.status_code == 401, (headers, path, r.status_code)
                assert r.headers["www-authenticate"].startswith("Bearer")
                err = r.json()["error"]
                assert err["code"] == "invalid_api_key" and "--client-key-env" in err["message"]
                assert CLIENT_KEY not in r.text and CLIENT_KEY[:-1] not in r.text
        assert not any(u.seen for u in ups.values())  # nothing unauthorized was forwarded
        assert compared  # the comparison is hmac's constant-time one
        h = httpx.get(srv.url + "/health")
        assert h.status_code == 200 and h.json()["status"] == "ok"
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key=CLIENT_KEY, max_retries=0, timeout=10)
        assert [m.id for m in client.models.list().data] == ["rp", *rr.models]
        c = client.chat.completions.create(model="m1", messages=[{"role": "user", "content": "hi"}])
        assert c.choices[0].message.content == "answer from served-m1"
        assert ups["m1"].auth == [None]  # the client's key is not forwarded upstream
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-wrong", max_retries=0).models.list()
        auth = {"Authorization": f"bearer {CLIENT_KEY}"}  # the scheme is case-insensitive
        m = httpx.get(srv.url + "/metrics", headers=auth).json()
        assert m["rejected"]["unauthorized"] == len(wrong) * 5 + 1 and m["client_key_required"] is True
        assert m["requests"] == 1  # refused requests never reached the chat handler


def test_keys_never_reach_a_client_a_log_line_or_the_metrics(rr, ups, monkeypatch, caplog, capfd):
    """Distinctive upstream and client keys; successful, failing (upstream 500, refused, timed out), echoing and
    unauthorized requests; every answer (bodies and headers), every log line, /metrics in JSON and Prometheus
    text: neither key anywhere, and an upstream that repeats the key it got has it replaced by [redacted]."""
    from rpcli.services.serving.serve import Endpoint

    monkeypatch.setenv("RP_TEST_LEAK_UPSTREAM", UPSTREAM_KEY)
    caplog.set_level(logging.DEBUG)
    m1, m2, m3 = rr.models
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # nothing listens there once closed
    eps = {m1: Endpoint(m1, ups[m1].url, "served-m1", "RP_TEST_LEAK_UPSTREAM", 0.5),
           m2: Endpoint(m2, ups[m2].url, "served-m2", "RP_TEST_LEAK_UPSTREAM", 0.5),
           m3: Endpoint(m3, refused, "served-m3", "RP_TEST_LEAK_UPSTREAM", 0.5)}
    logs: list = []
    answers: list = []
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    with _server(rr, eps, retries=2, log=logs.append, client_key=CLIENT_KEY) as srv:
        def call(method, path, expect, **kw):
            r = httpx.request(method, srv.url + path, timeout=10, **kw)
            answers.append(r)
            assert r.status_code == expect, (path, kw.get("json"), r.status_code, r.text[:300])
            return r

        call("POST", CHAT, 200, headers=auth, json=_chat("rp", "compute 17 times 3"))
        call("POST", CHAT, 200, headers=auth, json=_chat(m1, "hi"))
        call("POST", CHAT, 200, headers=auth, json=_chat(m2, "write a poem", stream=True))
        ups[m1].mode = "fail"
        assert "HTTP 500" in call("POST", CHAT, 502, headers=auth, json=_chat(m1, "hi")).text
        ups[m1].mode, ups[m1].delay = "slow", 1.5
        assert "timed out" in call("POST", CHAT, 502, headers=auth, json=_chat(m1, "hi")).text
        assert "cannot connect" in call("POST", CHAT, 502, headers=auth, json=_chat(m3, "hi")).text
        ups[m2].mode = "fail"
        call("POST", CHAT, 502, headers=auth, json=_chat("rp", "who wrote war and peace"))  # each one fails
        ups[m2].mode = "echo"  # a 401 that repeats the Authorization header: forwarded, the key redacted
        r = call("POST", CHAT, 401, headers=auth, json=_chat(m2, "hi"))
        assert "Incorrect API key provided: Bearer [redacted]" in r.json()["error"]["message"]
        ups[m2].mode = "echo-ok"
        r = call("POST", CHAT, 200, headers=auth, json=_chat(m2, "hi"))
        assert r.json()["choices"][0]["message"]["content"] == "answer from served-m2 (you sent Bearer [redacted])"
        for headers in ({}, {"Authorization": f"Bearer {UPSTREAM_KEY}"}, {"Authorization": f"Bearer {CLIENT_KEY}0"},
                        {"Authorization": f"Basic {CLIENT_KEY}"}):
            for method, path in (("POST", CHAT), ("GET", "/metrics"), ("GET", "/v1/models")):
                call(method, path, 401, headers=headers, json=_chat(m1, "hi"))
        call("POST", CHAT, 400, headers=auth, content=b"{not json")
        call("GET", "/v1/models", 200, headers=auth)
        call("GET", "/health", 200)
        call("GET", "/nope", 404, headers=auth)
        metrics = call("GET", "/metrics", 200, headers=auth).json()
        call("GET", "/metrics?format=prometheus", 200, headers=auth)
        call("GET", "/metrics", 200, headers={**auth, "Accept": "application/openmetrics-text; version=1.0.0"})
    # the test is live: the upstreams got the key, and only it
    sent = [a for u in ups.values() for a in u.auth]
    assert sent and set(sent) == {f"Bearer {UPSTREAM_KEY}"}
    assert metrics["rejected"]["unauthorized"] == 12 and metrics["failed"] == 4
    assert any("timed out" in line for line in logs) and any("cannot connect" in line for line in logs)
    captured = capfd.readouterr()
    seen = "\n".join([*(f"{r.status_code} {r.headers.multi_items()} {r.text}" for r in answers), *logs,
                      caplog.text, captured.out, captured.err])
    for key in (UPSTREAM_KEY, CLIENT_KEY):
        assert key not in seen
        assert key not in re.sub(r"\s", "", seen)


# ---------------------------------------------------------------------------------- binding and the CLI
def test_loopback_addresses_and_the_refusal_to_bind_beyond_them():
    from rpcli.services.serving.limits import OpenServerError, check_bind, is_loopback
    from rpcli.services.serving.serve import serve

    for host in ("127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com", "localhost.example.com", ""):
        assert not is_loopback(host), host
    assert check_bind("127.0.0.1", False, False) is None
    assert check_bind("0.0.0.0", True, False) is None
    with pytest.raises(OpenServerError, match="--client-key-env") as ei:
        check_bind("0.0.0.0", False, False)
    assert ei.value.exit_code == 2 and "--open" in ei.value.message and "\n" not in ei.value.message
    assert "open" in check_bind("0.0.0.0", False, True)
    # serve() refuses the same before uvicorn binds anything
    with pytest.raises(OpenServerError):
        serve(object(), host="0.0.0.0", port=1)


def test_the_cli_refuses_an_open_server_and_never_prints_the_key(rr, ups, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import rpcli.services.serving.serve as serve_mod
    from rpcli.cli.main import app

    eps_file = tmp_path / "endpoints.yaml"
    eps_file.write_text("models:\n" + "".join(f"  {m}: {{base_url: {u.url}, model: served-{m}}}\n"
                                              for m, u in ups.items()))
    started = []
    monkeypatch.setattr(serve_mod, "serve", lambda app, **kw: started.append((app, kw)))
    ws = str(rr.sess.workspace.root)
    base = ["-w", ws, "serve", "--run", rr.id, "--endpoints", str(eps_file)]
    runner = CliRunner()
    # refused before the run is even looked up
    r = runner.invoke(app, ["-w", ws, "serve", "--run", "run-nope", "--endpoints", str(eps_file), "--host",
                            "0.0.0.0"])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    flat = re.sub(r"[\s│╭╮╰╯─]+", " ", r.output)
    assert "Open server refused" in flat and "--client-key-env" in flat and "--open" in flat
    assert not started
    r = runner.invoke(app, [*base, "--host", "0.0.0.0", "--client-key-env", "RP_TEST_UNSET_KEY"])
    assert r.exit_code == 2 and "RP_TEST_UNSET_KEY" in r.output and "Traceback" not in r.output and not started
    for bad in (["--max-in-flight", "0"], ["--max-body-bytes", "-1"], ["--max-chars", "x"]):
        r = runner.invoke(app, [*base, *bad])
        assert r.exit_code == 2 and "Traceback" not in r.output and not started, (bad, r.output)
    # --open: a warning, and the server starts
    r = runner.invoke(app, [*base, "--host", "0.0.0.0", "--open"])
    assert r.exit_code == 0, r.output
    assert "warning: rp serve is open on 0.0.0.0" in re.sub(r"\s+", " ", r.output)
    assert started[-1][1]["host"] == "0.0.0.0" and started[-1][1]["open_server"] is True
    # a client key: no warning, the app guarded, the limits passed through, the key never printed
    monkeypatch.setenv("RP_TEST_CLIENT_KEY", CLIENT_KEY)
    r = runner.invoke(app, [*base, "--host", "0.0.0.0", "--client-key-env", "RP_TEST_CLIENT_KEY",
                            "--max-in-flight", "10", "--max-body-bytes", "5000", "--max-messages", "7",
                            "--max-chars", "900", "--retry-after", "3"])
    assert r.exit_code == 0, r.output
    assert CLIENT_KEY not in r.output and CLIENT_KEY not in re.sub(r"\s", "", r.output)
    assert "RP_TEST_CLIENT_KEY" in r.output and "is open" not in r.output
    guarded = started[-1][0]
    assert type(guarded).__name__ == "ClientKeyGuard"
    assert guarded.state.limits.as_dict() == {"max_body_bytes": 5000, "max_messages": 7, "max_chars": 900,
                                              "max_in_flight": 10, "max_in_flight_per_client": 5, "retry_after": 3}


def test_the_cli_help_and_defaults_match_the_limits():
    import inspect

    from typer.testing import CliRunner

    from rpcli.cli import serve as cli_serve
    from rpcli.cli.main import app
    from rpcli.services.serving import limits

    params = inspect.signature(cli_serve.serve).parameters
    assert params["max_body_bytes"].default == limits.MAX_BODY_BYTES
    assert params["max_messages"].default == limits.MAX_MESSAGES
    assert params["max_chars"].default == limits.MAX_CHARS
    assert params["max_in_flight"].default == limits.MAX_IN_FLIGHT
    assert params["retry_after"].default == limits.RETRY_AFTER
    r = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert r.exit_code == 0
    for option in ("--max-body-bytes", "--max-messages", "--max-chars", "--max-in-flight",
                   "--max-in-flight-per-client", "--retry-after", "--client-key-env", "--open",
                   "Limits and authentication", "--client-key-env RP_CLIENT_KEY"):
        assert option in r.output, option


def test_limits_refuse_nonsense_and_default_the_per_client_share():
    from rpcli.errors import ConfigError
    from rpcli.services.serving.limits import Limits

    assert Limits().as_dict() == {"max_body_bytes": 1 << 20, "max_messages": 256, "max_chars": 100_000,
                                  "max_in_flight": 256, "max_in_flight_per_client": 128, "retry_after": 1}
    assert Limits(max_in_flight=5).max_in_flight_per_client == 3
    assert Limits(max_in_flight=1).max_in_flight_per_client == 1
    for kw, option in (({"max_in_flight": 0}, "--max-in-flight"), ({"max_body_bytes": -1}, "--max-body-bytes"),
                       ({"max_chars": 1.5}, "--max-chars"), ({"max_messages": True}, "--max-messages"),
                       ({"max_in_flight_per_client": 0}, "--max-in-flight-per-client")):
        with pytest.raises(ConfigError, match=option):
            Limits(**kw)

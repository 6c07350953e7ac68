"""rp serve's failures (issue 23): upstreams that hang (no head; a head and half a body; a stream that stalls), that
close the connection mid-answer (a stream without its end; a body shorter than its Content-Length), a client that
goes away mid-stream, bodies that are not text or hold a lone surrogate, and a client that sends its body too slowly
(--body-timeout: 408).

In every case: what the client gets (a fallback, a 502, a stream ended by an error event, a 400, a 408), no
traceback logged (uvicorn's and asyncio's loggers are watched), the failure counted in /metrics, no request left in
flight, the next request served, and the failed upstream connection closed, never pooled (the test upstream notes
when it sees its connection closed, and the client port of each request). The upstreams are tests/test_serve.py's;
the broken upstream's endpoint timeout is TIMEOUT (1 s) so that each test takes a few seconds, the others' a
generous 5 s (an answer must never time out on a busy machine)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager

import pytest

httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
prom_parser = pytest.importorskip("prometheus_client.parser")

from test_serve import Server  # noqa: E402  (the same upstream test servers: serve_run.running_upstreams)

CHAT = "/v1/chat/completions"
TIMEOUT = 1.0  # the broken upstream's endpoint timeout (seconds)
SLACK = 3.0  # what a busy 2-core machine may add to any wait


@pytest.fixture(scope="module")
def rr(tmp_path_factory):
    """A recorded mlp run on the tiny data (hash:32 encoder), loaded to route."""
    from serve_run import recorded_mlp_run

    return recorded_mlp_run(tmp_path_factory.mktemp("serve-failures"))


@pytest.fixture(scope="module")
def upstreams(rr):
    from serve_run import running_upstreams

    with running_upstreams(rr.models) as u:
        yield u


@pytest.fixture
def ups(upstreams):
    for u in upstreams.values():
        u.mode, u.delay, u.hold, u.chunks = "ok", 2.0, 10.0, 50
        for seen in (u.seen, u.sent, u.auth, u.peers, u.closed):
            seen.clear()
    return upstreams


def _eps(ups, broken: str | None = None) -> dict:
    """The endpoints: TIMEOUT for the `broken` candidate, 5 s for the others."""
    from rpcli.services.serving.serve import Endpoint

    return {m: Endpoint(m, u.url, f"served-{m}", None, TIMEOUT if m == broken else 5.0) for m, u in ups.items()}


def _chat(model: str, content: str, **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def _server(rr, eps, **kw):
    """rp serve on uvicorn; yields (server, notes): `notes` are the app's log lines. On exit: no traceback, no error
    logged by uvicorn, asyncio or the app's notes (uvicorn configures its loggers when the server is made, so the
    watcher is added after that)."""
    from rpcli.services.serving.serve import create_app

    notes: list = []
    srv = Server(create_app(rr, eps, log=notes.append, **kw))
    watch = _Records()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn", "asyncio", "starlette")]
    for lg in loggers:
        lg.addHandler(watch)
    try:
        yield srv, notes
    finally:
        srv.close()
        for lg in loggers:
            lg.removeHandler(watch)
    bad = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in watch.records
           if r.levelno >= logging.WARNING or r.exc_info]
    assert not bad, bad
    assert not any("Traceback" in line for line in notes), notes


def _metrics(srv) -> dict:
    return httpx.get(srv.url + "/metrics", timeout=10).json()


def _prom(srv) -> dict:
    text = httpx.get(srv.url + "/metrics?format=prometheus", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in prom_parser.text_string_to_metric_families(text) for s in f.samples}


def _wait(cond, seconds: float = 5.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < seconds, "timed out waiting"
        time.sleep(0.02)


def _first_two(rr) -> tuple[str, str, str]:
    text = "who wrote the novel war and peace"
    first, second = rr.decide([text])[0].ranking[:2]
    return text, first, second


def _events(lines) -> list:
    """The data fields of an SSE stream's lines."""
    return [line[len("data: "):] for line in lines if line.startswith("data: ")]


def _assert_served_after(srv, ups, name: str, failed_peers: set) -> None:
    """The next request to `name` is answered, on a connection other than the ones that failed."""
    ups[name].mode = "ok"
    r = httpx.post(srv.url + CHAT, json=_chat(name, "and now?"), timeout=10)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == f"answer from served-{name}"
    assert ups[name].peers[-1] not in failed_peers  # a new connection: the failed ones were not pooled


# ------------------------------------------------------------------------------- upstreams that fail, not streamed
@pytest.mark.parametrize("mode, why", [("hang", f"timed out after {TIMEOUT:g} s"),
                                       ("stall-body", f"timed out after {TIMEOUT:g} s reading the answer"),
                                       ("cut-body", "answer cut short")])
def test_an_upstream_that_hangs_or_cuts_its_answer_short_falls_back_then_502(rr, ups, mode, why):
    """hang: no head; stall-body: a 200 head and half its body, then nothing; cut-body: a Content-Length twice the
    body sent, then the connection closed. A routed request is answered by the next-best candidate; a candidate
    named directly (no fallback) gets 502 `upstream_failed` saying why, within the endpoint timeout."""
    text, first, second = _first_two(rr)
    ups[first].mode = mode
    holds = mode != "cut-body"  # the upstream keeps its connection open: rp must close it
    with _server(rr, _eps(ups, first), retries=1) as (srv, notes):
        url = srv.url + CHAT
        t0 = time.monotonic()
        r = httpx.post(url, json=_chat("rp", text), timeout=10)
        took = time.monotonic() - t0
        assert r.status_code == 200, r.text
        assert r.headers["x-rp-model"] == second
        assert r.json()["choices"][0]["message"]["content"] == f"answer from served-{second}"
        assert took < TIMEOUT + SLACK
        if holds:
            assert took >= TIMEOUT * 0.9  # the endpoint timeout fired

        t0 = time.monotonic()
        r = httpx.post(url, json=_chat(first, "hi"), timeout=10)
        took = time.monotonic() - t0
        assert r.status_code == 502, r.text
        err = r.json()["error"]
        assert err["code"] == "upstream_failed" and err["type"] == "upstream_error"
        assert f"{first}: {why}" in err["message"], err
        assert took < TIMEOUT + SLACK
        if holds:  # rp closed both connections it gave up on, as soon as it gave up
            _wait(lambda: len(ups[first].closed) == 2)
            assert all(t - t0 < TIMEOUT + SLACK for t in ups[first].closed[1:])
        assert len(ups[first].peers) == 2
        _assert_served_after(srv, ups, first, set(ups[first].peers))

        m = _metrics(srv)
        assert m["models"][first]["errors"] == 2 and m["models"][second]["errors"] == 0
        assert m["failed"] == 1 and m["requests"] == 3 and m["in_flight"] == 0
        val = _prom(srv)
        assert val[("rp_upstream_errors_total", (("candidate", first),))] == 2
        assert val[("rp_in_flight_requests", ())] == 0
        assert sum(why in line and first in line for line in notes) == 2, notes


# ----------------------------------------------------------------------------------- streams that stall or break
@pytest.mark.parametrize("mode, why", [("stall-stream", f"timed out after {TIMEOUT:g} s reading the answer"),
                                       ("cut-stream", "answer cut short")])
def test_a_stream_that_stalls_or_breaks_ends_with_an_error_event(rr, ups, mode, why):
    """Two SSE chunks, then the upstream stalls (stall-stream) or closes the connection without the terminating
    chunk and `data: [DONE]` (cut-stream). The client's stream gets both chunks, then an error event
    `data: {"error": {..., "code": "upstream_failed"}}` and ends cleanly (no [DONE]; the HTTP body complete);
    the openai client raises APIError. Counted as the candidate's error; the stalled connection closed by rp."""
    ups["m1"].mode = mode
    holds = mode == "stall-stream"
    with _server(rr, _eps(ups, "m1")) as (srv, notes):
        t0 = time.monotonic()
        with httpx.stream("POST", srv.url + CHAT, json=_chat("m1", "tell me a story", stream=True),
                          timeout=10) as r:
            assert r.status_code == 200 and r.headers["x-rp-model"] == "m1"
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = list(r.iter_lines())  # raises if the body is cut (httpx.RemoteProtocolError)
        took = time.monotonic() - t0
        events = _events(lines)
        assert len(events) == 3 and "[DONE]" not in events, lines
        assert [json.loads(e)["choices"][0]["delta"]["content"] for e in events[:2]] == ["w0 ", "w1 "]
        err = json.loads(events[2])["error"]
        assert err["code"] == "upstream_failed" and err["type"] == "upstream_error"
        assert "m1" in err["message"] and why in err["message"], err
        assert took < TIMEOUT + SLACK
        if holds:
            assert took >= TIMEOUT * 0.9

        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=10)
        got = []
        with pytest.raises(openai.APIError, match="failed mid-stream") as ei:
            for chunk in client.chat.completions.create(model="m1", stream=True,
                                                        messages=[{"role": "user", "content": "again"}]):
                got.append(chunk.choices[0].delta.content)
        assert got == ["w0 ", "w1 "] and why in str(ei.value)
        if holds:
            _wait(lambda: len(ups["m1"].closed) == 2)
        failed = set(ups["m1"].peers)
        assert len(failed) == 2

        # the next stream is relayed whole, on a new connection
        ups["m1"].mode = "ok"
        pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
            model="m1", stream=True, messages=[{"role": "user", "content": "once more"}]) if c.choices]
        assert "".join(pieces) == "answer from served-m1"
        assert ups["m1"].peers[-1] not in failed
        _assert_served_after(srv, ups, "m1", failed)

        m = _metrics(srv)
        assert m["models"]["m1"]["errors"] == 2 and m["models"]["m1"]["latency"]["n"] == 2  # the two whole ones
        assert m["in_flight"] == 0 and m["failed"] == 0
        assert _prom(srv)[("rp_upstream_errors_total", (("candidate", "m1"),))] == 2
        assert sum("mid-stream" in line and why in line for line in notes) == 2, notes


def test_an_event_cut_in_half_is_ended_before_the_error_event():
    """An upstream that stops mid-event: the client gets a blank line first, so that the error is an event of its
    own (and a stream that ended on an event boundary gets no blank line)."""
    from rpcli.services.serving.serve import _relay
    from rpcli.services.serving.upstream import UpstreamError

    class Cut:
        content_type = "text/event-stream"
        closed = 0

        def __init__(self, parts):
            self.parts = parts

        async def iter(self):
            for p in self.parts:
                yield p
            raise UpstreamError("answer cut short (IncompleteReadError)")

        def close(self):
            Cut.closed += 1

    class Counts:
        def __init__(self):
            self.errors = 0

        def model(self, name, what):
            self.errors += what == "errors"

    async def relay(parts):
        stats, notes = Counts(), []
        out = [c async for c in _relay(Cut(parts), stats, "m1", time.perf_counter(), notes.append)]
        return out, stats.errors, notes

    out, errors, notes = asyncio.run(relay([b"data: {\"a\": 1}\n\n", b"data: {\"b\""]))
    assert out[-1].startswith(b"\n\ndata: {\"error\": ") and out[-1].endswith(b"\n\n")
    assert errors == 1 and len(notes) == 1 and Cut.closed == 1
    out, _, _ = asyncio.run(relay([b"data: {\"a\": 1}\r\n\r\n"]))
    assert out[-1].startswith(b"data: {\"error\": ")


# ------------------------------------------------------------------------------------- a client that goes away
def test_a_client_that_goes_away_mid_stream_frees_its_slot_and_the_upstream(rr, ups):
    """The upstream streams a chunk every 0.2 s (100 of them); the client reads the first one and closes its socket.
    rp stops reading the upstream and closes that connection at once (the upstream sees the close within a second or
    two), the slot is given back (a per-client limit of 1 lets the same client in again), nothing is logged as an
    error, and the upstream is not blamed. A client gone before its answer began holds its slot until the upstream
    has answered."""
    ups["m1"].mode, ups["m1"].delay, ups["m1"].chunks = "drip", 0.2, 100
    with _server(rr, _eps(ups), max_in_flight=4, max_in_flight_per_client=1) as (srv, notes):
        url = srv.url + CHAT
        body = json.dumps(_chat("m1", "tell me a very long story", stream=True)).encode()
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            data = b""
            while b"data: " not in data:
                chunk = s.recv(65536)
                assert chunk, data
                data += chunk
            assert data.startswith(b"HTTP/1.1 200")
            # the stream holds the client's one slot
            busy = httpx.post(url, json=_chat("m2", "me again"), timeout=10)
            assert busy.status_code == 429 and busy.json()["error"]["code"] == "overloaded"
            assert _metrics(srv)["in_flight"] == 1
            closed_at = time.monotonic()
        _wait(lambda: ups["m1"].closed)
        assert ups["m1"].closed[0] - closed_at < 2.0  # rp closed the upstream connection at once
        _wait(lambda: _metrics(srv)["in_flight"] == 0)
        r = httpx.post(url, json=_chat("m2", "me again"), timeout=10)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "answer from served-m2"
        _assert_served_after(srv, ups, "m1", set(ups["m1"].peers))
        m = _metrics(srv)
        assert m["models"]["m1"]["errors"] == 0 and m["rejected"]["overloaded"] == 1 and m["in_flight"] == 0
        assert _prom(srv)[("rp_in_flight_requests", ())] == 0

        # a client gone before its answer began: the request runs on until the upstream answers (0.5 s), the answer
        # is dropped, and the slot comes back
        ups["m2"].mode, ups["m2"].delay = "slow", 0.5
        body = json.dumps(_chat("m2", "never mind")).encode()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            _wait(lambda: len(ups["m2"].seen) == 2)
        _wait(lambda: _metrics(srv)["in_flight"] == 0)
        m = _metrics(srv)
        assert m["models"]["m2"]["errors"] == 0 and m["models"]["m2"]["latency"]["n"] == 2
        ups["m2"].mode = "ok"
        assert httpx.post(url, json=_chat("m2", "back"), timeout=10).status_code == 200
        assert not notes, notes


# ------------------------------------------------------------------------------------------ bodies that are not text
def test_lone_surrogates_and_text_that_is_not_json_get_400(rr, ups):
    """(Bodies that are not UTF-8, nested too deeply or not JSON: tests/test_serve_limits.py.) A lone surrogate
    escape is valid JSON but no character: refused with 400 naming where it is, routed or not, never forwarded; a
    proper pair (an emoji escaped as two surrogates) is accepted. UTF-8 text that is not JSON gets 400 without being
    echoed. The TestClient re-raises any exception the app lets escape, so each 400 is the app's own answer."""
    from starlette.testclient import TestClient

    from rpcli.services.serving.serve import create_app

    def chat(model, content):
        return ('{"model": "%s", "messages": [{"role": "user", "content": %s}]}' % (model, content)).encode()

    cases = [
        (chat("rp", r'"\ud800"'), "messages[0].content"),
        (chat("m1", r'"caf\u00e9 \udfff!"'), "messages[0].content"),
        (chat("m1", r'[{"type": "text", "text": "x\uDC00"}]'), "messages[0].content[0].text"),
        (chat("rp", r'"\ude00\ud83d"'), "messages[0].content"),  # a pair in the wrong order
        (b'{"model": "m1", "messages": [{"role": "user", "content": "hi"}], "user": "\\ud800"}', "user"),
        (b'{"model": "m1", "messages": [{"role": "user", "content": "hi"}], "meta": {"\\ud800": 1}}',
         "meta.\\ud800"),
    ]
    not_json = ["h\u00e9llo w\u00f6rld \u2603".encode(), "{'model': 'rp', 'messages': []}".encode(),
                b'{"model": "rp", "messages": [{"role": "user", "content": "\xc3\xa9"}],}']
    logs: list = []
    with TestClient(create_app(rr, _eps(ups), log=logs.append)) as c:
        for body, where in cases:
            r = c.post(CHAT, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, (body, r.status_code, r.text[:300])
            err = r.json()["error"]
            assert err["type"] == "invalid_request_error" and err["param"] == where, (body, err)
            assert "lone UTF-16 surrogate" in err["message"] and where in err["message"]
        for body in not_json:
            r = c.post(CHAT, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, (body, r.status_code)
            err = r.json()["error"]
            assert err["message"].startswith("the request body is not valid JSON"), err
            assert "w\u00f6rld" not in err["message"] and "'model'" not in err["message"]
        assert not any(u.seen for u in ups.values())  # none was forwarded
        ok = c.post(CHAT, content=chat("m1", r'"smile \ud83d\ude00"'), headers={"content-type": "application/json"})
        assert ok.status_code == 200, ok.text
        assert ups["m1"].seen[-1]["messages"][0]["content"] == "smile \U0001F600"
        ok = c.post(CHAT, content=chat("rp", r'"\ud83d\ude00 compute 17 times 3"'))
        assert ok.status_code == 200, ok.text
        m = c.get("/metrics").json()
        assert m["bad_requests"] == len(cases) + len(not_json) and m["in_flight"] == 0
    assert not logs


# ------------------------------------------------------------------------------------------------ slow bodies
def test_a_body_sent_too_slowly_gets_408_and_its_slot_back(rr, ups):
    """A slowloris client: Content-Length announced, then a byte every 0.1 s (the whole body would take 8 s). With
    --body-timeout 0.5 it gets 408 `body_timeout` about 0.5 s after its head, the connection is closed, the refusal
    is counted, and its one slot (per-client limit 1) is free again; a body sent at once is not affected."""
    with _server(rr, _eps(ups), body_timeout=0.5, max_in_flight=2, max_in_flight_per_client=1) as (srv, notes):
        body = json.dumps(_chat("m1", "hi " * 20)).encode()
        host, port = srv.url.removeprefix("http://").split(":")
        stop = threading.Event()
        with socket.create_connection((host, int(port)), timeout=5) as s:
            t0 = time.monotonic()  # before the head is sent: the server's clock starts once it has the head
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:1])

            def trickle():
                for b in body[1:]:
                    if stop.wait(0.1):
                        return
                    try:
                        s.send(bytes([b]))
                    except OSError:  # the server has answered and closed
                        return

            t = threading.Thread(target=trickle, daemon=True)
            t.start()
            data = b""
            try:
                while chunk := s.recv(65536):  # until the server closes the connection
                    data += chunk
            except ConnectionResetError:  # the trickle wrote after the close
                pass
            took = time.monotonic() - t0
            stop.set()
            t.join(timeout=5)
        head, _, payload = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), data[:300]
        assert b"connection: close" in head.lower()
        err = json.loads(payload)["error"]
        assert err["code"] == "body_timeout" and err["type"] == "invalid_request_error"
        assert "within 0.5 s" in err["message"] and "--body-timeout" in err["message"]
        assert 0.45 <= took < 0.5 + SLACK, took
        m = _metrics(srv)
        assert m["rejected"]["body_timeout"] == 1 and m["in_flight"] == 0 and m["requests"] == 1
        assert m["limits"]["body_timeout"] == 0.5
        assert _prom(srv)[("rp_rejected_requests_total", (("reason", "body_timeout"),))] == 1
        r = httpx.post(srv.url + CHAT, content=body, headers={"content-type": "application/json"}, timeout=10)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "answer from served-m1"
        assert len(ups["m1"].seen) == 1  # the slow body was never forwarded


@pytest.mark.parametrize("py310", [False, True])
def test_the_body_timeout_bounds_the_whole_body_not_each_read(monkeypatch, py310):
    """A chunk every 0.05 s never waits long, yet the body is refused once 0.3 s have passed in all; Python 3.10's
    path (no asyncio.timeout) too. A body that comes in time is read whole."""
    from rpcli.services.serving.limits import BadRequest, Limits

    if py310:
        monkeypatch.delattr(asyncio, "timeout", raising=False)

    sent = []

    async def trickle():  # 100 chunks (5 s) if nothing stops it
        await asyncio.sleep(0.05)
        sent.append(1)
        return {"type": "http.request", "body": b"a", "more_body": len(sent) < 100}

    t0 = time.monotonic()
    with pytest.raises(BadRequest) as ei:
        asyncio.run(Limits(body_timeout=0.3).read_body(trickle))
    assert 0.25 <= time.monotonic() - t0 < 0.3 + SLACK
    exc = ei.value
    assert (exc.status, exc.code, exc.reason) == (408, "body_timeout", "body_timeout")
    assert exc.headers == {"connection": "close"} and "bytes came" in exc.message

    parts = iter([b"ab", b"cd", b""])

    async def quick():
        chunk = next(parts)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    assert asyncio.run(Limits(body_timeout=0.3).read_body(quick)) == b"abcd"


def test_the_body_timeout_option(rr, ups, tmp_path, monkeypatch):
    import inspect

    from typer.testing import CliRunner

    import rpcli.services.serving.serve as serve_mod
    from rpcli.cli import serve as cli_serve
    from rpcli.cli.main import app
    from rpcli.errors import ConfigError
    from rpcli.services.serving import limits

    assert inspect.signature(cli_serve.serve).parameters["body_timeout"].default == limits.BODY_TIMEOUT
    assert limits.Limits().body_timeout == limits.BODY_TIMEOUT
    for bad in (0, -1, float("nan"), float("inf"), True, "5"):
        with pytest.raises(ConfigError, match="--body-timeout"):
            limits.Limits(body_timeout=bad)
    eps_file = tmp_path / "endpoints.yaml"
    eps_file.write_text("models:\n" + "".join(f"  {m}: {{base_url: {u.url}, model: served-{m}}}\n"
                                              for m, u in ups.items()))
    started = []
    monkeypatch.setattr(serve_mod, "serve", lambda app, **kw: started.append(app))
    base = ["-w", str(rr.sess.workspace.root), "serve", "--run", rr.id, "--endpoints", str(eps_file)]
    runner = CliRunner()
    for bad in ("0", "-2", "nan", "inf", "x"):
        r = runner.invoke(app, [*base, "--body-timeout", bad])
        assert r.exit_code == 2 and "Traceback" not in r.output and not started, (bad, r.output)
    r = runner.invoke(app, [*base, "--body-timeout", "2.5"])
    assert r.exit_code == 0, r.output
    assert started[-1].state.limits.body_timeout == 2.5
    r = runner.invoke(app, [*base])
    assert r.exit_code == 0 and started[-1].state.limits.body_timeout == limits.BODY_TIMEOUT
    r = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert r.exit_code == 0 and "--body-timeout" in r.output

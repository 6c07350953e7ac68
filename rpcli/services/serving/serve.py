"""rp serve: an OpenAI-compatible HTTP server in front of real LLMs, routing each request with a recorded run.

An ASGI app (Starlette; uvicorn serves it) with

| route                      | what                                                                                   |
|----------------------------|----------------------------------------------------------------------------------------|
| POST /v1/chat/completions  | `model: "rp"`: route the request with the run, forward it to the chosen candidate's     |
|                            | endpoint, return or stream the upstream answer unchanged with the chosen candidate in   |
|                            | the header `x-rp-model`. `model: CANDIDATE`: forward to that candidate without routing  |
| GET /v1/models             | "rp" and every candidate with an endpoint                                              |
| GET /health                | status, run, router, candidates                                                        |
| GET /metrics               | JSON, or the Prometheus text format when the Accept header asks for text/plain or       |
|                            | OpenMetrics (a Prometheus scrape) or with `?format=prometheus`: requests; per candidate |
|                            | chosen, requests, errors, upstream latency; routing decision, overhead and batch sizes  |

Routing (`Batcher`): the handlers queue each request's text (rpcli.services.serving.inference.RunRouter
.text_for_messages); one worker thread takes every text waiting (at most `max_batch`), routes them with one
`RunRouter.decide` call (one encoder call, one scoring) and hands each request its own decision, so requests that
arrive together cost one batch and nobody waits on a lock; each text is routed as it would be alone.

Forwarding (`Upstream`): per endpoint, a pool of keep-alive HTTP/1.1 connections (asyncio streams; TLS for https)
and the request body passed through as JSON with `model` replaced by the name the endpoint serves; the answer's
bytes are returned (or streamed) unchanged. Fallback: an upstream that answers 408/409/429/5xx, times out or cannot
be reached is replaced by the next candidate of the ranking (at most `retries` times; candidates without an
endpoint are skipped); then a 502 JSON error. Any other non-2xx answer (the request's fault) is returned as it is.
A malformed request gets 400 with the reason; an unknown model 404. The endpoints file:

    models:
      CANDIDATE: {base_url: http://HOST:PORT/v1, model: SERVED_NAME, api_key_env: ENV_VAR, timeout: 60}

(api_key_env and timeout optional; keys are read from the environment once, when the app is made, sent as
`Authorization: Bearer KEY` and never logged nor put in a metric). Redirects are not followed and proxy environment
variables are not used: endpoints are reached directly.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rpcli.errors import ConfigError, DataFileError

RETRY_STATUS = (408, 409, 429)
MAX_BATCH = 64  # texts routed by one RunRouter.decide call at most (rp serve --max-batch)
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
                    120.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class Endpoint:
    name: str  # the candidate
    base_url: str
    model: str  # the name the endpoint serves
    api_key_env: str | None = None
    timeout: float = 60.0

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


def read_endpoints(path, candidates: list) -> dict:
    """{candidate: Endpoint} from an endpoints YAML (or JSON) file, checked against the run's candidates."""
    import yaml

    from rpcli.core import bounded_yaml

    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        doc = bounded_yaml.safe_load(bounded_yaml.read_text(path))
    except bounded_yaml.YamlLimitError as exc:
        raise DataFileError(path, f"refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict) or not models:
        raise DataFileError(path, "expected a mapping `models: {CANDIDATE: {base_url, model}}`", field="models")
    out = {}
    for name, rec in models.items():
        name = str(name)
        if name not in candidates:
            raise DataFileError(path, f"{name!r} is not a candidate of the run (candidates: {', '.join(candidates)})",
                                record=f"models.{name}")
        if not isinstance(rec, dict):
            raise DataFileError(path, "expected a mapping with base_url and model", record=f"models.{name}")
        for k in ("base_url", "model"):
            if not isinstance(rec.get(k), str) or not rec[k].strip():
                raise DataFileError(path, "expected a non-empty string", record=f"models.{name}", field=k)
        if not rec["base_url"].startswith(("http://", "https://")):
            raise DataFileError(path, f"must start with http:// or https:// (got {rec['base_url']!r})",
                                record=f"models.{name}", field="base_url")
        env = rec.get("api_key_env")
        if env is not None and (not isinstance(env, str) or not env):
            raise DataFileError(path, "expected the name of an environment variable", record=f"models.{name}",
                                field="api_key_env")
        timeout = rec.get("timeout", 60.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise DataFileError(path, f"expected a positive number of seconds, found {timeout!r}",
                                record=f"models.{name}", field="timeout")
        unknown = sorted(set(rec) - {"base_url", "model", "api_key_env", "timeout"})
        if unknown:
            raise DataFileError(path, f"unknown field(s) {unknown}", record=f"models.{name}")
        out[name] = Endpoint(name, rec["base_url"].rstrip("/"), rec["model"], env, float(timeout))
    return out


def percentiles(values) -> dict:
    """{n, p50_ms, p99_ms, mean_ms, max_ms} of durations in seconds (nearest-rank percentiles)."""
    v = sorted(values)
    n = len(v)
    if not n:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}

    def pct(p):
        import math

        return round(1000 * v[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))], 3)

    return {"n": n, "p50_ms": pct(50), "p99_ms": pct(99), "mean_ms": round(1000 * sum(v) / n, 3),
            "max_ms": round(1000 * v[-1], 3)}


class Stats:
    """The counters of a running server, kept twice: for the JSON view (counts, and the last `keep` durations of each
    kind for exact percentiles) and for the Prometheus view (prometheus_client counters and histograms in a
    registry of this server's own: no global state, so many apps can live in one process).

    Every routed request records `routing_decision` (the seconds of the batch that decided it: encoding, scoring
    and ranking every text of that batch) and `routing_overhead` (request received -> upstream request sent:
    parsing, waiting for the router worker, the batch); every batch records its size and seconds."""

    def __init__(self, models: list, keep: int = 100_000, info: dict | None = None):
        try:
            import prometheus_client as pc
        except ImportError:
            raise ConfigError("rp serve needs prometheus_client for /metrics",
                              hint="pip install 'rpcli[serve]' (scripts/setup.sh installs it)") from None
        self.models, self.keep = list(models), keep
        self.requests = self.bad_requests = self.failed = 0
        self.routing: deque = deque(maxlen=keep)
        self.overhead: deque = deque(maxlen=keep)
        self.batch_seconds: deque = deque(maxlen=keep)
        self.batch_sizes: dict = {}  # size -> batches
        self.per_model: dict[str, dict[str, Any]] = {
            m: {"chosen": 0, "requests": 0, "errors": 0, "latency": deque(maxlen=keep)} for m in self.models}
        self.lock = threading.Lock()
        self.registry = r = pc.CollectorRegistry(auto_describe=True)
        cand = ["candidate"]
        self._requests = pc.Counter("rp_requests", "Chat completion requests received", registry=r)
        self._bad = pc.Counter("rp_bad_requests", "Requests refused as malformed (400) or naming an unknown model "
                               "(404)", registry=r)
        self._failed = pc.Counter("rp_failed_requests", "Requests answered 502 after every candidate tried failed",
                                  registry=r)
        self._decision = pc.Histogram("rp_routing_decision_seconds", "Per routed request: the seconds of the batch "
                                      "that decided it (encoding, scoring, ranking all its texts)",
                                      buckets=_LATENCY_BUCKETS, registry=r)
        self._overhead = pc.Histogram("rp_routing_overhead_seconds", "Per request: received -> upstream request "
                                      "sent (parsing, waiting for the router, its batch)", buckets=_LATENCY_BUCKETS,
                                      registry=r)
        self._batch_size = pc.Histogram("rp_routing_batch_size", "Texts routed together by one decision",
                                        buckets=_BATCH_BUCKETS, registry=r)
        self._batch_seconds = pc.Histogram("rp_routing_batch_seconds", "Seconds of one batch's routing decision",
                                           buckets=_LATENCY_BUCKETS, registry=r)
        chosen = pc.Counter("rp_candidate_chosen", "Requests first sent to the candidate", cand, registry=r)
        sent = pc.Counter("rp_upstream_requests", "Requests sent to the candidate's endpoint (fallbacks included)",
                          cand, registry=r)
        errors = pc.Counter("rp_upstream_errors", "Failed upstream requests (timeouts, refused connections, error "
                            "answers)", cand, registry=r)
        latency = pc.Histogram("rp_upstream_latency_seconds", "Upstream request sent -> answer read (streams: "
                               "relayed to the end)", cand, buckets=_LATENCY_BUCKETS, registry=r)
        # the label lookups once, not per request
        self._per: dict[str, dict[str, Any]] = {
            m: {"chosen": chosen.labels(m), "requests": sent.labels(m), "errors": errors.labels(m),
                "latency": latency.labels(m)} for m in self.models}
        if info:
            pc.Info("rp_server", "The run this server routes with", registry=r).info(
                {k: "" if v is None else str(v) for k, v in info.items()})

    def request(self) -> None:
        with self.lock:
            self.requests += 1
        self._requests.inc()

    def bad_request(self) -> None:
        with self.lock:
            self.bad_requests += 1
        self._bad.inc()

    def failed_request(self) -> None:
        with self.lock:
            self.failed += 1
        self._failed.inc()

    def add(self, key: str, seconds: float) -> None:
        """One duration: `routing` (a routed request's batch seconds) or `overhead`."""
        getattr(self, key).append(seconds)
        (self._decision if key == "routing" else self._overhead).observe(seconds)

    def batch(self, size: int, seconds: float) -> None:
        with self.lock:
            self.batch_sizes[size] = self.batch_sizes.get(size, 0) + 1
            self.batch_seconds.append(seconds)
        self._batch_size.observe(size)
        self._batch_seconds.observe(seconds)

    def model(self, name: str, what: str, seconds: float | None = None) -> None:
        """Count `what` (chosen, requests, errors) for a candidate; `seconds`: also an upstream latency."""
        with self.lock:
            self.per_model[name][what] += 1
        self._per[name][what].inc()
        if seconds is not None:
            self.done(name, seconds)

    def done(self, name: str, seconds: float) -> None:
        """An upstream answer read (or relayed) in full after `seconds`."""
        self.per_model[name]["latency"].append(seconds)
        self._per[name]["latency"].observe(seconds)

    def snapshot(self) -> dict:
        with self.lock:
            sizes = dict(sorted(self.batch_sizes.items()))
            n = sum(sizes.values())
            cum, p50 = 0, None
            for s, c in sizes.items():
                cum += c
                if p50 is None and 2 * cum >= n:
                    p50 = s
            return {"requests": self.requests, "bad_requests": self.bad_requests, "failed": self.failed,
                    "routing_decision": percentiles(list(self.routing)),
                    "routing_overhead": percentiles(list(self.overhead)),
                    "routing_batches": {"n": n, "size_mean": round(sum(s * c for s, c in sizes.items()) / n, 2)
                                        if n else None, "size_p50": p50, "size_max": max(sizes) if sizes else None,
                                        "sizes": {str(s): c for s, c in sizes.items()},
                                        "seconds": percentiles(list(self.batch_seconds))},
                    "models": {m: {"chosen": r["chosen"], "requests": r["requests"], "errors": r["errors"],
                                   "latency": percentiles(list(r["latency"]))} for m, r in self.per_model.items()}}

    def prometheus(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) in the exposition format the Accept header asks for (OpenMetrics or text 0.0.4)."""
        from prometheus_client.exposition import choose_encoder

        encode, ctype = choose_encoder(accept)
        return encode(self.registry), ctype


class Batcher:
    """Routing decisions for the event loop, made in batches by one worker thread.

    `await decide(text)` queues the text; the worker takes every text waiting when it is free (at most
    `max_batch`), routes them with one `rr.decide(texts, lam=lam, cache=False)` and resolves each request's future on
    its own event loop (one wake-up per loop and batch). Requests that arrive while a batch is being decided form
    the next batch, so under load the batch grows with the load and the router runs without pause; one thread uses
    the encoder (its tokenizer is not thread-safe), and no handler waits on a lock. `on_batch(size, seconds)` is
    called (in the worker) after each batch."""

    def __init__(self, rr, lam: float | None = None, max_batch: int = MAX_BATCH, on_batch=None):
        if max_batch < 1:
            raise ConfigError(f"the batch size must be at least 1 (got {max_batch})")
        self.rr, self.lam, self.max_batch, self.on_batch = rr, lam, max_batch, on_batch
        self._queue: deque = deque()
        self._pending: dict = {}  # per event loop: the texts queued during its current turn
        self._cv = threading.Condition(threading.Lock())
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cv:
            self._closed = False
            self._start()

    def _start(self) -> None:  # with self._cv held
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="rp-serve-router", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker once the texts already queued are decided."""
        with self._cv:
            self._closed = True
            th, self._thread = self._thread, None
            self._cv.notify()
        if th is not None:
            th.join(timeout)

    async def decide(self, text: str):
        """(the text's Decision, the seconds of the batch that decided it)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        # the texts queued during one turn of the event loop reach the worker together (one wake-up, not one each)
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._hand_over, loop)
        pending.append((text, fut))
        return await fut

    def _hand_over(self, loop) -> None:
        items = self._pending.pop(loop)
        with self._cv:
            if not self._closed:
                self._start()
            if self._thread is not None:
                self._queue.extend(items)
                self._cv.notify()
                return
        _resolve([(fut, None) for _, fut in items], RuntimeError("the router has stopped"), 0.0)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            t0 = time.perf_counter()
            try:
                out, exc = self.rr.decide([t for t, _ in batch], lam=self.lam, cache=False), None
                if len(out) != len(batch):
                    raise RuntimeError(f"the router decided {len(out)} of {len(batch)} texts")
            except Exception as e:  # every request of the batch gets the error; the worker goes on
                out, exc = [None] * len(batch), e
            dt = time.perf_counter() - t0
            per_loop: dict = {}
            for (_, fut), d in zip(batch, out):
                per_loop.setdefault(fut.get_loop(), []).append((fut, d))
            for loop, items in per_loop.items():
                try:
                    loop.call_soon_threadsafe(_resolve, items, exc, dt)
                except RuntimeError:  # that loop has closed: nobody waits for these
                    pass
            if self.on_batch is not None:
                try:
                    self.on_batch(len(batch), dt)
                except Exception:  # bookkeeping must not stop the router
                    pass


def _resolve(items: list, exc, seconds: float) -> None:
    for fut, d in items:
        if not fut.done():  # a request cancelled meanwhile (its client went away) wants nothing
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result((d, seconds))


class UpstreamError(Exception):
    """An upstream that could not answer (the message says why; never a key)."""


class _Stale(Exception):
    """A reused keep-alive connection closed by the peer before it answered."""


async def _within(aw, seconds: float):
    if hasattr(asyncio, "timeout"):  # Python >= 3.11: no extra task
        async with asyncio.timeout(seconds):
            return await aw
    return await asyncio.wait_for(aw, seconds)


class Upstream:
    """One endpoint's HTTP/1.1 client: a pool of keep-alive connections (asyncio streams; TLS for https) on which
    POST {base_url}/chat/completions is written as raw bytes (the head, with the key's header, built once). The
    endpoint's `timeout` bounds connecting, the wait for the answer's head and each read of its body."""

    MAX_IDLE = 512

    def __init__(self, ep: Endpoint, ssl_context=None):
        from urllib.parse import urlsplit

        u = urlsplit(ep.base_url)
        self.name, self.timeout = ep.name, ep.timeout
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if u.scheme == "https" else 80)
        if u.scheme == "https" and ssl_context is None:
            import ssl

            ssl_context = ssl.create_default_context()
        self.ssl = ssl_context if u.scheme == "https" else None
        path = (u.path.rstrip("/") + "/chat/completions") + (f"?{u.query}" if u.query else "")
        key = ep.api_key
        self._head = (f"POST {path} HTTP/1.1\r\nHost: {u.netloc.rsplit('@', 1)[-1]}\r\nUser-Agent: rp-serve\r\n"
                      "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
                      + (f"Authorization: Bearer {key}\r\n" if key else "")).encode("latin-1")
        self._idle: list = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, payload: bytes) -> "UpstreamResponse":
        """Send one request; the answer's status and headers read (its body not yet). Raises UpstreamError."""
        data = self._head + b"Content-Length: %d\r\n\r\n" % len(payload) + payload
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self.close()
            self._loop = loop
        while self._idle:
            reader, writer = self._idle.pop()
            if reader.at_eof() or writer.is_closing():
                writer.close()
                continue
            try:
                return await self._exchange(reader, writer, data, fresh=False)
            except _Stale:
                continue
        try:
            reader, writer = await _within(asyncio.open_connection(self.host, self.port, ssl=self.ssl), self.timeout)
        except asyncio.TimeoutError:
            raise UpstreamError(f"timed out after {self.timeout:g} s") from None
        except OSError as exc:
            raise UpstreamError(f"cannot connect ({type(exc).__name__})") from None
        try:
            return await self._exchange(reader, writer, data, fresh=True)
        except _Stale:
            raise UpstreamError("closed the connection without answering") from None

    async def _exchange(self, reader, writer, data: bytes, fresh: bool) -> "UpstreamResponse":
        try:
            writer.write(data)
            while True:
                head = await _within(reader.readuntil(b"\r\n\r\n"), self.timeout)
                status = int(head[9:12])
                if status >= 200 or status == 101:
                    break  # skip 1xx interim answers
        except asyncio.TimeoutError:
            writer.close()
            raise UpstreamError(f"timed out after {self.timeout:g} s") from None
        except asyncio.IncompleteReadError as exc:
            writer.close()
            if not exc.partial and not fresh:
                raise _Stale() from None
            raise UpstreamError("closed the connection without answering") from None
        except (ConnectionError, OSError) as exc:
            writer.close()
            if not fresh:
                raise _Stale() from None
            raise UpstreamError(f"connection failed ({type(exc).__name__})") from None
        except (ValueError, asyncio.LimitOverrunError):
            writer.close()
            raise UpstreamError("sent a malformed answer") from None
        except BaseException:  # cancelled: the connection is mid-request
            writer.close()
            raise
        return UpstreamResponse(self, reader, writer, head, status)

    def _release(self, reader, writer) -> None:
        if len(self._idle) < self.MAX_IDLE and not writer.is_closing():
            self._idle.append((reader, writer))
        else:
            writer.close()

    def close(self) -> None:
        """Close the idle connections."""
        for _, w in self._idle:
            try:
                w.close()
            except RuntimeError:  # opened on an event loop that has closed since
                pass
        self._idle.clear()


class UpstreamResponse:
    """An upstream answer whose head is read: `status`, `content_type`; the body by `read()` or `iter()` (the
    connection goes back to the pool once the body is read in full, else it is closed)."""

    def __init__(self, up: Upstream, reader, writer, head: bytes, status: int):
        self.up, self.reader, self.writer, self.status = up, reader, writer, status
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            k, sep, v = line.partition(":")
            if sep:
                headers[k.strip().lower()] = v.strip()
        self.content_type = headers.get("content-type", "application/json")
        self._length: int | None  # -1: chunked; None: to the end of the connection
        if status in (204, 304):
            self._length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._length = -1
        elif "content-length" in headers:
            try:
                self._length = int(headers["content-length"])
            except ValueError:
                self._length = None
        else:
            self._length = None  # to the end of the connection
        self._keep = (head.startswith(b"HTTP/1.1") and "close" not in headers.get("connection", "").lower()
                      and self._length is not None)

    async def read(self) -> bytes:
        """The whole body. Raises UpstreamError."""
        if self._length is not None and self._length >= 0:
            try:
                body = await _within(self.reader.readexactly(self._length), self.up.timeout)
            except asyncio.TimeoutError:
                self.close()
                raise UpstreamError(f"timed out after {self.up.timeout:g} s reading the answer") from None
            except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
                self.close()
                raise UpstreamError(f"answer cut short ({type(exc).__name__})") from None
            except BaseException:
                self.close()
                raise
            self._finish(True)
            return body
        return b"".join([chunk async for chunk in self.iter()])

    async def iter(self):
        """The body as it arrives (chunked bodies de-chunked). Raises UpstreamError."""
        r, t, done = self.reader, self.up.timeout, False
        try:
            if self._length == -1:
                while True:
                    size = int((await _within(r.readuntil(b"\r\n"), t)).split(b";")[0], 16)
                    if not size:
                        while await _within(r.readuntil(b"\r\n"), t) != b"\r\n":  # trailers
                            pass
                        break
                    yield (await _within(r.readexactly(size + 2), t))[:-2]
            elif self._length is not None:
                left = self._length
                while left:
                    chunk = await _within(r.read(min(left, 1 << 16)), t)
                    if not chunk:
                        raise asyncio.IncompleteReadError(b"", left)
                    left -= len(chunk)
                    yield chunk
            else:
                while chunk := await _within(r.read(1 << 16), t):
                    yield chunk
            done = True
        except asyncio.TimeoutError:
            raise UpstreamError(f"timed out after {t:g} s reading the answer") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError) as exc:
            raise UpstreamError(f"answer cut short ({type(exc).__name__})") from None
        finally:
            self._finish(done)

    def _finish(self, complete: bool) -> None:
        if complete and self._keep:
            self.up._release(self.reader, self.writer)
        else:
            self.writer.close()

    def close(self) -> None:
        """Drop the answer (and its connection)."""
        self.writer.close()


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, status: int = 400, code: str | None = None):
        super().__init__(message)
        self.message, self.param, self.status, self.code = message, param, status, code


def check_request(body, known: list) -> None:
    """Raise BadRequest when a chat-completions request is malformed (the reason names the field)."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("`model` is required: \"rp\" (route) or a candidate name", param="model")
    if model != "rp" and model not in known:
        raise BadRequest(f"model {model!r} does not exist here; use \"rp\" or one of: {', '.join(known)}",
                         param="model", status=404, code="model_not_found")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("`messages` must be a non-empty list of messages", param="messages")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadRequest(f"messages[{i}] must be an object with a string `role`", param=f"messages[{i}]")
        c = m.get("content")
        if c is not None and not isinstance(c, (str, list)):
            raise BadRequest(f"messages[{i}].content must be a string or a list of content parts",
                             param=f"messages[{i}].content")
    if not any(m.get("role") == "user" for m in msgs):
        raise BadRequest("`messages` has no user message to route", param="messages")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("`stream` must be true or false", param="stream")


def _error(message: str, status: int, kind: str = "invalid_request_error", param=None, code=None, headers=None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}},
                        status_code=status, headers=headers)


def create_app(rr, endpoints: dict, *, lam: float | None = None, retries: int = 2, log=None,
               max_batch: int = MAX_BATCH):
    """The ASGI app. `rr`: a RunRouter (rpcli.services.serving.inference.load_run); `endpoints`: {candidate: Endpoint};
    `lam`: cost-aware routing (None: the router's own choice); `retries`: further candidates tried after an
    upstream failure; `log(str)`: where to note upstream failures (never keys); `max_batch`: texts routed together
    at most."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    if not endpoints:
        raise ConfigError("no candidate has an endpoint")
    if lam is not None:
        rr.calibration()  # refuse at start, not per request, a run without one
    # one decision at start: loads the encoder's weights (not on the first request) and checks --lambda's prices
    warm = rr.decide(["warm up"], lam=lam)[0]
    if lam is not None and any(v is None for v in warm.cost.values()):
        raise ConfigError("--lambda needs every candidate's price")
    _pad_less(rr)
    known = [m for m in rr.models if m in endpoints]
    stats = Stats(known, info={"run": rr.id, "router": rr.router, "lambda": lam})
    batcher = Batcher(rr, lam, max_batch, on_batch=stats.batch)
    note = log or (lambda s: None)
    # once, not per request: the clients (keys read here), the answer headers, the order of the fallbacks
    ssl_context = None
    if any(ep.base_url.startswith("https://") for ep in endpoints.values()):
        import ssl

        ssl_context = ssl.create_default_context()
    ups = {name: Upstream(ep, ssl_context) for name, ep in endpoints.items()}
    served = {name: ep.model for name, ep in endpoints.items()}
    run_header = (b"x-rp-run", rr.id.encode())
    model_header = {name: (b"x-rp-model", name.encode()) for name in endpoints}
    tries = 1 + max(0, retries)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        batcher.close()
        for up in ups.values():
            up.close()

    async def send_body(send, status: int, body: bytes, ctype: str, headers: list) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode("latin-1")),
                                (b"content-length", b"%d" % len(body)), *headers]})
        await send({"type": "http.response.body", "body": body})

    async def chat(scope, receive, send):
        """POST /v1/chat/completions (a bare ASGI endpoint: the hot path skips Request/Response objects)."""
        t0 = time.perf_counter()
        stats.request()
        chunks = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        try:
            try:
                body = json.loads(b"".join(chunks))
            except ValueError as exc:
                raise BadRequest(f"the request body is not valid JSON: {exc}") from None
            check_request(body, known)
        except BadRequest as exc:
            stats.bad_request()
            return await _error(exc.message, exc.status, param=exc.param, code=exc.code)(scope, receive, send)
        if body["model"] == "rp":
            try:
                d, seconds = await batcher.decide(rr.text_for_messages(body["messages"]))
            except Exception as exc:  # the router itself failed: not the upstreams' fault
                note(f"routing failed: {type(exc).__name__}: {exc}")
                return await _error(f"routing failed: {type(exc).__name__}", 500, kind="server_error",
                                    code="routing_failed")(scope, receive, send)
            stats.add("routing", seconds)
            order = [m for m in d.ranking if m in endpoints]
        else:
            order = [body["model"]]
        stream = body.get("stream") is True
        errors = []
        for i, name in enumerate(order[:tries]):
            if i == 0:
                stats.add("overhead", time.perf_counter() - t0)
                stats.model(name, "chosen")
            stats.model(name, "requests")
            body["model"] = served[name]
            t1 = time.perf_counter()
            try:
                resp = await ups[name].send(json.dumps(body).encode())
                if 200 <= resp.status < 300:
                    headers = [model_header[name], run_header]
                    if stream:
                        return await StreamingResponse(_relay(resp, stats, name, t1), status_code=resp.status,
                                                       media_type=resp.content_type,
                                                       headers={"x-rp-model": name, "x-rp-run": rr.id})(
                            scope, receive, send)
                    content = await resp.read()
                    stats.done(name, time.perf_counter() - t1)
                    return await send_body(send, resp.status, content, resp.content_type, headers)
                if resp.status < 500 and resp.status not in RETRY_STATUS:
                    # the request's fault: the upstream answer as it is
                    content = await resp.read()
                    stats.model(name, "errors")
                    return await send_body(send, resp.status, content, resp.content_type, [model_header[name]])
                resp.close()
                errors.append(f"{name}: HTTP {resp.status}")
            except UpstreamError as exc:
                errors.append(f"{name}: {exc}")
            stats.model(name, "errors")
            note(f"upstream {errors[-1]}" + ("; trying the next candidate" if i + 1 < min(len(order), tries) else ""))
        stats.failed_request()
        return await _error("every upstream tried failed: " + "; ".join(errors), 502, kind="upstream_error",
                            code="upstream_failed")(scope, receive, send)

    async def models(request: Request):
        data = [{"id": "rp", "object": "model", "created": 0, "owned_by": "rp", "run": rr.id}]
        data += [{"id": m, "object": "model", "created": 0, "owned_by": "rp", "served_as": endpoints[m].model}
                 for m in known]
        return JSONResponse({"object": "list", "data": data})

    async def health(request: Request):
        return JSONResponse({"status": "ok", "run": rr.id, "router": rr.router, "lambda": lam, "candidates": known})

    async def metrics(request: Request):
        fmt = request.query_params.get("format", "")
        accept = request.headers.get("accept", "")
        if fmt in ("prometheus", "openmetrics") or (not fmt and ("text/plain" in accept or "openmetrics" in accept)):
            if fmt == "openmetrics" and "openmetrics" not in accept:
                accept = "application/openmetrics-text"
            content, ctype = stats.prometheus(accept)
            return Response(content, media_type=ctype)
        return JSONResponse({"run": rr.id, "max_batch": batcher.max_batch, **stats.snapshot()})

    async def not_found(request: Request, exc):
        return _error(f"no route {request.method} {request.url.path}", getattr(exc, "status_code", 404))

    app = Starlette(routes=[Route("/v1/chat/completions", _Bare(chat), methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"]),
                            Route("/health", health, methods=["GET"]),
                            Route("/metrics", metrics, methods=["GET"])],
                    exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.state.stats = stats
    app.state.batcher = batcher
    return app


def _pad_less(rr) -> None:
    """A transformer encoder pads each forward pass to the longest text in it and sorts a call's texts by length,
    so small forward passes pad little: as many texts as fit the encoder's one-thread budget (SMALL_BATCH_TOKENS
    padded tokens: 4 windows of 256; larger passes use torch's threads, which spin-wait for a core on a busy
    machine). rp serve with MiniLM at 64 in flight on 2 cores (bench/serve_throughput.py): passes of 4: 37 req/s
    with another job busy on one core, 33-40 idle; passes of 8: 22 busy (52 ms of CPU per request: the spinning;
    39 with OMP_NUM_THREADS=1), 45-64 idle (two threads); passes of 64, the encoder's default: 17 busy."""
    from rpcli.core import encoder as enc

    inner = getattr(getattr(rr.sess, "encoder", None), "inner", None)
    if isinstance(inner, (enc.HFEncoder, enc.OnnxEncoder)):
        fit = max(1, getattr(enc, "SMALL_BATCH_TOKENS", 1024) // max(1, getattr(inner, "max_length", 256)))
        inner.batch_size = min(inner.batch_size, fit)


class _Bare:
    """A bare ASGI endpoint for Starlette's Route (a plain function would be taken for a `f(request)` handler)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, scope, receive, send):
        return self.fn(scope, receive, send)


async def _relay(resp: UpstreamResponse, stats: Stats, name: str, t1: float):
    """A streamed answer's body, relayed as it arrives; the candidate's latency once it ended, an error if not."""
    ok = False
    try:
        async for chunk in resp.iter():
            yield chunk
        ok = True
    finally:
        if ok:
            stats.done(name, time.perf_counter() - t1)
        else:
            resp.close()
            stats.model(name, "errors")


def serve(app, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Run the app on uvicorn until interrupted (no access log; uvicorn's httptools parser and uvloop when
    installed, else h11 and asyncio)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


__all__ = ["Batcher", "Endpoint", "Stats", "Upstream", "UpstreamError", "check_request", "create_app",
           "percentiles", "read_endpoints", "serve"]

"""rp serve: an OpenAI-compatible HTTP server in front of real LLMs, routing each request with a recorded run.

An ASGI app (Starlette; uvicorn serves it) with

| route                      | what                                                                                   |
|----------------------------|----------------------------------------------------------------------------------------|
| POST /v1/chat/completions  | `model: "rp"`: route the request with the run, forward it to the chosen candidate's     |
|                            | endpoint, return or stream the upstream answer unchanged with the chosen candidate in   |
|                            | the header `x-rp-model`. `model: CANDIDATE`: forward to that candidate without routing  |
| GET /v1/models             | "rp" and every candidate with an endpoint                                              |
| GET /health                | status, run, router, candidates (never behind the client key)                          |
| GET /metrics               | JSON, or the Prometheus text format when the Accept header asks for text/plain or       |
|                            | OpenMetrics (a Prometheus scrape) or with `?format=prometheus`: requests; refusals by   |
|                            | reason; per candidate chosen, requests, errors, upstream latency; routing decision,     |
|                            | overhead and batch sizes                                                               |

The modules of the server:

| module   | what                                                                                                |
|----------|-----------------------------------------------------------------------------------------------------|
| serve    | the app (`create_app`): a chat request's way from its bytes to the upstream answer; `serve` runs it |
| limits   | what a request may cost (body bytes, messages, routed text, requests in flight); the client key     |
| batcher  | the routing decisions, made in batches by one worker thread                                         |
| upstream | the endpoints file and the HTTP/1.1 client that forwards to them                                    |
| stats    | the counters behind /metrics                                                                        |

A chat request, in order: the client key (ClientKeyGuard, 401), Content-Length against --max-body-bytes (413),
a slot among --max-in-flight (429 with Retry-After), the body read up to --max-body-bytes (413) within
--body-timeout (408), UTF-8 JSON without lone surrogates (400), its fields (`check_request`: 400, or 404 for an
unknown model; --max-messages: 400), the routed text against --max-chars (400); then routing (`Batcher`: one worker
thread routes every text waiting with one `RunRouter.decide` call, each text as it would be routed alone) and
forwarding (`Upstream`). Fallback: an upstream that answers 408/409/429/5xx, times out (connecting, before its
head, or reading a whole answer), closes the connection or cannot be reached is replaced by the next candidate of the
ranking (at most `retries` times; candidates without an endpoint are skipped); then a 502 JSON error. Any other
non-2xx answer (the request's fault) is returned as it is. A stream cannot fall back once it has begun: an upstream
that fails mid-stream is counted and the client's stream ends with an error event (`data: {"error": ...}`, no
`data: [DONE]`); a client that goes away mid-stream has the upstream connection closed. A connection that failed
in any way is closed, never pooled. A whole answer passed on (not a stream) has any key in it replaced by
[redacted] (some servers repeat the key they refused); keys, upstream and client, are never logged, put in a metric
or sent to a client.
"""

from __future__ import annotations

import json
import re
import time

from rpcli.errors import ConfigError
from rpcli.services.serving.batcher import MAX_BATCH, Batcher
from rpcli.services.serving.limits import (BODY_TIMEOUT, MAX_BODY_BYTES, MAX_CHARS, MAX_IN_FLIGHT, MAX_MESSAGES,
                                           RETRY_AFTER, BadRequest, ClientKeyGuard, InFlight, Limits, check_bind,
                                           redact)
from rpcli.services.serving.stats import Stats, percentiles
from rpcli.services.serving.upstream import (Endpoint, Upstream, UpstreamError, UpstreamResponse, read_endpoints)

RETRY_STATUS = (408, 409, 429)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800-\udfff in a JSON text: maybe a lone surrogate
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_request(body, known: list, limits: Limits | None = None) -> None:
    """Raise BadRequest when a chat-completions request is malformed (the reason names the field) or has more
    messages than `limits` allow."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("`model` is required: \"rp\" (route) or a candidate name", param="model")
    if model != "rp" and model not in known:
        raise BadRequest(f"model {model[:200]!r} does not exist here; use \"rp\" or one of: {', '.join(known)}",
                         param="model", status=404, code="model_not_found")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("`messages` must be a non-empty list of messages", param="messages")
    if limits is not None:
        limits.check_messages(msgs)
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadRequest(f"messages[{i}] must be an object with a string `role`", param=f"messages[{i}]")
        c = m.get("content")
        if c is not None and not isinstance(c, (str, list)):
            raise BadRequest(f"messages[{i}].content must be a string or a list of content parts",
                             param=f"messages[{i}].content")
        if isinstance(c, list):
            for j, part in enumerate(c):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str) or (
                        part["type"] == "text" and not isinstance(part.get("text"), str)):
                    raise BadRequest(f"messages[{i}].content[{j}] must be an object with a string `type` (and a "
                                     "string `text` when the type is \"text\")", param=f"messages[{i}].content[{j}]")
    if not any(m.get("role") == "user" for m in msgs):
        raise BadRequest("`messages` has no user message to route", param="messages")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("`stream` must be true or false", param="stream")


def parse_body(raw: bytes):
    """The JSON value of a request body; BadRequest (400) when it is not UTF-8, not JSON, or holds a lone surrogate
    escape such as "\\ud800" (valid JSON, but no character: it cannot be encoded, routed or sent on as UTF-8). No
    part of the body is echoed but the offending byte or the place of the surrogate."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
                         ) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadRequest("the request body is not valid JSON: it is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text):  # rare (clients escaping emoji as pairs): only then is the value walked
        where = _lone_surrogate(value)
        if where is not None:
            raise BadRequest(f"the request body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without its "
                             f"pair) in {where or 'its value'}: not a character", param=where or None)
    return value


def _lone_surrogate(value) -> str | None:
    """The place ("messages[0].content") of the first string (or key) holding a lone surrogate; None if none. Walked
    without recursion: json.loads accepts nesting deeper than a recursive walk could follow."""
    todo = [(value, "")]
    while todo:
        v, where = todo.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return where
        elif isinstance(v, dict):
            for k, x in reversed(v.items()):
                name = k.encode("utf-8", "backslashreplace").decode("utf-8")[:100]
                place = f"{where}.{name}" if where else name
                if _SURROGATE.search(k):
                    return place
                todo.append((x, place))
        elif isinstance(v, list):
            todo.extend((x, f"{where}[{i}]") for i, x in reversed(list(enumerate(v))))
    return None


def _error(message: str, status: int, kind: str = "invalid_request_error", param=None, code=None, headers=None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}},
                        status_code=status, headers=headers)


def create_app(rr, endpoints: dict, *, lam: float | None = None, retries: int = 2, log=None,
               max_batch: int = MAX_BATCH, max_body_bytes: int = MAX_BODY_BYTES, max_messages: int = MAX_MESSAGES,
               max_chars: int = MAX_CHARS, max_in_flight: int = MAX_IN_FLIGHT,
               max_in_flight_per_client: int | None = None, retry_after: int = RETRY_AFTER,
               body_timeout: float = BODY_TIMEOUT, client_key: str | None = None):
    """The ASGI app.

    Args:
        rr: a RunRouter (rpcli.services.serving.inference.load_run).
        endpoints: {candidate: Endpoint} (read_endpoints).
        lam: cost-aware routing (None: the router's own choice).
        retries: further candidates tried after an upstream failure (default: 2).
        log: `log(str)` notes upstream and routing failures (never a key; refusals are counted, not logged).
        max_batch: texts routed together at most (default: 64).
        max_body_bytes, max_messages, max_chars, max_in_flight, max_in_flight_per_client, retry_after, body_timeout:
            the limits (rpcli.services.serving.limits; defaults 1 MiB, 256, 100,000, 256, half of max_in_flight, 1 s,
            30 s).
        client_key: the key every request but GET /health must send as `Authorization: Bearer KEY` (None: none).
    """
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    if not endpoints:
        raise ConfigError("no candidate has an endpoint")
    limits = Limits(max_body_bytes=max_body_bytes, max_messages=max_messages, max_chars=max_chars,
                    max_in_flight=max_in_flight, max_in_flight_per_client=max_in_flight_per_client,
                    retry_after=retry_after, body_timeout=body_timeout)
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
    gate = InFlight(limits)
    note = log or (lambda s: None)
    # once, not per request: the clients (keys read here), the answer headers, the order of the fallbacks
    ssl_context = None
    if any(ep.base_url.startswith("https://") for ep in endpoints.values()):
        import ssl

        ssl_context = ssl.create_default_context()
    ups = {name: Upstream(ep, ssl_context) for name, ep in endpoints.items()}
    # what an answer passed to a client must never hold (an upstream may echo the key it was sent)
    secrets = [k.encode() for k in {*(ep.api_key for ep in endpoints.values()), client_key} if k]
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

    def refuse(exc: BadRequest):
        if exc.reason is None:
            stats.bad_request()
        else:
            stats.reject(exc.reason)
        return _error(exc.message, exc.status, kind=exc.kind, param=exc.param, code=exc.code, headers=exc.headers)

    async def chat(scope, receive, send):
        """POST /v1/chat/completions (a bare ASGI endpoint: the hot path skips Request/Response objects)."""
        t0 = time.perf_counter()
        stats.request()
        client = scope.get("client")
        address = client[0] if client else ""
        try:
            limits.check_length(scope["headers"])  # before reading: a client with a huge body is told at once
            gate.enter(address)
        except BadRequest as exc:
            return await refuse(exc)(scope, receive, send)
        stats.enter()
        try:
            return await handle(scope, receive, send, t0)
        finally:
            gate.leave(address)
            stats.leave()

    async def handle(scope, receive, send, t0: float):
        try:
            raw = await limits.read_body(receive)
            if raw is None:  # the client went away
                return
            body = parse_body(raw)
            check_request(body, known, limits)
            text = None
            if body["model"] == "rp":
                text = rr.text_for_messages(body["messages"])
                limits.check_text(text)  # the router encodes all of it
        except BadRequest as exc:
            return await refuse(exc)(scope, receive, send)
        if text is not None:
            try:
                d, seconds = await batcher.decide(text)
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
                        relay = _relay(resp, stats, name, t1, note)
                        try:
                            return await StreamingResponse(relay, status_code=resp.status,
                                                           media_type=resp.content_type,
                                                           headers={"x-rp-model": name, "x-rp-run": rr.id})(
                                scope, receive, send)
                        finally:  # the client went away mid-stream: the upstream connection is closed, not pooled
                            await relay.aclose()
                    content = redact(await resp.read(), secrets)
                    stats.done(name, time.perf_counter() - t1)
                    return await send_body(send, resp.status, content, resp.content_type, headers)
                if resp.status < 500 and resp.status not in RETRY_STATUS:
                    # the request's fault: the upstream answer as it is (some servers echo the key they refused)
                    content = redact(await resp.read(), secrets)
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
        return JSONResponse({"run": rr.id, "max_batch": batcher.max_batch,
                             "limits": {**limits.as_dict(), "body_timeout": limits.body_timeout},
                             "client_key_required": client_key is not None, **stats.snapshot()})

    async def not_found(request: Request, exc):
        return _error(f"no route {request.method} {request.url.path}", getattr(exc, "status_code", 404))

    app = Starlette(routes=[Route("/v1/chat/completions", _Bare(chat), methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"]),
                            Route("/health", health, methods=["GET"]),
                            Route("/metrics", metrics, methods=["GET"])],
                    exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.state.stats = stats
    app.state.batcher = batcher
    app.state.limits = limits
    if client_key is None:
        return app
    guarded = ClientKeyGuard(app, client_key, on_refused=lambda: stats.reject("unauthorized"))
    guarded.state = app.state
    return guarded


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


async def _relay(resp: UpstreamResponse, stats: Stats, name: str, t1: float, note):
    """A streamed answer's body, relayed as it arrives; the candidate's latency once it ended. An upstream that fails
    mid-stream (times out, closes the connection, breaks the chunking) is counted as the candidate's error and noted,
    and an SSE stream then ends cleanly with an error event (no `data: [DONE]`: the openai client raises APIError;
    any other stream just ends). Raising instead would reach the fallback loop after the answer's head was sent: a
    traceback logged, the connection cut. A client gone mid-stream (the generator cancelled or closed) has the
    upstream connection closed; that is not the upstream's error and is not counted."""
    done, tail = False, b""
    try:
        async for chunk in resp.iter():
            tail = chunk[-4:] if len(chunk) >= 4 else (tail + chunk)[-4:]  # where the last event ended
            yield chunk
        done = True
        stats.done(name, time.perf_counter() - t1)
    except UpstreamError as exc:
        stats.model(name, "errors")
        note(f"upstream {name}: {exc}, mid-stream; the client's stream was ended with an error event")
        if resp.content_type.startswith("text/event-stream"):
            # an event the upstream cut in half is ended first: the error must be an event of its own
            sep = b"" if not tail or tail.endswith((b"\n\n", b"\r\r", b"\r\n\r\n")) else b"\n\n"
            yield sep + b"data: " + json.dumps({"error": {
                "message": f"the upstream {name} failed mid-stream: {exc}", "type": "upstream_error", "param": None,
                "code": "upstream_failed"}}).encode() + b"\n\n"
    finally:
        if not done:
            resp.close()


def serve(app, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning",
          open_server: bool = False) -> None:
    """Run the app on uvicorn until interrupted (no access log; uvicorn's httptools parser and uvloop when
    installed, else h11 and asyncio). Refuses (OpenServerError) a non-loopback `host` for an app made without a
    client key unless `open_server`."""
    import uvicorn

    check_bind(host, isinstance(app, ClientKeyGuard), open_server)

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


__all__ = ["BadRequest", "Batcher", "ClientKeyGuard", "Endpoint", "Limits", "MAX_BATCH", "RETRY_STATUS", "Stats",
           "Upstream", "UpstreamError", "UpstreamResponse", "check_bind", "check_request", "create_app", "parse_body",
           "percentiles", "read_endpoints", "serve"]

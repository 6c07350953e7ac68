"""rp serve: an OpenAI-compatible HTTP server in front of real LLMs, routing each request with a recorded run.

An ASGI app (Starlette; uvicorn serves it) with

| route                      | what                                                                                   |
|----------------------------|----------------------------------------------------------------------------------------|
| POST /v1/chat/completions  | `model: "rp"`: route the request with the run, forward it to the chosen candidate's     |
|                            | endpoint (the official `openai` client), return or stream the upstream answer unchanged |
|                            | with the chosen candidate in the header `x-rp-model`. `model: CANDIDATE`: forward       |
|                            | to that candidate without routing                                                      |
| GET /v1/models             | "rp" and every candidate with an endpoint                                              |
| GET /health                | status, run, router, candidates                                                        |
| GET /metrics               | per candidate: requests, errors, upstream latency; the routing decision's p50/p99       |

Routing text: the run's query text (rpcli.services.serving.inference.RunRouter.text_for_messages). Fallback: an upstream
that answers 429/5xx, times out or cannot be reached is replaced by the next candidate of the ranking (at most
`retries` times; candidates without an endpoint are skipped); then a 502 JSON error. An upstream 4xx (the
request's fault) is returned as it is. A malformed request gets 400 with the reason; an unknown model 404.
The endpoints file:

    models:
      CANDIDATE: {base_url: http://HOST:PORT/v1, model: SERVED_NAME, api_key_env: ENV_VAR, timeout: 60}

(api_key_env and timeout optional; keys are read from the environment and never logged).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.errors import ConfigError, DataFileError

RETRY_STATUS = (408, 409, 429)


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

    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
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


@dataclass
class Stats:
    """Counters of a running server (kept in memory; the last `keep` durations of each kind)."""

    models: list
    keep: int = 100_000
    requests: int = 0
    bad_requests: int = 0
    failed: int = 0  # answered 502 after every allowed candidate failed
    routing: list = field(default_factory=list)  # seconds: encode + score + rank of one request
    overhead: list = field(default_factory=list)  # seconds: request received -> upstream request sent
    per_model: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.per_model = {m: {"chosen": 0, "requests": 0, "errors": 0, "latency": []} for m in self.models}

    def add(self, key: str, seconds: float) -> None:
        with self.lock:
            lst = getattr(self, key)
            lst.append(seconds)
            if len(lst) > self.keep:
                del lst[: len(lst) - self.keep]

    def model(self, name: str, what: str, seconds: float | None = None) -> None:
        with self.lock:
            rec = self.per_model[name]
            rec[what] += 1
            if seconds is not None:
                rec["latency"].append(seconds)
                if len(rec["latency"]) > self.keep:
                    del rec["latency"][: len(rec["latency"]) - self.keep]

    def snapshot(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "bad_requests": self.bad_requests, "failed": self.failed,
                    "routing_decision": percentiles(self.routing), "routing_overhead": percentiles(self.overhead),
                    "models": {m: {"chosen": r["chosen"], "requests": r["requests"], "errors": r["errors"],
                                   "latency": percentiles(r["latency"])} for m, r in self.per_model.items()}}


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


def create_app(rr, endpoints: dict, *, lam: float | None = None, retries: int = 2, log=None):
    """The ASGI app. `rr`: a RunRouter (rpcli.services.serving.inference.load_run); `endpoints`: {candidate: Endpoint};
    `lam`: cost-aware routing (None: the router's own choice); `retries`: further candidates tried after an
    upstream failure; `log(str)`: where to note upstream failures (never keys)."""
    from contextlib import asynccontextmanager

    import anyio
    import openai
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from rpcli.core.llm.openai_backend import openai_client, request_headers

    if not endpoints:
        raise ConfigError("no candidate has an endpoint")
    if lam is not None:
        rr.calibration()  # refuse at start, not per request, a run without one
    # one decision at start: loads the encoder's weights (not on the first request) and checks --lambda's prices
    if lam is not None and any(v is None for v in rr.decide(["warm up"], lam=lam)[0].cost.values()):
        raise ConfigError("--lambda needs every candidate's price")
    known = [m for m in rr.models if m in endpoints]
    stats = Stats(known)
    clients: dict = {}
    auth: dict = {}  # per candidate: the request headers (keys read once, at start)
    route_lock = threading.Lock()
    note = log or (lambda s: None)
    rr.decide(["warm up"])

    @asynccontextmanager
    async def lifespan(app):
        for name, ep in endpoints.items():
            key = ep.api_key
            auth[name] = request_headers(key)
            clients[name] = openai_client(ep.base_url, key, timeout=ep.timeout, max_retries=0, async_=True)
        yield
        for c in clients.values():
            await c.close()

    def decide(text: str):
        with route_lock:  # the encoder's tokenizer is not thread-safe
            return rr.decide([text], lam=lam, cache=False)[0]

    async def chat(request: Request):
        t0 = time.perf_counter()
        with stats.lock:
            stats.requests += 1
        try:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise BadRequest(f"the request body is not valid JSON: {exc}") from None
            check_request(body, known)
        except BadRequest as exc:
            with stats.lock:
                stats.bad_requests += 1
            return _error(exc.message, exc.status, param=exc.param, code=exc.code)
        if body["model"] == "rp":
            d = await anyio.to_thread.run_sync(decide, rr.text_for_messages(body["messages"]))
            stats.add("routing", d.seconds)
            order = [m for m in d.ranking if m in endpoints]
        else:
            order = [body["model"]]
        stream = bool(body.get("stream", False))
        extra = {k: v for k, v in body.items() if k not in ("model", "messages", "stream")}
        errors = []
        for i, name in enumerate(order[: 1 + max(0, retries)]):
            ep = endpoints[name]
            if i == 0:
                stats.add("overhead", time.perf_counter() - t0)
                stats.model(name, "chosen")
            stats.model(name, "requests")
            t1 = time.perf_counter()
            cm = clients[name].chat.completions.with_streaming_response.create(
                model=ep.model, messages=body["messages"], stream=stream, extra_body=extra or None,
                extra_headers=auth[name])
            try:
                resp = await cm.__aenter__()
            except openai.APIStatusError as exc:
                code = exc.status_code
                if code < 500 and code not in RETRY_STATUS:  # the request's fault: the upstream answer as it is
                    stats.model(name, "errors")
                    return Response(exc.response.content, status_code=code,
                                    media_type=exc.response.headers.get("content-type", "application/json"),
                                    headers={"x-rp-model": name})
                errors.append(f"{name}: HTTP {code}")
            except openai.APITimeoutError:
                errors.append(f"{name}: timed out after {ep.timeout:g} s")
            except openai.APIConnectionError as exc:
                errors.append(f"{name}: cannot connect ({type(exc.__cause__ or exc).__name__})")
            else:
                headers = {"x-rp-model": name, "x-rp-run": rr.id}
                ctype = resp.headers.get("content-type", "application/json")
                if not stream:
                    try:
                        content = await resp.read()
                    finally:
                        await cm.__aexit__(None, None, None)
                    _done(stats, name, time.perf_counter() - t1)
                    return Response(content, status_code=resp.status_code, media_type=ctype, headers=headers)

                async def relay(cm=cm, resp=resp, name=name, t1=t1):
                    ok = False
                    try:
                        async for chunk in resp.iter_bytes():
                            yield chunk
                        ok = True
                    finally:
                        await cm.__aexit__(None, None, None)
                        if ok:
                            _done(stats, name, time.perf_counter() - t1)
                        else:
                            stats.model(name, "errors")

                return StreamingResponse(relay(), status_code=resp.status_code, media_type=ctype, headers=headers)
            stats.model(name, "errors")
            note(f"upstream {errors[-1]}" + ("; trying the next candidate" if i + 1 < len(order) else ""))
        with stats.lock:
            stats.failed += 1
        return _error("every upstream tried failed: " + "; ".join(errors), 502, kind="upstream_error",
                      code="upstream_failed")

    async def models(request: Request):
        data = [{"id": "rp", "object": "model", "created": 0, "owned_by": "rp", "run": rr.id}]
        data += [{"id": m, "object": "model", "created": 0, "owned_by": "rp", "served_as": endpoints[m].model}
                 for m in known]
        return JSONResponse({"object": "list", "data": data})

    async def health(request: Request):
        return JSONResponse({"status": "ok", "run": rr.id, "router": rr.router, "lambda": lam, "candidates": known})

    async def metrics(request: Request):
        return JSONResponse({"run": rr.id, **stats.snapshot()})

    async def not_found(request: Request, exc):
        return _error(f"no route {request.method} {request.url.path}", getattr(exc, "status_code", 404))

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"]),
                            Route("/health", health, methods=["GET"]),
                            Route("/metrics", metrics, methods=["GET"])],
                    exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.state.stats = stats
    return app


def _done(stats: Stats, name: str, seconds: float) -> None:
    with stats.lock:
        rec = stats.per_model[name]["latency"]
        rec.append(seconds)
        if len(rec) > stats.keep:
            del rec[: len(rec) - stats.keep]


def serve(app, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Run the app on uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = ["Endpoint", "Stats", "check_request", "create_app", "percentiles", "read_endpoints", "serve"]

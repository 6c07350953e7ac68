"""rp serve's limits and client authentication: what one request may cost before it is forwarded, and who may send
one. Every limit is an option of `rp serve` (and a keyword of `create_app`); a refused request gets an OpenAI-style
JSON error (`{"error": {"message", "type", "param", "code"}}`) and is counted in /metrics by reason:

| limit                       | default         | option                     | answer (reason)                       |
|-----------------------------|-----------------|----------------------------|---------------------------------------|
| request body                | 1 MiB           | --max-body-bytes           | 413 (too_large)                       |
| time to receive the body    | 30 s            | --body-timeout             | 408, connection closed (body_timeout) |
| messages in a request       | 256             | --max-messages             | 400 (too_many_messages)               |
| routed text (encoded)       | 100,000 chars   | --max-chars                | 400 (text_too_long)                   |
| chat requests being handled | 256             | --max-in-flight            | 429 + Retry-After (overloaded)        |
| ... from one client address | half of that    | --max-in-flight-per-client | 429 + Retry-After (overloaded)        |
| client key                  | none (loopback) | --client-key-env VAR       | 401 + WWW-Authenticate (unauthorized) |

The body limit is checked against Content-Length before the body is read, and again while a chunked body is read,
so no more than the limit is ever held. The whole body must arrive within --body-timeout seconds of the request
reaching the app (a client sending a byte every few seconds holds its slot no longer). The client key guards every
route but GET /health (the metrics too); it is compared in constant time (`hmac.compare_digest`). A server bound
beyond loopback without a client key is refused (`check_bind`) unless the operator says the server is meant to be
open.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
import os
from dataclasses import dataclass

from rpcli.errors import ConfigError

MAX_BODY_BYTES = 1 << 20  # a chat request of a few long messages is a few hundred KB
MAX_MESSAGES = 256
MAX_CHARS = 100_000  # far beyond any encoder's window (MiniLM reads 256 tokens), far below what costs seconds
MAX_IN_FLIGHT = 256
RETRY_AFTER = 1  # seconds: a client told to come back later tries again after this
BODY_TIMEOUT = 30.0  # seconds to receive a whole body: 1 MiB at 35 KB/s; a slowloris client is cut off after it

_OPTIONS = {"max_body_bytes": "--max-body-bytes", "max_messages": "--max-messages", "max_chars": "--max-chars",
            "max_in_flight": "--max-in-flight", "max_in_flight_per_client": "--max-in-flight-per-client",
            "retry_after": "--retry-after"}


class OpenServerError(ConfigError):
    """`rp serve` asked to listen beyond loopback with no client key and without --open."""

    exit_code = 2
    title = "Open server refused"


class ClientKeyError(ConfigError):
    """--client-key-env names no usable key."""

    exit_code = 2
    title = "Client key"


class BadRequest(Exception):
    """A request answered with an error before it is forwarded. `reason` (one of stats.REJECT_REASONS) when a limit
    or the client key refused it; None for a malformed request."""

    def __init__(self, message: str, param: str | None = None, status: int = 400, code: str | None = None,
                 reason: str | None = None, kind: str = "invalid_request_error", headers: dict | None = None):
        super().__init__(message)
        self.message, self.param, self.status, self.code = message, param, status, code
        self.reason, self.kind, self.headers = reason, kind, headers


@dataclass(frozen=True)
class Limits:
    """The limits of one server (see the module docstring). `max_in_flight_per_client` None: half of
    `max_in_flight`, rounded up; a value >= `max_in_flight` lets one client use every slot. `body_timeout`: seconds
    (a positive number) to receive a whole request body."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_messages: int = MAX_MESSAGES
    max_chars: int = MAX_CHARS
    max_in_flight: int = MAX_IN_FLIGHT
    max_in_flight_per_client: int | None = None
    retry_after: int = RETRY_AFTER
    body_timeout: float = BODY_TIMEOUT

    def __post_init__(self):
        for name, option in _OPTIONS.items():
            value = getattr(self, name)
            if value is None and name == "max_in_flight_per_client":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{option} must be a whole number of at least 1 (got {value!r})")
        t = self.body_timeout
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
            raise ConfigError(f"--body-timeout must be a positive number of seconds (got {t!r})")
        if self.max_in_flight_per_client is None:
            object.__setattr__(self, "max_in_flight_per_client", (self.max_in_flight + 1) // 2)

    def as_dict(self) -> dict:
        """The whole-number limits by name (body_timeout, a float, is read as an attribute)."""
        return {name: getattr(self, name) for name in _OPTIONS}

    def check_length(self, headers) -> None:
        """Refuse (413) a body whose Content-Length is over the limit, before reading it. `headers`: ASGI's."""
        for name, value in headers:
            if name == b"content-length":
                try:
                    n = int(value)
                except ValueError:
                    return  # the HTTP server refuses a malformed length itself
                if n > self.max_body_bytes:
                    raise self._too_large(f"the request body ({n} bytes) is larger than")
                return

    async def read_body(self, receive) -> bytes | None:
        """The request body, at most `max_body_bytes` of it held (a larger one is refused with 413 as soon as a chunk
        crosses the limit) and all of it received within `body_timeout` seconds (else 408); None when the client went
        away."""
        chunks: list = []
        try:
            if hasattr(asyncio, "timeout"):  # Python >= 3.11: one timer for the whole body, no extra task
                async with asyncio.timeout(self.body_timeout):
                    return await self._read(receive, chunks, None)
            return await self._read(receive, chunks, asyncio.get_running_loop().time() + self.body_timeout)
        except asyncio.TimeoutError:
            got = sum(map(len, chunks))
            raise BadRequest(f"the request body was not received within {self.body_timeout:g} s ({got} bytes came; "
                             "rp serve --body-timeout)", status=408, code="body_timeout", reason="body_timeout",
                             headers={"connection": "close"}) from None

    async def _read(self, receive, chunks: list, deadline: float | None) -> bytes | None:
        size = 0
        while True:
            if deadline is None:
                msg = await receive()
            else:
                msg = await asyncio.wait_for(receive(), max(0.0, deadline - asyncio.get_running_loop().time()))
            if msg["type"] == "http.disconnect":
                return None
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large("the request body is larger than")
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks)

    def _too_large(self, what: str) -> BadRequest:
        return BadRequest(f"{what} the limit of {self.max_body_bytes} bytes (rp serve --max-body-bytes)", status=413,
                          code="too_large", reason="too_large", headers={"connection": "close"})

    def check_messages(self, messages: list) -> None:
        if len(messages) > self.max_messages:
            raise BadRequest(f"`messages` has {len(messages)} messages, more than the limit of {self.max_messages} "
                             "(rp serve --max-messages)", param="messages", code="too_many_messages",
                             reason="too_many_messages")

    def check_text(self, text: str) -> None:
        """Refuse a routed text longer than `max_chars` (the router would encode all of it)."""
        if len(text) > self.max_chars:
            raise BadRequest(f"the text to route (the last user message, with the system prompt when the run embeds "
                             f"one) has {len(text)} characters, more than the limit of {self.max_chars} "
                             "(rp serve --max-chars)", param="messages", code="text_too_long",
                             reason="text_too_long")


class InFlight:
    """The chat requests being handled, in all and per client address (the event loop's thread only: no lock)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0
        self.per_client: dict = {}  # address -> requests; only addresses with one in flight are kept

    def enter(self, client: str) -> None:
        """Take a slot for a request from `client`, or raise BadRequest (429, with Retry-After)."""
        lim, mine = self.limits, self.per_client.get(client, 0)
        if self.total >= lim.max_in_flight:
            what = f"{self.total} requests are being handled, the limit (rp serve --max-in-flight {lim.max_in_flight})"
        elif mine >= lim.max_in_flight_per_client:
            what = (f"{mine} requests from your address are being handled, the limit (rp serve "
                    f"--max-in-flight-per-client {lim.max_in_flight_per_client})")
        else:
            self.total += 1
            self.per_client[client] = mine + 1
            return
        raise BadRequest(f"the server is busy: {what}; retry after {lim.retry_after} s", status=429,
                         code="overloaded", reason="overloaded", kind="overloaded_error",
                         headers={"retry-after": str(lim.retry_after)})

    def leave(self, client: str) -> None:
        self.total -= 1
        left = self.per_client[client] - 1
        if left:
            self.per_client[client] = left
        else:
            del self.per_client[client]


# ------------------------------------------------------------------------------------------- the client key
_UNAUTHORIZED = json.dumps({"error": {
    "message": "missing or wrong client key: send `Authorization: Bearer KEY` with the key this server was started "
               "with (rp serve --client-key-env)", "type": "invalid_request_error", "param": None,
    "code": "invalid_api_key"}}).encode()


class ClientKeyGuard:
    """ASGI middleware: every HTTP request but GET /health must carry `Authorization: Bearer KEY`; others get 401
    with `WWW-Authenticate: Bearer` (the header they sent is neither echoed nor logged). `on_refused()` counts one."""

    def __init__(self, app, key: str, on_refused=None):
        if not key:
            raise ConfigError("the client key is empty")
        self.app, self._key, self.on_refused = app, key.encode(), on_refused

    def authorized(self, headers) -> bool:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] == "/health" or self.authorized(scope["headers"]):
            return await self.app(scope, receive, send)
        if self.on_refused is not None:
            self.on_refused()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"%d" % len(_UNAUTHORIZED)),
                                (b"www-authenticate", b'Bearer realm="rp serve"')]})
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})


def read_client_key(env: str) -> str:
    """The client key from the environment variable `env` (rp serve --client-key-env); never in a message."""
    key = os.environ.get(env, "")
    if not key:
        raise ClientKeyError(f"--client-key-env {env}: the environment variable {env} is not set or is empty",
                          hint=f"export {env}=... (a long random string, e.g. from `openssl rand -hex 32`) and "
                               "give clients the same key as their API key")
    if any(c.isspace() or not c.isprintable() or ord(c) > 126 for c in key):
        raise ClientKeyError(f"--client-key-env {env}: the key holds spaces, control or non-ASCII characters, which "
                          "cannot be sent as `Authorization: Bearer KEY`")
    return key


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`; any other name or address (0.0.0.0 and :: too) is not."""
    host = host.strip().strip("[]")
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, has_client_key: bool, open_server: bool) -> str | None:
    """Refuse (OpenServerError) to listen beyond loopback without a client key unless `open_server`; the warning to
    print when the server is open on purpose, else None."""
    if has_client_key:
        return None
    if is_loopback(host):
        return "--open has no effect: the server listens on loopback only" if open_server else None
    if not open_server:
        raise OpenServerError(
            f"rp serve will not listen on {host} without a client key: anyone who can reach that address could send "
            "requests paid with the upstream keys and read the metrics. Set a key with --client-key-env VAR (clients "
            "then send `Authorization: Bearer KEY`), bind --host 127.0.0.1 behind your own proxy, or pass --open "
            "if an open server is what you want.")
    return (f"rp serve is open on {host} (--open, no client key): anyone who can reach it can send requests paid "
            "with the upstream keys")


def redact(body: bytes, secrets) -> bytes:
    """`body` with every secret in `secrets` (bytes) replaced by [redacted] (an upstream may echo the key it got)."""
    for secret in secrets:
        if secret and secret in body:
            body = body.replace(secret, b"[redacted]")
    return body

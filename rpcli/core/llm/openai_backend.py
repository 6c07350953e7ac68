"""openai: any OpenAI-compatible HTTP endpoint (OpenAI, vLLM's or llama.cpp's server, ...), stdlib only.

POST {base_url}/chat/completions with one user message per prompt, `concurrency` requests in flight (a thread
pool), a per-request `timeout`, and up to `max_retries` retries with exponential backoff (retry_base * 2^attempt
seconds, or the server's Retry-After when it sends one) on 429, 5xx, timeouts and refused connections. Other
HTTP errors fail at once with the server's message. The key is read from the environment variable named by
`api_key_env` (default OPENAI_API_KEY); without it no Authorization header is sent, which local servers accept.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from rpcli.core.llm.base import BackendError
from rpcli.errors import ConfigError

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    id = "openai"

    def __init__(self, base_url: str | None = None, model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 max_tokens: int = 500, temperature: float = 0.0, seed: int = 0, concurrency: int = 4,
                 timeout: float = 120.0, max_retries: int = 5, retry_base: float = 1.0,
                 max_backoff: float = 60.0) -> None:
        if not base_url:
            raise ConfigError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must start with http:// or https:// (got {base_url!r})")
        if not model:
            raise ConfigError("the openai backend needs --model (the name the endpoint serves)")
        if concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1 (got {concurrency})")
        if max_tokens < 1:
            raise ConfigError(f"--max-tokens must be at least 1 (got {max_tokens})")
        self.base_url = base_url.rstrip("/")
        self.model = str(model)
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.retry_base = float(retry_base)
        self.max_backoff = float(max_backoff)
        self.batch_size = max(1, 4 * concurrency)  # cache is written after each chunk
        self.sampling = {"max_tokens": int(max_tokens), "temperature": float(temperature), "seed": int(seed)}
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0
        self._lock = threading.Lock()

    def _headers(self) -> dict:
        h = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            h["Authorization"] = f"Bearer {key}"
        return h

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return min(self.max_backoff, self.retry_base * (2 ** attempt))

    def complete(self, prompt: str) -> str:
        """One chat completion, with retries."""
        body = json.dumps({"model": self.model, "messages": [{"role": "user", "content": prompt}],
                           "max_tokens": self.sampling["max_tokens"], "temperature": self.sampling["temperature"],
                           "seed": self.sampling["seed"]}).encode("utf-8")
        url = f"{self.base_url}/chat/completions"
        last = ""
        for attempt in range(self.max_retries + 1):
            with self._lock:
                self.requests += 1
                if attempt:
                    self.retries += 1
            req = urllib.request.Request(url, data=body, headers=self._headers(), method="POST")
            retry_after = None
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    payload = json.loads(resp.read().decode("utf-8"))
                return _content(payload, url)
            except urllib.error.HTTPError as exc:
                detail = _error_text(exc)
                if exc.code not in RETRY_STATUS:
                    raise BackendError(f"{url} answered HTTP {exc.code}: {detail}",
                                       hint="check --base-url, --model and the key in $" + self.api_key_env) \
                        from None
                last = f"HTTP {exc.code}: {detail}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except ValueError as exc:  # a 200 whose body is not JSON
                raise BackendError(f"{url} returned a response that is not JSON: {exc}") from None
            if attempt < self.max_retries:
                time.sleep(self._backoff(attempt, retry_after))
        raise BackendError(f"{url} failed after {self.max_retries + 1} attempts; last error: {last}",
                           hint="is the server up? raise --max-retries or --timeout, or lower --concurrency")

    def generate(self, prompts: list[str]) -> list[str]:
        if not prompts:
            return []
        if self.concurrency == 1 or len(prompts) == 1:
            return [self.complete(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(self.complete, prompts))

    @property
    def describe(self) -> dict:
        return {"backend": self.id, "model": self.model, "base_url": self.base_url,
                "concurrency": self.concurrency, **self.sampling}


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the body is only used for the message
        return str(exc.reason)
    try:
        err = json.loads(raw).get("error")
        if isinstance(err, dict):
            return str(err.get("message", err))[:300]
        if err:
            return str(err)[:300]
    except (ValueError, AttributeError):
        pass
    return raw[:300] or str(exc.reason)


def _content(payload, url: str) -> str:
    try:
        choice = payload["choices"][0]
        msg = choice.get("message")
        text = msg.get("content") if isinstance(msg, dict) else choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BackendError(f"{url}: the response has no choices[0].message.content") from None
    return (text or "").strip()

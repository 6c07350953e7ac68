"""openai: any OpenAI-compatible HTTP endpoint (OpenAI, vLLM's or llama.cpp's server, ...) through the official
`openai` client (the optional extra `.[serve]`; scripts/setup.sh installs it).

POST {base_url}/chat/completions with one user message per prompt, `concurrency` requests in flight (a thread
pool). Timeouts, retries and errors are the client's: a per-request `timeout`, up to `max_retries` retries with the
client's exponential backoff (it honours the server's Retry-After / retry-after-ms) on 408, 409, 429, 5xx,
timeouts and refused connections; other HTTP errors fail at once with the server's message. The key is read from
the environment variable named by `api_key_env` (default OPENAI_API_KEY); without it no Authorization header is
sent, which local servers accept.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from rpcli.core.llm.base import BackendError
from rpcli.errors import ConfigError


def openai_client(base_url: str, api_key: str | None, *, timeout: float, max_retries: int, on_request=None,
                  async_: bool = False):
    """An `openai.OpenAI` (or AsyncOpenAI) client for an OpenAI-compatible endpoint. Without a key no
    Authorization header is sent. `on_request()` is called for every HTTP request sent (retries included)."""
    try:
        import httpx
        import openai
    except ImportError:
        raise BackendError("the openai backend needs the official openai client",
                           hint="pip install 'rpcli[serve]' (scripts/setup.sh installs it)") from None
    hooks = {"request": [(lambda request: on_request())] if on_request else []}
    if async_:
        async def hook(request):
            on_request()

        http = httpx.AsyncClient(event_hooks={"request": [hook] if on_request else []},
                                 timeout=httpx.Timeout(timeout), follow_redirects=True)
        return openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout,
                                  max_retries=max_retries, http_client=http)
    http = httpx.Client(event_hooks=hooks, timeout=httpx.Timeout(timeout), follow_redirects=True)
    return openai.OpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout, max_retries=max_retries,
                         http_client=http)


def request_headers(api_key: str | None) -> dict:
    """Per-request headers: without a key, the Authorization header is omitted (the client requires saying so)."""
    import openai

    return {} if api_key else {"Authorization": openai.Omit()}


def error_message(exc) -> str:
    """The server's own message of an openai.APIStatusError (its error.message when it sent one)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg)[:300]
    return str(getattr(exc, "message", exc))[:300]


class OpenAIBackend:
    id = "openai"

    def __init__(self, base_url: str | None = None, model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 max_tokens: int = 500, temperature: float = 0.0, seed: int = 0, concurrency: int = 4,
                 timeout: float = 120.0, max_retries: int = 5) -> None:
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
        self.batch_size = max(1, 4 * concurrency)  # cache is written after each chunk
        self.sampling = {"max_tokens": int(max_tokens), "temperature": float(temperature), "seed": int(seed)}
        self.requests = 0  # HTTP requests sent, retries included
        self.calls = 0  # completions asked for
        self._lock = threading.Lock()
        self._client = None
        self._headers: dict = {}

    @property
    def retries(self) -> int:
        return self.requests - self.calls

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def client(self):
        if self._client is None:
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            self._headers = request_headers(key)
            self._client = openai_client(self.base_url, key, timeout=self.timeout, max_retries=self.max_retries,
                                         on_request=self._count)
        return self._client

    def complete(self, prompt: str) -> str:
        """One chat completion (the client retries). An error never carries the key: a server that echoes it in
        its message (some print the key they refused) has it replaced by [redacted]."""
        try:
            return self._complete(prompt)
        except BackendError as exc:
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            if key and (key in exc.message or key in (exc.hint or "")):
                raise BackendError(exc.message.replace(key, "[redacted]"),
                                   hint=(exc.hint or "").replace(key, "[redacted]") or None) from None
            raise

    def _complete(self, prompt: str) -> str:
        import openai

        client = self.client()
        url = f"{self.base_url}/chat/completions"
        with self._lock:
            self.calls += 1
        try:
            resp = client.chat.completions.create(model=self.model, messages=[{"role": "user", "content": prompt}],
                                                  extra_headers=self._headers, **self.sampling)
        except openai.APIStatusError as exc:
            retryable = exc.status_code in (408, 409, 429) or exc.status_code >= 500
            detail = f"HTTP {exc.status_code}: {error_message(exc)}"
            if not retryable:
                raise BackendError(f"{url} answered {detail}",
                                   hint="check --base-url, --model and the key in $" + self.api_key_env) from None
            raise BackendError(f"{url} failed after {self.max_retries + 1} attempts; last error: {detail}",
                               hint="is the server up? raise --max-retries or --timeout, or lower --concurrency") \
                from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise BackendError(f"{url} failed after {self.max_retries + 1} attempts; last error: "
                               f"{type(exc).__name__}: {exc}",
                               hint="is the server up? raise --max-retries or --timeout, or lower --concurrency") \
                from None
        except openai.APIResponseValidationError as exc:
            raise BackendError(f"{url} returned a response that is not a chat completion: {exc}") from None
        try:
            text = resp.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raise BackendError(f"{url}: the response has no choices[0].message.content") from None
        return (text or "").strip()

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

"""rp serve's side towards the LLMs: the endpoints file (`read_endpoints` -> {candidate: Endpoint}) and `Upstream`,
one endpoint's HTTP/1.1 client (a pool of keep-alive connections on asyncio streams; TLS for https).

The endpoints file:

    models:
      CANDIDATE: {base_url: http://HOST:PORT/v1, model: SERVED_NAME, api_key_env: ENV_VAR, timeout: 60}

(api_key_env and timeout optional; a key is read from the environment once, when the Upstream is made, put in the
request head as `Authorization: Bearer KEY` and nowhere else: UpstreamError messages never carry it). Redirects are
not followed and proxy environment variables are not used: endpoints are reached directly.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from rpcli.errors import DataFileError


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

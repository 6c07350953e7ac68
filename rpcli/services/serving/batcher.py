"""rp serve's routing decisions, made in batches by one worker thread (`Batcher`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

from rpcli.errors import ConfigError

MAX_BATCH = 64  # texts routed by one RunRouter.decide call at most (rp serve --max-batch)


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

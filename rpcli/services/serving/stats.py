"""rp serve's counters (`Stats`): the JSON view of /metrics and its Prometheus view."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from rpcli.errors import ConfigError

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
                    120.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# why a request was refused before it was forwarded (rpcli.services.serving.limits; docs/serving.md)
REJECT_REASONS = ("unauthorized", "too_large", "too_many_messages", "text_too_long", "overloaded", "body_timeout")


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
        self.requests = self.bad_requests = self.failed = self.in_flight = 0
        self.rejected = dict.fromkeys(REJECT_REASONS, 0)
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
        rejected = pc.Counter("rp_rejected_requests", "Requests refused before forwarding, by reason (unauthorized "
                              "401, too_large 413, too_many_messages 400, text_too_long 400, overloaded 429, "
                              "body_timeout 408)", ["reason"], registry=r)
        self._rejected = {reason: rejected.labels(reason) for reason in REJECT_REASONS}
        self._in_flight = pc.Gauge("rp_in_flight_requests", "Chat requests being handled now", registry=r)
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

    def reject(self, reason: str) -> None:
        """A request refused by a limit or for want of the client key (`reason`: one of REJECT_REASONS)."""
        with self.lock:
            self.rejected[reason] += 1
        self._rejected[reason].inc()

    def enter(self) -> None:
        """A chat request is being handled (the event loop's thread only)."""
        self.in_flight += 1
        self._in_flight.inc()

    def leave(self) -> None:
        self.in_flight -= 1
        self._in_flight.dec()

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
                    "rejected": dict(self.rejected), "in_flight": self.in_flight,
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
